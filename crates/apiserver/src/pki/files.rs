//! Loading the cluster PKI from the data directory, creating whatever is missing.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use super::issue::{new_ca, new_leaf, IssuedCert, LeafUsage};

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("certificate generation: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Every certificate the control plane needs, as PEM.
pub struct ClusterPki {
    pub ca_cert_pem: String,
    pub ca_key_pem: String,
    pub serving_cert_pem: String,
    pub serving_key_pem: String,
    pub admin_cert_pem: String,
    pub admin_key_pem: String,
}

fn read_pair(dir: &Path, name: &str) -> Option<IssuedCert> {
    let cert_pem = std::fs::read_to_string(dir.join(format!("{name}.crt"))).ok()?;
    let key_pem = std::fs::read_to_string(dir.join(format!("{name}.key"))).ok()?;
    Some(IssuedCert { cert_pem, key_pem })
}

fn write_private(path: &Path, contents: &str) -> Result<(), PkiError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let io = |source| PkiError::Io {
        path: path.to_path_buf(),
        source,
    };
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io)?;
    file.write_all(contents.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

fn write_pair(dir: &Path, name: &str, pair: &IssuedCert) -> Result<(), PkiError> {
    write_private(&dir.join(format!("{name}.crt")), &pair.cert_pem)?;
    write_private(&dir.join(format!("{name}.key")), &pair.key_pem)
}

fn load_or_issue(
    dir: &Path,
    name: &str,
    issue: impl FnOnce() -> Result<IssuedCert, PkiError>,
) -> Result<IssuedCert, PkiError> {
    if let Some(pair) = read_pair(dir, name) {
        return Ok(pair);
    }
    let pair = issue()?;
    write_pair(dir, name, &pair)?;
    Ok(pair)
}

/// Load the PKI from `dir`, creating the CA and any missing certificate. The serving certificate
/// covers `dns_names` and `ips` (localhost, the host name, kubernetes.default.svc..., 127.0.0.1,
/// the first service IP).
pub fn load_or_create(
    dir: &Path,
    dns_names: Vec<String>,
    ips: Vec<IpAddr>,
) -> Result<ClusterPki, PkiError> {
    std::fs::create_dir_all(dir).map_err(|source| PkiError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let ca = load_or_issue(dir, "server-ca", || new_ca("r8s-server-ca"))?;
    let issue_serving = || {
        new_leaf(
            &ca,
            "kube-apiserver",
            LeafUsage::Server {
                dns_names: dns_names.clone(),
                ips: ips.clone(),
            },
        )
    };
    let serving = match read_pair(dir, "serving-kube-apiserver") {
        Some(pair) if super::serving_coverage::covers(&pair.cert_pem, &dns_names, &ips) => pair,
        _ => {
            let pair = issue_serving()?;
            write_pair(dir, "serving-kube-apiserver", &pair)?;
            pair
        }
    };
    let admin = load_or_issue(dir, "client-admin", || {
        new_leaf(
            &ca,
            "system:admin",
            LeafUsage::Client {
                organizations: vec!["system:masters".to_string()],
            },
        )
    })?;
    Ok(ClusterPki {
        ca_cert_pem: ca.cert_pem,
        ca_key_pem: ca.key_pem,
        serving_cert_pem: serving.cert_pem,
        serving_key_pem: serving.key_pem,
        admin_cert_pem: admin.cert_pem,
        admin_key_pem: admin.key_pem,
    })
}

/// Write a file readable by its owner only, atomically.
pub fn write_owner_only(path: &Path, contents: &str) -> Result<(), PkiError> {
    write_private(path, contents)
}
