//! Input that cannot be decoded exactly is an error, never a guess.

use api_protobuf::{decode, encode, ProtobufError};
use serde_json::json;

fn envelope(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
    let mut type_meta = vec![0x0a, api_version.len() as u8];
    type_meta.extend(api_version.as_bytes());
    type_meta.push(0x12);
    type_meta.push(kind.len() as u8);
    type_meta.extend(kind.as_bytes());
    let mut body = b"k8s\0".to_vec();
    body.push(0x0a);
    body.push(type_meta.len() as u8);
    body.extend(type_meta);
    body.push(0x12);
    body.push(raw.len() as u8);
    body.extend(raw);
    body
}

/// ConfigMap { metadata { name: "x" } }.
const CONFIG_MAP: &[u8] = &[0x0a, 0x03, 0x0a, 0x01, b'x'];

#[test]
fn a_valid_body_decodes() {
    let decoded = decode(&envelope("v1", "ConfigMap", CONFIG_MAP)).unwrap();
    assert_eq!(
        decoded,
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})
    );
}

#[test]
fn wrong_magic() {
    let mut body = envelope("v1", "ConfigMap", CONFIG_MAP);
    body[3] = 1;
    assert_eq!(decode(&body), Err(ProtobufError::BadMagic));
    assert_eq!(
        decode(br#"{"kind":"ConfigMap"}"#),
        Err(ProtobufError::BadMagic)
    );
}

#[test]
fn truncated_input() {
    let body = envelope("v1", "ConfigMap", CONFIG_MAP);
    // Cutting exactly before the raw field leaves a complete (empty) message; any other cut
    // lands inside a length-delimited value or a key.
    let field_boundary = body.len() - CONFIG_MAP.len() - 2;
    for cut in (5..body.len()).filter(|cut| *cut != field_boundary) {
        assert!(decode(&body[..cut]).is_err(), "cut at {cut}");
    }
}

#[test]
fn unknown_field_number() {
    // ObjectMeta field 99 (varint).
    let raw = [0x0a, 0x03, 0x98, 0x06, 0x01];
    assert!(matches!(
        decode(&envelope("v1", "ConfigMap", &raw)),
        Err(ProtobufError::UnknownField { tag: 99, .. })
    ));
    // ConfigMap field 9.
    let raw = [0x4a, 0x00];
    assert!(matches!(
        decode(&envelope("v1", "ConfigMap", &raw)),
        Err(ProtobufError::UnknownField { tag: 9, .. })
    ));
}

#[test]
fn wrong_wire_type() {
    // ObjectMeta.name (string) sent as a varint.
    let raw = [0x0a, 0x02, 0x08, 0x01];
    assert!(matches!(
        decode(&envelope("v1", "ConfigMap", &raw)),
        Err(ProtobufError::WireType { tag: 1, .. })
    ));
}

#[test]
fn repeated_singular_field() {
    let raw = [0x0a, 0x06, 0x0a, 0x01, b'x', 0x0a, 0x01, b'y'];
    assert!(matches!(
        decode(&envelope("v1", "ConfigMap", &raw)),
        Err(ProtobufError::DuplicateField { tag: 1, .. })
    ));
}

#[test]
fn invalid_utf8() {
    let raw = [0x0a, 0x03, 0x0a, 0x01, 0xff];
    assert!(decode(&envelope("v1", "ConfigMap", &raw)).is_err());
}

#[test]
fn kinds_not_served_as_protobuf() {
    for (api_version, kind) in [
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition"),
        ("stable.example.com/v1", "CronTab"),
        ("v1", "PodSpec"),
        ("apps/v1beta2", "Deployment"),
    ] {
        assert!(matches!(
            decode(&envelope(api_version, kind, &[])),
            Err(ProtobufError::UnsupportedKind { .. })
        ));
        let object = json!({"apiVersion": api_version, "kind": kind, "metadata": {"name": "x"}});
        assert!(matches!(
            encode(&object),
            Err(ProtobufError::UnsupportedKind { .. })
        ));
    }
}

#[test]
fn bad_special_values() {
    // IntOrString of type 2 in a Deployment's spec.strategy.rollingUpdate.maxSurge.
    let int_or_string = [0x08, 0x02];
    let mut rolling = vec![0x12, int_or_string.len() as u8];
    rolling.extend(int_or_string);
    let mut strategy = vec![0x12, rolling.len() as u8];
    strategy.extend(rolling);
    let mut spec = vec![0x22, strategy.len() as u8];
    spec.extend(strategy);
    let mut raw = vec![0x12, spec.len() as u8];
    raw.extend(spec);
    assert!(decode(&envelope("apps/v1", "Deployment", &raw)).is_err());
    // A Secret's creationTimestamp with nanos out of range.
    let time = [0x08, 0x01, 0x10, 0xff, 0xff, 0xff, 0xff, 0x0f];
    let mut meta = vec![0x42, time.len() as u8];
    meta.extend(time);
    let mut raw = vec![0x0a, meta.len() as u8];
    raw.extend(meta);
    assert!(decode(&envelope("v1", "Secret", &raw)).is_err());
}

#[test]
fn compressed_envelope_is_refused() {
    let mut body = envelope("v1", "ConfigMap", CONFIG_MAP);
    body.extend([0x1a, 0x04]);
    body.extend(b"gzip");
    assert!(matches!(decode(&body), Err(ProtobufError::Envelope(_))));
}

#[test]
fn encode_refuses_what_it_cannot_carry() {
    let unknown_field =
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}, "color": "red"});
    assert!(encode(&unknown_field).is_err());
    let wrong_type = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": 5}});
    assert!(encode(&wrong_type).is_err());
    let bad_base64 = json!({"apiVersion": "v1", "kind": "Secret", "data": {"k": "not base64!"}});
    assert!(encode(&bad_base64).is_err());
    let too_big = json!({"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"replicas": 4_294_967_296_i64}});
    assert!(encode(&too_big).is_err());
    let no_kind = json!({"apiVersion": "v1", "metadata": {}});
    assert_eq!(encode(&no_kind), Err(ProtobufError::MissingTypeMeta));
}
