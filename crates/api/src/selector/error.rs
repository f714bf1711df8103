//! The one error type of selector parsing and validation; its text is upstream's.

/// A selector that does not parse or does not validate. The message is the one upstream puts in
/// its 400 Bad Request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SelectorError(pub String);
