//! sha256 digests (`sha256:<hex>`): computing, checking, and hashing while reading.

use std::io::{self, Read};

use sha2::{Digest as _, Sha256};

use crate::RuntimeError;

/// `sha256:<hex>` of `bytes`.
pub fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// The hex part of a `sha256:<64 hex>` digest; other algorithms are refused.
pub fn sha256_hex(digest: &str) -> Result<&str, RuntimeError> {
    match digest.strip_prefix("sha256:") {
        Some(hex)
            if hex.len() == 64
                && hex
                    .chars()
                    .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)) =>
        {
            Ok(hex)
        }
        _ => Err(RuntimeError::InvalidArgument(format!(
            "unsupported digest {digest:?}"
        ))),
    }
}

/// Fails unless `actual` is `expected`.
pub fn verify_digest(expected: &str, actual: &str, what: &str) -> Result<(), RuntimeError> {
    if expected == actual {
        Ok(())
    } else {
        Err(RuntimeError::Failed(format!(
            "digest mismatch for {what}: expected {expected}, got {actual}"
        )))
    }
}

/// Hashes everything read through it.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    bytes_read: u64,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Sha256::new(),
            bytes_read: 0,
        }
    }

    /// Reads what is left, then returns `sha256:<hex>` of everything read and its length.
    pub fn finish(mut self) -> io::Result<(String, u64)> {
        io::copy(&mut self, &mut io::sink())?;
        Ok((
            format!("sha256:{}", hex::encode(self.hasher.finalize())),
            self.bytes_read,
        ))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes_read += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_what_is_read_and_what_is_left() {
        let data = b"hello world".to_vec();
        let mut reader = HashingReader::new(&data[..]);
        let mut first = [0u8; 5];
        reader.read_exact(&mut first).unwrap();
        let (digest, len) = reader.finish().unwrap();
        assert_eq!(digest, sha256_digest(&data));
        assert_eq!(len, 11);
    }

    #[test]
    fn accepts_only_sha256() {
        let hex = "0".repeat(64);
        assert_eq!(sha256_hex(&format!("sha256:{hex}")).unwrap(), hex);
        assert!(sha256_hex(&format!("sha512:{hex}")).is_err());
        assert!(sha256_hex("sha256:../../etc").is_err());
    }
}
