//! A stable hash of a container's spec, stored on the CRI container to notice spec changes.

use k8s_openapi::api::core::v1::Container;

/// FNV-1a over the container's JSON, in hex.
pub fn container_hash(container: &Container) -> String {
    let json = serde_json::to_vec(container).unwrap_or_default();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in json {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:x}")
}
