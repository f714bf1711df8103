//! The CSR signer for `kubernetes.io/kube-apiserver-client-kubelet`, as upstream's csrsigning
//! controller: an approved request without a certificate gets one from the cluster CA.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use k8s_openapi::ByteString;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::ResourceExt;
use serde_json::json;
use tokio_util::sync::CancellationToken;

use super::conditions::{has_certificate, has_condition, with_condition};
use super::issue::issue_certificate;
use super::kubelet_client::KUBELET_CLIENT_SIGNER;
use crate::error::{is_status, ControllerError};
use crate::options::SigningCa;

/// Whether this signer should issue a certificate for the CSR now.
pub fn needs_certificate(csr: &CertificateSigningRequest) -> bool {
    csr.spec.signer_name == KUBELET_CLIENT_SIGNER
        && has_condition(csr, "Approved")
        && !has_condition(csr, "Denied")
        && !has_condition(csr, "Failed")
        && !has_certificate(csr)
}

struct SignerContext {
    client: kube::Client,
    ca: SigningCa,
}

/// Sign approved kubelet client requests with `ca` until `cancel`; without a CA, do nothing.
pub async fn run(
    client: kube::Client,
    ca: Option<SigningCa>,
    cancel: CancellationToken,
) -> Result<(), ControllerError> {
    let Some(ca) = ca else {
        tracing::info!("no signing CA given; certificate signing requests are not signed");
        cancel.cancelled().await;
        return Ok(());
    };
    Controller::new(
        Api::<CertificateSigningRequest>::all(client.clone()),
        watcher::Config::default(),
    )
    .graceful_shutdown_on(cancel.cancelled_owned())
    .with_config(crate::reconcile_workers::controller_config())
    .run(
        reconcile,
        error_policy,
        Arc::new(SignerContext { client, ca }),
    )
    .for_each(|_| async {})
    .await;
    Ok(())
}

async fn reconcile(
    csr: Arc<CertificateSigningRequest>,
    context: Arc<SignerContext>,
) -> Result<Action, ControllerError> {
    if !needs_certificate(&csr) {
        return Ok(Action::await_change());
    }
    let status = match issue_certificate(&context.ca, &csr.spec) {
        Ok(pem) => json!({"certificate": ByteString(pem.into_bytes())}),
        Err(error) => {
            tracing::warn!(csr = %csr.name_any(), %error, "refusing to sign");
            let conditions = with_condition(
                &csr,
                "Failed",
                "SignerValidationFailure",
                &error.to_string(),
            );
            json!({"conditions": conditions})
        }
    };
    let patch = json!({
        "metadata": {"resourceVersion": csr.resource_version()},
        "status": status,
    });
    let api = Api::<CertificateSigningRequest>::all(context.client.clone());
    match api
        .patch_status(
            &csr.name_any(),
            &PatchParams::default(),
            &Patch::Merge(&patch),
        )
        .await
    {
        Ok(_) => Ok(Action::await_change()),
        Err(error) if is_status(&error, 409) || is_status(&error, 404) => {
            Ok(Action::requeue(Duration::from_secs(1)))
        }
        Err(error) => Err(error.into()),
    }
}

fn error_policy(
    _csr: Arc<CertificateSigningRequest>,
    error: &ControllerError,
    _context: Arc<SignerContext>,
) -> Action {
    tracing::warn!(%error, "csrsigning");
    Action::requeue(Duration::from_secs(5))
}
