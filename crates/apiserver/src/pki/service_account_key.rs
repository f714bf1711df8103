//! The key that signs service-account tokens: an ECDSA P-256 key made once, kept as PKCS#8 PEM in
//! `<tls dir>/service.key` (k3s's name for it).

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;

use super::files::{write_owner_only, PkiError};
use crate::authn::jwt::{generate_pkcs8, Es256Key, JwtError};

const KEY_FILE: &str = "service.key";
const PEM_LABEL: &str = "PRIVATE KEY";

#[derive(Debug, thiserror::Error)]
pub enum ServiceAccountKeyError {
    #[error("{0}")]
    Pki(#[from] PkiError),
    #[error("{path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a PEM private key")]
    NotPem { path: PathBuf },
    #[error("{path}: {source}")]
    Key { path: PathBuf, source: JwtError },
}

fn to_pem(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut pem = format!("-----BEGIN {PEM_LABEL}-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str(&format!("-----END {PEM_LABEL}-----\n"));
    pem
}

fn from_pem(pem: &str) -> Option<Vec<u8>> {
    let begin = format!("-----BEGIN {PEM_LABEL}-----");
    let end = format!("-----END {PEM_LABEL}-----");
    let start = pem.find(&begin)? + begin.len();
    let stop = pem[start..].find(&end)? + start;
    let body: String = pem[start..stop]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    STANDARD.decode(body).ok()
}

/// Load the signing key from `tls_dir`, making it on first start.
pub fn load_or_create_service_account_key(
    tls_dir: &Path,
) -> Result<Es256Key, ServiceAccountKeyError> {
    let path = tls_dir.join(KEY_FILE);
    let der = match std::fs::read_to_string(&path) {
        Ok(pem) => {
            from_pem(&pem).ok_or_else(|| ServiceAccountKeyError::NotPem { path: path.clone() })?
        }
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let der = generate_pkcs8().map_err(|source| ServiceAccountKeyError::Key {
                path: path.clone(),
                source,
            })?;
            write_owner_only(&path, &to_pem(&der))?;
            der
        }
        Err(source) => return Err(ServiceAccountKeyError::Read { path, source }),
    };
    Es256Key::from_pkcs8(&der).map_err(|source| ServiceAccountKeyError::Key { path, source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn made_once_then_loaded() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create_service_account_key(dir.path()).unwrap();
        let again = load_or_create_service_account_key(dir.path()).unwrap();
        assert_eq!(first.key_id(), again.key_id());
        let pem = std::fs::read_to_string(dir.path().join(KEY_FILE)).unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"));
        std::fs::write(dir.path().join(KEY_FILE), "junk").unwrap();
        assert!(load_or_create_service_account_key(dir.path()).is_err());
    }
}
