//! What the scheduler bench reads of a pod in its watch: the name, the revision and whether the
//! pod is bound. The bench shares the machine with the cluster it measures, so it decodes only
//! these few fields; serde skips the rest of each event without building it.

use serde::Deserialize;

#[derive(Clone, Debug, Default, Deserialize)]
pub(super) struct Placement {
    #[serde(default)]
    pub metadata: PlacementMeta,
    #[serde(default)]
    spec: Option<PlacementSpec>,
    #[serde(default)]
    status: Option<PlacementStatus>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct PlacementMeta {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub resource_version: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct PlacementSpec {
    #[serde(default)]
    node_name: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
struct PlacementStatus {
    #[serde(default)]
    conditions: Option<Vec<ConditionState>>,
}

#[derive(Clone, Debug, Default, Deserialize)]
struct ConditionState {
    #[serde(rename = "type", default)]
    type_: String,
    #[serde(default)]
    status: String,
}

impl Placement {
    /// Bound: a node is named, or the PodScheduled condition is true.
    pub fn is_bound(&self) -> bool {
        self.spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .is_some_and(|n| !n.is_empty())
            || self
                .status
                .iter()
                .flat_map(|s| s.conditions.iter().flatten())
                .any(|c| c.type_ == "PodScheduled" && c.status == "True")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn placement(json: &str) -> Placement {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn a_pod_is_bound_by_its_node_or_its_condition() {
        let pending = placement(
            r#"{"metadata":{"name":"p","resourceVersion":"5","managedFields":[{"manager":"m"}]},
               "spec":{"containers":[{"name":"c"}],"nodeName":null},
               "status":{"phase":"Pending","conditions":[{"type":"PodScheduled","status":"False"}]}}"#,
        );
        assert_eq!(pending.metadata.name, "p");
        assert_eq!(pending.metadata.resource_version.as_deref(), Some("5"));
        assert!(!pending.is_bound());
        assert!(placement(r#"{"metadata":{"name":"p"},"spec":{"nodeName":"n1"}}"#).is_bound());
        assert!(placement(
            r#"{"metadata":{"name":"p"},"status":{"conditions":[{"type":"PodScheduled","status":"True"}]}}"#
        )
        .is_bound());
        assert!(
            !placement(r#"{"metadata":{"name":"p"},"spec":{"nodeName":""},"status":null}"#)
                .is_bound()
        );
    }
}
