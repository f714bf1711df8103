//! A `kubernetes.io/tls` Secret (`tls.crt`, `tls.key` in PEM) as a rustls certified key.

use std::io::BufReader;

use k8s_openapi::api::core::v1::Secret;
use rustls::sign::CertifiedKey;
use thiserror::Error;

const CERTIFICATE_KEY: &str = "tls.crt";
const PRIVATE_KEY_KEY: &str = "tls.key";

#[derive(Debug, Error)]
pub enum TlsSecretError {
    #[error("the secret has no {0}")]
    Missing(&'static str),
    #[error("{0} holds no PEM {1}")]
    NoPem(&'static str, &'static str),
    #[error("reading {0}: {1}")]
    Pem(&'static str, std::io::Error),
    #[error("unusable private key: {0}")]
    Key(#[from] rustls::Error),
}

pub fn certified_key_from_secret(secret: &Secret) -> Result<CertifiedKey, TlsSecretError> {
    let data = secret.data.as_ref();
    let field = |key: &'static str| {
        data.and_then(|data| data.get(key))
            .map(|bytes| bytes.0.as_slice())
            .ok_or(TlsSecretError::Missing(key))
    };
    certified_key_from_pem(field(CERTIFICATE_KEY)?, field(PRIVATE_KEY_KEY)?)
}

/// The certificate chain in `certificate_pem` (leaf first) with the key in `key_pem` (PKCS#8,
/// PKCS#1 or SEC1).
pub fn certified_key_from_pem(
    certificate_pem: &[u8],
    key_pem: &[u8],
) -> Result<CertifiedKey, TlsSecretError> {
    let chain = rustls_pemfile::certs(&mut BufReader::new(certificate_pem))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| TlsSecretError::Pem(CERTIFICATE_KEY, error))?;
    if chain.is_empty() {
        return Err(TlsSecretError::NoPem(CERTIFICATE_KEY, "certificate"));
    }
    let key = rustls_pemfile::private_key(&mut BufReader::new(key_pem))
        .map_err(|error| TlsSecretError::Pem(PRIVATE_KEY_KEY, error))?
        .ok_or(TlsSecretError::NoPem(PRIVATE_KEY_KEY, "private key"))?;
    let signing_key = rustls::crypto::ring::sign::any_supported_type(&key)?;
    Ok(CertifiedKey::new(chain, signing_key))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::ByteString;
    use std::collections::BTreeMap;

    fn tls_secret(certificate: &[u8], key: &[u8]) -> Secret {
        Secret {
            type_: Some("kubernetes.io/tls".into()),
            data: Some(BTreeMap::from([
                (CERTIFICATE_KEY.to_owned(), ByteString(certificate.to_vec())),
                (PRIVATE_KEY_KEY.to_owned(), ByteString(key.to_vec())),
            ])),
            ..Secret::default()
        }
    }

    #[test]
    fn reads_a_tls_secret() {
        let issued = rcgen::generate_simple_self_signed(vec!["a.example".to_owned()]).unwrap();
        let secret = tls_secret(
            issued.cert.pem().as_bytes(),
            issued.signing_key.serialize_pem().as_bytes(),
        );
        let key = certified_key_from_secret(&secret).unwrap();
        assert_eq!(key.cert[0].as_ref(), issued.cert.der().as_ref());
    }

    #[test]
    fn rejects_secrets_without_pem() {
        let secret = tls_secret(b"garbage", b"garbage");
        assert!(matches!(
            certified_key_from_secret(&secret),
            Err(TlsSecretError::NoPem(CERTIFICATE_KEY, _))
        ));
        assert!(matches!(
            certified_key_from_secret(&Secret::default()),
            Err(TlsSecretError::Missing(CERTIFICATE_KEY))
        ));
    }
}
