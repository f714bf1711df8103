//! The `channel.k8s.io` WebSocket framing of remotecommand: every binary message starts with
//! the channel it belongs to.

use bytes::{BufMut, Bytes, BytesMut};
use futures::{Sink, Stream};
use tokio_tungstenite::tungstenite::{Error as WebSocketError, Message};

pub const CHANNEL_STDIN: u8 = 0;
pub const CHANNEL_STDOUT: u8 = 1;
pub const CHANNEL_STDERR: u8 = 2;
/// The error channel: a JSON `metav1.Status` from v4 on.
pub const CHANNEL_ERROR: u8 = 3;
/// Terminal resizes, JSON `{"Width":w,"Height":h}`.
pub const CHANNEL_RESIZE: u8 = 4;
/// v5: the client closed the channel named by the payload's byte.
pub const CHANNEL_CLOSE: u8 = 255;

/// The remotecommand WebSocket subprotocols this server speaks, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelProtocol {
    V5,
    V4,
}

impl ChannelProtocol {
    pub fn name(self) -> &'static str {
        match self {
            Self::V5 => "v5.channel.k8s.io",
            Self::V4 => "v4.channel.k8s.io",
        }
    }

    /// The first protocol the client offers (in its `Sec-WebSocket-Protocol` order) that this
    /// server speaks.
    pub fn negotiate<'a>(offered: impl IntoIterator<Item = &'a str>) -> Option<Self> {
        offered.into_iter().find_map(|p| match p.trim() {
            "v5.channel.k8s.io" => Some(Self::V5),
            "v4.channel.k8s.io" => Some(Self::V4),
            _ => None,
        })
    }
}

/// The outgoing half of a channel session (exec, attach): a WebSocket's sink, or the SPDY
/// streams seen as one (`spdy_channels`).
pub type ChannelSink = std::pin::Pin<Box<dyn Sink<Message, Error = WebSocketError> + Send>>;
/// The incoming half: what the client sends, as channel messages.
pub type ChannelSource =
    std::pin::Pin<Box<dyn Stream<Item = Result<Message, WebSocketError>> + Send>>;

/// One message on a channel.
pub fn encode_channel_message(channel: u8, data: &[u8]) -> Bytes {
    let mut message = BytesMut::with_capacity(data.len() + 1);
    message.put_u8(channel);
    message.put_slice(data);
    message.freeze()
}

/// Splits a binary message into its channel and payload; `None` for an empty message.
pub fn decode_channel_message(message: &[u8]) -> Option<(u8, &[u8])> {
    let (&channel, data) = message.split_first()?;
    Some((channel, data))
}

/// A terminal size sent on the resize channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct ResizeEvent {
    #[serde(rename = "Width")]
    pub width: u16,
    #[serde(rename = "Height")]
    pub height: u16,
}

impl ResizeEvent {
    pub fn parse(data: &[u8]) -> Option<Self> {
        serde_json::from_slice(data).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_round_trips() {
        let message = encode_channel_message(CHANNEL_STDOUT, b"hello");
        assert_eq!(&message[..], b"\x01hello");
        assert_eq!(
            decode_channel_message(&message),
            Some((CHANNEL_STDOUT, &b"hello"[..]))
        );
        assert_eq!(decode_channel_message(b""), None);
        assert_eq!(
            decode_channel_message(b"\xff\x00"),
            Some((CHANNEL_CLOSE, &b"\x00"[..]))
        );
    }

    #[test]
    fn negotiation_follows_the_client_order() {
        assert_eq!(
            ChannelProtocol::negotiate([
                "channel.k8s.io",
                "v4.channel.k8s.io",
                "v5.channel.k8s.io"
            ]),
            Some(ChannelProtocol::V4)
        );
        assert_eq!(
            ChannelProtocol::negotiate([" v5.channel.k8s.io"]),
            Some(ChannelProtocol::V5)
        );
        assert_eq!(ChannelProtocol::negotiate(["base64.channel.k8s.io"]), None);
    }

    #[test]
    fn resize_is_json_with_capitalized_fields() {
        assert_eq!(
            ResizeEvent::parse(br#"{"Width":80,"Height":24}"#),
            Some(ResizeEvent {
                width: 80,
                height: 24
            })
        );
        assert_eq!(ResizeEvent::parse(b"junk"), None);
    }
}
