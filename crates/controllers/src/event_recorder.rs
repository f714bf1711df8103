//! Writes core v1 Events about objects, as upstream's event recorder does: correlated first
//! (aggregated, counted, spam-filtered), so repeated Events patch one object.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::{Resource, ResourceExt};

use crate::error::is_status;
use events::{Correlated, EventCorrelator, EventFacts};

/// Normal or Warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventType {
    Normal,
    Warning,
}

impl EventType {
    fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "Normal",
            Self::Warning => "Warning",
        }
    }
}

/// Records Events from one component (`replicaset-controller`, `deployment-controller`, ...).
#[derive(Clone)]
pub struct EventRecorder {
    client: kube::Client,
    component: &'static str,
    correlator: Arc<Mutex<EventCorrelator>>,
}

impl EventRecorder {
    pub fn new(client: kube::Client, component: &'static str) -> Self {
        Self {
            client,
            component,
            correlator: Arc::default(),
        }
    }

    /// Record an Event about `object`; failures are logged, never returned (as upstream).
    pub async fn record<K>(&self, object: &K, kind: EventType, reason: &str, message: String)
    where
        K: Resource<DynamicType = ()>,
    {
        let involved = object_reference(object);
        self.record_for(involved, kind, reason, message).await;
    }

    pub async fn record_for(
        &self,
        involved: ObjectReference,
        kind: EventType,
        reason: &str,
        message: String,
    ) {
        let namespace = involved
            .namespace
            .clone()
            .filter(|ns| !ns.is_empty())
            .unwrap_or_else(|| "default".into());
        let facts = EventFacts {
            source_and_object: [
                self.component,
                involved.kind.as_deref().unwrap_or_default(),
                namespace.as_str(),
                involved.name.as_deref().unwrap_or_default(),
                involved.uid.as_deref().unwrap_or_default(),
                involved.api_version.as_deref().unwrap_or_default(),
            ]
            .join("\u{0}"),
            field_path: involved.field_path.clone().unwrap_or_default(),
            type_: kind.as_str().to_string(),
            reason: reason.to_string(),
            message,
        };
        let (correlated, key) = match self.correlator.lock() {
            Ok(mut correlator) => correlator.correlate(&facts, Instant::now()),
            Err(_) => return,
        };
        let events: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
        let message = match correlated {
            Correlated::Skip => return,
            Correlated::Patch {
                name,
                count,
                message,
            } => {
                let patch = serde_json::json!({
                    "count": count,
                    "message": message,
                    "lastTimestamp": Time(Timestamp::now()),
                });
                match events
                    .patch(&name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await
                {
                    Ok(_) => return,
                    // Expired or deleted: record it anew.
                    Err(error) if is_status(&error, 404) => {
                        self.forget(&key);
                        message
                    }
                    Err(error) => {
                        tracing::debug!(%error, reason, "updating event");
                        return;
                    }
                }
            }
            Correlated::Create { message } => message,
        };
        let now = Timestamp::now();
        let object_name = involved.name.clone().unwrap_or_default();
        let event = Event {
            metadata: ObjectMeta {
                name: Some(format!("{object_name}.{:x}", now.as_nanosecond())),
                namespace: Some(namespace.clone()),
                ..ObjectMeta::default()
            },
            involved_object: involved,
            reason: Some(reason.to_string()),
            message: Some(message),
            source: Some(EventSource {
                component: Some(self.component.to_string()),
                host: None,
            }),
            first_timestamp: Some(Time(now)),
            last_timestamp: Some(Time(now)),
            event_time: None::<MicroTime>,
            count: Some(1),
            type_: Some(kind.as_str().to_string()),
            reporting_component: Some(self.component.to_string()),
            reporting_instance: Some(self.component.to_string()),
            ..Event::default()
        };
        match events.create(&PostParams::default(), &event).await {
            Ok(created) => {
                if let (Ok(mut correlator), Some(name)) =
                    (self.correlator.lock(), created.metadata.name)
                {
                    correlator.created(key, name, Instant::now());
                }
            }
            Err(error) => tracing::debug!(%error, reason, "recording event"),
        }
    }

    fn forget(&self, key: &str) {
        if let Ok(mut correlator) = self.correlator.lock() {
            correlator.forget(key);
        }
    }
}

/// An ObjectReference naming `object`.
pub fn object_reference<K: Resource<DynamicType = ()>>(object: &K) -> ObjectReference {
    ObjectReference {
        api_version: Some(K::api_version(&()).to_string()),
        kind: Some(K::kind(&()).to_string()),
        name: Some(object.name_any()),
        namespace: object.namespace(),
        uid: object.uid(),
        resource_version: object.resource_version(),
        field_path: None,
    }
}
