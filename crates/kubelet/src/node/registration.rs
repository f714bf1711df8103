//! Registering the Node: create it, or take over the one that exists.

use k8s_openapi::api::core::v1::Node;
use kube::api::{Patch, PatchParams, PostParams};
use kube::Api;
use serde_json::json;

use super::node_object::{new_node, node_labels};
use crate::{KubeletError, KubeletOptions};

/// Creates the Node, or merges our labels into the existing one.
pub async fn register_node(
    client: &kube::Client,
    options: &KubeletOptions,
) -> Result<Node, KubeletError> {
    let nodes: Api<Node> = Api::all(client.clone());
    match nodes
        .create(&PostParams::default(), &new_node(options))
        .await
    {
        Ok(node) => {
            tracing::info!(node = %options.node_name, "node registered");
            Ok(node)
        }
        Err(kube::Error::Api(status)) if status.code == 409 => {
            let patch = json!({"metadata": {"labels": node_labels(options)}});
            let node = nodes
                .patch(
                    &options.node_name,
                    &PatchParams::default(),
                    &Patch::Merge(&patch),
                )
                .await?;
            tracing::info!(node = %options.node_name, "node already registered, updated");
            Ok(node)
        }
        Err(e) => Err(e.into()),
    }
}
