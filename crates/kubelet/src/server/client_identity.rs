//! Who a caller of the kubelet server is: the user and groups of its client certificate, as the
//! API server's x509 authenticator reads them (common name → user, organizations → groups).

use x509_parser::prelude::FromDer;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ClientIdentity {
    pub name: String,
    pub groups: Vec<String>,
}

impl ClientIdentity {
    /// The identity in a DER certificate; `None` when it cannot be read or names no user.
    pub fn from_certificate(der: &[u8]) -> Option<Self> {
        let (_, cert) = x509_parser::certificate::X509Certificate::from_der(der).ok()?;
        let subject = cert.subject();
        let name = subject
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .filter(|name| !name.is_empty())?
            .to_string();
        let groups = subject
            .iter_organization()
            .filter_map(|o| o.as_str().ok())
            .map(str::to_string)
            .collect();
        Some(Self { name, groups })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn certificate(common_name: Option<&str>, organizations: &[&str]) -> Vec<u8> {
        let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name = rcgen::DistinguishedName::new();
        if let Some(cn) = common_name {
            params
                .distinguished_name
                .push(rcgen::DnType::CommonName, cn);
        }
        for o in organizations {
            params
                .distinguished_name
                .push(rcgen::DnType::OrganizationName, *o);
        }
        let key = rcgen::KeyPair::generate().unwrap();
        params.self_signed(&key).unwrap().der().to_vec()
    }

    #[test]
    fn common_name_is_the_user_and_organizations_the_groups() {
        let der = certificate(Some("system:node:n1"), &["system:nodes"]);
        assert_eq!(
            ClientIdentity::from_certificate(&der),
            Some(ClientIdentity {
                name: "system:node:n1".into(),
                groups: vec!["system:nodes".into()],
            })
        );
    }

    #[test]
    fn a_certificate_without_a_common_name_is_nobody() {
        let der = certificate(None, &["system:masters"]);
        assert_eq!(ClientIdentity::from_certificate(&der), None);
        assert_eq!(ClientIdentity::from_certificate(b"not a certificate"), None);
    }
}
