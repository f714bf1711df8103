//! The kubelet server's paths.

/// One endpoint with its path parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Healthz,
    Pods,
    StatsSummary,
    ContainerLogs {
        namespace: String,
        pod: String,
        container: String,
    },
    Exec {
        namespace: String,
        pod: String,
        container: String,
    },
    Attach {
        namespace: String,
        pod: String,
        container: String,
    },
    PortForward {
        namespace: String,
        pod: String,
    },
}

/// The route for `path`; `None` is a 404.
pub fn route(path: &str) -> Option<Route> {
    let parts: Vec<String> = path
        .trim_matches('/')
        .split('/')
        .map(percent_decode)
        .collect();
    let parts: Vec<&str> = parts.iter().map(String::as_str).collect();
    let pod_container = |rest: &[&str]| match rest {
        // `/exec/{ns}/{pod}/{uid}/{container}` is the older form with the pod's UID.
        [ns, pod, container] | [ns, pod, _, container] => {
            Some((ns.to_string(), pod.to_string(), container.to_string()))
        }
        _ => None,
    };
    match parts.as_slice() {
        ["healthz"] => Some(Route::Healthz),
        ["pods"] => Some(Route::Pods),
        ["stats", "summary"] => Some(Route::StatsSummary),
        ["containerLogs", ns, pod, container] => Some(Route::ContainerLogs {
            namespace: ns.to_string(),
            pod: pod.to_string(),
            container: container.to_string(),
        }),
        ["exec", rest @ ..] => pod_container(rest).map(|(namespace, pod, container)| Route::Exec {
            namespace,
            pod,
            container,
        }),
        ["attach", rest @ ..] => {
            pod_container(rest).map(|(namespace, pod, container)| Route::Attach {
                namespace,
                pod,
                container,
            })
        }
        ["portForward", ns, pod] | ["portForward", ns, pod, _] => Some(Route::PortForward {
            namespace: ns.to_string(),
            pod: pod.to_string(),
        }),
        _ => None,
    }
}

fn percent_decode(segment: &str) -> String {
    super::query::QueryPairs::parse(Some(&format!("s={}", segment.replace('+', "%2B"))))
        .first("s")
        .unwrap_or(segment)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_endpoint() {
        assert_eq!(route("/healthz"), Some(Route::Healthz));
        assert_eq!(route("/stats/summary"), Some(Route::StatsSummary));
        assert_eq!(
            route("/containerLogs/default/web/app"),
            Some(Route::ContainerLogs {
                namespace: "default".into(),
                pod: "web".into(),
                container: "app".into()
            })
        );
        assert!(
            matches!(route("/exec/a/b/c"), Some(Route::Exec { container, .. }) if container == "c")
        );
        assert!(
            matches!(route("/attach/a/b/uid/c"), Some(Route::Attach { container, .. }) if container == "c")
        );
        assert!(matches!(
            route("/portForward/a/b"),
            Some(Route::PortForward { .. })
        ));
        assert_eq!(route("/exec/a"), None);
        assert_eq!(route("/nope"), None);
    }
}
