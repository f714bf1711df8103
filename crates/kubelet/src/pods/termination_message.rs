//! A terminated container's message: its terminationMessagePath file, or its log's tail on error.

use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::Pod;

use super::runtime_state::ContainerRecord;
use super::sandbox_config::{pod_log_directory, PodKey};
use crate::KubeletOptions;

const MAX_MESSAGE_BYTES: usize = 4096;
const MAX_LOG_LINES: usize = 80;
const MAX_LOG_BYTES: usize = 2048;

pub async fn termination_message(
    pod: &Pod,
    record: &ContainerRecord,
    options: &KubeletOptions,
) -> Option<String> {
    if let Some(file) = &record.termination_message_file {
        if let Ok(bytes) = tokio::fs::read(file).await {
            let bytes = &bytes[..bytes.len().min(MAX_MESSAGE_BYTES)];
            let text = String::from_utf8_lossy(bytes).into_owned();
            if !text.is_empty() {
                return Some(text);
            }
        }
    }
    let spec = pod.spec.as_ref()?;
    let container = spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .find(|c| c.name == record.name)?;
    if container.termination_message_policy.as_deref() != Some("FallbackToLogsOnError")
        || record.exit_code == 0
    {
        return None;
    }
    let log = log_file(pod, record, options);
    let content = tokio::fs::read_to_string(log).await.ok()?;
    Some(log_tail(&content))
}

fn log_file(pod: &Pod, record: &ContainerRecord, options: &KubeletOptions) -> PathBuf {
    let path = Path::new(&record.log_path);
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        pod_log_directory(options, &PodKey::of(pod)).join(path)
    }
}

/// The last lines of a CRI log (`<time> <stream> <P|F> <text>`), at most 2 KiB.
pub fn log_tail(content: &str) -> String {
    let lines: Vec<&str> = content.lines().collect();
    let start = lines.len().saturating_sub(MAX_LOG_LINES);
    let mut out = String::new();
    for line in &lines[start..] {
        let mut parts = line.splitn(4, ' ');
        let (_time, _stream, tag, text) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next().unwrap_or(""),
        );
        out.push_str(text);
        if tag != Some("P") {
            out.push('\n');
        }
    }
    if out.len() > MAX_LOG_BYTES {
        let mut cut = out.len() - MAX_LOG_BYTES;
        while !out.is_char_boundary(cut) {
            cut += 1;
        }
        out = out[cut..].to_string();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tails_cri_logs() {
        let log = "2024-01-01T00:00:00Z stdout F hello\n2024-01-01T00:00:01Z stderr P par\n2024-01-01T00:00:01Z stderr F tial\n";
        assert_eq!(log_tail(log), "hello\npartial\n");
    }
}
