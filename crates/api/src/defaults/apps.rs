//! apps/v1 controllers, as upstream's `SetDefaults_Deployment`, `_ReplicaSet`, `_StatefulSet`
//! and `_DaemonSet`.

use serde_json::Value;

use super::pod::default_pod_template;
use super::{fill, items_at, object_at};

pub fn default_deployment(obj: &mut Value) {
    let Some(spec) = object_at(obj, "spec") else {
        return;
    };
    fill(spec, "replicas", 1.into());
    if let Some(strategy) = object_at(spec, "strategy") {
        fill(strategy, "type", "RollingUpdate".into());
        if strategy["type"] == "RollingUpdate" {
            if let Some(rolling) = object_at(strategy, "rollingUpdate") {
                fill(rolling, "maxUnavailable", "25%".into());
                fill(rolling, "maxSurge", "25%".into());
            }
        }
    }
    fill(spec, "revisionHistoryLimit", 10.into());
    fill(spec, "progressDeadlineSeconds", 600.into());
    default_template(spec);
}

pub fn default_replica_set(obj: &mut Value) {
    let Some(spec) = object_at(obj, "spec") else {
        return;
    };
    fill(spec, "replicas", 1.into());
    default_template(spec);
}

pub fn default_stateful_set(obj: &mut Value) {
    let Some(spec) = object_at(obj, "spec") else {
        return;
    };
    fill(spec, "podManagementPolicy", "OrderedReady".into());
    if let Some(strategy) = object_at(spec, "updateStrategy") {
        fill(strategy, "type", "RollingUpdate".into());
        if strategy["type"] == "RollingUpdate" {
            if let Some(rolling) = object_at(strategy, "rollingUpdate") {
                fill(rolling, "partition", 0.into());
            }
        }
    }
    if let Some(retention) = object_at(spec, "persistentVolumeClaimRetentionPolicy") {
        fill(retention, "whenDeleted", "Retain".into());
        fill(retention, "whenScaled", "Retain".into());
    }
    fill(spec, "replicas", 1.into());
    fill(spec, "revisionHistoryLimit", 10.into());
    for claim in items_at(spec, "volumeClaimTemplates") {
        if let Some(claim_spec) = object_at(claim, "spec") {
            fill(claim_spec, "volumeMode", "Filesystem".into());
        }
        if let Some(status) = object_at(claim, "status") {
            fill(status, "phase", "Pending".into());
        }
    }
    default_template(spec);
}

pub fn default_daemon_set(obj: &mut Value) {
    let Some(spec) = object_at(obj, "spec") else {
        return;
    };
    if let Some(strategy) = object_at(spec, "updateStrategy") {
        fill(strategy, "type", "RollingUpdate".into());
        if strategy["type"] == "RollingUpdate" {
            if let Some(rolling) = object_at(strategy, "rollingUpdate") {
                fill(rolling, "maxUnavailable", 1.into());
                fill(rolling, "maxSurge", 0.into());
            }
        }
    }
    fill(spec, "revisionHistoryLimit", 10.into());
    default_template(spec);
}

fn default_template(spec: &mut Value) {
    if let Some(template) = object_at(spec, "template") {
        default_pod_template(template);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deployment_defaults() {
        let mut d =
            json!({"spec": {"template": {"spec": {"containers": [{"name": "a", "image": "x"}]}}}});
        default_deployment(&mut d);
        assert_eq!(d["spec"]["replicas"], 1);
        assert_eq!(
            d["spec"]["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}})
        );
        assert_eq!(d["spec"]["revisionHistoryLimit"], 10);
        assert_eq!(d["spec"]["progressDeadlineSeconds"], 600);
        assert_eq!(d["spec"]["template"]["spec"]["restartPolicy"], "Always");
        let mut recreate = json!({"spec": {"strategy": {"type": "Recreate"}}});
        default_deployment(&mut recreate);
        assert!(recreate["spec"]["strategy"].get("rollingUpdate").is_none());
    }

    #[test]
    fn stateful_and_daemon_sets() {
        let mut s = json!({"spec": {}});
        default_stateful_set(&mut s);
        assert_eq!(
            s["spec"]["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 0}})
        );
        assert_eq!(
            s["spec"]["persistentVolumeClaimRetentionPolicy"],
            json!({"whenDeleted": "Retain", "whenScaled": "Retain"})
        );
        assert_eq!(s["spec"]["podManagementPolicy"], "OrderedReady");
        let mut d = json!({"spec": {}});
        default_daemon_set(&mut d);
        assert_eq!(
            d["spec"]["updateStrategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}})
        );
    }
}
