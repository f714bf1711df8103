//! The certificate served when no Secret covers the requested name, like ingress-nginx's
//! "Kubernetes Ingress Controller Fake Certificate".

use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::sign::CertifiedKey;

use crate::IngressError;

const FALLBACK_NAME: &str = "ingress.local";
const FALLBACK_COMMON_NAME: &str = "r8s Ingress Controller Fake Certificate";

pub fn fallback_certificate() -> Result<CertifiedKey, IngressError> {
    let key_pair = KeyPair::generate()?;
    let mut params = CertificateParams::new(vec![FALLBACK_NAME.to_owned()])?;
    let mut subject = DistinguishedName::new();
    subject.push(DnType::CommonName, FALLBACK_COMMON_NAME);
    params.distinguished_name = subject;
    let certificate = params.self_signed(&key_pair)?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pair.serialize_der()));
    let signing_key = rustls::crypto::ring::sign::any_supported_type(&key)?;
    Ok(CertifiedKey::new(
        vec![certificate.der().clone()],
        signing_key,
    ))
}
