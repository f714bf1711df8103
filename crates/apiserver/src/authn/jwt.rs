//! Compact JWS with ES256 (ECDSA P-256, SHA-256), the way service-account tokens are signed:
//! `base64url(header).base64url(claims).base64url(r || s)`.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{
    EcdsaKeyPair, KeyPair, UnparsedPublicKey, ECDSA_P256_SHA256_FIXED,
    ECDSA_P256_SHA256_FIXED_SIGNING,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

/// The DER prefix of a P-256 SubjectPublicKeyInfo; the 65-byte uncompressed point follows.
const P256_SPKI_PREFIX: &[u8] = &[
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    #[error("the signing key is not a PKCS#8 ECDSA P-256 key: {0}")]
    Key(String),
    #[error("signing failed")]
    Sign,
    #[error("token is malformed")]
    Malformed,
    #[error("token uses an unsupported algorithm")]
    Algorithm,
    #[error("invalid signature")]
    Signature,
}

/// An ES256 signing key and its key id (upstream's: the SHA-256 of the DER public key).
pub struct Es256Key {
    pair: EcdsaKeyPair,
    key_id: String,
    rng: SystemRandom,
}

impl std::fmt::Debug for Es256Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Es256Key")
            .field("key_id", &self.key_id)
            .finish()
    }
}

/// A new P-256 key as PKCS#8 DER.
pub fn generate_pkcs8() -> Result<Vec<u8>, JwtError> {
    let document =
        EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
            .map_err(|_| JwtError::Key("generation failed".into()))?;
    Ok(document.as_ref().to_vec())
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

impl Es256Key {
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, JwtError> {
        let rng = SystemRandom::new();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der, &rng)
            .map_err(|e| JwtError::Key(e.to_string()))?;
        let mut spki = P256_SPKI_PREFIX.to_vec();
        spki.extend_from_slice(pair.public_key().as_ref());
        let key_id = b64(&Sha256::digest(&spki));
        Ok(Self { pair, key_id, rng })
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The signed token for these claims.
    pub fn sign<C: Serialize>(&self, claims: &C) -> Result<String, JwtError> {
        let header = json!({"alg": "ES256", "kid": self.key_id});
        let header = serde_json::to_vec(&header).map_err(|_| JwtError::Sign)?;
        let claims = serde_json::to_vec(claims).map_err(|_| JwtError::Sign)?;
        let signing_input = format!("{}.{}", b64(&header), b64(&claims));
        let signature = self
            .pair
            .sign(&self.rng, signing_input.as_bytes())
            .map_err(|_| JwtError::Sign)?;
        Ok(format!("{signing_input}.{}", b64(signature.as_ref())))
    }

    /// The claims of a token this key signed; checks the algorithm and signature only.
    pub fn verify<C: DeserializeOwned>(&self, token: &str) -> Result<C, JwtError> {
        let mut parts = token.split('.');
        let (Some(header), Some(claims), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JwtError::Malformed);
        };
        let decode = |part: &str| {
            URL_SAFE_NO_PAD
                .decode(part)
                .map_err(|_| JwtError::Malformed)
        };
        let header: serde_json::Value =
            serde_json::from_slice(&decode(header)?).map_err(|_| JwtError::Malformed)?;
        if header.get("alg").and_then(serde_json::Value::as_str) != Some("ES256") {
            return Err(JwtError::Algorithm);
        }
        let signing_input_len = token.len() - signature.len() - 1;
        let signing_input = &token.as_bytes()[..signing_input_len];
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, self.pair.public_key().as_ref())
            .verify(signing_input, &decode(signature)?)
            .map_err(|_| JwtError::Signature)?;
        serde_json::from_slice(&decode(claims)?).map_err(|_| JwtError::Malformed)
    }
}

/// Whether a bearer token has the shape of a JWT (three dot-separated parts).
pub fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> Es256Key {
        Es256Key::from_pkcs8(&generate_pkcs8().unwrap()).unwrap()
    }

    #[test]
    fn round_trip() {
        let key = key();
        let token = key.sign(&json!({"sub": "me", "n": 1})).unwrap();
        assert!(looks_like_jwt(&token));
        let claims: serde_json::Value = key.verify(&token).unwrap();
        assert_eq!(claims, json!({"sub": "me", "n": 1}));
        let header: serde_json::Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(token.split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["kid"], key.key_id());
        assert_eq!(key.key_id().len(), 43);
    }

    #[test]
    fn rejects_other_keys_tampering_and_garbage() {
        let key = key();
        let token = key.sign(&json!({"sub": "me"})).unwrap();
        let other = self::key();
        assert_eq!(
            other.verify::<serde_json::Value>(&token),
            Err(JwtError::Signature)
        );
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged = b64(br#"{"sub":"admin"}"#);
        parts[1] = &forged;
        assert_eq!(
            key.verify::<serde_json::Value>(&parts.join(".")),
            Err(JwtError::Signature)
        );
        assert_eq!(
            key.verify::<serde_json::Value>("a.b"),
            Err(JwtError::Malformed)
        );
        assert_eq!(
            key.verify::<serde_json::Value>("!!.b.c"),
            Err(JwtError::Malformed)
        );
        let none = format!("{}.{}.", b64(br#"{"alg":"none"}"#), b64(b"{}"));
        assert_eq!(
            key.verify::<serde_json::Value>(&none),
            Err(JwtError::Algorithm)
        );
    }
}
