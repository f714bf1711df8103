//! A WebSocket whose binary messages carry a byte stream (SPDY tunneled in WebSocket, as
//! client-go's port-forward does), turned back into a byte stream.

use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::close_handshake::CLOSE_REPLY_WAIT;

const BUFFER: usize = 64 * 1024;

/// The byte stream inside `socket`; a task copies both ways until either side ends.
pub fn websocket_as_bytes<S>(socket: WebSocketStream<S>) -> DuplexStream
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (inner, outer) = tokio::io::duplex(BUFFER);
    tokio::spawn(copy_messages(socket, inner));
    outer
}

async fn copy_messages<S>(socket: WebSocketStream<S>, bytes: DuplexStream)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sink, mut source) = socket.split();
    let (mut read_bytes, mut write_bytes) = tokio::io::split(bytes);
    let incoming = async {
        while let Some(message) = source.next().await {
            match message {
                Ok(Message::Binary(data)) => {
                    if write_bytes.write_all(&data).await.is_err() {
                        break;
                    }
                }
                Ok(Message::Close(_)) | Err(_) => break,
                Ok(_) => {}
            }
        }
        let _ = write_bytes.shutdown().await;
    };
    let outgoing = async {
        let mut buffer = vec![0u8; BUFFER];
        loop {
            match read_bytes.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let message = Message::Binary(bytes::Bytes::copy_from_slice(&buffer[..n]));
                    if sink.send(message).await.is_err() {
                        return;
                    }
                }
            }
        }
        let close = CloseFrame {
            code: CloseCode::Normal,
            reason: "".into(),
        };
        let _ = sink.send(Message::Close(Some(close))).await;
    };
    // Either side's end ends the tunnel; after our Close frame the client still gets to answer
    // it, so that nothing it sent is left unread (see `close_handshake`).
    tokio::pin!(incoming);
    tokio::select! {
        () = &mut incoming => {}
        () = outgoing => {
            let _ = tokio::time::timeout(CLOSE_REPLY_WAIT, &mut incoming).await;
        }
    }
}
