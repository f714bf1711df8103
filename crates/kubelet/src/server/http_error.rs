//! Errors the kubelet server answers with: a status code and a plain-text message, as upstream's
//! go-restful handlers write them (the API server turns them into Status objects).

use http::StatusCode;

#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct HttpError {
    pub status: StatusCode,
    pub message: String,
}

impl HttpError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }
}

impl From<crate::KubeletError> for HttpError {
    fn from(error: crate::KubeletError) -> Self {
        Self::internal(error.to_string())
    }
}
