//! Mirror pods: the API's read-only view of each static pod (upstream's mirror client). Every
//! static pod has one mirror carrying its hash; stale, deleted or orphaned mirrors are replaced.

use std::collections::{BTreeMap, BTreeSet};

use k8s_openapi::api::core::v1::Pod;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{DeleteParams, ListParams, PostParams, Preconditions};
use kube::Api;

use super::manifest::{mirror_hash, CONFIG_MIRROR};
use crate::KubeletError;

/// The mirror of `static_pod`, owned by the node.
pub fn mirror_of(static_pod: &Pod, node_name: &str, node_uid: &str) -> Pod {
    let mut mirror = static_pod.clone();
    let hash = static_pod.metadata.uid.clone().unwrap_or_default();
    mirror.metadata.uid = None;
    mirror.metadata.resource_version = None;
    mirror
        .metadata
        .annotations
        .get_or_insert_with(Default::default)
        .insert(CONFIG_MIRROR.into(), hash);
    mirror.metadata.owner_references = Some(vec![OwnerReference {
        api_version: "v1".into(),
        kind: "Node".into(),
        name: node_name.into(),
        uid: node_uid.into(),
        controller: Some(true),
        block_owner_deletion: None,
    }]);
    mirror.status = None;
    mirror
}

/// What to do with the API's mirror pods so each static pod has exactly one current mirror.
#[derive(Debug, Default, PartialEq)]
pub struct MirrorPlan {
    /// (namespace, name, uid) of mirrors to delete.
    pub delete: Vec<(String, String, String)>,
    /// Static pod uids whose mirror must be created.
    pub create: Vec<String>,
}

fn key(pod: &Pod) -> (String, String) {
    (
        pod.metadata.namespace.clone().unwrap_or_default(),
        pod.metadata.name.clone().unwrap_or_default(),
    )
}

/// Compares the static pods (by uid) with the mirrors found in the API.
pub fn plan_mirrors(static_pods: &BTreeMap<String, Pod>, mirrors: &[Pod]) -> MirrorPlan {
    let mut plan = MirrorPlan::default();
    let mut current: BTreeSet<(String, String)> = BTreeSet::new();
    for mirror in mirrors {
        let Some(hash) = mirror_hash(mirror) else {
            continue;
        };
        let matches = static_pods
            .get(hash)
            .is_some_and(|pod| key(pod) == key(mirror));
        if matches && mirror.metadata.deletion_timestamp.is_none() {
            current.insert(key(mirror));
            continue;
        }
        plan.delete.push((
            key(mirror).0,
            key(mirror).1,
            mirror.metadata.uid.clone().unwrap_or_default(),
        ));
    }
    for (uid, pod) in static_pods {
        if !current.contains(&key(pod)) {
            plan.create.push(uid.clone());
        }
    }
    plan
}

/// Brings the API's mirror pods of this node in line with `static_pods`.
pub async fn sync_mirrors(
    client: &kube::Client,
    node_name: &str,
    node_uid: &str,
    static_pods: &BTreeMap<String, Pod>,
) -> Result<(), KubeletError> {
    let all: Api<Pod> = Api::all(client.clone());
    let on_node = all
        .list(&ListParams::default().fields(&format!("spec.nodeName={node_name}")))
        .await?;
    let mirrors: Vec<Pod> = on_node
        .items
        .into_iter()
        .filter(|p| mirror_hash(p).is_some())
        .collect();
    let plan = plan_mirrors(static_pods, &mirrors);
    for (namespace, name, uid) in &plan.delete {
        let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
        let params = DeleteParams {
            grace_period_seconds: Some(0),
            preconditions: Some(Preconditions {
                uid: Some(uid.clone()),
                resource_version: None,
            }),
            ..DeleteParams::default()
        };
        tracing::info!(pod = %format!("{namespace}/{name}"), "deleting a stale mirror pod");
        match pods.delete(name, &params).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => {}
            Err(e) => return Err(e.into()),
        }
    }
    for uid in &plan.create {
        let Some(pod) = static_pods.get(uid) else {
            continue;
        };
        let (namespace, name) = key(pod);
        let pods: Api<Pod> = Api::namespaced(client.clone(), &namespace);
        match pods
            .create(&PostParams::default(), &mirror_of(pod, node_name, node_uid))
            .await
        {
            Ok(_) => tracing::info!(pod = %format!("{namespace}/{name}"), "created mirror pod"),
            // The old mirror is still going away: the next pass creates it.
            Err(kube::Error::Api(s)) if s.code == 409 => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

    fn static_pod(uid: &str) -> Pod {
        let mut pod = Pod::default();
        pod.metadata.name = Some("web-n1".into());
        pod.metadata.namespace = Some("default".into());
        pod.metadata.uid = Some(uid.into());
        pod
    }

    fn mirror(hash: &str, uid: &str) -> Pod {
        let mut pod = mirror_of(&static_pod(hash), "n1", "node-uid");
        pod.metadata.uid = Some(uid.into());
        pod
    }

    #[test]
    fn mirror_carries_hash_and_node_owner() {
        let m = mirror_of(&static_pod("h1"), "n1", "node-uid");
        assert_eq!(mirror_hash(&m), Some("h1"));
        assert_eq!(m.metadata.uid, None);
        let owner = &m.metadata.owner_references.unwrap()[0];
        assert_eq!(
            (owner.kind.as_str(), owner.uid.as_str()),
            ("Node", "node-uid")
        );
    }

    #[test]
    fn plans_create_replace_and_orphan_delete() {
        let statics: BTreeMap<String, Pod> = [("h2".to_string(), static_pod("h2"))].into();
        // No mirror: create.
        assert_eq!(
            plan_mirrors(&statics, &[]),
            MirrorPlan {
                delete: vec![],
                create: vec!["h2".into()]
            }
        );
        // Current mirror: nothing.
        assert_eq!(
            plan_mirrors(&statics, &[mirror("h2", "m2")]),
            MirrorPlan::default()
        );
        // Stale hash (edited manifest): replace.
        let plan = plan_mirrors(&statics, &[mirror("h1", "m1")]);
        assert_eq!(
            plan.delete,
            vec![("default".into(), "web-n1".into(), "m1".into())]
        );
        assert_eq!(plan.create, vec!["h2".to_string()]);
        // Deleted by a user: replace.
        let mut deleting = mirror("h2", "m3");
        deleting.metadata.deletion_timestamp = Some(Time(jiff::Timestamp::UNIX_EPOCH));
        let plan = plan_mirrors(&statics, &[deleting]);
        assert_eq!(plan.delete.len(), 1);
        assert_eq!(plan.create, vec!["h2".to_string()]);
        // Manifest removed: orphan deleted.
        let plan = plan_mirrors(&BTreeMap::new(), &[mirror("h2", "m2")]);
        assert_eq!(plan.delete.len(), 1);
        assert!(plan.create.is_empty());
    }
}
