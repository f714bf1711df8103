//! How a node joins: with the server's join token it downloads and checks the cluster CA, asks for
//! a node client certificate through the certificates.k8s.io CSR API as a bootstrap user, and
//! stores the certificate for later starts. The agent inside `r8s server` joins the same way.

mod certificate_request;
mod cluster_ca;
mod join_token;
mod node_credentials;

use std::path::Path;
use std::time::Duration;

use http::header::{HeaderValue, AUTHORIZATION};
use kube::config::{KubeConfigOptions, Kubeconfig};

pub use certificate_request::KUBELET_CLIENT_SIGNER;
pub use join_token::{parse_join_token, JoinToken};
pub use node_credentials::{load_valid_credentials, NodeCredentials, KUBECONFIG_FILE};

use crate::KubeletError;

/// How long the approver and signer get to issue the certificate.
const ISSUE_TIMEOUT: Duration = Duration::from_secs(120);

/// A client config for `server_url` that authenticates with the node client certificate stored in
/// `dir`, first obtaining one with `token` when none is stored or it is about to expire.
pub async fn join(
    server_url: &str,
    token: &str,
    node_name: &str,
    dir: &Path,
) -> Result<kube::Config, KubeletError> {
    let credentials = match load_valid_credentials(dir, node_name) {
        Some(stored) => stored,
        None => obtain_credentials(server_url, token, node_name).await?,
    };
    let kubeconfig_path =
        node_credentials::store_credentials(dir, server_url, node_name, &credentials)?;
    let kubeconfig = Kubeconfig::read_from(&kubeconfig_path)
        .map_err(|e| KubeletError::Failed(format!("{}: {e}", kubeconfig_path.display())))?;
    kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
        .await
        .map_err(|e| KubeletError::Failed(format!("{}: {e}", kubeconfig_path.display())))
}

async fn obtain_credentials(
    server_url: &str,
    token: &str,
    node_name: &str,
) -> Result<NodeCredentials, KubeletError> {
    let token = parse_join_token(token)?;
    let ca_pem = cluster_ca::fetch_cluster_ca(server_url, &token).await?;
    let client = kube::Client::try_from(bootstrap_config(server_url, &token, &ca_pem)?)?;
    let made = certificate_request::new_node_key_request(node_name)?;
    let cert_pem =
        certificate_request::request_node_certificate(client, &made.request_pem, ISSUE_TIMEOUT)
            .await
            .map_err(|e| explain_rejected_token(server_url, e))?;
    Ok(NodeCredentials {
        key_pem: made.key_pem,
        cert_pem,
        ca_pem,
    })
}

/// A 401 while asking for the certificate means the server does not know the token's secret.
fn explain_rejected_token(server_url: &str, error: KubeletError) -> KubeletError {
    match error {
        KubeletError::Kube(kube::Error::Api(status)) if status.code == 401 => {
            KubeletError::Failed(format!(
                "{server_url} rejected the join token (401 Unauthorized): \
                 check --token against the server's <data-dir>/token"
            ))
        }
        other => other,
    }
}

/// A config that trusts the checked CA and presents the token's secret as a bearer token.
fn bootstrap_config(
    server_url: &str,
    token: &JoinToken,
    ca_pem: &str,
) -> Result<kube::Config, KubeletError> {
    let uri: http::Uri = server_url
        .parse()
        .map_err(|e| KubeletError::Failed(format!("server URL {server_url}: {e}")))?;
    let ca_der = x509_parser::pem::Pem::iter_from_buffer(ca_pem.as_bytes())
        .map(|pem| pem.map(|p| p.contents))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| KubeletError::Failed(format!("the cluster CA: {e}")))?;
    let bearer = HeaderValue::from_str(&format!("Bearer {}", token.secret))
        .map_err(|_| KubeletError::Failed("the join token is not a valid header value".into()))?;
    let mut config = kube::Config::new(uri);
    config.root_cert = Some(ca_der);
    config.headers.push((AUTHORIZATION, bearer));
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api_error(code: u16) -> KubeletError {
        let status: kube::core::Status =
            serde_json::from_value(serde_json::json!({"code": code, "message": "Unauthorized"}))
                .unwrap();
        KubeletError::Kube(kube::Error::Api(Box::new(status)))
    }

    #[test]
    fn a_rejected_token_is_named_as_such() {
        let explained = explain_rejected_token("https://s:6443", api_error(401)).to_string();
        assert!(explained.contains("rejected the join token (401 Unauthorized)"));
        let other = explain_rejected_token("https://s:6443", api_error(500)).to_string();
        assert!(!other.contains("join token"), "{other}");
    }
}
