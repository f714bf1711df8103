//! The watched objects: one kube-runtime reflector each, all poking one `Notify` on any change.

use std::fmt::Debug;
use std::sync::Arc;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{Node, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::networking::v1::Ingress;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Resource};
use serde::de::DeserializeOwned;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::IngressError;

pub struct Caches {
    pub ingresses: Store<Ingress>,
    pub services: Store<Service>,
    pub endpoint_slices: Store<EndpointSlice>,
    pub nodes: Store<Node>,
}

impl Caches {
    /// Starts the watches; `changed` is notified after every event.
    pub fn spawn(client: &kube::Client, changed: &Arc<Notify>, cancel: &CancellationToken) -> Self {
        Self {
            ingresses: reflect(Api::all(client.clone()), changed, cancel),
            services: reflect(Api::all(client.clone()), changed, cancel),
            endpoint_slices: reflect(Api::all(client.clone()), changed, cancel),
            nodes: reflect(Api::all(client.clone()), changed, cancel),
        }
    }

    pub async fn wait_until_ready(&self) -> Result<(), IngressError> {
        let closed = |what| move |_| IngressError::CacheClosed(what);
        self.ingresses
            .wait_until_ready()
            .await
            .map_err(closed("Ingress"))?;
        self.services
            .wait_until_ready()
            .await
            .map_err(closed("Service"))?;
        self.endpoint_slices
            .wait_until_ready()
            .await
            .map_err(closed("EndpointSlice"))?;
        self.nodes.wait_until_ready().await.map_err(closed("Node"))
    }
}

fn reflect<K>(api: Api<K>, changed: &Arc<Notify>, cancel: &CancellationToken) -> Store<K>
where
    K: Resource + Clone + DeserializeOwned + Debug + Send + Sync + 'static,
    K::DynamicType: Eq + std::hash::Hash + Clone + Default + Send + Sync,
{
    let (store, writer) = reflector::store();
    let events = watcher(api, watcher::Config::default())
        .default_backoff()
        .modify(|object: &mut K| {
            // Field managers and `kubectl apply`'s copy of the object: nothing routing needs.
            let meta = object.meta_mut();
            meta.managed_fields = None;
            if let Some(annotations) = meta.annotations.as_mut() {
                annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
            }
        })
        .reflect(writer);
    let changed = Arc::clone(changed);
    let cancel = cancel.clone();
    tokio::spawn(async move {
        let notify_each = events.for_each(|event| {
            if let Err(error) = event {
                tracing::warn!(kind = %K::kind(&K::DynamicType::default()), %error, "watch failed");
            }
            changed.notify_one();
            futures::future::ready(())
        });
        tokio::select! {
            () = cancel.cancelled() => {}
            () = notify_each => {}
        }
    });
    store
}
