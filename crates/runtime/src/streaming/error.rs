//! Errors of the streaming server.

#[derive(Debug, thiserror::Error)]
pub enum StreamingError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("websocket: {0}")]
    WebSocket(#[from] tokio_tungstenite::tungstenite::Error),
    #[error("spdy protocol error: {0}")]
    Spdy(String),
    #[error("header block compression: {0}")]
    HeaderCompression(String),
    #[error("{0}")]
    Protocol(String),
}
