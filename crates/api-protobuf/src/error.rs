//! The error of decoding or encoding the protobuf wire format.

/// Why a body could not be decoded, or an object not encoded, exactly.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProtobufError {
    #[error("protobuf body does not start with the k8s\\0 magic")]
    BadMagic,
    #[error("protobuf input truncated")]
    Truncated,
    #[error("protobuf varint longer than 10 bytes")]
    VarintOverflow,
    #[error("{message}: unknown field number {tag}")]
    UnknownField { message: &'static str, tag: u32 },
    #[error("{message}: field {tag} has wire type {wire_type}, not the declared type")]
    WireType {
        message: &'static str,
        tag: u32,
        wire_type: u8,
    },
    #[error("{message}: field {tag} appears twice")]
    DuplicateField { message: &'static str, tag: u32 },
    #[error("{message}: {reason}")]
    InvalidValue {
        message: &'static str,
        reason: String,
    },
    #[error("{api_version}/{kind} is not a kind served as protobuf")]
    UnsupportedKind { api_version: String, kind: String },
    #[error("the object has no string apiVersion and kind")]
    MissingTypeMeta,
    #[error("unsupported envelope: {0}")]
    Envelope(String),
    #[error("nesting deeper than {0} messages")]
    TooDeep(usize),
}

impl ProtobufError {
    pub(crate) fn invalid(message: &'static str, reason: impl Into<String>) -> Self {
        Self::InvalidValue {
            message,
            reason: reason.into(),
        }
    }
}
