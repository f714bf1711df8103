//! HTTPS: certificates from the Secrets named in `spec.tls`, chosen by SNI, with a self-signed
//! fallback.

mod certificate_table;
mod resolver;
mod secret;
mod self_signed;

pub use certificate_table::{tls_sources, CertificateTable, CertificateTableBuilder, TlsSource};
pub use resolver::{server_config, CertificateResolver};
pub use secret::{certified_key_from_pem, certified_key_from_secret, TlsSecretError};
pub use self_signed::fallback_certificate;
