//! The collector's writes and live lookups, through the API.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{
    Api, DeleteParams, DynamicObject, Patch, PatchParams, Preconditions, PropagationPolicy,
};

use super::decision::{OwnerState, Propagation, FOREGROUND_FINALIZER, ORPHAN_FINALIZER};
use super::graph::Node;
use super::monitored_resources::MonitoredResources;
use crate::error::is_status;

pub struct Effects {
    client: kube::Client,
    monitored: MonitoredResources,
}

impl Effects {
    pub fn new(client: kube::Client, monitored: MonitoredResources) -> Self {
        Self { client, monitored }
    }

    fn api_for(&self, resource: usize, namespace: Option<&str>) -> Option<Api<DynamicObject>> {
        let monitored = self.monitored.resources.get(resource)?;
        Some(match (monitored.namespaced, namespace) {
            (true, Some(namespace)) => {
                Api::namespaced_with(self.client.clone(), namespace, &monitored.resource)
            }
            _ => Api::all_with(self.client.clone(), &monitored.resource),
        })
    }

    /// How an owner stands: from the graph when it is there, else from a live read (the graph
    /// may not have seen a just-created owner yet). None: could not tell now.
    pub async fn owner_state(
        &self,
        owner: &OwnerReference,
        dependent_namespace: Option<&str>,
        known: Option<&Node>,
    ) -> Option<OwnerState> {
        if let Some(node) = known {
            return Some(state_of(node.deleting, &node.finalizers));
        }
        let Some(resource) = self.monitored.index_of(&owner.api_version, &owner.kind) else {
            // A kind we cannot look up: never delete on a guess.
            return Some(OwnerState::Solid);
        };
        let api = self.api_for(resource, dependent_namespace)?;
        match api.get_metadata_opt(&owner.name).await {
            Ok(None) => Some(OwnerState::Dangling),
            Ok(Some(found)) if found.metadata.uid.as_deref() != Some(owner.uid.as_str()) => {
                Some(OwnerState::Dangling)
            }
            Ok(Some(found)) => Some(state_of(
                found.metadata.deletion_timestamp.is_some(),
                &found.metadata.finalizers.unwrap_or_default(),
            )),
            Err(error) => {
                tracing::debug!(%error, owner = %owner.name, "looking up owner");
                None
            }
        }
    }

    /// The object as the API has it now: Some(None) when it is gone, None when the read failed.
    pub async fn live_node(&self, node: &Node) -> Option<Option<Node>> {
        let Some(api) = self.api_for(node.resource, node.namespace.as_deref()) else {
            return Some(None);
        };
        match api.get_metadata_opt(&node.name).await {
            Ok(found) => {
                Some(found.and_then(|found| Node::from_meta(node.resource, &found.metadata)))
            }
            Err(error) => {
                tracing::debug!(%error, name = %node.name, "reading object");
                None
            }
        }
    }

    pub async fn delete(&self, node: &Node, propagation: Propagation) -> bool {
        let Some(api) = self.api_for(node.resource, node.namespace.as_deref()) else {
            return true;
        };
        let params = DeleteParams {
            propagation_policy: Some(match propagation {
                Propagation::Background => PropagationPolicy::Background,
                Propagation::Foreground => PropagationPolicy::Foreground,
                Propagation::Orphan => PropagationPolicy::Orphan,
            }),
            preconditions: Some(Preconditions {
                uid: Some(node.uid.clone()),
                resource_version: None,
            }),
            ..DeleteParams::default()
        };
        tracing::debug!(name = %node.name, ?propagation, "garbage collecting");
        accept(api.delete(&node.name, &params).await.map(|_| ()))
    }

    pub async fn rewrite_owner_references(
        &self,
        node: &Node,
        remove: &[String],
        unblock: &[String],
    ) -> bool {
        let owners: Vec<OwnerReference> = node
            .owners
            .iter()
            .filter(|o| !remove.contains(&o.uid))
            .cloned()
            .map(|mut o| {
                if unblock.contains(&o.uid) {
                    o.block_owner_deletion = Some(false);
                }
                o
            })
            .collect();
        self.patch_metadata(node, serde_json::json!({ "ownerReferences": owners }))
            .await
    }

    /// Remove the orphaning owner's reference from every dependent.
    pub async fn orphan_dependents(&self, owner: &Node, dependents: &[Node]) -> bool {
        let removed = [owner.uid.clone()];
        for dependent in dependents {
            if !self
                .rewrite_owner_references(dependent, &removed, &[])
                .await
            {
                return false;
            }
        }
        true
    }

    pub async fn remove_orphan_finalizer(&self, owner: &Node) -> bool {
        self.remove_finalizer(owner, ORPHAN_FINALIZER).await
    }

    pub async fn remove_foreground_finalizer(&self, owner: &Node) -> bool {
        self.remove_finalizer(owner, FOREGROUND_FINALIZER).await
    }

    async fn remove_finalizer(&self, node: &Node, finalizer: &str) -> bool {
        let remaining: Vec<&String> = node.finalizers.iter().filter(|f| *f != finalizer).collect();
        self.patch_metadata(node, serde_json::json!({ "finalizers": remaining }))
            .await
    }

    /// A merge patch of metadata, guarded by the resourceVersion the graph saw.
    async fn patch_metadata(&self, node: &Node, mut metadata: serde_json::Value) -> bool {
        let Some(api) = self.api_for(node.resource, node.namespace.as_deref()) else {
            return true;
        };
        metadata["resourceVersion"] = serde_json::json!(node.resource_version);
        metadata["uid"] = serde_json::json!(node.uid);
        let patch = serde_json::json!({ "metadata": metadata });
        accept(
            api.patch(&node.name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
                .map(|_| ()),
        )
    }
}

fn state_of(deleting: bool, finalizers: &[String]) -> OwnerState {
    if deleting && finalizers.iter().any(|f| f == FOREGROUND_FINALIZER) {
        OwnerState::WaitingForDependents
    } else {
        OwnerState::Solid
    }
}

/// Done (true) on success or when the object is gone; retry (false) otherwise, conflicts included.
fn accept(result: Result<(), kube::Error>) -> bool {
    match result {
        Ok(()) => true,
        Err(error) if is_status(&error, 404) => true,
        Err(error) => {
            tracing::debug!(%error, "garbage collector write");
            false
        }
    }
}
