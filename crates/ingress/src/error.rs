use thiserror::Error;

/// What stops the ingress controller from starting.
#[derive(Debug, Error)]
pub enum IngressError {
    #[error("generating the fallback certificate: {0}")]
    FallbackCertificate(#[from] rcgen::Error),
    #[error("configuring TLS: {0}")]
    Tls(#[from] rustls::Error),
    #[error("the {0} watch cache closed before it was filled")]
    CacheClosed(&'static str),
}
