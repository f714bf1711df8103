//! rbac.authorization.k8s.io/v1 bindings: the API group of the role and of each subject.

use serde_json::Value;

use super::{fill, items_at, object_at};

const RBAC_GROUP: &str = "rbac.authorization.k8s.io";

pub fn default_role_binding(obj: &mut Value) {
    if let Some(role_ref) = object_at(obj, "roleRef") {
        fill(role_ref, "apiGroup", RBAC_GROUP.into());
    }
    for subject in items_at(obj, "subjects") {
        let group = match subject["kind"].as_str() {
            Some("User" | "Group") => RBAC_GROUP,
            _ => continue,
        };
        fill(subject, "apiGroup", group.into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subjects_get_their_group() {
        let mut binding = json!({"roleRef": {"kind": "Role", "name": "r"}, "subjects": [{"kind": "User", "name": "u"}, {"kind": "ServiceAccount", "name": "s"}]});
        default_role_binding(&mut binding);
        assert_eq!(binding["roleRef"]["apiGroup"], RBAC_GROUP);
        assert_eq!(binding["subjects"][0]["apiGroup"], RBAC_GROUP);
        assert!(binding["subjects"][1].get("apiGroup").is_none());
    }
}
