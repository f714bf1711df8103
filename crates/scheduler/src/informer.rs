//! Watches of nodes, pods and priority classes, forwarded to the scheduling thread.

use std::collections::HashSet;
use std::fmt::Debug;
use std::sync::mpsc::Sender;
use std::time::Duration;

use api::without_managed_fields::{Decoded, WithoutManagedFields, WithoutManagedFieldsOrVolumes};
use futures::StreamExt;
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::api::scheduling::v1::PriorityClass;
use kube::runtime::watcher;
use kube::{Api, Resource, ResourceExt};
use serde::de::DeserializeOwned;
use tokio_util::sync::CancellationToken;

use crate::messages::{Kind, Message};

/// How a kind's objects become messages.
trait Watched: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static {
    const KIND: Kind;
    /// What the watch decodes: the object without what the scheduler never reads. Only the API
    /// server and appliers read managedFields, and as parsed JSON trees they are bigger than the
    /// rest of a pod or node; no plugin reads a pod's volumes.
    type Decoded: Decoded<Object = Self>
        + Resource<DynamicType = ()>
        + Clone
        + DeserializeOwned
        + Debug
        + Send
        + 'static;
    fn key(&self) -> String;
    fn applied(self) -> Message;
    fn deleted(self) -> Message;
}

impl Watched for Node {
    const KIND: Kind = Kind::Node;
    type Decoded = WithoutManagedFields<Node>;
    fn key(&self) -> String {
        self.name_any()
    }
    fn applied(self) -> Message {
        Message::NodeApplied(Box::new(self))
    }
    fn deleted(self) -> Message {
        Message::NodeDeleted(self.name_any())
    }
}

impl Watched for Pod {
    const KIND: Kind = Kind::Pod;
    type Decoded = WithoutManagedFieldsOrVolumes<Pod>;
    fn key(&self) -> String {
        self.metadata.uid.clone().unwrap_or_default()
    }
    fn applied(self) -> Message {
        Message::PodApplied(Box::new(self))
    }
    fn deleted(self) -> Message {
        Message::PodDeleted(Box::new(self))
    }
}

impl Watched for PriorityClass {
    const KIND: Kind = Kind::PriorityClass;
    type Decoded = WithoutManagedFields<PriorityClass>;
    fn key(&self) -> String {
        self.name_any()
    }
    fn applied(self) -> Message {
        Message::PriorityClassApplied(Box::new(self))
    }
    fn deleted(self) -> Message {
        Message::PriorityClassDeleted(self.name_any())
    }
}

/// Forwards one kind's watch until cancelled; a failed watch is retried after a pause.
async fn forward<K: Watched>(api: Api<K::Decoded>, tx: Sender<Message>, cancel: CancellationToken) {
    let config = watcher::Config::default().page_size(5000);
    let mut stream = watcher(api, config).boxed();
    let mut seen: Option<HashSet<String>> = None;
    loop {
        let event = tokio::select! {
            _ = cancel.cancelled() => return,
            event = stream.next() => event,
        };
        let message = match event {
            None => return,
            Some(Err(error)) => {
                tracing::warn!(%error, kind = ?K::KIND, "scheduler watch failed; retrying");
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
            Some(Ok(watcher::Event::Init)) => {
                seen = Some(HashSet::new());
                continue;
            }
            Some(Ok(watcher::Event::InitApply(decoded))) => {
                let object = decoded.into_object();
                if let Some(seen) = seen.as_mut() {
                    seen.insert(object.key());
                }
                object.applied()
            }
            Some(Ok(watcher::Event::InitDone)) => Message::Listed {
                kind: K::KIND,
                seen: seen.take().unwrap_or_default(),
            },
            Some(Ok(watcher::Event::Apply(decoded))) => decoded.into_object().applied(),
            Some(Ok(watcher::Event::Delete(decoded))) => decoded.into_object().deleted(),
        };
        if tx.send(message).is_err() {
            return;
        }
    }
}

/// Starts the three watches.
pub fn spawn(
    client: kube::Client,
    tx: Sender<Message>,
    cancel: CancellationToken,
) -> Vec<tokio::task::JoinHandle<()>> {
    vec![
        tokio::spawn(forward::<PriorityClass>(
            Api::all(client.clone()),
            tx.clone(),
            cancel.clone(),
        )),
        tokio::spawn(forward::<Node>(
            Api::all(client.clone()),
            tx.clone(),
            cancel.clone(),
        )),
        tokio::spawn(forward::<Pod>(Api::all(client), tx, cancel)),
    ]
}
