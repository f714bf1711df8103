//! Which kubelet path serves a pod's log, exec, attach or port-forward request, and the checks
//! upstream makes first (pkg/registry/core/pod/strategy.go, and the kubelet's container status
//! checks for logs).

use serde_json::Value;

use crate::http::query::Query;
use crate::status::ApiError;

fn names(pod: &Value, field: &str) -> Vec<String> {
    pod.pointer(&format!("/spec/{field}"))
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|c| c.get("name").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

fn pod_name(pod: &Value) -> &str {
    pod.pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or_default()
}

/// The pod's node, if it was scheduled.
pub fn node_name(pod: &Value) -> Option<&str> {
    pod.pointer("/spec/nodeName")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
}

/// The container a request is for: the one named, or the only one.
pub fn resolve_container(pod: &Value, requested: Option<&str>) -> Result<String, ApiError> {
    let name = pod_name(pod);
    let containers = names(pod, "containers");
    let init = names(pod, "initContainers");
    let ephemeral = names(pod, "ephemeralContainers");
    let Some(requested) = requested.filter(|c| !c.is_empty()) else {
        if containers.len() == 1 {
            return Ok(containers[0].clone());
        }
        let mut message = format!(
            "a container name must be specified for pod {name}, choose one of: [{}]",
            containers.join(" ")
        );
        if !init.is_empty() {
            message.push_str(&format!(
                " or one of the init containers: [{}]",
                init.join(" ")
            ));
        }
        if !ephemeral.is_empty() {
            message.push_str(&format!(
                " or one of the ephemeral containers: [{}]",
                ephemeral.join(" ")
            ));
        }
        return Err(ApiError::bad_request(message));
    };
    let known = containers
        .iter()
        .chain(&init)
        .chain(&ephemeral)
        .any(|c| c == requested);
    if !known {
        return Err(ApiError::bad_request(format!(
            "container {requested} is not valid for pod {name}"
        )));
    }
    Ok(requested.to_string())
}

fn container_status<'a>(pod: &'a Value, container: &str) -> Option<&'a Value> {
    [
        "containerStatuses",
        "initContainerStatuses",
        "ephemeralContainerStatuses",
    ]
    .iter()
    .filter_map(|field| {
        pod.pointer(&format!("/status/{field}"))
            .and_then(Value::as_array)
    })
    .flatten()
    .find(|s| s.get("name").and_then(Value::as_str) == Some(container))
}

fn has_terminated_id(state: Option<&Value>) -> bool {
    state
        .and_then(|s| s.pointer("/terminated/containerID"))
        .and_then(Value::as_str)
        .is_some_and(|id| !id.is_empty())
}

/// The kubelet's refusal for a container whose logs cannot be read yet, from the pod's status
/// (upstream's validateContainerLogStatus); `None` when the kubelet should be asked.
pub fn log_status_error(pod: &Value, container: &str, previous: bool) -> Option<String> {
    let status = container_status(pod, container)?;
    let name = pod_name(pod);
    let state = status.get("state");
    let last = status.get("lastState");
    let is = |key: &str| state.and_then(|s| s.get(key)).is_some();
    let terminated = || format!("container {container:?} in pod {name:?} is terminated");
    if previous {
        return (!has_terminated_id(last)).then(|| {
            format!("previous terminated container {container:?} in pod {name:?} not found")
        });
    }
    if is("running") {
        return None;
    }
    if is("terminated") {
        return (!has_terminated_id(state) && !has_terminated_id(last)).then(terminated);
    }
    if last.and_then(|l| l.get("terminated")).is_some() {
        return (!has_terminated_id(last)).then(terminated);
    }
    let waiting = state.and_then(|s| s.get("waiting"));
    let Some(waiting) = waiting else {
        return Some(format!(
            "container {container:?} in pod {name:?} is waiting to start - no logs yet"
        ));
    };
    let reason = waiting
        .get("reason")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let why = match reason {
        "ErrImagePull" => "image can't be pulled".to_string(),
        "ImagePullBackOff" => "trying and failing to pull image".to_string(),
        other => other.to_string(),
    };
    Some(format!(
        "container {container:?} in pod {name:?} is waiting to start: {why}"
    ))
}

fn encode(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

fn path_segment(value: &str) -> String {
    encode(value)
}

/// `/containerLogs/{ns}/{pod}/{container}?...` with the log options the client gave.
pub fn log_path(
    namespace: &str,
    pod: &str,
    container: &str,
    query: &Query,
) -> Result<String, ApiError> {
    let mut params = Vec::new();
    for flag in ["follow", "previous", "timestamps"] {
        if query.flag(flag) {
            params.push(format!("{flag}=true"));
        }
    }
    for number in ["sinceSeconds", "tailLines", "limitBytes"] {
        if let Some(value) = query.int(number).map_err(ApiError::bad_request)? {
            params.push(format!("{number}={value}"));
        }
    }
    if let Some(since) = query.non_empty("sinceTime") {
        params.push(format!("sinceTime={}", encode(since)));
    }
    Ok(with_query(
        format!(
            "/containerLogs/{}/{}/{}",
            path_segment(namespace),
            path_segment(pod),
            path_segment(container)
        ),
        &params,
    ))
}

fn with_query(path: String, params: &[String]) -> String {
    if params.is_empty() {
        path
    } else {
        format!("{path}?{}", params.join("&"))
    }
}

/// Which streaming operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    Exec,
    Attach,
}

/// `/exec|attach/{ns}/{pod}/{container}?command=..&input=1&output=1&error=1&tty=1`, upstream's
/// parameter names towards the kubelet.
pub fn stream_path(
    kind: StreamKind,
    namespace: &str,
    pod: &str,
    container: &str,
    raw_query: Option<&str>,
    query: &Query,
) -> String {
    let mut params = Vec::new();
    if kind == StreamKind::Exec {
        for command in all_values(raw_query, "command") {
            params.push(format!("command={}", encode(&command)));
        }
    }
    for (client, kubelet) in [
        ("stdin", "input"),
        ("stdout", "output"),
        ("stderr", "error"),
        ("tty", "tty"),
    ] {
        if query.flag(client) {
            params.push(format!("{kubelet}=1"));
        }
    }
    let verb = match kind {
        StreamKind::Exec => "exec",
        StreamKind::Attach => "attach",
    };
    with_query(
        format!(
            "/{verb}/{}/{}/{}",
            path_segment(namespace),
            path_segment(pod),
            path_segment(container)
        ),
        &params,
    )
}

/// `/portForward/{ns}/{pod}?port=..`.
pub fn port_forward_path(namespace: &str, pod: &str, raw_query: Option<&str>) -> String {
    let params: Vec<String> = all_values(raw_query, "ports")
        .into_iter()
        .chain(all_values(raw_query, "port"))
        .flat_map(|p| {
            p.split(',')
                .map(str::trim)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter(|p| !p.is_empty())
        .map(|p| format!("port={}", encode(&p)))
        .collect();
    with_query(
        format!(
            "/portForward/{}/{}",
            path_segment(namespace),
            path_segment(pod)
        ),
        &params,
    )
}

/// Every value of a repeated query key, decoded.
pub fn all_values(raw_query: Option<&str>, key: &str) -> Vec<String> {
    raw_query
        .unwrap_or("")
        .split('&')
        .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
        .filter(|(k, _)| *k == key)
        .map(|(_, v)| {
            percent_encoding::percent_decode_str(&v.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn pod() -> Value {
        json!({"metadata": {"name": "web"}, "spec": {"nodeName": "n1",
            "containers": [{"name": "a"}, {"name": "b"}], "initContainers": [{"name": "init"}]}})
    }

    #[test]
    fn containers_are_named_or_defaulted() {
        let err = resolve_container(&pod(), None).unwrap_err();
        assert_eq!(
            err.message,
            "a container name must be specified for pod web, choose one of: [a b] or one of the init containers: [init]"
        );
        assert_eq!(resolve_container(&pod(), Some("init")).unwrap(), "init");
        assert_eq!(
            resolve_container(&pod(), Some("zz")).unwrap_err().message,
            "container zz is not valid for pod web"
        );
        let single = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "only"}]}});
        assert_eq!(resolve_container(&single, None).unwrap(), "only");
    }

    #[test]
    fn log_status_messages() {
        let mut p = pod();
        assert_eq!(log_status_error(&p, "a", false), None);
        p["status"] = json!({"containerStatuses": [
            {"name": "a", "state": {"waiting": {"reason": "ContainerCreating"}}, "lastState": {}},
            {"name": "b", "state": {"running": {}}, "lastState": {"terminated": {"containerID": "cri://x"}}}]});
        assert_eq!(
            log_status_error(&p, "a", false).unwrap(),
            "container \"a\" in pod \"web\" is waiting to start: ContainerCreating"
        );
        assert_eq!(
            log_status_error(&p, "a", true).unwrap(),
            "previous terminated container \"a\" in pod \"web\" not found"
        );
        assert_eq!(log_status_error(&p, "b", false), None);
        assert_eq!(log_status_error(&p, "b", true), None);
    }

    #[test]
    fn kubelet_paths() {
        let q = Query::parse(Some(
            "follow=true&tailLines=10&sinceTime=2024-01-01T00:00:00Z&container=a",
        ));
        assert_eq!(
            log_path("default", "web", "a", &q).unwrap(),
            "/containerLogs/default/web/a?follow=true&tailLines=10&sinceTime=2024%2D01%2D01T00%3A00%3A00Z"
        );
        let raw =
            "command=sh&command=-c&command=echo+hi&container=a&stdin=true&stdout=true&tty=true";
        assert_eq!(
            stream_path(
                StreamKind::Exec,
                "default",
                "web",
                "a",
                Some(raw),
                &Query::parse(Some(raw))
            ),
            "/exec/default/web/a?command=sh&command=%2Dc&command=echo%20hi&input=1&output=1&tty=1"
        );
        assert_eq!(
            port_forward_path("default", "web", Some("ports=80,8080")),
            "/portForward/default/web?port=80&port=8080"
        );
    }
}
