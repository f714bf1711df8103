//! The CSR approver, as upstream's csrapproving controller for kubelet client certificates: a
//! node's first certificate, asked for with the join token, and a node renewing its own.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::ResourceExt;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::conditions::{is_approved_or_denied, with_condition};
use super::kubelet_client::{kubelet_client_node, NODES_GROUP, NODE_USER_PREFIX};
use crate::error::{is_status, ControllerError};

pub const APPROVED_REASON: &str = "AutoApproved";
pub const NODE_CLIENT_MESSAGE: &str =
    "Auto approving kubelet client certificate after SubjectAccessReview.";
pub const SELF_NODE_CLIENT_MESSAGE: &str =
    "Auto approving self kubelet client certificate after SubjectAccessReview.";

/// Who may ask for any node's client certificate (upstream: whoever may create
/// `certificatesigningrequests/nodeclient`; until RBAC, these groups).
const NODE_CLIENT_REQUESTER_GROUPS: [&str; 2] = ["system:bootstrappers", "system:masters"];

/// The approval message for a CSR this controller approves, or `None`.
pub fn approval_message(csr: &CertificateSigningRequest) -> Option<&'static str> {
    if is_approved_or_denied(csr) || super::conditions::has_condition(csr, "Failed") {
        return None;
    }
    let node = kubelet_client_node(&csr.spec).ok()?;
    let groups = csr.spec.groups.as_deref().unwrap_or_default();
    let in_group = |group: &str| groups.iter().any(|g| g == group);
    let username = csr.spec.username.as_deref().unwrap_or("");
    if username == format!("{NODE_USER_PREFIX}{node}") && in_group(NODES_GROUP) {
        return Some(SELF_NODE_CLIENT_MESSAGE);
    }
    NODE_CLIENT_REQUESTER_GROUPS
        .iter()
        .any(|g| in_group(g))
        .then_some(NODE_CLIENT_MESSAGE)
}

pub async fn run(client: kube::Client, cancel: CancellationToken) -> Result<(), ControllerError> {
    Controller::new(
        Api::<CertificateSigningRequest>::all(client.clone()),
        watcher::Config::default(),
    )
    .graceful_shutdown_on(cancel.cancelled_owned())
    .with_config(crate::reconcile_workers::controller_config())
    .run(reconcile, error_policy, Arc::new(client))
    .for_each(|_| async {})
    .await;
    Ok(())
}

async fn reconcile(
    csr: Arc<CertificateSigningRequest>,
    client: Arc<kube::Client>,
) -> Result<Action, ControllerError> {
    let Some(message) = approval_message(&csr) else {
        return Ok(Action::await_change());
    };
    let conditions = with_condition(&csr, "Approved", APPROVED_REASON, message);
    let patch = json!({
        "metadata": {"resourceVersion": csr.resource_version()},
        "status": {"conditions": conditions},
    });
    let api = Api::<CertificateSigningRequest>::all(client.as_ref().clone());
    match api
        .patch_subresource(
            "approval",
            &csr.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
    {
        Ok(_) => {
            tracing::info!(csr = %csr.name_any(), "approved kubelet client certificate request");
            Ok(Action::await_change())
        }
        Err(error) if is_status(&error, 409) || is_status(&error, 404) => {
            Ok(Action::requeue(Duration::from_secs(1)))
        }
        Err(error) => Err(error.into()),
    }
}

fn error_policy(
    _csr: Arc<CertificateSigningRequest>,
    error: &ControllerError,
    _client: Arc<kube::Client>,
) -> Action {
    tracing::warn!(%error, "csrapproving");
    Action::requeue(Duration::from_secs(5))
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::certificates::v1::CertificateSigningRequestStatus;

    use super::super::kubelet_client::tests::{request_pem, spec};
    use super::*;

    const USAGES: &[&str] = &["digital signature", "key encipherment", "client auth"];

    fn csr(common_name: &str, username: &str, groups: &[&str]) -> CertificateSigningRequest {
        let mut spec = spec(&request_pem(common_name, &["system:nodes"], None), USAGES);
        spec.username = Some(username.into());
        spec.groups = Some(groups.iter().map(|g| g.to_string()).collect());
        CertificateSigningRequest {
            spec,
            ..CertificateSigningRequest::default()
        }
    }

    #[test]
    fn approves_bootstrappers_and_nodes_renewing_themselves() {
        let cases = [
            (
                csr(
                    "system:node:n1",
                    "system:bootstrap:server",
                    &["system:bootstrappers"],
                ),
                Some(NODE_CLIENT_MESSAGE),
            ),
            (
                csr("system:node:n1", "system:node:n1", &["system:nodes"]),
                Some(SELF_NODE_CLIENT_MESSAGE),
            ),
            (
                csr("system:node:n1", "system:node:n2", &["system:nodes"]),
                None,
            ),
            (csr("system:node:n1", "alice", &["developers"]), None),
        ];
        for (csr, expected) in cases {
            assert_eq!(approval_message(&csr), expected, "{:?}", csr.spec.username);
        }
    }

    #[test]
    fn decided_requests_are_left_alone() {
        let mut denied = csr(
            "system:node:n1",
            "system:bootstrap:x",
            &["system:bootstrappers"],
        );
        denied.status = Some(CertificateSigningRequestStatus {
            conditions: Some(with_condition(&denied, "Denied", "No", "no")),
            ..CertificateSigningRequestStatus::default()
        });
        assert_eq!(approval_message(&denied), None);
    }
}
