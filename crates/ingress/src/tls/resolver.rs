//! The rustls side: a certificate resolver reading the current [`CertificateTable`], and the
//! server configuration (ALPN h2 and http/1.1).

use std::sync::Arc;

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;

use super::certificate_table::CertificateTable;
use crate::{IngressError, SwapCell};

#[derive(Debug)]
pub struct CertificateResolver {
    certificates: Arc<SwapCell<CertificateTable>>,
}

impl CertificateResolver {
    pub fn new(certificates: Arc<SwapCell<CertificateTable>>) -> Self {
        Self { certificates }
    }
}

impl ResolvesServerCert for CertificateResolver {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.certificates.load().select(client_hello.server_name()))
    }
}

pub fn server_config(
    certificates: Arc<SwapCell<CertificateTable>>,
) -> Result<Arc<ServerConfig>, IngressError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(CertificateResolver::new(certificates)));
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}
