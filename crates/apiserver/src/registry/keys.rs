//! Where objects live in storage: `/registry/<storage resource>/<namespace>/<name>` as upstream.

/// The key of one object.
pub fn object_key(storage_resource: &str, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("/registry/{storage_resource}/{ns}/{name}"),
        None => format!("/registry/{storage_resource}/{name}"),
    }
}

/// The prefix of a collection: one namespace, or every object of the resource.
pub fn collection_prefix(storage_resource: &str, namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) => format!("/registry/{storage_resource}/{ns}/"),
        None => format!("/registry/{storage_resource}/"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_upstream_layout() {
        assert_eq!(
            object_key("deployments", Some("default"), "web"),
            "/registry/deployments/default/web"
        );
        assert_eq!(object_key("minions", None, "n1"), "/registry/minions/n1");
        assert_eq!(collection_prefix("pods", None), "/registry/pods/");
    }
}
