//! Whether a stored serving certificate still covers the names and addresses the server is
//! reached by; when the machine's addresses change it is issued anew (by the same CA).

use std::net::IpAddr;

use x509_parser::extensions::GeneralName;
use x509_parser::prelude::FromDer;

/// True when `cert_pem` names every one of `dns_names` and `ips` (false when it cannot be read).
pub fn covers(cert_pem: &str, dns_names: &[String], ips: &[IpAddr]) -> bool {
    let Ok((_, pem)) = x509_parser::pem::parse_x509_pem(cert_pem.as_bytes()) else {
        return false;
    };
    let Ok((_, cert)) = x509_parser::certificate::X509Certificate::from_der(&pem.contents) else {
        return false;
    };
    let Ok(Some(san)) = cert.subject_alternative_name() else {
        return false;
    };
    let mut named_dns = Vec::new();
    let mut named_ips = Vec::new();
    for name in &san.value.general_names {
        match name {
            GeneralName::DNSName(dns) => named_dns.push(dns.to_string()),
            GeneralName::IPAddress(bytes) => {
                if let Some(ip) = ip_from_bytes(bytes) {
                    named_ips.push(ip);
                }
            }
            _ => {}
        }
    }
    dns_names.iter().all(|d| named_dns.contains(d)) && ips.iter().all(|ip| named_ips.contains(ip))
}

fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::issue::{new_ca, new_leaf, LeafUsage};
    use super::*;

    #[test]
    fn a_certificate_covers_exactly_its_names() {
        let ca = new_ca("test-ca").unwrap();
        let leaf = new_leaf(
            &ca,
            "kube-apiserver",
            LeafUsage::Server {
                dns_names: vec!["localhost".into()],
                ips: vec![IpAddr::from([127, 0, 0, 1]), IpAddr::from([10, 0, 0, 2])],
            },
        )
        .unwrap();
        let loopback = [IpAddr::from([127, 0, 0, 1])];
        assert!(covers(&leaf.cert_pem, &["localhost".into()], &loopback));
        assert!(covers(&leaf.cert_pem, &[], &[IpAddr::from([10, 0, 0, 2])]));
        assert!(!covers(&leaf.cert_pem, &[], &[IpAddr::from([10, 0, 0, 3])]));
        assert!(!covers(&leaf.cert_pem, &["other".into()], &[]));
        assert!(!covers("garbage", &[], &[]));
    }
}
