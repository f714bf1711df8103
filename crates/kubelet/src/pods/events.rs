//! Pod events through the core v1 Events API, with upstream's reasons and messages.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::api::{Patch, PatchParams, PostParams};
use kube::Api;
use serde_json::json;

/// How many distinct events the recorder remembers for aggregation (upstream's LRU size).
const REMEMBERED_EVENTS: usize = 4096;

/// What makes two events the same one, counted instead of repeated (upstream's correlator key).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct EventKey {
    uid: String,
    field_path: Option<String>,
    warning: bool,
    reason: String,
    message: String,
}

#[derive(Debug, Clone)]
struct Seen {
    name: String,
    count: i32,
    first_timestamp: Time,
}

#[derive(Clone)]
pub struct EventRecorder {
    client: kube::Client,
    node_name: String,
    seen: Arc<Mutex<HashMap<EventKey, Seen>>>,
}

impl EventRecorder {
    pub fn new(client: kube::Client, node_name: String) -> Self {
        Self {
            client,
            node_name,
            seen: Arc::default(),
        }
    }

    /// The name, count and first time of this event: a repeat keeps the name of the first.
    fn count(&self, key: EventKey, fresh_name: String, now: &Time) -> Seen {
        let Ok(mut seen) = self.seen.lock() else {
            return Seen {
                name: fresh_name,
                count: 1,
                first_timestamp: now.clone(),
            };
        };
        if seen.len() >= REMEMBERED_EVENTS && !seen.contains_key(&key) {
            seen.clear();
        }
        let entry = seen.entry(key).or_insert_with(|| Seen {
            name: fresh_name,
            count: 0,
            first_timestamp: now.clone(),
        });
        entry.count += 1;
        entry.clone()
    }

    /// Records an event about `container` (None: the pod) without waiting for the API.
    pub fn record(
        &self,
        pod: &Pod,
        container: Option<(&str, bool)>,
        warning: bool,
        reason: &str,
        message: String,
    ) {
        let namespace = pod.metadata.namespace.clone().unwrap_or_default();
        let name = pod.metadata.name.clone().unwrap_or_default();
        let field_path = container.map(|(c, init)| {
            if init {
                format!("spec.initContainers{{{c}}}")
            } else {
                format!("spec.containers{{{c}}}")
            }
        });
        let now = Time(Timestamp::now());
        let suffix: u64 = rand::random();
        let key = EventKey {
            uid: pod.metadata.uid.clone().unwrap_or_default(),
            field_path: field_path.clone(),
            warning,
            reason: reason.to_string(),
            message: message.clone(),
        };
        let seen = self.count(key, format!("{name}.{suffix:016x}"), &now);
        let event = Event {
            metadata: ObjectMeta {
                name: Some(seen.name.clone()),
                namespace: Some(namespace.clone()),
                ..ObjectMeta::default()
            },
            involved_object: ObjectReference {
                api_version: Some("v1".into()),
                kind: Some("Pod".into()),
                name: Some(name),
                namespace: Some(namespace.clone()),
                uid: pod.metadata.uid.clone(),
                field_path,
                ..ObjectReference::default()
            },
            reason: Some(reason.to_string()),
            message: Some(message),
            type_: Some(if warning { "Warning" } else { "Normal" }.to_string()),
            source: Some(EventSource {
                component: Some("kubelet".into()),
                host: Some(self.node_name.clone()),
            }),
            reporting_component: Some("kubelet".into()),
            reporting_instance: Some(self.node_name.clone()),
            first_timestamp: Some(seen.first_timestamp.clone()),
            last_timestamp: Some(now.clone()),
            count: Some(seen.count),
            ..Event::default()
        };
        let events: Api<Event> = Api::namespaced(self.client.clone(), &namespace);
        tokio::spawn(async move {
            if seen.count > 1 {
                let patch = json!({"count": seen.count, "lastTimestamp": now});
                let patched = events
                    .patch(&seen.name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await;
                match patched {
                    Ok(_) => return,
                    // Gone (expired, or its create still in flight): record it anew.
                    Err(kube::Error::Api(status)) if status.code == 404 => {}
                    Err(e) => {
                        tracing::debug!(error = %e, "counting an event");
                        return;
                    }
                }
            }
            if let Err(e) = events.create(&PostParams::default(), &event).await {
                tracing::debug!(error = %e, "recording an event");
            }
        });
    }
}
