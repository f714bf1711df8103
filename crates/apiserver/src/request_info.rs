//! What a request path and method mean, as upstream's RequestInfoFactory parses them.

use http::Method;

/// A request for a resource (or a subresource of one object).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResourceRequest {
    /// get, list, watch, create, update, patch, delete, deletecollection.
    pub verb: &'static str,
    pub group: String,
    pub version: String,
    pub namespace: Option<String>,
    pub resource: String,
    pub name: Option<String>,
    pub subresource: Option<String>,
}

/// Every kind of path the server answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestTarget {
    /// `/api`
    LegacyVersions,
    /// `/apis`
    Groups,
    /// `/apis/<group>`
    Group(String),
    /// `/api/v1` or `/apis/<group>/<version>`
    ResourceList {
        group: String,
        version: String,
    },
    Resource(ResourceRequest),
    /// Anything else (health, version, openapi, metrics).
    NonResource(String),
}

fn is_watch_query(query: Option<&str>) -> bool {
    query
        .unwrap_or("")
        .split('&')
        .any(|pair| pair == "watch=true" || pair == "watch=1" || pair == "watch")
}

/// Parse `method path?query` into a target.
pub fn parse(method: &Method, path: &str, query: Option<&str>) -> RequestTarget {
    let trimmed = path.trim_matches('/');
    let mut parts: Vec<&str> = if trimmed.is_empty() {
        Vec::new()
    } else {
        trimmed.split('/').collect()
    };
    let (group, version, rest_at) = match parts.as_slice() {
        ["api"] => return RequestTarget::LegacyVersions,
        ["apis"] => return RequestTarget::Groups,
        ["apis", group] => return RequestTarget::Group((*group).to_string()),
        ["api", version] => {
            return RequestTarget::ResourceList {
                group: String::new(),
                version: (*version).to_string(),
            }
        }
        ["apis", group, version] => {
            return RequestTarget::ResourceList {
                group: (*group).to_string(),
                version: (*version).to_string(),
            }
        }
        ["api", version, ..] => (String::new(), (*version).to_string(), 2),
        ["apis", group, version, ..] => ((*group).to_string(), (*version).to_string(), 3),
        _ => return RequestTarget::NonResource(path.to_string()),
    };
    let mut rest: Vec<&str> = parts.split_off(rest_at);
    let mut watch = is_watch_query(query);
    if rest.first() == Some(&"watch") {
        watch = true;
        rest.remove(0);
    }
    let mut request = ResourceRequest {
        group,
        version,
        ..ResourceRequest::default()
    };
    // namespaces/<ns>/<resource>..., but `namespaces/<name>[/status|/finalize]` is the namespace
    // object itself.
    let namespace_subresource = matches!(rest.get(2), Some(&"status" | &"finalize"));
    if rest.first() == Some(&"namespaces") && rest.len() >= 3 && !namespace_subresource {
        request.namespace = Some(rest[1].to_string());
        rest.drain(..2);
    }
    match rest.as_slice() {
        [resource] => request.resource = (*resource).to_string(),
        [resource, name] => {
            request.resource = (*resource).to_string();
            request.name = Some((*name).to_string());
        }
        [resource, name, sub, ..] => {
            request.resource = (*resource).to_string();
            request.name = Some((*name).to_string());
            request.subresource = Some((*sub).to_string());
        }
        _ => return RequestTarget::NonResource(path.to_string()),
    }
    request.verb = match (method.as_str(), request.name.is_some()) {
        ("GET" | "HEAD", _) if watch => "watch",
        ("GET" | "HEAD", true) => "get",
        ("GET" | "HEAD", false) => "list",
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", true) => "delete",
        ("DELETE", false) => "deletecollection",
        _ => "unknown",
    };
    // Connecting to a pod's streams is authorized as `create` whatever the method (upstream
    // checks `create` for WebSocket upgrades, which arrive as GET).
    if matches!(
        request.subresource.as_deref(),
        Some("exec" | "attach" | "portforward")
    ) && request.verb == "get"
    {
        request.verb = "create";
    }
    RequestTarget::Resource(request)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resource(method: Method, path: &str, query: Option<&str>) -> ResourceRequest {
        match parse(&method, path, query) {
            RequestTarget::Resource(r) => r,
            other => panic!("not a resource request: {other:?}"),
        }
    }

    #[test]
    fn namespaced_collection_and_item() {
        let r = resource(Method::GET, "/api/v1/namespaces/default/pods", None);
        assert_eq!(
            (r.verb, r.namespace.as_deref(), r.resource.as_str()),
            ("list", Some("default"), "pods")
        );
        let r = resource(
            Method::PUT,
            "/apis/apps/v1/namespaces/ns/deployments/web/scale",
            None,
        );
        assert_eq!(r.group, "apps");
        assert_eq!(r.name.as_deref(), Some("web"));
        assert_eq!(r.subresource.as_deref(), Some("scale"));
        assert_eq!(r.verb, "update");
    }

    #[test]
    fn namespace_objects_are_cluster_scoped() {
        let r = resource(Method::GET, "/api/v1/namespaces/kube-system", None);
        assert_eq!(r.resource, "namespaces");
        assert_eq!(r.name.as_deref(), Some("kube-system"));
        assert_eq!(r.namespace, None);
        let r = resource(Method::PUT, "/api/v1/namespaces/x/finalize", None);
        assert_eq!(r.name.as_deref(), Some("x"));
        assert_eq!(r.namespace, None);
        assert_eq!(r.subresource.as_deref(), Some("finalize"));
    }

    #[test]
    fn connecting_to_pod_streams_is_create() {
        let r = resource(
            Method::GET,
            "/api/v1/namespaces/a/pods/p/exec",
            Some("command=ls"),
        );
        assert_eq!((r.verb, r.subresource.as_deref()), ("create", Some("exec")));
        let r = resource(Method::GET, "/api/v1/namespaces/a/pods/p/log", None);
        assert_eq!(r.verb, "get");
    }

    #[test]
    fn watch_forms() {
        let r = resource(Method::GET, "/api/v1/pods", Some("watch=true&rv=1"));
        assert_eq!(r.verb, "watch");
        let r = resource(Method::GET, "/api/v1/watch/namespaces/a/pods", None);
        assert_eq!((r.verb, r.namespace.as_deref()), ("watch", Some("a")));
    }

    #[test]
    fn discovery_paths() {
        assert_eq!(
            parse(&Method::GET, "/api", None),
            RequestTarget::LegacyVersions
        );
        assert_eq!(parse(&Method::GET, "/apis/", None), RequestTarget::Groups);
        assert_eq!(
            parse(&Method::GET, "/apis/apps", None),
            RequestTarget::Group("apps".into())
        );
        assert!(matches!(
            parse(&Method::GET, "/healthz", None),
            RequestTarget::NonResource(_)
        ));
    }
}
