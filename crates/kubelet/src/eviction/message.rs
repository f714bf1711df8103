//! Upstream's eviction message: the resource, the threshold and the containers using more than
//! they requested.

use super::threshold::{Signal, Threshold};
use super::usage::ContainerUsage;

/// Bytes as a binary-suffixed quantity, as upstream prints usage (`1236Ki`).
pub fn kibibytes(bytes: u64) -> String {
    if bytes == 0 {
        "0".into()
    } else {
        format!("{}Ki", bytes / 1024)
    }
}

pub fn eviction_message(
    threshold: &Threshold,
    available: u64,
    containers: &[ContainerUsage],
    requests: &dyn Fn(&str) -> u64,
) -> String {
    let resource = threshold.signal.resource();
    let mut message = format!(
        "The node was low on resource: {resource}. Threshold quantity: {}, available: {}. ",
        threshold.value,
        kibibytes(available)
    );
    for container in containers {
        let used = match threshold.signal {
            Signal::MemoryAvailable => container.memory_bytes,
            Signal::NodeFsAvailable | Signal::ImageFsAvailable => container.disk_bytes,
        };
        let request = requests(&container.name);
        if used > request {
            message.push_str(&format!(
                "Container {} was using {}, request is {}, has larger consumption of {resource}. ",
                container.name,
                kibibytes(used),
                kibibytes(request)
            ));
        }
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eviction::threshold::parse_thresholds;

    #[test]
    fn names_threshold_and_greedy_containers() {
        let t = &parse_thresholds("memory.available<100Mi").unwrap()[0];
        let containers = [
            ContainerUsage {
                name: "web".into(),
                memory_bytes: 2048,
                disk_bytes: 0,
            },
            ContainerUsage {
                name: "small".into(),
                memory_bytes: 10,
                disk_bytes: 0,
            },
        ];
        let message = eviction_message(t, 4096, &containers, &|name| {
            if name == "small" {
                100
            } else {
                0
            }
        });
        assert_eq!(
            message,
            "The node was low on resource: memory. Threshold quantity: 100Mi, available: 4Ki. Container web was using 2Ki, request is 0, has larger consumption of memory. "
        );
    }
}
