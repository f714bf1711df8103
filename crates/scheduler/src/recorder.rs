//! The scheduler's writes besides bindings: Events, the PodScheduled=False condition with
//! the nominated node, and deleting preemption victims. Performed by background tasks so the
//! scheduling thread never waits on the API; Events are dropped when the queue is full, as
//! upstream's broadcaster does.

use std::sync::Arc;

use api::without_managed_fields::WithoutManagedFields;
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, Time};
use kube::api::{DeleteParams, ObjectMeta, Patch, PatchParams, PostParams};
use kube::Api;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::snapshot::PodInfo;

const QUEUE: usize = 4096;
const CONCURRENCY: usize = 32;

#[derive(Debug)]
enum Effect {
    Event {
        pod: Arc<PodInfo>,
        kind: &'static str,
        reason: &'static str,
        action: &'static str,
        message: String,
    },
    Unschedulable {
        pod: Arc<PodInfo>,
        message: String,
        nominated_node: Option<String>,
    },
    DeleteVictim {
        pod: Arc<PodInfo>,
    },
}

/// A handle for queueing writes; cheap to clone.
#[derive(Clone)]
pub struct Recorder {
    tx: mpsc::Sender<Effect>,
}

impl Recorder {
    pub fn spawn(
        client: kube::Client,
        component: String,
        instance: String,
        cancel: CancellationToken,
    ) -> (Recorder, tokio::task::JoinHandle<()>) {
        let (tx, rx) = mpsc::channel(QUEUE);
        let task = tokio::spawn(async move {
            let stream = tokio_stream_from(rx);
            let work = stream
                .map(|effect| perform(client.clone(), &component, &instance, effect))
                .buffer_unordered(CONCURRENCY)
                .for_each(|_| async {});
            tokio::select! {
                _ = cancel.cancelled() => {}
                _ = work => {}
            }
        });
        (Recorder { tx }, task)
    }

    pub fn scheduled(&self, pod: Arc<PodInfo>, node: &str) {
        let message = format!(
            "Successfully assigned {}/{} to {node}",
            pod.namespace, pod.name
        );
        let _ = self.tx.try_send(Effect::Event {
            pod,
            kind: "Normal",
            reason: "Scheduled",
            action: "Binding",
            message,
        });
    }

    pub fn failed_scheduling(&self, pod: Arc<PodInfo>, message: String) {
        let _ = self.tx.try_send(Effect::Event {
            pod,
            kind: "Warning",
            reason: "FailedScheduling",
            action: "Scheduling",
            message,
        });
    }

    /// Sets PodScheduled=False (and the nominated node), unless the pod already says so.
    pub fn unschedulable(
        &self,
        pod: Arc<PodInfo>,
        message: String,
        nominated_node: Option<String>,
    ) {
        let current = pod
            .pod
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .and_then(|c| c.iter().find(|c| c.type_ == "PodScheduled"));
        let same = current
            .is_some_and(|c| c.status == "False" && c.message.as_deref() == Some(message.as_str()))
            && nominated_node.is_none();
        if !same {
            let _ = self.tx.try_send(Effect::Unschedulable {
                pod,
                message,
                nominated_node,
            });
        }
    }

    pub fn delete_victim(&self, pod: Arc<PodInfo>) {
        let _ = self.tx.try_send(Effect::DeleteVictim { pod });
    }
}

fn tokio_stream_from<T: Send + 'static>(
    mut rx: mpsc::Receiver<T>,
) -> impl futures::Stream<Item = T> {
    futures::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

async fn perform(client: kube::Client, component: &str, instance: &str, effect: Effect) {
    let result = match effect {
        Effect::Event {
            pod,
            kind,
            reason,
            action,
            message,
        } => {
            let now = jiff::Timestamp::now();
            let event = Event {
                metadata: ObjectMeta {
                    name: Some(format!("{}.{:x}", pod.name, now.as_nanosecond())),
                    namespace: Some(pod.namespace.clone()),
                    ..Default::default()
                },
                involved_object: ObjectReference {
                    api_version: Some("v1".into()),
                    kind: Some("Pod".into()),
                    name: Some(pod.name.clone()),
                    namespace: Some(pod.namespace.clone()),
                    uid: Some(pod.uid.clone()),
                    ..Default::default()
                },
                reason: Some(reason.into()),
                message: Some(message),
                type_: Some(kind.into()),
                action: Some(action.into()),
                count: Some(1),
                first_timestamp: Some(Time(now)),
                last_timestamp: Some(Time(now)),
                event_time: Some(MicroTime(now)),
                reporting_component: Some(component.into()),
                reporting_instance: Some(instance.into()),
                source: Some(EventSource {
                    component: Some(component.into()),
                    ..Default::default()
                }),
                ..Default::default()
            };
            // The answer is only checked for success: its managedFields are not decoded.
            Api::<WithoutManagedFields<Event>>::namespaced(client, &pod.namespace)
                .create(&PostParams::default(), &WithoutManagedFields(event))
                .await
                .map(|_| ())
        }
        Effect::Unschedulable {
            pod,
            message,
            nominated_node,
        } => {
            let mut status = serde_json::json!({
                "conditions": [{
                    "type": "PodScheduled",
                    "status": "False",
                    "reason": "Unschedulable",
                    "message": message,
                    "lastProbeTime": null,
                    "lastTransitionTime": jiff::Timestamp::now().to_string(),
                }]
            });
            if let Some(node) = nominated_node {
                status["nominatedNodeName"] = serde_json::Value::String(node);
            }
            Api::<WithoutManagedFields<Pod>>::namespaced(client, &pod.namespace)
                .patch_status(
                    &pod.name,
                    &PatchParams::default(),
                    &Patch::Strategic(serde_json::json!({ "status": status })),
                )
                .await
                .map(|_| ())
        }
        Effect::DeleteVictim { pod } => Api::<Pod>::namespaced(client, &pod.namespace)
            .delete(&pod.name, &DeleteParams::default())
            .await
            .map(|_| ()),
    };
    if let Err(error) = result {
        tracing::debug!(%error, "scheduler write failed");
    }
}
