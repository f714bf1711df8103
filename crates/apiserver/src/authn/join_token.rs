//! The join token an agent presents to join the cluster, in k3s's format:
//! `K10<sha256 hex of the cluster CA certificate PEM>::server:<secret>`. The hash lets the agent
//! check the CA it downloads before trusting it; the secret authenticates it as a bootstrap user,
//! who may only ask for a node client certificate.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use rand::RngCore;
use sha2::{Digest, Sha256};

use super::{StaticTokens, UserInfo};

/// The prefix of a token that carries the CA hash.
pub const TOKEN_PREFIX: &str = "K10";
/// The group of users that authenticated with a join token.
pub const BOOTSTRAPPERS_GROUP: &str = "system:bootstrappers";
/// The user part of tokens this server creates.
const SERVER_TOKEN_USER: &str = "server";

#[derive(Debug, thiserror::Error)]
pub enum JoinTokenError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("malformed join token: {0}")]
    Malformed(&'static str),
}

/// A parsed join token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinToken {
    /// sha256 hex of the CA certificate PEM; `None` for a bare secret.
    pub ca_hash: Option<String>,
    pub username: String,
    pub secret: String,
}

/// sha256 hex of a CA certificate PEM, as the token carries it.
pub fn ca_hash(ca_cert_pem: &str) -> String {
    hex::encode(Sha256::digest(ca_cert_pem.as_bytes()))
}

fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

impl JoinToken {
    /// A new token for this CA with a random secret.
    pub fn generate(ca_cert_pem: &str) -> Self {
        Self {
            ca_hash: Some(ca_hash(ca_cert_pem)),
            username: SERVER_TOKEN_USER.to_string(),
            secret: random_secret(),
        }
    }

    /// `K10<hash>::<user>:<secret>`, or the bare secret when there is no hash.
    pub fn render(&self) -> String {
        match &self.ca_hash {
            Some(hash) => format!("{TOKEN_PREFIX}{hash}::{}:{}", self.username, self.secret),
            None => self.secret.clone(),
        }
    }

    /// Parse a full token, or take anything else as a bare secret.
    pub fn parse(text: &str) -> Result<Self, JoinTokenError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(JoinTokenError::Malformed("empty"));
        }
        let Some(rest) = text.strip_prefix(TOKEN_PREFIX) else {
            return Ok(Self {
                ca_hash: None,
                username: SERVER_TOKEN_USER.to_string(),
                secret: text.to_string(),
            });
        };
        let (hash, credentials) = rest
            .split_once("::")
            .ok_or(JoinTokenError::Malformed("no '::' after the CA hash"))?;
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(JoinTokenError::Malformed(
                "the CA hash is not 64 hex characters",
            ));
        }
        let (username, secret) = credentials
            .split_once(':')
            .ok_or(JoinTokenError::Malformed("no ':' between user and secret"))?;
        if username.is_empty() || secret.is_empty() {
            return Err(JoinTokenError::Malformed("empty user or secret"));
        }
        Ok(Self {
            ca_hash: Some(hash.to_ascii_lowercase()),
            username: username.to_string(),
            secret: secret.to_string(),
        })
    }

    /// Who a caller presenting this token is: a bootstrapper, as upstream's bootstrap tokens.
    pub fn bootstrap_user(&self) -> UserInfo {
        UserInfo {
            name: format!("system:bootstrap:{}", self.username),
            uid: String::new(),
            groups: vec![BOOTSTRAPPERS_GROUP.to_string()],
        }
        .with_authenticated_group()
    }

    /// Accept the secret, and the whole token, as bearer tokens of the bootstrap user.
    pub fn register(&self, tokens: &mut StaticTokens) {
        let user = self.bootstrap_user();
        tokens.insert(self.secret.clone(), user.clone());
        tokens.insert(self.render(), user);
    }
}

fn write_owner_only(path: &Path, contents: &str) -> Result<(), JoinTokenError> {
    let io = |source| JoinTokenError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
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

/// The token in `path`, created on first start. A token whose CA hash no longer matches the CA
/// keeps its secret and gets the new hash.
pub fn load_or_create_join_token(
    path: &Path,
    ca_cert_pem: &str,
) -> Result<JoinToken, JoinTokenError> {
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => Some(JoinToken::parse(&text)?),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => {
            return Err(JoinTokenError::Io {
                path: path.to_path_buf(),
                source,
            })
        }
    };
    let wanted_hash = ca_hash(ca_cert_pem);
    match existing {
        Some(token) if token.ca_hash.as_deref() == Some(wanted_hash.as_str()) => Ok(token),
        Some(mut token) => {
            token.ca_hash = Some(wanted_hash);
            write_owner_only(path, &format!("{}\n", token.render()))?;
            Ok(token)
        }
        None => {
            let token = JoinToken::generate(ca_cert_pem);
            write_owner_only(path, &format!("{}\n", token.render()))?;
            Ok(token)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    const CA: &str = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

    #[test]
    fn renders_and_parses_round_trip() {
        let token = JoinToken::generate(CA);
        let text = token.render();
        assert!(text.starts_with("K10"));
        assert_eq!(&text[3..67], ca_hash(CA));
        assert_eq!(&text[67..76], "::server:");
        assert_eq!(JoinToken::parse(&text).unwrap(), token);
        assert_eq!(token.secret.len(), 64);
    }

    #[test]
    fn parses_table() {
        let hash = "a".repeat(64);
        let cases: &[(&str, Option<(&str, &str)>)] = &[
            ("K10HASH::server:s3cret", Some(("server", "s3cret"))),
            ("K10HASH::node:abc:def", Some(("node", "abc:def"))),
            ("K10HASH:server:s3cret", None),
            ("K10HASH::server", None),
            ("K10HASH::server:", None),
            ("K10abc::server:x", None),
        ];
        for (text, expected) in cases {
            let text = text.replace("HASH", &hash);
            match (JoinToken::parse(&text), expected) {
                (Ok(token), Some((user, secret))) => {
                    assert_eq!(token.ca_hash.as_deref(), Some(hash.as_str()), "{text}");
                    assert_eq!(token.username, *user, "{text}");
                    assert_eq!(token.secret, *secret, "{text}");
                }
                (Err(_), None) => {}
                (result, _) => panic!("{text}: unexpected {result:?}"),
            }
        }
    }

    #[test]
    fn a_bare_secret_has_no_hash() {
        let token = JoinToken::parse("  justasecret\n").unwrap();
        assert_eq!(token.ca_hash, None);
        assert_eq!(token.secret, "justasecret");
        assert!(JoinToken::parse("  ").is_err());
    }

    #[test]
    fn the_bootstrap_user_is_a_bootstrapper() {
        let token = JoinToken::parse(&JoinToken::generate(CA).render()).unwrap();
        let mut tokens = StaticTokens::default();
        token.register(&mut tokens);
        let user = tokens.authenticate(&token.secret).unwrap();
        assert_eq!(user.name, "system:bootstrap:server");
        assert!(user.in_group(BOOTSTRAPPERS_GROUP));
        assert!(user.in_group("system:authenticated"));
        assert_eq!(tokens.authenticate(&token.render()), Some(user));
    }

    #[test]
    fn the_token_file_is_created_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        let first = load_or_create_join_token(&path, CA).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let second = load_or_create_join_token(&path, CA).unwrap();
        assert_eq!(first, second);
        let rotated_ca = load_or_create_join_token(&path, "another CA").unwrap();
        assert_eq!(rotated_ca.secret, first.secret);
        assert_eq!(rotated_ca.ca_hash, Some(ca_hash("another CA")));
    }
}
