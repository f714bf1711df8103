//! What makes a CSR a kubelet client certificate request (upstream's
//! `ValidateKubeletClientCSR`): subject `CN=system:node:<name>, O=system:nodes`, no subject
//! alternative names, and client-auth usages only.

use k8s_openapi::api::certificates::v1::CertificateSigningRequestSpec;
use x509_parser::prelude::FromDer;

/// The signer of node client certificates.
pub const KUBELET_CLIENT_SIGNER: &str = "kubernetes.io/kube-apiserver-client-kubelet";
pub const NODE_USER_PREFIX: &str = "system:node:";
pub const NODES_GROUP: &str = "system:nodes";

const REQUIRED_USAGES: [&str; 2] = ["digital signature", "client auth"];
const OPTIONAL_USAGES: [&str; 1] = ["key encipherment"];

/// The subject a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedSubject {
    pub common_name: String,
    pub organizations: Vec<String>,
    pub has_alternative_names: bool,
}

/// Parse the PEM `CERTIFICATE REQUEST` in a CSR's `spec.request`.
pub fn requested_subject(request_pem: &[u8]) -> Result<RequestedSubject, String> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(request_pem)
        .map_err(|e| format!("spec.request is not PEM: {e}"))?;
    if pem.label != "CERTIFICATE REQUEST" {
        return Err("PEM block type must be CERTIFICATE REQUEST".into());
    }
    let (_, request) =
        x509_parser::certification_request::X509CertificationRequest::from_der(&pem.contents)
            .map_err(|e| format!("parsing the certificate request: {e}"))?;
    let subject = &request.certification_request_info.subject;
    let common_name = subject
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .unwrap_or("")
        .to_string();
    let organizations = subject
        .iter_organization()
        .filter_map(|o| o.as_str().ok().map(str::to_string))
        .collect();
    let has_alternative_names = request
        .requested_extensions()
        .is_some_and(|mut extensions| {
            extensions.any(|e| {
                matches!(
                    e,
                    x509_parser::extensions::ParsedExtension::SubjectAlternativeName(_)
                )
            })
        });
    Ok(RequestedSubject {
        common_name,
        organizations,
        has_alternative_names,
    })
}

/// Why a CSR is not a kubelet client certificate request, or the node it names.
pub fn kubelet_client_node(spec: &CertificateSigningRequestSpec) -> Result<String, String> {
    if spec.signer_name != KUBELET_CLIENT_SIGNER {
        return Err(format!("signer is {}", spec.signer_name));
    }
    let subject = requested_subject(&spec.request.0)?;
    if subject.organizations != [NODES_GROUP] {
        return Err(format!("subject organization is not {NODES_GROUP}"));
    }
    let Some(node) = subject
        .common_name
        .strip_prefix(NODE_USER_PREFIX)
        .filter(|n| !n.is_empty())
    else {
        return Err(format!(
            "subject common name does not begin with {NODE_USER_PREFIX}"
        ));
    };
    if subject.has_alternative_names {
        return Err("subject alternative names are not allowed".into());
    }
    let usages = spec.usages.as_deref().unwrap_or_default();
    let all_known = usages
        .iter()
        .all(|u| REQUIRED_USAGES.contains(&u.as_str()) || OPTIONAL_USAGES.contains(&u.as_str()));
    let all_required = REQUIRED_USAGES
        .iter()
        .all(|r| usages.iter().any(|u| u == r));
    if !all_known || !all_required {
        return Err(format!(
            "usages did not match [digital signature key encipherment client auth]: {usages:?}"
        ));
    }
    Ok(node.to_string())
}

#[cfg(test)]
pub(crate) mod tests {
    use k8s_openapi::ByteString;
    use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};

    use super::*;

    pub fn request_pem(common_name: &str, organizations: &[&str], san: Option<&str>) -> String {
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = san.iter().map(|s| s.to_string()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, common_name);
        for o in organizations {
            dn.push(DnType::OrganizationName, *o);
        }
        params.distinguished_name = dn;
        params.serialize_request(&key).unwrap().pem().unwrap()
    }

    pub fn spec(pem: &str, usages: &[&str]) -> CertificateSigningRequestSpec {
        CertificateSigningRequestSpec {
            request: ByteString(pem.as_bytes().to_vec()),
            signer_name: KUBELET_CLIENT_SIGNER.into(),
            usages: Some(usages.iter().map(|u| u.to_string()).collect()),
            ..CertificateSigningRequestSpec::default()
        }
    }

    const USAGES: &[&str] = &["digital signature", "key encipherment", "client auth"];

    #[test]
    fn recognizes_kubelet_client_requests() {
        let good = request_pem("system:node:n1", &["system:nodes"], None);
        assert_eq!(kubelet_client_node(&spec(&good, USAGES)).unwrap(), "n1");
        assert_eq!(
            kubelet_client_node(&spec(&good, &["digital signature", "client auth"])).unwrap(),
            "n1"
        );
        let cases: Vec<(String, &[&str])> = vec![
            (
                request_pem("system:node:n1", &["system:masters"], None),
                USAGES,
            ),
            (
                request_pem("system:node:n1", &["system:nodes", "x"], None),
                USAGES,
            ),
            (request_pem("admin", &["system:nodes"], None), USAGES),
            (
                request_pem("system:node:n1", &["system:nodes"], Some("n1.example")),
                USAGES,
            ),
            (good.clone(), &["digital signature", "server auth"]),
            (good.clone(), &["client auth"]),
            ("not a pem".into(), USAGES),
        ];
        for (pem, usages) in cases {
            assert!(
                kubelet_client_node(&spec(&pem, usages)).is_err(),
                "{usages:?}"
            );
        }
        let mut other_signer = spec(&good, USAGES);
        other_signer.signer_name = "example.com/x".into();
        assert!(kubelet_client_node(&other_signer).is_err());
    }
}
