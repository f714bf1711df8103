//! Objects as storage holds them (JSON without `metadata.resourceVersion`) turned into what
//! clients read, without parsing them into values: the revision is written into the bytes.

/// `stored` with `"resourceVersion":"<revision>"` as the first key of its top-level metadata
/// object; `None` when that object cannot be found.
pub fn with_resource_version(stored: &[u8], revision: i64) -> Option<Vec<u8>> {
    #[derive(serde::Deserialize)]
    struct MetadataSpan<'a> {
        #[serde(borrow)]
        metadata: &'a serde_json::value::RawValue,
    }
    let span: MetadataSpan<'_> = serde_json::from_slice(stored).ok()?;
    let metadata = span.metadata.get();
    // The raw value is a slice of `stored`: its offset there is where the metadata begins.
    let start = (metadata.as_ptr() as usize).checked_sub(stored.as_ptr() as usize)?;
    if stored.get(start) != Some(&b'{') {
        return None;
    }
    let empty = metadata[1..].trim_start().starts_with('}');
    let field = format!(
        "\"resourceVersion\":\"{revision}\"{}",
        if empty { "" } else { "," }
    );
    let mut out = Vec::with_capacity(stored.len() + field.len());
    out.extend_from_slice(&stored[..=start]);
    out.extend_from_slice(field.as_bytes());
    out.extend_from_slice(&stored[start + 1..]);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn the_revision_becomes_the_first_metadata_key() {
        let stored = br#"{"kind":"Pod","metadata":{"name":"p","labels":{"a":"b"}},"spec":{}}"#;
        let out = with_resource_version(stored, 42).unwrap();
        let value: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            value,
            json!({"kind": "Pod", "metadata": {"resourceVersion": "42", "name": "p",
                "labels": {"a": "b"}}, "spec": {}})
        );
        let empty = with_resource_version(br#"{"metadata":{}}"#, 7).unwrap();
        assert_eq!(empty, br#"{"metadata":{"resourceVersion":"7"}}"#.to_vec());
        assert!(with_resource_version(br#"{"spec":{}}"#, 7).is_none());
        assert!(with_resource_version(br#"{"metadata":null}"#, 7).is_none());
    }
}
