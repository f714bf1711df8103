//! Writing a correlated Event: a first occurrence is created, a repeat patches the count and
//! message of the Event it repeats (created anew when that one has expired), a spam-filtered one
//! is dropped — the write half of upstream's recorder, shared by the kubelet and the controllers.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Patch, PatchParams, PostParams};
use kube::Api;
use serde_json::json;

use crate::correlator::{Correlated, EventCorrelator, EventFacts};

/// One component's correlator and its API client.
#[derive(Clone)]
pub struct EventWriter {
    client: kube::Client,
    correlator: Arc<Mutex<EventCorrelator>>,
}

/// An Event that passed correlation, ready to be written.
pub struct PendingEvent {
    events: Api<Event>,
    correlator: Arc<Mutex<EventCorrelator>>,
    key: String,
    /// The Event it repeats and the count to give it.
    repeat_of: Option<(String, i32)>,
    event: Event,
}

impl EventWriter {
    pub fn new(client: kube::Client) -> Self {
        Self {
            client,
            correlator: Arc::default(),
        }
    }

    /// Correlates `facts` now (so that the order of calls is the order of occurrences) and
    /// returns what to write: `event`, with the correlated message (an aggregate's, say), or
    /// None when the spam filter drops it. `event` carries everything but the correlation.
    pub fn prepare(&self, facts: &EventFacts, mut event: Event) -> Option<PendingEvent> {
        let (correlated, key) = match self.correlator.lock() {
            Ok(mut correlator) => correlator.correlate(facts, Instant::now()),
            Err(_) => return None,
        };
        let (message, repeat_of) = match correlated {
            Correlated::Skip => return None,
            Correlated::Create { message } => (message, None),
            Correlated::Patch {
                name,
                count,
                message,
            } => (message, Some((name, count))),
        };
        event.message = Some(message);
        let namespace = event.metadata.namespace.clone().unwrap_or_default();
        Some(PendingEvent {
            events: Api::namespaced(self.client.clone(), &namespace),
            correlator: self.correlator.clone(),
            key,
            repeat_of,
            event,
        })
    }
}

impl PendingEvent {
    /// Writes the Event; failures are logged, never returned (as upstream).
    pub async fn send(self) {
        if let Some((name, count)) = &self.repeat_of {
            let now = Time(Timestamp::now());
            let patch =
                json!({"count": count, "message": self.event.message, "lastTimestamp": now});
            match self
                .events
                .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => return,
                // Gone (expired, or its create still in flight): record it anew.
                Err(kube::Error::Api(status)) if status.code == 404 => {
                    if let Ok(mut correlator) = self.correlator.lock() {
                        correlator.forget(&self.key);
                    }
                }
                Err(error) => {
                    tracing::debug!(%error, "counting an event");
                    return;
                }
            }
        }
        match self
            .events
            .create(&PostParams::default(), &self.event)
            .await
        {
            Ok(created) => {
                if let (Ok(mut correlator), Some(name)) =
                    (self.correlator.lock(), created.metadata.name)
                {
                    correlator.created(self.key, name, Instant::now());
                }
            }
            Err(error) => tracing::debug!(%error, "recording an event"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    use super::*;

    /// A client that records `METHOD path` and answers PATCH with 404 (the repeated Event has
    /// expired) and POST with the Event it was given.
    fn expiring_client(requests: Arc<Mutex<Vec<String>>>) -> kube::Client {
        let service = tower::service_fn(move |request: http::Request<kube::client::Body>| {
            let requests = requests.clone();
            async move {
                let method = request.method().clone();
                if let Ok(mut requests) = requests.lock() {
                    requests.push(format!("{method} {}", request.uri().path()));
                }
                let body = request
                    .into_body()
                    .collect_bytes()
                    .await
                    .unwrap_or_default();
                let (status, body) = if method == http::Method::PATCH {
                    let status = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                        "reason": "NotFound", "code": 404, "message": "gone"});
                    (404, status.to_string().into_bytes())
                } else {
                    (201, body.to_vec())
                };
                let response = http::Response::builder()
                    .status(status)
                    .header("content-type", "application/json")
                    .body(kube::client::Body::from(body))
                    .expect("a response");
                Ok::<_, Infallible>(response)
            }
        });
        kube::Client::new(service, "default")
    }

    fn facts() -> EventFacts {
        EventFacts {
            source_and_object: "kubelet\u{0}Pod\u{0}ns\u{0}web".into(),
            field_path: String::new(),
            type_: "Warning".into(),
            reason: "BackOff".into(),
            message: "Back-off restarting failed container".into(),
        }
    }

    fn event(name: &str) -> Event {
        Event {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                ..ObjectMeta::default()
            },
            ..Event::default()
        }
    }

    #[tokio::test]
    async fn a_repeat_of_an_expired_event_creates_it_anew() {
        let requests = Arc::new(Mutex::new(Vec::new()));
        let writer = EventWriter::new(expiring_client(requests.clone()));
        let first = writer.prepare(&facts(), event("web.1")).expect("first");
        assert!(first.repeat_of.is_none());
        first.send().await;
        let repeat = writer.prepare(&facts(), event("web.2")).expect("repeat");
        assert_eq!(repeat.repeat_of, Some(("web.1".to_string(), 2)));
        repeat.send().await;
        // Forgotten after the 404: the next occurrence is a first one again.
        let again = writer.prepare(&facts(), event("web.3")).expect("again");
        assert_eq!(again.repeat_of, Some(("web.2".to_string(), 2)));
        let requests = requests.lock().map(|r| r.clone()).unwrap_or_default();
        assert_eq!(
            requests,
            [
                "POST /api/v1/namespaces/ns/events",
                "PATCH /api/v1/namespaces/ns/events/web.1",
                "POST /api/v1/namespaces/ns/events",
            ]
        );
    }
}
