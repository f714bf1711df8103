//! The API server's client certificate towards kubelets (upstream's apiserver-kubelet-client):
//! user `kube-apiserver-kubelet-client` in group `system:masters`, signed by the cluster CA.

use std::path::Path;

use super::issue::{new_leaf, IssuedCert, LeafUsage};
use super::{write_owner_only, PkiError};

pub const KUBELET_CLIENT_COMMON_NAME: &str = "kube-apiserver-kubelet-client";
const FILE_NAME: &str = "client-kube-apiserver-kubelet";

/// A certificate and key in PEM.
#[derive(Debug, Clone)]
pub struct KubeletClientCert {
    pub cert_pem: String,
    pub key_pem: String,
}

/// Load `<dir>/client-kube-apiserver-kubelet.{crt,key}`, issuing them from the CA when missing.
pub fn load_or_create_kubelet_client(
    dir: &Path,
    ca_cert_pem: &str,
    ca_key_pem: &str,
) -> Result<KubeletClientCert, PkiError> {
    let cert_path = dir.join(format!("{FILE_NAME}.crt"));
    let key_path = dir.join(format!("{FILE_NAME}.key"));
    if let (Ok(cert_pem), Ok(key_pem)) = (
        std::fs::read_to_string(&cert_path),
        std::fs::read_to_string(&key_path),
    ) {
        return Ok(KubeletClientCert { cert_pem, key_pem });
    }
    let ca = IssuedCert {
        cert_pem: ca_cert_pem.to_string(),
        key_pem: ca_key_pem.to_string(),
    };
    let issued = new_leaf(
        &ca,
        KUBELET_CLIENT_COMMON_NAME,
        LeafUsage::Client {
            organizations: vec!["system:masters".to_string()],
        },
    )?;
    write_owner_only(&cert_path, &issued.cert_pem)?;
    write_owner_only(&key_path, &issued.key_pem)?;
    Ok(KubeletClientCert {
        cert_pem: issued.cert_pem,
        key_pem: issued.key_pem,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issued_once_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let ca = super::super::issue::new_ca("test-ca").unwrap();
        let first = load_or_create_kubelet_client(dir.path(), &ca.cert_pem, &ca.key_pem).unwrap();
        let again = load_or_create_kubelet_client(dir.path(), &ca.cert_pem, &ca.key_pem).unwrap();
        assert_eq!(first.cert_pem, again.cert_pem);
        let der = rustls_pemfile::certs(&mut first.cert_pem.as_bytes())
            .next()
            .unwrap()
            .unwrap();
        let user = crate::authn::user_from_client_cert(der.as_ref()).unwrap();
        assert_eq!(user.name, KUBELET_CLIENT_COMMON_NAME);
        assert!(user.groups.contains(&"system:masters".to_string()));
    }
}
