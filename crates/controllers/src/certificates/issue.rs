//! Issuing a certificate for an approved CSR with the cluster CA: the subject and public key
//! come from the request, the usages from `spec.usages`, validity one year or
//! `spec.expirationSeconds` when shorter.

use k8s_openapi::api::certificates::v1::CertificateSigningRequestSpec;
use rcgen::{
    CertificateSigningRequestParams, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, SerialNumber,
};

use crate::options::SigningCa;

const DEFAULT_VALIDITY_SECONDS: i64 = 365 * 24 * 3600;
/// Upstream's minimum for `spec.expirationSeconds`.
const MIN_VALIDITY_SECONDS: i64 = 600;
/// Clock skew between nodes: certificates are valid from a little before now.
const BACKDATE_SECONDS: i64 = 300;

#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("the request is not a valid certificate request: {0}")]
    Request(String),
    #[error("the signing CA: {0}")]
    Ca(String),
    #[error("usage {0:?} is not supported by this signer")]
    Usage(String),
}

fn validity_seconds(spec: &CertificateSigningRequestSpec) -> i64 {
    spec.expiration_seconds
        .map(|s| i64::from(s).clamp(MIN_VALIDITY_SECONDS, DEFAULT_VALIDITY_SECONDS))
        .unwrap_or(DEFAULT_VALIDITY_SECONDS)
}

fn serial_number() -> SerialNumber {
    let nanos = time::OffsetDateTime::now_utc().unix_timestamp_nanos();
    // A positive serial: the top bit of the first byte clear.
    let mut bytes = nanos.to_be_bytes().to_vec();
    bytes.retain(|b| *b != 0);
    bytes.insert(0, 0x01);
    SerialNumber::from_slice(&bytes)
}

fn apply_usages(
    params: &mut rcgen::CertificateParams,
    usages: &[String],
) -> Result<(), IssueError> {
    params.key_usages.clear();
    params.extended_key_usages.clear();
    for usage in usages {
        match usage.as_str() {
            "digital signature" => params.key_usages.push(KeyUsagePurpose::DigitalSignature),
            "key encipherment" => params.key_usages.push(KeyUsagePurpose::KeyEncipherment),
            "client auth" => params
                .extended_key_usages
                .push(ExtendedKeyUsagePurpose::ClientAuth),
            "server auth" => params
                .extended_key_usages
                .push(ExtendedKeyUsagePurpose::ServerAuth),
            other => return Err(IssueError::Usage(other.to_string())),
        }
    }
    Ok(())
}

/// The PEM certificate for this request, signed by `ca`.
pub fn issue_certificate(
    ca: &SigningCa,
    spec: &CertificateSigningRequestSpec,
) -> Result<String, IssueError> {
    let request_pem =
        std::str::from_utf8(&spec.request.0).map_err(|e| IssueError::Request(e.to_string()))?;
    let mut request = CertificateSigningRequestParams::from_pem(request_pem)
        .map_err(|e| IssueError::Request(e.to_string()))?;
    let params = &mut request.params;
    apply_usages(params, spec.usages.as_deref().unwrap_or_default())?;
    params.is_ca = IsCa::ExplicitNoCa;
    params.use_authority_key_identifier_extension = true;
    params.serial_number = Some(serial_number());
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::seconds(BACKDATE_SECONDS);
    params.not_after = now + time::Duration::seconds(validity_seconds(spec));
    let key = KeyPair::from_pem(&ca.key_pem).map_err(|e| IssueError::Ca(e.to_string()))?;
    let issuer =
        Issuer::from_ca_cert_pem(&ca.cert_pem, key).map_err(|e| IssueError::Ca(e.to_string()))?;
    let certificate = request
        .signed_by(&issuer)
        .map_err(|e| IssueError::Request(e.to_string()))?;
    Ok(certificate.pem())
}

#[cfg(test)]
pub(crate) mod tests {
    use rcgen::{BasicConstraints, CertificateParams, DistinguishedName, DnType};
    use x509_parser::prelude::FromDer;

    use super::super::kubelet_client::tests::{request_pem, spec};
    use super::*;

    pub fn test_ca() -> SigningCa {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "test-ca");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = params.self_signed(&key).unwrap();
        SigningCa {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        }
    }

    #[test]
    fn issues_a_client_certificate_for_the_requested_subject() {
        let ca = test_ca();
        let mut spec = spec(
            &request_pem("system:node:n1", &["system:nodes"], None),
            &["digital signature", "key encipherment", "client auth"],
        );
        let pem = issue_certificate(&ca, &spec).unwrap();
        let (_, block) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).unwrap();
        let (_, cert) =
            x509_parser::certificate::X509Certificate::from_der(&block.contents).unwrap();
        let cn = cert.subject().iter_common_name().next().unwrap();
        assert_eq!(cn.as_str().unwrap(), "system:node:n1");
        assert_eq!(cert.issuer().to_string(), "CN=test-ca");
        let eku = cert.extended_key_usage().unwrap().unwrap().value;
        assert!(eku.client_auth && !eku.server_auth);
        let days = (cert.validity().not_after.timestamp() - cert.validity().not_before.timestamp())
            / 86_400;
        assert_eq!(days, 365);

        spec.expiration_seconds = Some(3600);
        let short = issue_certificate(&ca, &spec).unwrap();
        let (_, block) = x509_parser::pem::parse_x509_pem(short.as_bytes()).unwrap();
        let (_, cert) =
            x509_parser::certificate::X509Certificate::from_der(&block.contents).unwrap();
        let seconds =
            cert.validity().not_after.timestamp() - cert.validity().not_before.timestamp();
        assert_eq!(seconds, 3600 + BACKDATE_SECONDS);
    }

    #[test]
    fn refuses_unknown_usages_and_garbage() {
        let ca = test_ca();
        let pem = request_pem("system:node:n1", &["system:nodes"], None);
        assert!(issue_certificate(&ca, &spec(&pem, &["code signing"])).is_err());
        assert!(issue_certificate(&ca, &spec("garbage", &["client auth"])).is_err());
    }
}
