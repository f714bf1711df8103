//! The node's Lease in kube-node-lease, renewed every `lease_interval`.

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{Patch, PatchParams, PostParams};
use kube::Api;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::KubeletOptions;

const LEASE_NAMESPACE: &str = "kube-node-lease";

/// Upstream: the lease lasts 40 s whatever the renew interval.
const LEASE_DURATION_SECONDS: i32 = 40;

pub async fn run_lease(
    client: kube::Client,
    options: KubeletOptions,
    node_uid: Option<String>,
    cancel: CancellationToken,
) {
    let leases: Api<Lease> = Api::namespaced(client, LEASE_NAMESPACE);
    loop {
        let delay = match renew(&leases, &options, node_uid.as_deref()).await {
            Ok(()) => options.lease_interval,
            Err(e) => {
                tracing::warn!(error = %e, "renewing the node lease");
                Duration::from_millis(500).min(options.lease_interval)
            }
        };
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(delay) => {}
        }
    }
}

async fn renew(
    leases: &Api<Lease>,
    options: &KubeletOptions,
    node_uid: Option<&str>,
) -> Result<(), kube::Error> {
    let now = MicroTime(Timestamp::now());
    let name = &options.node_name;
    let owner =
        node_uid.map(|uid| json!([{"apiVersion": "v1", "kind": "Node", "name": name, "uid": uid}]));
    let patch = json!({
        "metadata": {"ownerReferences": owner},
        "spec": {"holderIdentity": name, "leaseDurationSeconds": LEASE_DURATION_SECONDS, "renewTime": now},
    });
    match leases
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => {
            let lease: Lease = serde_json::from_value(json!({
                "metadata": {"name": name, "namespace": LEASE_NAMESPACE, "ownerReferences": owner},
                "spec": {"holderIdentity": name, "leaseDurationSeconds": LEASE_DURATION_SECONDS, "renewTime": now},
            }))
            .map_err(kube::Error::SerdeError)?;
            leases
                .create(&PostParams::default(), &lease)
                .await
                .map(|_| ())
        }
        Err(e) => Err(e),
    }
}
