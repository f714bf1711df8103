//! The end of a WebSocket session: after this side's Close frame, wait for the client's.
//!
//! A TCP socket closed while bytes the peer sent are still unread is reset by the kernel (RST)
//! instead of ended (FIN). Clients go on sending after a command exits (stdin, resizes, the
//! close of stdin, pings), so a session that dropped its socket right after writing the status
//! and the Close frame reset the connection; the reset can overtake those last frames while
//! the kubelet's and the API server's relays still carry them, and `kubectl exec` then reported
//! `close 1006 (abnormal closure): unexpected EOF` and lost the command's output and exit code.
//! Reading until the client answers the Close frame (or hangs up) leaves nothing unread.

use std::time::Duration;

use futures::{Stream, StreamExt};
use tokio_tungstenite::tungstenite::{Error, Message};

/// How long a finished session waits for the client's Close frame before it drops the socket.
pub const CLOSE_REPLY_WAIT: Duration = Duration::from_secs(5);

/// Reads and drops what the client still sends, until its Close frame has been read and the
/// connection is over, it fails, or [`CLOSE_REPLY_WAIT`] passes.
pub async fn await_close_reply<R>(source: &mut R)
where
    R: Stream<Item = Result<Message, Error>> + Unpin,
{
    let drained = async {
        while let Some(message) = source.next().await {
            if message.is_err() {
                return;
            }
        }
    };
    let _ = tokio::time::timeout(CLOSE_REPLY_WAIT, drained).await;
}

#[cfg(test)]
mod tests {
    use futures::SinkExt;
    use tokio::io::AsyncReadExt;
    use tokio_tungstenite::tungstenite::protocol::Role;
    use tokio_tungstenite::WebSocketStream;

    use super::*;

    /// The server sends its last frame and Close while the client's unread frames sit in the
    /// server's receive buffer; waiting for the Close reply lets the client read everything and
    /// end the connection cleanly (no reset, no lost frame).
    #[tokio::test]
    async fn the_last_frames_arrive_although_the_client_kept_sending() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let socket = WebSocketStream::from_raw_socket(stream, Role::Server, None).await;
            let (mut sink, mut source) = socket.split();
            // The client's frames arrive and stay unread while the session "runs".
            tokio::time::sleep(Duration::from_millis(100)).await;
            sink.send(Message::Binary(vec![3u8, b'x'].into()))
                .await
                .unwrap();
            sink.send(Message::Close(None)).await.unwrap();
            await_close_reply(&mut source).await;
        });
        let stream = tokio::net::TcpStream::connect(address).await.unwrap();
        let mut client = WebSocketStream::from_raw_socket(stream, Role::Client, None).await;
        for _ in 0..50 {
            client
                .send(Message::Binary(vec![0u8; 1024].into()))
                .await
                .unwrap();
        }
        let mut got = Vec::new();
        while let Some(message) = client.next().await {
            got.push(message.expect("no reset: every frame arrives"));
        }
        assert_eq!(got[0], Message::Binary(vec![3u8, b'x'].into()));
        assert!(matches!(got.last(), Some(Message::Close(_))));
        server.await.unwrap();
        // The connection ended with a FIN: the raw socket reads 0, not a reset error.
        let mut raw = client.into_inner();
        let mut rest = Vec::new();
        assert!(raw.read_to_end(&mut rest).await.is_ok());
    }
}
