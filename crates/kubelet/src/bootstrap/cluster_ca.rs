//! Fetching the cluster CA from the server's unauthenticated `/cacerts`, trusted only when it
//! matches the join token's hash.

use super::join_token::{ca_matches, JoinToken};
use crate::KubeletError;

/// The cluster CA (PEM) of the server at `server_url`, checked against `token`.
pub async fn fetch_cluster_ca(server_url: &str, token: &JoinToken) -> Result<String, KubeletError> {
    let uri: http::Uri = server_url
        .parse()
        .map_err(|e| KubeletError::Failed(format!("server URL {server_url}: {e}")))?;
    let mut config = kube::Config::new(uri);
    // Nothing is trusted yet: the answer is trusted only if its hash is the token's.
    config.accept_invalid_certs = true;
    let client = kube::Client::try_from(config)?;
    let request = http::Request::get("/cacerts")
        .body(Vec::new())
        .map_err(|e| KubeletError::Failed(format!("building the /cacerts request: {e}")))?;
    let ca_pem = client.request_text(request).await?;
    if !ca_pem.contains("-----BEGIN CERTIFICATE-----") {
        return Err(KubeletError::Failed(format!(
            "{server_url}/cacerts did not answer with a PEM certificate"
        )));
    }
    if token.ca_hash.is_none() {
        tracing::warn!("the join token has no CA hash; trusting the server's CA as it is");
    }
    if !ca_matches(token, &ca_pem) {
        return Err(KubeletError::Failed(format!(
            "the CA served by {server_url} does not match the join token's CA hash"
        )));
    }
    Ok(ca_pem)
}
