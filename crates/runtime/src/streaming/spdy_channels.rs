//! remotecommand over SPDY/3.1, as client-go's SPDY executor speaks it (`v4.channel.k8s.io`;
//! kubectl before 1.30, and 1.30+ with `KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false`).
//!
//! The client opens one stream per channel, named by its `streamType` header: `error`, then
//! `stdin`, `stdout`, `stderr` and `resize` as the request asked for them. Once all are there,
//! this module presents them as the channel messages of the WebSocket protocol, so exec and
//! attach run the same sessions on both transports:
//! - the stdin stream's data arrives as stdin messages, and its FIN as v5's close-stdin signal;
//! - the resize stream's JSON terminal sizes arrive as resize messages;
//! - stdout, stderr and error messages are written to their streams; the closing message ends
//!   every stream with a FIN and says goodbye to the connection;
//! - the incoming side ends when the client closes the connection.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tokio_tungstenite::tungstenite::{Error as WebSocketError, Message};

use super::channel_protocol::{
    decode_channel_message, encode_channel_message, ChannelSink, ChannelSource,
};
use super::spdy::{header_value, SpdySession, SpdyStream, StreamWriter};
use super::{ResizeEvent, StreamingError};
use super::{
    CHANNEL_CLOSE, CHANNEL_ERROR, CHANNEL_RESIZE, CHANNEL_STDERR, CHANNEL_STDIN, CHANNEL_STDOUT,
};

/// The `X-Stream-Protocol-Version` of remotecommand over SPDY.
pub const SPDY_CHANNEL_PROTOCOL: &str = "v4.channel.k8s.io";

/// How long the client has to open its streams after the upgrade (upstream's kubelet waits
/// 30 s as well).
const STREAM_CREATION_TIMEOUT: Duration = Duration::from_secs(30);

const INCOMING_QUEUE: usize = 64;

/// Which streams a request makes the client open besides `error`: as client-go, no stderr
/// stream with a terminal (its output is merged) and a resize stream only with one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WantedStreams {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub tty: bool,
}

impl WantedStreams {
    fn names(self) -> Vec<&'static str> {
        let mut names = vec!["error"];
        for (wanted, name) in [
            (self.stdin, "stdin"),
            (self.stdout, "stdout"),
            (self.stderr && !self.tty, "stderr"),
            (self.tty, "resize"),
        ] {
            if wanted {
                names.push(name);
            }
        }
        names
    }
}

/// Waits for the streams `wanted` names and returns them as channel messages.
pub async fn accept_channels(
    mut session: SpdySession,
    wanted: WantedStreams,
) -> Result<(ChannelSink, ChannelSource), StreamingError> {
    let names = wanted.names();
    let mut streams: HashMap<&'static str, SpdyStream> = HashMap::new();
    let collect = async {
        while streams.len() < names.len() {
            let Some(stream) = session.accept().await else {
                return Err(StreamingError::Spdy(
                    "the client closed the connection before opening its streams".into(),
                ));
            };
            let stream_type = header_value(&stream.headers, "streamType").unwrap_or_default();
            match names.iter().find(|name| **name == stream_type) {
                Some(name) => {
                    streams.insert(name, stream);
                }
                None => {
                    tracing::debug!(stream_type, "remotecommand: unexpected stream type");
                    let _ = stream.writer().reset().await;
                }
            }
        }
        Ok(())
    };
    match tokio::time::timeout(STREAM_CREATION_TIMEOUT, collect).await {
        Ok(collected) => collected?,
        Err(_) => {
            return Err(StreamingError::Spdy(
                "timed out waiting for client to create streams".into(),
            ))
        }
    }
    let session = Arc::new(session);
    let (incoming, received) = mpsc::channel(INCOMING_QUEUE);
    if let Some(stdin) = streams.remove("stdin") {
        tokio::spawn(forward_stdin(stdin, incoming.clone()));
    }
    if let Some(resize) = streams.remove("resize") {
        tokio::spawn(forward_resizes(resize, incoming.clone()));
    }
    // The incoming side stays open until the connection ends: the end of stdin is not the end
    // of the session.
    let watched = session.clone();
    tokio::spawn(async move {
        watched.closed().await;
        drop(incoming);
    });
    let source = ReceiverStream::new(received).map(Ok::<Message, WebSocketError>);
    let outgoing = Outgoing {
        writers: [
            (CHANNEL_STDOUT, "stdout"),
            (CHANNEL_STDERR, "stderr"),
            (CHANNEL_ERROR, "error"),
        ]
        .into_iter()
        .filter_map(|(channel, name)| Some((channel, streams.get(name)?.writer())))
        .collect(),
        // Kept until the end: a dropped stream is forgotten by the session.
        _streams: streams.into_values().collect(),
        session,
    };
    let sink = futures::sink::unfold(outgoing, |outgoing, message: Message| async move {
        outgoing.send(message).await;
        Ok::<_, WebSocketError>(outgoing)
    });
    Ok((Box::pin(sink), Box::pin(source)))
}

struct Outgoing {
    writers: HashMap<u8, StreamWriter>,
    _streams: Vec<SpdyStream>,
    session: Arc<SpdySession>,
}

impl Outgoing {
    async fn send(&self, message: Message) {
        match message {
            Message::Binary(data) => {
                let Some((channel, payload)) = decode_channel_message(&data) else {
                    return;
                };
                if let Some(writer) = self.writers.get(&channel) {
                    if let Err(e) = writer.write(payload).await {
                        tracing::debug!(error = %e, channel, "remotecommand: writing failed");
                    }
                }
            }
            Message::Close(_) => {
                for writer in self.writers.values() {
                    let _ = writer.finish().await;
                }
                self.session.close().await;
            }
            _ => {}
        }
    }
}

async fn forward_stdin(mut stdin: SpdyStream, incoming: mpsc::Sender<Message>) {
    while let Some(data) = stdin.read().await {
        let message = Message::Binary(encode_channel_message(CHANNEL_STDIN, &data));
        if incoming.send(message).await.is_err() {
            return;
        }
    }
    let close = encode_channel_message(CHANNEL_CLOSE, &[CHANNEL_STDIN]);
    let _ = incoming.send(Message::Binary(close)).await;
}

/// The resize stream carries JSON terminal sizes back to back (Go's `json.Encoder`).
async fn forward_resizes(mut resize: SpdyStream, incoming: mpsc::Sender<Message>) {
    let mut pending = Vec::new();
    while let Some(data) = resize.read().await {
        pending.extend_from_slice(&data);
        for size in take_resize_events(&mut pending) {
            let Ok(json) = serde_json::to_vec(&size) else {
                continue;
            };
            let message = Message::Binary(encode_channel_message(CHANNEL_RESIZE, &json));
            if incoming.send(message).await.is_err() {
                return;
            }
        }
    }
}

/// The complete sizes at the front of `pending`, removed from it; an incomplete one stays.
fn take_resize_events(pending: &mut Vec<u8>) -> Vec<ResizeEvent> {
    let mut events = Vec::new();
    let mut values = serde_json::Deserializer::from_slice(pending).into_iter::<ResizeEvent>();
    let mut consumed = 0;
    loop {
        match values.next() {
            Some(Ok(event)) => {
                events.push(event);
                consumed = values.byte_offset();
            }
            Some(Err(e)) if e.is_eof() => break,
            Some(Err(_)) => {
                // Not a size: drop what was read so far rather than stall the stream.
                consumed = pending.len();
                break;
            }
            None => {
                consumed = values.byte_offset();
                break;
            }
        }
    }
    pending.drain(..consumed);
    events
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wanted_streams_follow_client_go() {
        let plain = WantedStreams {
            stdin: false,
            stdout: true,
            stderr: true,
            tty: false,
        };
        assert_eq!(plain.names(), ["error", "stdout", "stderr"]);
        let terminal = WantedStreams {
            stdin: true,
            stdout: true,
            stderr: true,
            tty: true,
        };
        assert_eq!(terminal.names(), ["error", "stdin", "stdout", "resize"]);
    }

    #[test]
    fn resize_events_are_read_across_chunks() {
        let mut pending = br#"{"Width":80,"Height":24}
{"Width":100,"#
            .to_vec();
        assert_eq!(
            take_resize_events(&mut pending),
            [ResizeEvent {
                width: 80,
                height: 24
            }]
        );
        pending.extend_from_slice(b"\"Height\":40}\n");
        assert_eq!(
            take_resize_events(&mut pending),
            [ResizeEvent {
                width: 100,
                height: 40
            }]
        );
        assert!(pending.iter().all(u8::is_ascii_whitespace));
        let mut junk = b"nonsense".to_vec();
        assert!(take_resize_events(&mut junk).is_empty());
        assert!(junk.is_empty());
    }
}
