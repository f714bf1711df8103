//! What one pod charges to a quota, as upstream's pod evaluator: `count/pods` always, and while
//! the pod is not terminal `pods` and its compute requests and limits (init containers taken as
//! upstream's `PodRequests` / `PodLimits` do, overhead included).

use k8s_openapi::api::core::v1::{Container, Pod};

use super::amount::{add_all, max_all, parse_list, Amount, Amounts};

const HUGEPAGES_PREFIX: &str = "hugepages-";

/// Whether the pod evaluator computes `name`.
pub fn is_pod_resource(name: &str) -> bool {
    matches!(
        name,
        "pods"
            | "count/pods"
            | "cpu"
            | "memory"
            | "ephemeral-storage"
            | "requests.cpu"
            | "requests.memory"
            | "requests.ephemeral-storage"
            | "limits.cpu"
            | "limits.memory"
            | "limits.ephemeral-storage"
    ) || name.starts_with(HUGEPAGES_PREFIX)
        || name.starts_with("requests.hugepages-")
        || name
            .strip_prefix("requests.")
            .is_some_and(is_extended_resource)
}

/// A resource outside `kubernetes.io/` with a domain, e.g. `example.com/gpu`.
fn is_extended_resource(name: &str) -> bool {
    name.contains('/') && !name.contains("kubernetes.io/") && !name.starts_with("requests.")
}

/// Upstream's `QuotaV1Pod`: not Succeeded or Failed, and not past its deletion grace period.
pub fn is_charged(pod: &Pod, now: jiff::Timestamp) -> bool {
    let phase = pod.status.as_ref().and_then(|s| s.phase.as_deref());
    if matches!(phase, Some("Succeeded" | "Failed")) {
        return false;
    }
    let deletion = pod.metadata.deletion_timestamp.as_ref();
    let grace = pod.metadata.deletion_grace_period_seconds;
    match (deletion, grace) {
        (Some(deleted), Some(grace)) => {
            let deadline = deleted
                .0
                .checked_add(jiff::SignedDuration::from_secs(grace))
                .unwrap_or(deleted.0);
            now <= deadline
        }
        _ => true,
    }
}

/// The usage one pod contributes.
pub fn pod_usage(pod: &Pod, now: jiff::Timestamp) -> Amounts {
    let mut usage = Amounts::new();
    usage.insert("count/pods".into(), Amount::count(1));
    if !is_charged(pod, now) {
        return usage;
    }
    usage.insert("pods".into(), Amount::count(1));
    let requests = pod_resources(pod, |c| parse_list(requests_of(c)), true);
    let limits = pod_resources(pod, |c| parse_list(limits_of(c)), false);
    for (name, amount) in &requests {
        match name.as_str() {
            "cpu" | "memory" | "ephemeral-storage" => {
                usage.insert(name.clone(), *amount);
                usage.insert(format!("requests.{name}"), *amount);
            }
            _ if name.starts_with(HUGEPAGES_PREFIX) => {
                usage.insert(name.clone(), *amount);
                usage.insert(format!("requests.{name}"), *amount);
            }
            _ if is_extended_resource(name) => {
                usage.insert(format!("requests.{name}"), *amount);
            }
            _ => {}
        }
    }
    for name in ["cpu", "memory", "ephemeral-storage"] {
        if let Some(amount) = limits.get(name) {
            usage.insert(format!("limits.{name}"), *amount);
        }
    }
    usage
}

fn requests_of(
    container: &Container,
) -> Option<
    &std::collections::BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
> {
    container.resources.as_ref()?.requests.as_ref()
}

fn limits_of(
    container: &Container,
) -> Option<
    &std::collections::BTreeMap<String, k8s_openapi::apimachinery::pkg::api::resource::Quantity>,
> {
    container.resources.as_ref()?.limits.as_ref()
}

/// Upstream's `PodRequests` / `PodLimits`: the containers' sum (restartable init containers
/// included), at least any one init container's need, plus the pod's overhead (for limits only
/// where a limit is set).
fn pod_resources(pod: &Pod, of: impl Fn(&Container) -> Amounts, requests: bool) -> Amounts {
    let Some(spec) = pod.spec.as_ref() else {
        return Amounts::new();
    };
    let mut total = Amounts::new();
    for container in &spec.containers {
        add_all(&mut total, &of(container));
    }
    let mut sidecars = Amounts::new();
    let mut init = Amounts::new();
    for container in spec.init_containers.as_deref().unwrap_or_default() {
        let own = of(container);
        let need = if container.restart_policy.as_deref() == Some("Always") {
            add_all(&mut total, &own);
            add_all(&mut sidecars, &own);
            sidecars.clone()
        } else {
            let mut need = own;
            add_all(&mut need, &sidecars);
            need
        };
        max_all(&mut init, &need);
    }
    max_all(&mut total, &init);
    let overhead = parse_list(spec.overhead.as_ref());
    if requests {
        add_all(&mut total, &overhead);
    } else {
        for (name, amount) in overhead {
            if let Some(current) = total.get_mut(&name) {
                current.add(amount);
            }
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(spec: serde_json::Value, status: serde_json::Value) -> Pod {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": "p"}, "spec": spec, "status": status
        }))
        .unwrap()
    }

    fn text(usage: &Amounts) -> Vec<(String, String)> {
        usage
            .iter()
            .map(|(k, v)| (k.clone(), v.canonical()))
            .collect()
    }

    fn now() -> jiff::Timestamp {
        "2024-01-01T00:00:00Z".parse().unwrap()
    }

    #[test]
    fn sums_containers_and_takes_the_larger_init_container() {
        let p = pod(
            serde_json::json!({
                "containers": [
                    {"name": "a", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"},
                                                "limits": {"cpu": "200m", "memory": "128Mi"}}},
                    {"name": "b", "resources": {"requests": {"cpu": "400m", "memory": "64Mi",
                                                             "example.com/gpu": "1"}}}
                ],
                "initContainers": [
                    {"name": "i", "resources": {"requests": {"cpu": "2", "memory": "1Mi"}}}
                ],
                "overhead": {"cpu": "10m"}
            }),
            serde_json::json!({"phase": "Running"}),
        );
        let usage = pod_usage(&p, now());
        let expected: Vec<(String, String)> = [
            ("count/pods", "1"),
            ("cpu", "2010m"),
            ("limits.cpu", "210m"),
            ("limits.memory", "128Mi"),
            ("memory", "128Mi"),
            ("pods", "1"),
            ("requests.cpu", "2010m"),
            ("requests.example.com/gpu", "1"),
            ("requests.memory", "128Mi"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        assert_eq!(text(&usage), expected);
    }

    #[test]
    fn sidecars_add_to_the_containers() {
        let p = pod(
            serde_json::json!({
                "containers": [{"name": "a", "resources": {"requests": {"cpu": "1"}}}],
                "initContainers": [
                    {"name": "s", "restartPolicy": "Always",
                     "resources": {"requests": {"cpu": "500m"}}},
                    {"name": "i", "resources": {"requests": {"cpu": "1"}}}
                ]
            }),
            serde_json::json!({}),
        );
        assert_eq!(pod_usage(&p, now())["requests.cpu"].canonical(), "1500m");
    }

    #[test]
    fn terminal_pods_only_count_as_objects() {
        let spec = serde_json::json!({
            "containers": [{"name": "a", "resources": {"requests": {"cpu": "1"}}}]
        });
        let done = pod(spec.clone(), serde_json::json!({"phase": "Succeeded"}));
        assert_eq!(
            text(&pod_usage(&done, now())),
            [("count/pods".to_string(), "1".to_string())]
        );
        let mut stuck = pod(spec, serde_json::json!({"phase": "Running"}));
        stuck.metadata.deletion_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                "2023-12-31T23:59:00Z".parse().unwrap(),
            ));
        stuck.metadata.deletion_grace_period_seconds = Some(30);
        assert!(!is_charged(&stuck, now()));
        stuck.metadata.deletion_grace_period_seconds = Some(120);
        assert!(is_charged(&stuck, now()));
    }

    #[test]
    fn knows_the_pod_resources() {
        assert!(is_pod_resource("requests.cpu"));
        assert!(is_pod_resource("count/pods"));
        assert!(is_pod_resource("requests.example.com/gpu"));
        assert!(is_pod_resource("hugepages-2Mi"));
        assert!(!is_pod_resource("services"));
        assert!(!is_pod_resource("requests.storage"));
    }
}
