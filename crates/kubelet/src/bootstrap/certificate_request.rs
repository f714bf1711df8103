//! Asking the cluster for a node client certificate: a new key, a CSR for
//! `CN=system:node:<name>, O=system:nodes` with signer
//! `kubernetes.io/kube-apiserver-client-kubelet`, then waiting until it is issued.

use std::time::Duration;

use k8s_openapi::api::certificates::v1::{
    CertificateSigningRequest, CertificateSigningRequestSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::ByteString;
use kube::api::{Api, PostParams};
use kube::ResourceExt;
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};

use crate::KubeletError;

pub const KUBELET_CLIENT_SIGNER: &str = "kubernetes.io/kube-apiserver-client-kubelet";
const USAGES: [&str; 3] = ["digital signature", "key encipherment", "client auth"];
const POLL_INTERVAL: Duration = Duration::from_millis(250);

/// A new private key and the PEM certificate request made with it.
pub struct NodeKeyRequest {
    pub key_pem: String,
    pub request_pem: String,
}

fn failed(what: &str, error: impl std::fmt::Display) -> KubeletError {
    KubeletError::Failed(format!("{what}: {error}"))
}

pub fn new_node_key_request(node_name: &str) -> Result<NodeKeyRequest, KubeletError> {
    let key = KeyPair::generate().map_err(|e| failed("generating the node key", e))?;
    let mut params = CertificateParams::new(Vec::<String>::new())
        .map_err(|e| failed("certificate request", e))?;
    let mut subject = DistinguishedName::new();
    subject.push(DnType::CommonName, format!("system:node:{node_name}"));
    subject.push(DnType::OrganizationName, "system:nodes");
    params.distinguished_name = subject;
    let request = params
        .serialize_request(&key)
        .and_then(|r| r.pem())
        .map_err(|e| failed("certificate request", e))?;
    Ok(NodeKeyRequest {
        key_pem: key.serialize_pem(),
        request_pem: request,
    })
}

fn condition<'a>(csr: &'a CertificateSigningRequest, type_: &str) -> Option<&'a str> {
    csr.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == type_ && c.status == "True")
        .map(|c| c.message.as_deref().unwrap_or(""))
}

/// Create the CSR and wait up to `timeout` for its certificate (PEM).
pub async fn request_node_certificate(
    client: kube::Client,
    request_pem: &str,
    timeout: Duration,
) -> Result<String, KubeletError> {
    let csrs: Api<CertificateSigningRequest> = Api::all(client);
    let csr = CertificateSigningRequest {
        metadata: ObjectMeta {
            generate_name: Some("node-csr-".into()),
            ..ObjectMeta::default()
        },
        spec: CertificateSigningRequestSpec {
            request: ByteString(request_pem.as_bytes().to_vec()),
            signer_name: KUBELET_CLIENT_SIGNER.into(),
            usages: Some(USAGES.iter().map(|u| u.to_string()).collect()),
            ..CertificateSigningRequestSpec::default()
        },
        status: None,
    };
    let name = csrs.create(&PostParams::default(), &csr).await?.name_any();
    tracing::info!(csr = %name, "requested a node client certificate");
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let current = csrs.get(&name).await?;
        if let Some(message) = condition(&current, "Denied") {
            return Err(KubeletError::Failed(format!(
                "certificate signing request {name} was denied: {message}"
            )));
        }
        if let Some(message) = condition(&current, "Failed") {
            return Err(KubeletError::Failed(format!(
                "certificate signing request {name} failed: {message}"
            )));
        }
        let issued = current
            .status
            .as_ref()
            .and_then(|s| s.certificate.as_ref())
            .filter(|c| !c.0.is_empty());
        if let Some(certificate) = issued {
            return String::from_utf8(certificate.0.clone())
                .map_err(|e| failed("the issued certificate", e));
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(KubeletError::Failed(format!(
                "certificate signing request {name} was not issued within {timeout:?}"
            )));
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

#[cfg(test)]
mod tests {
    use x509_parser::prelude::FromDer;

    use super::*;

    #[test]
    fn the_request_names_the_node() {
        let made = new_node_key_request("n1").unwrap();
        assert!(made.key_pem.contains("PRIVATE KEY"));
        let (_, pem) = x509_parser::pem::parse_x509_pem(made.request_pem.as_bytes()).unwrap();
        assert_eq!(pem.label, "CERTIFICATE REQUEST");
        let (_, request) =
            x509_parser::certification_request::X509CertificationRequest::from_der(&pem.contents)
                .unwrap();
        assert_eq!(
            request.certification_request_info.subject.to_string(),
            "CN=system:node:n1, O=system:nodes"
        );
    }
}
