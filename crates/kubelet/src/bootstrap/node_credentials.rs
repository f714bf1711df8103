//! The node's credentials on disk, all owner-only: `kubelet-client.key`, `kubelet-client.crt`,
//! `ca.crt`, and `kubelet.kubeconfig` that embeds them.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use base64::Engine;
use x509_parser::prelude::FromDer;

use crate::KubeletError;

const KEY_FILE: &str = "kubelet-client.key";
const CERT_FILE: &str = "kubelet-client.crt";
const CA_FILE: &str = "ca.crt";
pub const KUBECONFIG_FILE: &str = "kubelet.kubeconfig";
/// A certificate this close to expiry is replaced by a new one at start.
const RENEW_BEFORE_SECONDS: i64 = 3600;

/// A node client certificate, its key and the CA that verifies the server, all PEM.
#[derive(Debug, Clone)]
pub struct NodeCredentials {
    pub key_pem: String,
    pub cert_pem: String,
    pub ca_pem: String,
}

/// The certificate's common name and expiry (unix seconds).
fn common_name_and_expiry(cert_pem: &str) -> Option<(String, i64)> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(cert_pem.as_bytes()).ok()?;
    let (_, cert) = x509_parser::certificate::X509Certificate::from_der(&pem.contents).ok()?;
    let cn = cert
        .subject()
        .iter_common_name()
        .next()?
        .as_str()
        .ok()?
        .to_string();
    Some((cn, cert.validity().not_after.timestamp()))
}

/// Stored credentials for `node_name` that are still good for a while, if any.
pub fn load_valid_credentials(dir: &Path, node_name: &str) -> Option<NodeCredentials> {
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).ok();
    let credentials = NodeCredentials {
        key_pem: read(KEY_FILE)?,
        cert_pem: read(CERT_FILE)?,
        ca_pem: read(CA_FILE)?,
    };
    let (cn, not_after) = common_name_and_expiry(&credentials.cert_pem)?;
    let now = jiff::Timestamp::now().as_second();
    let usable = cn == format!("system:node:{node_name}") && not_after > now + RENEW_BEFORE_SECONDS;
    usable.then_some(credentials)
}

fn write_owner_only(path: &Path, contents: &str) -> Result<(), KubeletError> {
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)?;
    Ok(())
}

/// A kubeconfig (JSON, which is YAML) for `server_url` with the credentials embedded.
pub fn render_kubeconfig(
    server_url: &str,
    node_name: &str,
    credentials: &NodeCredentials,
) -> String {
    let b64 = |pem: &str| base64::engine::general_purpose::STANDARD.encode(pem);
    let user = format!("system:node:{node_name}");
    let document = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "r8s", "cluster": {
            "server": server_url,
            "certificate-authority-data": b64(&credentials.ca_pem),
        }}],
        "users": [{"name": user, "user": {
            "client-certificate-data": b64(&credentials.cert_pem),
            "client-key-data": b64(&credentials.key_pem),
        }}],
        "contexts": [{"name": "r8s", "context": {"cluster": "r8s", "user": user}}],
        "current-context": "r8s",
    });
    format!("{document:#}\n")
}

/// Write the credentials and a kubeconfig for them into `dir`; the kubeconfig's path.
pub fn store_credentials(
    dir: &Path,
    server_url: &str,
    node_name: &str,
    credentials: &NodeCredentials,
) -> Result<PathBuf, KubeletError> {
    std::fs::create_dir_all(dir)?;
    write_owner_only(&dir.join(KEY_FILE), &credentials.key_pem)?;
    write_owner_only(&dir.join(CERT_FILE), &credentials.cert_pem)?;
    write_owner_only(&dir.join(CA_FILE), &credentials.ca_pem)?;
    let kubeconfig = dir.join(KUBECONFIG_FILE);
    write_owner_only(
        &kubeconfig,
        &render_kubeconfig(server_url, node_name, credentials),
    )?;
    Ok(kubeconfig)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair};

    use super::*;

    fn credentials(common_name: &str, days: i64) -> NodeCredentials {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, common_name);
        params.distinguished_name = dn;
        let now = rcgen::date_time_ymd(2020, 1, 1);
        params.not_before = now;
        params.not_after = if days > 0 {
            rcgen::date_time_ymd(2100, 1, 1)
        } else {
            rcgen::date_time_ymd(2021, 1, 1)
        };
        let cert = params.self_signed(&key).unwrap();
        NodeCredentials {
            key_pem: key.serialize_pem(),
            cert_pem: cert.pem(),
            ca_pem: cert.pem(),
        }
    }

    #[test]
    fn stored_credentials_are_reused_while_valid() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load_valid_credentials(dir.path(), "n1").is_none());
        let path = store_credentials(
            dir.path(),
            "https://s:6443",
            "n1",
            &credentials("system:node:n1", 1),
        )
        .unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(load_valid_credentials(dir.path(), "n1").is_some());
        assert!(load_valid_credentials(dir.path(), "n2").is_none());
        let kubeconfig: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        assert_eq!(
            kubeconfig["clusters"][0]["cluster"]["server"],
            "https://s:6443"
        );
    }

    #[test]
    fn expired_credentials_are_not_used() {
        let dir = tempfile::tempdir().unwrap();
        store_credentials(
            dir.path(),
            "https://s",
            "n1",
            &credentials("system:node:n1", -1),
        )
        .unwrap();
        assert!(load_valid_credentials(dir.path(), "n1").is_none());
    }
}
