//! The root CA publisher: a `kube-root-ca.crt` ConfigMap with the cluster CA in every namespace.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::ResourceExt;
use tokio_util::sync::CancellationToken;

use crate::context::ControllerContext;
use crate::error::{is_status, ControllerError};

const ROOT_CA_CONFIG_MAP: &str = "kube-root-ca.crt";
const CA_KEY: &str = "ca.crt";
const DESCRIPTION_ANNOTATION: &str = "kubernetes.io/description";
const DESCRIPTION: &str = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";

struct PublisherContext {
    client: kube::Client,
    root_ca_pem: String,
    config_maps: Store<ConfigMap>,
}

pub async fn run(
    context: ControllerContext,
    cancel: CancellationToken,
) -> Result<(), ControllerError> {
    if context.options.root_ca_pem.is_empty() {
        tracing::warn!("no root CA given; kube-root-ca.crt is not published");
        cancel.cancelled().await;
        return Ok(());
    }
    let client = context.client.clone();
    let (config_maps, writer) = reflector::store();
    let watched = watcher(
        Api::<ConfigMap>::all(client.clone()),
        // Not a metadata.name field selector: the server narrows an all-namespaces watch with one
        // to the namespace named like the object.
        watcher::Config::default(),
    )
    .default_backoff()
    .reflect(writer)
    .touched_objects();
    let shared = Arc::new(PublisherContext {
        client: client.clone(),
        root_ca_pem: context.options.root_ca_pem.clone(),
        config_maps,
    });
    Controller::new(Api::<Namespace>::all(client), watcher::Config::default())
        .watches_stream(watched, |map: ConfigMap| {
            (map.name_any() == ROOT_CA_CONFIG_MAP)
                .then(|| map.namespace().map(|ns| ObjectRef::<Namespace>::new(&ns)))
                .flatten()
        })
        .graceful_shutdown_on(cancel.cancelled_owned())
        .with_config(crate::reconcile_workers::controller_config())
        .run(reconcile, error_policy, shared)
        .for_each(|_| async {})
        .await;
    Ok(())
}

async fn reconcile(
    namespace: Arc<Namespace>,
    context: Arc<PublisherContext>,
) -> Result<Action, ControllerError> {
    if namespace.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let name = namespace.name_any();
    let maps: Api<ConfigMap> = Api::namespaced(context.client.clone(), &name);
    let key = ObjectRef::<ConfigMap>::new(ROOT_CA_CONFIG_MAP).within(&name);
    let wanted_data = BTreeMap::from([(CA_KEY.to_string(), context.root_ca_pem.clone())]);
    let result = match context.config_maps.get(&key) {
        Some(existing) => {
            let has_description = existing
                .annotations()
                .get(DESCRIPTION_ANNOTATION)
                .is_some_and(|d| d == DESCRIPTION);
            if existing.data.as_ref() == Some(&wanted_data) && has_description {
                return Ok(Action::await_change());
            }
            let mut updated = existing.as_ref().clone();
            updated.metadata.managed_fields = None;
            updated
                .annotations_mut()
                .insert(DESCRIPTION_ANNOTATION.into(), DESCRIPTION.into());
            updated.data = Some(wanted_data);
            updated.binary_data = None;
            maps.replace(ROOT_CA_CONFIG_MAP, &PostParams::default(), &updated)
                .await
        }
        None => {
            let map = ConfigMap {
                metadata: ObjectMeta {
                    name: Some(ROOT_CA_CONFIG_MAP.into()),
                    namespace: Some(name.clone()),
                    annotations: Some(BTreeMap::from([(
                        DESCRIPTION_ANNOTATION.to_string(),
                        DESCRIPTION.to_string(),
                    )])),
                    ..ObjectMeta::default()
                },
                data: Some(wanted_data),
                ..ConfigMap::default()
            };
            maps.create(&PostParams::default(), &map).await
        }
    };
    match result {
        Ok(_) => Ok(Action::await_change()),
        Err(error)
            if is_status(&error, 409) || is_status(&error, 403) || is_status(&error, 404) =>
        {
            Ok(Action::requeue(Duration::from_secs(1)))
        }
        Err(error) => Err(error.into()),
    }
}

fn error_policy(
    _namespace: Arc<Namespace>,
    error: &ControllerError,
    _context: Arc<PublisherContext>,
) -> Action {
    tracing::warn!(%error, "root-ca-cert-publisher");
    Action::requeue(Duration::from_secs(5))
}
