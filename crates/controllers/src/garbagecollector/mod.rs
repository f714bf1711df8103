//! The garbage collector: an ownerReferences graph over every resource, fed by metadata-only
//! watches, that deletes objects whose owners are gone (background), deletes dependents before
//! their owner (foreground), and strips references from dependents of orphaning owners.

mod collector;
mod decision;
mod effects;
mod graph;
mod monitored_resources;
mod watched_metadata;

use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::Api;
use kube::runtime::{watcher, WatchStreamExt};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use crate::context::ControllerContext;
use crate::error::ControllerError;
use collector::Collector;
use monitored_resources::MonitoredResources;
use watched_metadata::WatchedMetadata;

/// A change seen by one resource's watch.
pub enum GraphEvent {
    Upsert(usize, Box<ObjectMeta>),
    Delete(Box<ObjectMeta>),
    InitStarted(usize),
    InitApply(usize, Box<ObjectMeta>),
    InitDone(usize),
}

pub async fn run(
    context: ControllerContext,
    cancel: CancellationToken,
) -> Result<(), ControllerError> {
    let monitored = MonitoredResources::discover(&context.client).await?;
    let (events, received) = mpsc::unbounded_channel();
    let watches = cancel.child_token();
    for (index, monitored_resource) in monitored.resources.iter().enumerate() {
        let api: Api<WatchedMetadata> =
            Api::all_with(context.client.clone(), &monitored_resource.resource);
        tokio::spawn(forward_changes(index, api, events.clone(), watches.clone()));
    }
    drop(events);
    let collector = Collector::new(context.client.clone(), monitored);
    collector.run(received, cancel).await;
    watches.cancel();
    Ok(())
}

async fn forward_changes(
    index: usize,
    api: Api<WatchedMetadata>,
    events: mpsc::UnboundedSender<GraphEvent>,
    cancel: CancellationToken,
) {
    let mut changes = watcher(api, watcher::Config::default())
        .default_backoff()
        .boxed();
    loop {
        let change = tokio::select! {
            _ = cancel.cancelled() => return,
            change = changes.next() => change,
        };
        let event = match change {
            None => return,
            Some(Err(error)) => {
                tracing::debug!(%error, "garbage collector watch");
                continue;
            }
            Some(Ok(watcher::Event::Apply(object))) => {
                GraphEvent::Upsert(index, Box::new(object.0.metadata))
            }
            Some(Ok(watcher::Event::Delete(object))) => {
                GraphEvent::Delete(Box::new(object.0.metadata))
            }
            Some(Ok(watcher::Event::Init)) => GraphEvent::InitStarted(index),
            Some(Ok(watcher::Event::InitApply(object))) => {
                GraphEvent::InitApply(index, Box::new(object.0.metadata))
            }
            Some(Ok(watcher::Event::InitDone)) => GraphEvent::InitDone(index),
        };
        if events.send(event).is_err() {
            return;
        }
    }
}
