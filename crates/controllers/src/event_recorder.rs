//! Writes core v1 Events about objects, as upstream's event recorder does: correlated first
//! (aggregated, counted, spam-filtered), so repeated Events patch one object.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta, Time};
use kube::{Resource, ResourceExt};

use events::{EventFacts, EventWriter};

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
    writer: EventWriter,
    component: &'static str,
}

impl EventRecorder {
    pub fn new(client: kube::Client, component: &'static str) -> Self {
        Self {
            writer: EventWriter::new(client),
            component,
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
        let now = Timestamp::now();
        let object_name = involved.name.clone().unwrap_or_default();
        let event = Event {
            metadata: ObjectMeta {
                name: Some(format!("{object_name}.{:x}", now.as_nanosecond())),
                namespace: Some(namespace),
                ..ObjectMeta::default()
            },
            involved_object: involved,
            reason: Some(reason.to_string()),
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
        if let Some(pending) = self.writer.prepare(&facts, event) {
            pending.send().await;
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
