//! Pod events through the core v1 Events API, with upstream's reasons and messages, correlated as
//! upstream's recorder does: repeats patch one Event's count, similar ones are combined, and a
//! pod's Events are spam-filtered (a burst of 25, then one every 5 minutes).

use events::{EventFacts, EventWriter};
use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};

#[derive(Clone)]
pub struct EventRecorder {
    writer: EventWriter,
    node_name: String,
}

impl EventRecorder {
    pub fn new(client: kube::Client, node_name: String) -> Self {
        Self {
            writer: EventWriter::new(client),
            node_name,
        }
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
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let type_ = if warning { "Warning" } else { "Normal" };
        let facts = EventFacts {
            source_and_object: [
                "kubelet",
                self.node_name.as_str(),
                "Pod",
                namespace.as_str(),
                name.as_str(),
                uid.as_str(),
                "v1",
            ]
            .join("\u{0}"),
            field_path: field_path.clone().unwrap_or_default(),
            type_: type_.to_string(),
            reason: reason.to_string(),
            message,
        };
        let now = Timestamp::now();
        let event = Event {
            metadata: ObjectMeta {
                name: Some(format!("{name}.{:x}", now.as_nanosecond())),
                namespace: Some(namespace.clone()),
                ..ObjectMeta::default()
            },
            involved_object: ObjectReference {
                api_version: Some("v1".into()),
                kind: Some("Pod".into()),
                name: Some(name),
                namespace: Some(namespace),
                uid: pod.metadata.uid.clone(),
                field_path,
                ..ObjectReference::default()
            },
            reason: Some(reason.to_string()),
            type_: Some(type_.to_string()),
            source: Some(EventSource {
                component: Some("kubelet".into()),
                host: Some(self.node_name.clone()),
            }),
            reporting_component: Some("kubelet".into()),
            reporting_instance: Some(self.node_name.clone()),
            first_timestamp: Some(Time(now)),
            last_timestamp: Some(Time(now)),
            count: Some(1),
            ..Event::default()
        };
        if let Some(pending) = self.writer.prepare(&facts, event) {
            tokio::spawn(pending.send());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use serde_json::json;

    use super::*;

    /// A kube client that records `METHOD path` of each request and answers it with its body.
    fn recording_client(requests: Arc<Mutex<Vec<String>>>) -> kube::Client {
        let service = tower::service_fn(move |request: http::Request<kube::client::Body>| {
            let requests = requests.clone();
            async move {
                let line = format!("{} {}", request.method(), request.uri().path());
                requests.lock().unwrap().push(line);
                let body = request
                    .into_body()
                    .collect_bytes()
                    .await
                    .unwrap_or_default();
                let mut event: serde_json::Value =
                    serde_json::from_slice(&body).unwrap_or_else(|_| json!({}));
                event["metadata"]["name"] =
                    json!(event["metadata"]["name"].as_str().unwrap_or("patched"));
                event["involvedObject"] = json!({});
                let response = http::Response::builder()
                    .status(200)
                    .header("content-type", "application/json")
                    .body(kube::client::Body::from(event.to_string().into_bytes()))
                    .unwrap();
                Ok::<_, Infallible>(response)
            }
        });
        kube::Client::new(service, "default")
    }

    #[tokio::test]
    async fn a_repeated_event_is_counted_then_spam_filtered() {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let recorder = EventRecorder::new(recording_client(requests.clone()), "n1".into());
        let mut pod = Pod::default();
        pod.metadata.name = Some("web".into());
        pod.metadata.namespace = Some("ns".into());
        pod.metadata.uid = Some("u1".into());
        let back_off = || {
            recorder.record(
                &pod,
                Some(("app", false)),
                true,
                "BackOff",
                "Back-off restarting failed container app in pod web_ns(u1)".into(),
            )
        };
        back_off();
        // The first Event exists before its repeats patch it.
        tokio::time::sleep(Duration::from_millis(100)).await;
        for _ in 0..39 {
            back_off();
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let requests = requests.lock().unwrap().clone();
        let creates = requests.iter().filter(|r| r.starts_with("POST")).count();
        let patches = requests.iter().filter(|r| r.starts_with("PATCH")).count();
        assert_eq!((creates, patches), (1, 24), "{requests:?}");
        assert!(requests[0].starts_with("POST /api/v1/namespaces/ns/events"));
    }
}
