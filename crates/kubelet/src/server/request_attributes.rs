//! What a request to the kubelet asks for, in API terms: upstream's node authorizer attributes.
//! Every path is `nodes/<subresource>` of this node; the verb comes from the HTTP method.
//! With fine-grained kubelet authorization (on by default in 1.33) `/pods`, `/healthz` and
//! `/configz` may also be reached with `nodes/proxy`; the request is allowed when any of its
//! subresources is.

use http::Method;

/// The API verb for an HTTP method, as upstream maps it.
pub fn verb_for(method: &Method) -> &'static str {
    match *method {
        Method::POST => "create",
        Method::GET | Method::HEAD => "get",
        Method::PUT => "update",
        Method::PATCH => "patch",
        Method::DELETE => "delete",
        _ => "",
    }
}

/// Whether `path` is `prefix` or below it (`/stats` covers `/stats/summary`, not `/statsx`).
fn is_subpath(path: &str, prefix: &str) -> bool {
    path == prefix
        || path
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// The `nodes` subresources that allow `path`, in the order they are asked.
pub fn subresources_for(path: &str) -> Vec<&'static str> {
    let mut subresources = Vec::new();
    if is_subpath(path, "/pods") {
        subresources.push("pods");
    } else if is_subpath(path, "/healthz") {
        subresources.push("healthz");
    } else if is_subpath(path, "/configz") {
        subresources.push("configz");
    }
    let specific = [
        ("/stats", "stats"),
        ("/metrics", "metrics"),
        ("/logs", "log"),
        ("/checkpoint", "checkpoint"),
    ];
    let subresource = specific
        .iter()
        .find(|(prefix, _)| is_subpath(path, prefix))
        .map_or("proxy", |(_, subresource)| subresource);
    subresources.push(subresource);
    subresources
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_map_to_node_subresources_as_upstream() {
        assert_eq!(subresources_for("/stats/summary"), ["stats"]);
        assert_eq!(subresources_for("/metrics/cadvisor"), ["metrics"]);
        assert_eq!(subresources_for("/logs/syslog"), ["log"]);
        assert_eq!(subresources_for("/healthz"), ["healthz", "proxy"]);
        assert_eq!(subresources_for("/pods"), ["pods", "proxy"]);
        assert_eq!(subresources_for("/containerLogs/ns/p/c"), ["proxy"]);
        assert_eq!(subresources_for("/exec/ns/p/c"), ["proxy"]);
        assert_eq!(subresources_for("/portForward/ns/p"), ["proxy"]);
        assert_eq!(subresources_for("/statsx"), ["proxy"]);
        assert_eq!(subresources_for("/"), ["proxy"]);
    }

    #[test]
    fn verbs_follow_the_method() {
        assert_eq!(verb_for(&Method::GET), "get");
        assert_eq!(verb_for(&Method::POST), "create");
        assert_eq!(verb_for(&Method::PUT), "update");
        assert_eq!(verb_for(&Method::PATCH), "patch");
        assert_eq!(verb_for(&Method::DELETE), "delete");
    }
}
