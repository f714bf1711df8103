//! What the replica controller needs from a ReplicaSet or a ReplicationController.

use std::fmt::Debug;

use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetCondition, ReplicaSetStatus};
use k8s_openapi::api::core::v1::{
    PodTemplateSpec, ReplicationController, ReplicationControllerCondition,
    ReplicationControllerStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::Resource;
use serde::de::DeserializeOwned;
use serde::Serialize;

/// The status fields both kinds share.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplicaStatus {
    pub replicas: i32,
    pub fully_labeled_replicas: i32,
    pub ready_replicas: i32,
    pub available_replicas: i32,
    pub observed_generation: i64,
    pub conditions: Vec<ReplicaCondition>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaCondition {
    pub type_: String,
    pub status: String,
    pub reason: Option<String>,
    pub message: Option<String>,
    pub last_transition_time: Option<Time>,
}

/// A ReplicaSet or a ReplicationController.
pub trait ReplicaOwner:
    Resource<DynamicType = (), Scope = k8s_openapi::NamespaceResourceScope>
    + Clone
    + Debug
    + DeserializeOwned
    + Serialize
    + Send
    + Sync
    + 'static
{
    /// The Event source component.
    const COMPONENT: &'static str;
    fn desired_replicas(&self) -> i32;
    fn min_ready_seconds(&self) -> i32;
    /// The selector as a metav1.LabelSelector JSON value.
    fn selector_json(&self) -> Option<serde_json::Value>;
    fn pod_template(&self) -> Option<&PodTemplateSpec>;
    fn replica_status(&self) -> ReplicaStatus;
    fn with_replica_status(&self, status: &ReplicaStatus) -> Self;
}

impl ReplicaOwner for ReplicaSet {
    const COMPONENT: &'static str = "replicaset-controller";

    fn desired_replicas(&self) -> i32 {
        self.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
    }

    fn min_ready_seconds(&self) -> i32 {
        self.spec
            .as_ref()
            .and_then(|s| s.min_ready_seconds)
            .unwrap_or(0)
    }

    fn selector_json(&self) -> Option<serde_json::Value> {
        let selector = &self.spec.as_ref()?.selector;
        serde_json::to_value(selector).ok()
    }

    fn pod_template(&self) -> Option<&PodTemplateSpec> {
        self.spec.as_ref()?.template.as_ref()
    }

    fn replica_status(&self) -> ReplicaStatus {
        let status = self.status.clone().unwrap_or_default();
        ReplicaStatus {
            replicas: status.replicas,
            fully_labeled_replicas: status.fully_labeled_replicas.unwrap_or(0),
            ready_replicas: status.ready_replicas.unwrap_or(0),
            available_replicas: status.available_replicas.unwrap_or(0),
            observed_generation: status.observed_generation.unwrap_or(0),
            conditions: status
                .conditions
                .unwrap_or_default()
                .into_iter()
                .map(|c| ReplicaCondition {
                    type_: c.type_,
                    status: c.status,
                    reason: c.reason,
                    message: c.message,
                    last_transition_time: c.last_transition_time,
                })
                .collect(),
        }
    }

    fn with_replica_status(&self, status: &ReplicaStatus) -> Self {
        let mut updated = self.clone();
        updated.metadata.managed_fields = None;
        let previous = self.status.clone().unwrap_or_default();
        updated.status = Some(ReplicaSetStatus {
            replicas: status.replicas,
            fully_labeled_replicas: Some(status.fully_labeled_replicas),
            ready_replicas: Some(status.ready_replicas),
            available_replicas: Some(status.available_replicas),
            observed_generation: Some(status.observed_generation),
            conditions: (!status.conditions.is_empty()).then(|| {
                status
                    .conditions
                    .iter()
                    .map(|c| ReplicaSetCondition {
                        type_: c.type_.clone(),
                        status: c.status.clone(),
                        reason: c.reason.clone(),
                        message: c.message.clone(),
                        last_transition_time: c.last_transition_time.clone(),
                    })
                    .collect()
            }),
            terminating_replicas: previous.terminating_replicas,
        });
        updated
    }
}

impl ReplicaOwner for ReplicationController {
    const COMPONENT: &'static str = "replication-controller";

    fn desired_replicas(&self) -> i32 {
        self.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1)
    }

    fn min_ready_seconds(&self) -> i32 {
        self.spec
            .as_ref()
            .and_then(|s| s.min_ready_seconds)
            .unwrap_or(0)
    }

    fn selector_json(&self) -> Option<serde_json::Value> {
        let spec = self.spec.as_ref()?;
        // An RC without a selector selects its template's labels (as the API defaults it).
        let labels = spec.selector.clone().or_else(|| {
            spec.template
                .as_ref()
                .and_then(|t| t.metadata.as_ref())
                .and_then(|m| m.labels.clone())
        })?;
        Some(serde_json::json!({ "matchLabels": labels }))
    }

    fn pod_template(&self) -> Option<&PodTemplateSpec> {
        self.spec.as_ref()?.template.as_ref()
    }

    fn replica_status(&self) -> ReplicaStatus {
        let status = self.status.clone().unwrap_or_default();
        ReplicaStatus {
            replicas: status.replicas,
            fully_labeled_replicas: status.fully_labeled_replicas.unwrap_or(0),
            ready_replicas: status.ready_replicas.unwrap_or(0),
            available_replicas: status.available_replicas.unwrap_or(0),
            observed_generation: status.observed_generation.unwrap_or(0),
            conditions: status
                .conditions
                .unwrap_or_default()
                .into_iter()
                .map(|c| ReplicaCondition {
                    type_: c.type_,
                    status: c.status,
                    reason: c.reason,
                    message: c.message,
                    last_transition_time: c.last_transition_time,
                })
                .collect(),
        }
    }

    fn with_replica_status(&self, status: &ReplicaStatus) -> Self {
        let mut updated = self.clone();
        updated.metadata.managed_fields = None;
        updated.status = Some(ReplicationControllerStatus {
            replicas: status.replicas,
            fully_labeled_replicas: Some(status.fully_labeled_replicas),
            ready_replicas: Some(status.ready_replicas),
            available_replicas: Some(status.available_replicas),
            observed_generation: Some(status.observed_generation),
            conditions: (!status.conditions.is_empty()).then(|| {
                status
                    .conditions
                    .iter()
                    .map(|c| ReplicationControllerCondition {
                        type_: c.type_.clone(),
                        status: c.status.clone(),
                        reason: c.reason.clone(),
                        message: c.message.clone(),
                        last_transition_time: c.last_transition_time.clone(),
                    })
                    .collect()
            }),
        });
        updated
    }
}
