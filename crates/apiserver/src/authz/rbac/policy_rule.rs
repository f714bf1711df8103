//! One RBAC PolicyRule and whether it covers a request, as upstream's rbac.RuleAllows.

use serde_json::Value;

use super::super::Attributes;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyRule {
    pub verbs: Vec<String>,
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub resource_names: Vec<String>,
    pub non_resource_urls: Vec<String>,
}

fn strings(value: &Value, field: &str) -> Vec<String> {
    value
        .get(field)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The `rules` of a Role or ClusterRole.
pub fn rules_of(role: &Value) -> Vec<PolicyRule> {
    role.get("rules")
        .and_then(Value::as_array)
        .map(|rules| rules.iter().map(PolicyRule::from_json).collect())
        .unwrap_or_default()
}

fn has(items: &[String], wanted: &str) -> bool {
    items.iter().any(|i| i == "*" || i == wanted)
}

impl PolicyRule {
    pub fn from_json(rule: &Value) -> Self {
        Self {
            verbs: strings(rule, "verbs"),
            api_groups: strings(rule, "apiGroups"),
            resources: strings(rule, "resources"),
            resource_names: strings(rule, "resourceNames"),
            non_resource_urls: strings(rule, "nonResourceURLs"),
        }
    }

    /// `*`, the resource itself, `resource/subresource`, or `*/subresource`.
    fn resource_matches(&self, a: &Attributes) -> bool {
        let combined = if a.subresource.is_empty() {
            a.resource.clone()
        } else {
            format!("{}/{}", a.resource, a.subresource)
        };
        self.resources.iter().any(|r| {
            r == "*"
                || *r == combined
                || (!a.subresource.is_empty()
                    && r.strip_prefix("*/") == Some(a.subresource.as_str()))
        })
    }

    fn resource_name_matches(&self, a: &Attributes) -> bool {
        self.resource_names.is_empty() || self.resource_names.contains(&a.name)
    }

    fn url_matches(&self, path: &str) -> bool {
        self.non_resource_urls.iter().any(|url| {
            url == "*"
                || url == path
                || url
                    .strip_suffix('*')
                    .is_some_and(|prefix| path.starts_with(prefix))
        })
    }

    pub fn allows(&self, a: &Attributes) -> bool {
        if !has(&self.verbs, &a.verb) {
            return false;
        }
        match &a.path {
            Some(path) => self.url_matches(path),
            None => {
                has(&self.api_groups, &a.group)
                    && self.resource_matches(a)
                    && self.resource_name_matches(a)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(verb: &str, group: &str, resource: &str, name: &str) -> Attributes {
        let (resource, subresource) = resource.split_once('/').unwrap_or((resource, ""));
        Attributes {
            verb: verb.into(),
            group: group.into(),
            resource: resource.into(),
            subresource: subresource.into(),
            namespace: "default".into(),
            name: name.into(),
            ..Attributes::default()
        }
    }

    fn path(verb: &str, path: &str) -> Attributes {
        Attributes {
            verb: verb.into(),
            path: Some(path.into()),
            ..Attributes::default()
        }
    }

    #[test]
    fn rule_matching_table() {
        let pods_read = PolicyRule::from_json(
            &json!({"verbs": ["get", "list"], "apiGroups": [""], "resources": ["pods"]}),
        );
        let all =
            PolicyRule::from_json(&json!({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}));
        let status_any = PolicyRule::from_json(
            &json!({"verbs": ["update"], "apiGroups": ["apps"], "resources": ["*/status"]}),
        );
        let scale = PolicyRule::from_json(
            &json!({"verbs": ["get"], "apiGroups": ["apps"], "resources": ["deployments/scale"]}),
        );
        let named = PolicyRule::from_json(&json!({
            "verbs": ["get", "update"], "apiGroups": [""], "resources": ["configmaps"],
            "resourceNames": ["cfg"],
        }));
        let urls = PolicyRule::from_json(
            &json!({"verbs": ["get"], "nonResourceURLs": ["/healthz", "/apis/*"]}),
        );
        let cases: Vec<(&PolicyRule, Attributes, bool)> = vec![
            (&pods_read, request("get", "", "pods", "p"), true),
            (&pods_read, request("list", "", "pods", ""), true),
            (&pods_read, request("watch", "", "pods", ""), false),
            (&pods_read, request("get", "apps", "pods", "p"), false),
            (&pods_read, request("get", "", "pods/log", "p"), false),
            (&pods_read, path("get", "/healthz"), false),
            (
                &all,
                request("delete", "apps", "deployments/scale", "d"),
                true,
            ),
            (&all, path("get", "/healthz"), false),
            (
                &status_any,
                request("update", "apps", "deployments/status", "d"),
                true,
            ),
            (
                &status_any,
                request("update", "apps", "deployments", "d"),
                false,
            ),
            (
                &scale,
                request("get", "apps", "deployments/scale", "d"),
                true,
            ),
            (&scale, request("get", "apps", "deployments", "d"), false),
            (&named, request("get", "", "configmaps", "cfg"), true),
            (&named, request("get", "", "configmaps", "other"), false),
            (&named, request("list", "", "configmaps", ""), false),
            (&urls, path("get", "/healthz"), true),
            (&urls, path("get", "/healthz/etcd"), false),
            (&urls, path("get", "/apis/apps/v1"), true),
            (&urls, path("get", "/apis"), false),
            (&urls, path("post", "/healthz"), false),
            (&urls, request("get", "", "pods", ""), false),
        ];
        for (rule, attributes, allowed) in cases {
            assert_eq!(rule.allows(&attributes), allowed, "{rule:?} {attributes:?}");
        }
    }
}
