//! DefaultBinder: POST `pods/<name>/binding`.

use std::sync::Arc;

use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::{Binding, ObjectReference, Pod};
use kube::api::{ObjectMeta, PostParams};
use kube::Api;

use crate::framework::{BindPlugin, Plugin, Status};
use crate::snapshot::PodInfo;

pub const NAME: &str = "DefaultBinder";

pub struct DefaultBinder {
    client: kube::Client,
}

impl DefaultBinder {
    pub fn new(client: kube::Client) -> DefaultBinder {
        DefaultBinder { client }
    }
}

impl Plugin for DefaultBinder {
    fn name(&self) -> &'static str {
        NAME
    }
}

impl BindPlugin for DefaultBinder {
    fn bind(&self, pod: Arc<PodInfo>, node: String) -> BoxFuture<'static, Status> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &pod.namespace);
        Box::pin(async move {
            let binding = Binding {
                metadata: ObjectMeta {
                    name: Some(pod.name.clone()),
                    namespace: Some(pod.namespace.clone()),
                    uid: Some(pod.uid.clone()),
                    ..Default::default()
                },
                target: ObjectReference {
                    kind: Some("Node".into()),
                    name: Some(node),
                    ..Default::default()
                },
            };
            match api
                .create_subresource::<Binding, serde_json::Value>(
                    "binding",
                    &pod.name,
                    &PostParams::default(),
                    &binding,
                )
                .await
            {
                Ok(_) => Status::success(),
                Err(e) => Status::error(e.to_string()),
            }
        })
    }
}
