//! The join token as the server writes it: `K10<sha256 hex of the CA PEM>::<user>:<secret>`, or a
//! bare secret (then the CA cannot be checked).

use sha2::{Digest, Sha256};

use crate::KubeletError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JoinToken {
    pub ca_hash: Option<String>,
    pub secret: String,
}

pub fn parse_join_token(text: &str) -> Result<JoinToken, KubeletError> {
    let malformed = |why: &str| KubeletError::Failed(format!("malformed join token: {why}"));
    let text = text.trim();
    if text.is_empty() {
        return Err(malformed("empty"));
    }
    let Some(rest) = text.strip_prefix("K10") else {
        return Ok(JoinToken {
            ca_hash: None,
            secret: text.to_string(),
        });
    };
    let (hash, credentials) = rest
        .split_once("::")
        .ok_or_else(|| malformed("no '::' after the CA hash"))?;
    if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(malformed("the CA hash is not 64 hex characters"));
    }
    let (user, secret) = credentials
        .split_once(':')
        .ok_or_else(|| malformed("no ':' between user and secret"))?;
    if user.is_empty() || secret.is_empty() {
        return Err(malformed("empty user or secret"));
    }
    Ok(JoinToken {
        ca_hash: Some(hash.to_ascii_lowercase()),
        secret: secret.to_string(),
    })
}

/// Whether `ca_pem` is the CA the token names (any CA when it names none).
pub fn ca_matches(token: &JoinToken, ca_pem: &str) -> bool {
    match &token.ca_hash {
        Some(hash) => *hash == hex::encode(Sha256::digest(ca_pem.as_bytes())),
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_full_and_bare_tokens() {
        let ca = "-----BEGIN CERTIFICATE-----\nX\n-----END CERTIFICATE-----\n";
        let hash = hex::encode(Sha256::digest(ca.as_bytes()));
        let token = parse_join_token(&format!("K10{hash}::server:abc\n")).unwrap();
        assert_eq!(token.secret, "abc");
        assert!(ca_matches(&token, ca));
        assert!(!ca_matches(&token, "another"));
        let bare = parse_join_token("abc").unwrap();
        assert_eq!(bare.ca_hash, None);
        assert!(ca_matches(&bare, "anything"));
        for bad in [
            "",
            "K10abc::server:x",
            &format!("K10{hash}:server:x"),
            &format!("K10{hash}::server:"),
        ] {
            assert!(parse_join_token(bad).is_err(), "{bad}");
        }
    }
}
