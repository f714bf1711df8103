//! Keeps [`Records`] current from Service and EndpointSlice watches. Each object is cut down to
//! its DNS entry as it arrives; full objects are never stored.

use futures::StreamExt;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::runtime::watcher::{self, Event};
use kube::runtime::WatchStreamExt;
use kube::Api;
use tokio::sync::oneshot;

use crate::handler::SharedRecords;
use crate::objects::{service_entry, slice_entry, slice_key, ServiceEntry, ServiceKey, SliceEntry};
use crate::records::{Records, SliceKey};

/// Follows every Service until the stream ends; `synced` fires after the first full list.
pub async fn follow_services(
    client: kube::Client,
    records: SharedRecords,
    synced: oneshot::Sender<()>,
) {
    let mut relisted: Vec<(ServiceKey, ServiceEntry)> = Vec::new();
    let mut synced = Some(synced);
    let stream = watcher(Api::<Service>::all(client));
    futures::pin_mut!(stream);
    while let Some(event) = stream.next().await {
        let event = match event {
            Ok(event) => event,
            Err(error) => {
                tracing::warn!(%error, "watching Services for DNS");
                continue;
            }
        };
        match event {
            Event::Apply(service) => match service_entry(&service) {
                Some((key, entry)) => write(&records).upsert_service(key, entry),
                None => remove_service(&records, &service),
            },
            Event::Delete(service) => remove_service(&records, &service),
            Event::Init => relisted.clear(),
            Event::InitApply(service) => relisted.extend(service_entry(&service)),
            Event::InitDone => {
                write(&records).replace_services(relisted.drain(..));
                relisted.shrink_to_fit();
                if let Some(synced) = synced.take() {
                    let _ = synced.send(());
                }
            }
        }
    }
}

/// Follows every EndpointSlice until the stream ends; `synced` fires after the first full list.
pub async fn follow_endpoint_slices(
    client: kube::Client,
    records: SharedRecords,
    synced: oneshot::Sender<()>,
) {
    let mut relisted: Vec<(SliceKey, ServiceKey, SliceEntry)> = Vec::new();
    let mut synced = Some(synced);
    let stream = watcher(Api::<EndpointSlice>::all(client));
    futures::pin_mut!(stream);
    while let Some(event) = stream.next().await {
        let event = match event {
            Ok(event) => event,
            Err(error) => {
                tracing::warn!(%error, "watching EndpointSlices for DNS");
                continue;
            }
        };
        match event {
            Event::Apply(slice) => {
                let Some(key) = slice_key(&slice) else {
                    continue;
                };
                match slice_entry(&slice) {
                    Some((service, entry)) => write(&records).upsert_slice(key, service, entry),
                    None => write(&records).remove_slice(&key),
                }
            }
            Event::Delete(slice) => {
                if let Some(key) = slice_key(&slice) {
                    write(&records).remove_slice(&key);
                }
            }
            Event::Init => relisted.clear(),
            Event::InitApply(slice) => {
                if let (Some(key), Some((service, entry))) =
                    (slice_key(&slice), slice_entry(&slice))
                {
                    relisted.push((key, service, entry));
                }
            }
            Event::InitDone => {
                write(&records).replace_slices(relisted.drain(..));
                relisted.shrink_to_fit();
                if let Some(synced) = synced.take() {
                    let _ = synced.send(());
                }
            }
        }
    }
}

fn watcher<K>(api: Api<K>) -> impl futures::Stream<Item = Result<Event<K>, watcher::Error>>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    watcher::watcher(api, watcher::Config::default()).default_backoff()
}

fn remove_service(records: &SharedRecords, service: &Service) {
    if let (Some(namespace), Some(name)) = (&service.metadata.namespace, &service.metadata.name) {
        write(records).remove_service(&ServiceKey::new(namespace, name));
    }
}

fn write(records: &SharedRecords) -> std::sync::RwLockWriteGuard<'_, Records> {
    records
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
