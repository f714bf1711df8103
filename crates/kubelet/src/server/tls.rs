//! The kubelet server's TLS: a serving certificate (given, or self-signed for the node's IP and
//! names) and client certificates checked against the cluster CA.

use std::net::IpAddr;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{RootCertStore, ServerConfig};

use crate::KubeletError;

/// A PEM certificate chain and its PEM private key.
#[derive(Debug, Clone)]
pub struct CertificatePair {
    pub cert_pem: String,
    pub key_pem: String,
}

fn tls_error(context: &str, error: impl std::fmt::Display) -> KubeletError {
    KubeletError::Failed(format!("kubelet server TLS: {context}: {error}"))
}

fn certs(pem: &str) -> Result<Vec<CertificateDer<'static>>, KubeletError> {
    rustls_pemfile::certs(&mut pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| tls_error("reading certificates", e))
}

fn private_key(pem: &str) -> Result<PrivateKeyDer<'static>, KubeletError> {
    rustls_pemfile::private_key(&mut pem.as_bytes())
        .map_err(|e| tls_error("reading the private key", e))?
        .ok_or_else(|| tls_error("reading the private key", "none found"))
}

/// A self-signed serving certificate for the node's names and address (upstream's fallback when
/// no certificate is configured).
pub fn self_signed_serving_cert(
    names: &[String],
    ips: &[IpAddr],
) -> Result<CertificatePair, KubeletError> {
    let key = rcgen::KeyPair::generate().map_err(|e| tls_error("generating a key", e))?;
    let mut params = rcgen::CertificateParams::new(names.to_vec())
        .map_err(|e| tls_error("certificate names", e))?;
    for ip in ips {
        params
            .subject_alt_names
            .push(rcgen::SanType::IpAddress(*ip));
    }
    let mut dn = rcgen::DistinguishedName::new();
    let first = names.first().cloned().unwrap_or_else(|| "kubelet".into());
    dn.push(rcgen::DnType::CommonName, format!("{first}@kubelet"));
    params.distinguished_name = dn;
    params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params
        .self_signed(&key)
        .map_err(|e| tls_error("self-signing", e))?;
    Ok(CertificatePair {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// Client certificates are optional at the handshake (so a request without one can get a 401),
/// but one that is sent must chain to `client_ca_pem`.
pub fn server_config(
    serving: &CertificatePair,
    client_ca_pem: &str,
) -> Result<Arc<ServerConfig>, KubeletError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = RootCertStore::empty();
    for cert in certs(client_ca_pem)? {
        roots.add(cert).map_err(|e| tls_error("client CA", e))?;
    }
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .allow_unauthenticated()
        .build()
        .map_err(|e| tls_error("client verifier", e))?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_error("protocol versions", e))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs(&serving.cert_pem)?, private_key(&serving.key_pem)?)
        .map_err(|e| tls_error("serving certificate", e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
