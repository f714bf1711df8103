//! Creating key pairs and certificates with rcgen.

use std::net::IpAddr;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};

use super::PkiError;

/// A PEM certificate and its PEM private key.
pub struct IssuedCert {
    pub cert_pem: String,
    pub key_pem: String,
}

fn validity(params: &mut CertificateParams, years: i64) {
    let start = time::OffsetDateTime::now_utc();
    params.not_before = start - time::Duration::hours(1);
    params.not_after = start + time::Duration::days(365 * years);
}

/// A self-signed CA valid for ten years.
pub fn new_ca(common_name: &str) -> Result<IssuedCert, PkiError> {
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    validity(&mut params, 10);
    let cert = params.self_signed(&key)?;
    Ok(IssuedCert {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// What a leaf certificate is for.
pub enum LeafUsage {
    /// A TLS server certificate with these DNS names and IP addresses.
    Server {
        dns_names: Vec<String>,
        ips: Vec<IpAddr>,
    },
    /// A client certificate: user = common name, groups = organizations.
    Client { organizations: Vec<String> },
}

/// A leaf certificate signed by the CA, valid for one year... rotated by restarts later.
pub fn new_leaf(
    ca: &IssuedCert,
    common_name: &str,
    usage: LeafUsage,
) -> Result<IssuedCert, PkiError> {
    let ca_key = KeyPair::from_pem(&ca.key_pem)?;
    let issuer = Issuer::from_ca_cert_pem(&ca.cert_pem, ca_key)?;
    let key = KeyPair::generate()?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    match usage {
        LeafUsage::Server { dns_names, ips } => {
            for name in dns_names {
                params
                    .subject_alt_names
                    .push(SanType::DnsName(name.try_into()?));
            }
            for ip in ips {
                params.subject_alt_names.push(SanType::IpAddress(ip));
            }
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        }
        LeafUsage::Client { organizations } => {
            for org in organizations {
                dn.push(DnType::OrganizationName, org);
            }
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        }
    }
    params.distinguished_name = dn;
    validity(&mut params, 1);
    let cert = params.signed_by(&key, &issuer)?;
    Ok(IssuedCert {
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}
