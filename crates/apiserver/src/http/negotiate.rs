//! Content negotiation: which representation the client asked for, and which body it sent.

use crate::status::ApiError;

/// How an answer is encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Json,
    Yaml,
    /// Kubernetes protobuf, only for clients that accept nothing else we speak.
    Protobuf,
}

/// What shape of answer the client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Representation {
    /// The object (or list) itself.
    Object,
    /// A meta.k8s.io/v1 Table (server-side printing).
    Table,
    /// PartialObjectMetadata(List): metadata only.
    PartialObjectMetadata,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    pub encoding: Encoding,
    pub representation: Representation,
}

impl Negotiated {
    pub const JSON: Negotiated = Negotiated {
        encoding: Encoding::Json,
        representation: Representation::Object,
    };
}

struct MediaRange<'a> {
    essence: &'a str,
    params: Vec<(&'a str, &'a str)>,
}

fn parse_media_range(raw: &str) -> MediaRange<'_> {
    let mut parts = raw.split(';').map(str::trim);
    let essence = parts.next().unwrap_or("");
    let params = parts
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (k.trim(), v.trim().trim_matches('"')))
        .collect();
    MediaRange { essence, params }
}

fn negotiate_one(range: &MediaRange<'_>) -> Option<Negotiated> {
    let encoding = match range.essence {
        "application/json" | "*/*" | "application/*" | "" => Encoding::Json,
        "application/yaml" => Encoding::Yaml,
        _ => return None,
    };
    let param = |name: &str| {
        range
            .params
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
    };
    let representation = match param("as") {
        None => Representation::Object,
        Some(as_kind) => {
            if param("g") != Some("meta.k8s.io") || !matches!(param("v"), Some("v1" | "v1beta1")) {
                return None;
            }
            match as_kind {
                "Table" => Representation::Table,
                "PartialObjectMetadata" | "PartialObjectMetadataList" => {
                    Representation::PartialObjectMetadata
                }
                _ => return None,
            }
        }
    };
    Some(Negotiated {
        encoding,
        representation,
    })
}

/// The first acceptable representation in the Accept header, in the client's order. JSON and YAML
/// are preferred over protobuf, which is answered only to clients that accept nothing else.
pub fn negotiate_accept(accept: Option<&str>) -> Result<Negotiated, ApiError> {
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return Ok(Negotiated::JSON);
    };
    if let Some(found) = accept
        .split(',')
        .map(parse_media_range)
        .find_map(|r| negotiate_one(&r))
    {
        return Ok(found);
    }
    let protobuf = accept
        .split(',')
        .map(parse_media_range)
        .any(|r| r.essence == "application/vnd.kubernetes.protobuf" && r.params.is_empty());
    if protobuf {
        return Ok(Negotiated {
            encoding: Encoding::Protobuf,
            representation: Representation::Object,
        });
    }
    Err(ApiError::not_acceptable())
}

/// The format of a request body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyFormat {
    Json,
    /// Kubernetes protobuf (`k8s\0` envelope): built-in kinds only.
    Protobuf,
    Yaml,
    JsonPatch,
    MergePatch,
    StrategicMergePatch,
    ApplyPatch,
}

/// The body format named by Content-Type; protobuf and anything unknown is refused with 415.
pub fn body_format(content_type: Option<&str>) -> Result<BodyFormat, ApiError> {
    let raw = content_type.unwrap_or("application/json");
    let essence = parse_media_range(raw).essence.to_ascii_lowercase();
    match essence.as_str() {
        "application/json" | "" => Ok(BodyFormat::Json),
        "application/vnd.kubernetes.protobuf" => Ok(BodyFormat::Protobuf),
        "application/yaml" | "application/x-yaml" | "text/yaml" => Ok(BodyFormat::Yaml),
        "application/json-patch+json" => Ok(BodyFormat::JsonPatch),
        "application/merge-patch+json" => Ok(BodyFormat::MergePatch),
        "application/strategic-merge-patch+json" => Ok(BodyFormat::StrategicMergePatch),
        "application/apply-patch+yaml" | "application/apply-patch+cbor" => {
            if essence.ends_with("cbor") {
                Err(ApiError::unsupported_media_type(raw))
            } else {
                Ok(BodyFormat::ApplyPatch)
            }
        }
        _ => Err(ApiError::unsupported_media_type(raw)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_get_asks_for_tables() {
        let n = negotiate_accept(Some("application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json")).unwrap();
        assert_eq!(n.representation, Representation::Table);
    }

    #[test]
    fn protobuf_only_clients_get_protobuf() {
        let n = negotiate_accept(Some("application/vnd.kubernetes.protobuf")).unwrap();
        assert_eq!(n.encoding, Encoding::Protobuf);
        let e =
            negotiate_accept(Some("application/vnd.kubernetes.protobuf;stream=watch")).unwrap_err();
        assert_eq!(e.code, 406);
        let n = negotiate_accept(Some("application/vnd.kubernetes.protobuf, */*")).unwrap();
        assert_eq!(n, Negotiated::JSON);
    }

    #[test]
    fn body_formats() {
        assert_eq!(
            body_format(Some("application/vnd.kubernetes.protobuf")).unwrap(),
            BodyFormat::Protobuf
        );
        assert_eq!(body_format(Some("application/cbor")).unwrap_err().code, 415);
        assert_eq!(
            body_format(Some("application/strategic-merge-patch+json")).unwrap(),
            BodyFormat::StrategicMergePatch
        );
    }
}
