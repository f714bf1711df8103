//! The `hash` query value of `/openapi/v3` entries: a fingerprint of the document's bytes, so that
//! kubectl's disk cache misses exactly when the document changes.

const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;
const FNV_OFFSETS: [u64; 2] = [0xcbf2_9ce4_8422_2325, 0x8422_2325_cbf2_9ce4];

/// 32 upper-case hex digits: two FNV-1a passes over `bytes` with different offset bases.
pub(crate) fn content_hash(bytes: &[u8]) -> String {
    FNV_OFFSETS
        .iter()
        .map(|offset| {
            let hash = bytes.iter().fold(*offset, |hash, byte| {
                (hash ^ u64::from(*byte)).wrapping_mul(FNV_PRIME)
            });
            format!("{hash:016X}")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_bytes_hash_equal_and_different_bytes_differ() {
        assert_eq!(content_hash(b"abc"), content_hash(b"abc"));
        assert_ne!(content_hash(b"abc"), content_hash(b"abd"));
        assert_eq!(content_hash(b"").len(), 32);
    }
}
