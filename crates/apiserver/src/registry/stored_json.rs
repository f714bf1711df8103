//! Objects as storage holds them (JSON without `metadata.resourceVersion`) turned into what
//! clients read, without parsing them into values: the revision is written into the bytes.

/// `stored` with `"resourceVersion":"<revision>"` as the first key of its top-level metadata
/// object; `None` when that object cannot be found.
pub fn with_resource_version(stored: &[u8], revision: i64) -> Option<Vec<u8>> {
    let start = match scan::metadata_start(stored) {
        Some(found) => found?,
        None => metadata_start_parsed(stored)?,
    };
    let empty = stored[start + 1..]
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .is_some_and(|&b| b == b'}');
    let revision = revision.to_string();
    let mut out = Vec::with_capacity(stored.len() + revision.len() + 24);
    out.extend_from_slice(&stored[..=start]);
    out.extend_from_slice(b"\"resourceVersion\":\"");
    out.extend_from_slice(revision.as_bytes());
    out.extend_from_slice(if empty { b"\"" } else { b"\"," });
    out.extend_from_slice(&stored[start + 1..]);
    Some(out)
}

/// The top-level metadata object's JSON, found without reading what follows it; `None` when the
/// bytes are not what storage writes or have no metadata object.
pub fn metadata_object(json: &[u8]) -> Option<&[u8]> {
    let start = scan::metadata_start(json)??;
    let end = scan::value_end(json, start)?;
    json.get(start..end)
}

/// Where the top-level metadata object begins, by parsing the whole object.
fn metadata_start_parsed(stored: &[u8]) -> Option<usize> {
    #[derive(serde::Deserialize)]
    struct MetadataSpan<'a> {
        #[serde(borrow)]
        metadata: &'a serde_json::value::RawValue,
    }
    let span: MetadataSpan<'_> = serde_json::from_slice(stored).ok()?;
    let metadata = span.metadata.get();
    // The raw value is a slice of `stored`: its offset there is where the metadata begins.
    let start = (metadata.as_ptr() as usize).checked_sub(stored.as_ptr() as usize)?;
    (stored.get(start) == Some(&b'{')).then_some(start)
}

/// Finding the metadata without reading the rest: storage writes `metadata` near the front, and
/// the spec and status after it are most of an object's bytes. Parsing them was a few per cent
/// of the API server's CPU in the scheduler benchmark (every create answers with the stored
/// object, and the watch cache reads every write).
mod scan {
    /// `Some(Some(offset))` of the top-level `metadata` object's `{`, `Some(None)` when the
    /// object has no metadata object, `None` when the bytes are not what storage writes (the
    /// caller then parses them).
    pub(super) fn metadata_start(json: &[u8]) -> Option<Option<usize>> {
        let mut at = skip_space(json, 0);
        if json.get(at) != Some(&b'{') {
            return None;
        }
        at = skip_space(json, at + 1);
        if json.get(at) == Some(&b'}') {
            return Some(None);
        }
        loop {
            if json.get(at) != Some(&b'"') {
                return None;
            }
            let key_end = string_end(json, at)?;
            let key = &json[at + 1..key_end];
            if key.contains(&b'\\') {
                return None;
            }
            at = skip_space(json, key_end + 1);
            if json.get(at) != Some(&b':') {
                return None;
            }
            at = skip_space(json, at + 1);
            if key == b"metadata" {
                return match json.get(at)? {
                    b'{' => Some(Some(at)),
                    _ => Some(None),
                };
            }
            at = skip_space(json, value_end(json, at)?);
            match json.get(at)? {
                b',' => at = skip_space(json, at + 1),
                b'}' => return Some(None),
                _ => return None,
            }
        }
    }

    fn skip_space(json: &[u8], mut at: usize) -> usize {
        while json.get(at).is_some_and(u8::is_ascii_whitespace) {
            at += 1;
        }
        at
    }

    /// The offset of the quote closing the string that opens at `open`.
    fn string_end(json: &[u8], open: usize) -> Option<usize> {
        let mut at = open + 1;
        loop {
            match json.get(at)? {
                b'"' => return Some(at),
                b'\\' => at += 2,
                _ => at += 1,
            }
        }
    }

    /// The offset just past the value that starts at `start`.
    pub(super) fn value_end(json: &[u8], start: usize) -> Option<usize> {
        match json.get(start)? {
            b'"' => Some(string_end(json, start)? + 1),
            b'{' | b'[' => {
                let mut depth = 0usize;
                let mut at = start;
                loop {
                    match json.get(at)? {
                        b'"' => at = string_end(json, at)?,
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                return Some(at + 1);
                            }
                        }
                        _ => {}
                    }
                    at += 1;
                }
            }
            _ => {
                let len = json[start..]
                    .iter()
                    .position(|b| matches!(b, b',' | b'}' | b']') || b.is_ascii_whitespace())
                    .unwrap_or(json.len() - start);
                (len > 0).then_some(start + len)
            }
        }
    }
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

    #[test]
    fn the_scan_finds_what_parsing_finds() {
        let cases: &[&[u8]] = &[
            br#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{}}"#,
            br#"{"a":"x\"metadata\":{","metadata":{"n":"}"}}"#,
            br#"{"a":[1,{"metadata":{}},"]"],"b":-1.5e3,"c":true,"d":null,"metadata":{}}"#,
            br#" { "kind" : "X" , "metadata" : { "name" : "p" } } "#,
            br#"{"spec":{"metadata":{"name":"inner"}},"metadata":{"name":"outer"}}"#,
            br#"{"spec":{}}"#,
            br#"{}"#,
            br#"{"metadata":null}"#,
            br#"{"metadata":[]}"#,
            br#"{"a":"\\","metadata":{"x":"\u00e9"}}"#,
        ];
        for json in cases {
            let scanned = scan::metadata_start(json).expect("storage's shape");
            assert_eq!(
                scanned,
                metadata_start_parsed(json),
                "{}",
                String::from_utf8_lossy(json)
            );
            let parsed: Value = serde_json::from_slice(json).unwrap();
            if let Some(out) = with_resource_version(json, 5) {
                let mut expected = parsed.clone();
                expected["metadata"]["resourceVersion"] = json!("5");
                assert_eq!(serde_json::from_slice::<Value>(&out).unwrap(), expected);
            }
        }
    }

    #[test]
    fn the_metadata_object_is_sliced_out() {
        let json = br#"{"kind":"Pod","metadata":{"name":"p","labels":{"a":"}"}},"spec":{"x":[1]}}"#;
        assert_eq!(
            metadata_object(json),
            Some(&br#"{"name":"p","labels":{"a":"}"}}"#[..])
        );
        assert_eq!(metadata_object(br#"{"metadata":null}"#), None);
        assert_eq!(metadata_object(br#"{"spec":{}}"#), None);
    }

    #[test]
    fn what_the_scan_cannot_read_is_parsed() {
        // An escaped key may spell "metadata"; the scan leaves it to the parser.
        let escaped = br#"{"met\u0061data":{"name":"p"}}"#;
        assert_eq!(scan::metadata_start(escaped), None);
        let out = with_resource_version(escaped, 3).unwrap();
        let value: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(value["metadata"]["resourceVersion"], json!("3"));
        for broken in [
            &b"[1]"[..],
            b"{\"a\":",
            b"{\"a\" 1}",
            b"{\"a\":\"x}",
            b"",
            b"{\"a\":1",
        ] {
            assert_eq!(
                scan::metadata_start(broken),
                None,
                "{}",
                String::from_utf8_lossy(broken)
            );
            assert_eq!(with_resource_version(broken, 1), None);
        }
    }
}
