//! Connections from the API server to kubelets: TLS with the API server's kubelet client
//! certificate; the kubelet's serving certificate is not verified (as upstream without
//! `--kubelet-certificate-authority`).

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Empty;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

use crate::pki::KubeletClientCert;
use crate::status::ApiError;

/// Accepts any serving certificate, but still checks the handshake signatures.
#[derive(Debug)]
struct AnyServerCert(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyServerCert {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// How the API server reaches kubelets.
#[derive(Clone)]
pub struct KubeletClient {
    tls: Arc<ClientConfig>,
}

#[derive(Debug, thiserror::Error)]
pub enum KubeletClientError {
    #[error("reading the kubelet client certificate: {0}")]
    Pem(String),
    #[error("kubelet client TLS: {0}")]
    Rustls(#[from] rustls::Error),
}

impl KubeletClient {
    pub fn new(cert: &KubeletClientCert) -> Result<Self, KubeletClientError> {
        let chain = rustls_pemfile::certs(&mut cert.cert_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| KubeletClientError::Pem(e.to_string()))?;
        let key = rustls_pemfile::private_key(&mut cert.key_pem.as_bytes())
            .map_err(|e| KubeletClientError::Pem(e.to_string()))?
            .ok_or_else(|| KubeletClientError::Pem("no private key".into()))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AnyServerCert(provider)))
            .with_client_auth_cert(chain, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Self {
            tls: Arc::new(config),
        })
    }

    /// Send one request (no body) to the kubelet at `address` over a new connection; the
    /// connection stays open for an upgrade.
    pub async fn send(
        &self,
        address: SocketAddr,
        request: http::Request<Empty<Bytes>>,
    ) -> Result<http::Response<Incoming>, ApiError> {
        let unreachable =
            |e: &dyn std::fmt::Display| ApiError::internal(format!("error dialing backend: {e}"));
        let tcp = tokio::net::TcpStream::connect(address)
            .await
            .map_err(|e| unreachable(&e))?;
        let _ = tcp.set_nodelay(true);
        let name = ServerName::IpAddress(address.ip().into());
        let tls = tokio_rustls::TlsConnector::from(self.tls.clone())
            .connect(name, tcp)
            .await
            .map_err(|e| unreachable(&e))?;
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls))
            .await
            .map_err(|e| unreachable(&e))?;
        tokio::spawn(async move {
            if let Err(error) = connection.with_upgrades().await {
                tracing::debug!(%error, "kubelet connection ended");
            }
        });
        sender
            .send_request(request)
            .await
            .map_err(|e| unreachable(&e))
    }
}
