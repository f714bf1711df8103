//! SPDY/3 frames: encoding and decoding (header blocks through the connection's zlib streams).

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::header_block::{HeaderBlockDecoder, HeaderBlockEncoder, Headers};
use crate::streaming::StreamingError;

pub const VERSION: u16 = 3;
pub const FLAG_FIN: u8 = 0x01;
pub const FLAG_UNIDIRECTIONAL: u8 = 0x02;

const TYPE_SYN_STREAM: u16 = 1;
const TYPE_SYN_REPLY: u16 = 2;
const TYPE_RST_STREAM: u16 = 3;
const TYPE_SETTINGS: u16 = 4;
const TYPE_PING: u16 = 6;
const TYPE_GOAWAY: u16 = 7;
const TYPE_HEADERS: u16 = 8;
const TYPE_WINDOW_UPDATE: u16 = 9;

const HEADER_LEN: usize = 8;
const STREAM_ID_MASK: u32 = 0x7fff_ffff;
/// Frames bigger than this are refused (16 MiB is the wire limit).
const MAX_FRAME_LEN: usize = 1 << 24;

/// RST_STREAM status codes.
pub const RST_PROTOCOL_ERROR: u32 = 1;
pub const RST_REFUSED_STREAM: u32 = 3;
pub const RST_CANCEL: u32 = 5;
pub const RST_INTERNAL_ERROR: u32 = 6;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    SynStream {
        stream_id: u32,
        associated_id: u32,
        priority: u8,
        flags: u8,
        headers: Headers,
    },
    SynReply {
        stream_id: u32,
        flags: u8,
        headers: Headers,
    },
    RstStream {
        stream_id: u32,
        status: u32,
    },
    /// Settings are read and ignored: this server does no flow control (neither does
    /// spdystream, the Kubernetes clients' implementation).
    Settings,
    Ping {
        id: u32,
    },
    GoAway {
        last_good_stream_id: u32,
        status: u32,
    },
    Headers {
        stream_id: u32,
        flags: u8,
        headers: Headers,
    },
    WindowUpdate {
        stream_id: u32,
        delta: u32,
    },
    Data {
        stream_id: u32,
        flags: u8,
        data: Bytes,
    },
    /// A control frame of a type this server does not know (skipped, as the spec asks).
    Unknown {
        frame_type: u16,
    },
}

/// Writes frames; owns the compression stream of the header blocks this side sends.
pub struct FrameEncoder {
    headers: HeaderBlockEncoder,
}

impl FrameEncoder {
    pub fn new() -> Result<Self, StreamingError> {
        Ok(Self {
            headers: HeaderBlockEncoder::new()?,
        })
    }

    pub fn encode(&mut self, frame: &Frame, out: &mut BytesMut) -> Result<(), StreamingError> {
        match frame {
            Frame::Data {
                stream_id,
                flags,
                data,
            } => {
                out.put_u32(stream_id & STREAM_ID_MASK);
                put_flags_and_length(out, *flags, data.len());
                out.put_slice(data);
            }
            Frame::SynStream {
                stream_id,
                associated_id,
                priority,
                flags,
                headers,
            } => {
                let block = self.headers.encode(headers)?;
                put_control_header(out, TYPE_SYN_STREAM, *flags, 10 + block.len());
                out.put_u32(stream_id & STREAM_ID_MASK);
                out.put_u32(associated_id & STREAM_ID_MASK);
                out.put_u8((priority & 0x07) << 5);
                out.put_u8(0);
                out.put_slice(&block);
            }
            Frame::SynReply {
                stream_id,
                flags,
                headers,
            } => {
                self.put_stream_headers(out, TYPE_SYN_REPLY, *stream_id, *flags, headers)?;
            }
            Frame::Headers {
                stream_id,
                flags,
                headers,
            } => {
                self.put_stream_headers(out, TYPE_HEADERS, *stream_id, *flags, headers)?;
            }
            Frame::RstStream { stream_id, status } => {
                put_control_header(out, TYPE_RST_STREAM, 0, 8);
                out.put_u32(stream_id & STREAM_ID_MASK);
                out.put_u32(*status);
            }
            Frame::Settings => {
                put_control_header(out, TYPE_SETTINGS, 0, 4);
                out.put_u32(0);
            }
            Frame::Ping { id } => {
                put_control_header(out, TYPE_PING, 0, 4);
                out.put_u32(*id);
            }
            Frame::GoAway {
                last_good_stream_id,
                status,
            } => {
                put_control_header(out, TYPE_GOAWAY, 0, 8);
                out.put_u32(last_good_stream_id & STREAM_ID_MASK);
                out.put_u32(*status);
            }
            Frame::WindowUpdate { stream_id, delta } => {
                put_control_header(out, TYPE_WINDOW_UPDATE, 0, 8);
                out.put_u32(stream_id & STREAM_ID_MASK);
                out.put_u32(delta & STREAM_ID_MASK);
            }
            Frame::Unknown { frame_type } => {
                return Err(StreamingError::Spdy(format!(
                    "cannot send frame type {frame_type}"
                )));
            }
        }
        Ok(())
    }

    fn put_stream_headers(
        &mut self,
        out: &mut BytesMut,
        frame_type: u16,
        stream_id: u32,
        flags: u8,
        headers: &Headers,
    ) -> Result<(), StreamingError> {
        let block = self.headers.encode(headers)?;
        put_control_header(out, frame_type, flags, 4 + block.len());
        out.put_u32(stream_id & STREAM_ID_MASK);
        out.put_slice(&block);
        Ok(())
    }
}

fn put_control_header(out: &mut BytesMut, frame_type: u16, flags: u8, length: usize) {
    out.put_u16(0x8000 | VERSION);
    out.put_u16(frame_type);
    put_flags_and_length(out, flags, length);
}

fn put_flags_and_length(out: &mut BytesMut, flags: u8, length: usize) {
    out.put_u32((u32::from(flags) << 24) | (length as u32 & 0x00ff_ffff));
}

/// Reads frames; owns the decompression stream of the header blocks the other side sends.
#[derive(Default)]
pub struct FrameDecoder {
    headers: HeaderBlockDecoder,
}

impl FrameDecoder {
    /// Takes one whole frame off the front of `buffer`; `None` until one has arrived.
    pub fn decode(&mut self, buffer: &mut BytesMut) -> Result<Option<Frame>, StreamingError> {
        if buffer.len() < HEADER_LEN {
            return Ok(None);
        }
        let word = u32::from_be_bytes([buffer[0], buffer[1], buffer[2], buffer[3]]);
        let flags = buffer[4];
        let length = u32::from_be_bytes([0, buffer[5], buffer[6], buffer[7]]) as usize;
        if length >= MAX_FRAME_LEN {
            return Err(StreamingError::Spdy(format!("frame of {length} bytes")));
        }
        if buffer.len() < HEADER_LEN + length {
            buffer.reserve(HEADER_LEN + length - buffer.len());
            return Ok(None);
        }
        buffer.advance(HEADER_LEN);
        let mut payload = buffer.split_to(length).freeze();
        if word & 0x8000_0000 == 0 {
            return Ok(Some(Frame::Data {
                stream_id: word & STREAM_ID_MASK,
                flags,
                data: payload,
            }));
        }
        let version = ((word >> 16) & 0x7fff) as u16;
        if version != VERSION {
            return Err(StreamingError::Spdy(format!(
                "unsupported version {version}"
            )));
        }
        let frame_type = (word & 0xffff) as u16;
        let need = |n: usize| {
            if payload.len() < n {
                Err(StreamingError::Spdy(format!(
                    "short frame of type {frame_type}"
                )))
            } else {
                Ok(())
            }
        };
        let frame = match frame_type {
            TYPE_SYN_STREAM => {
                need(10)?;
                let stream_id = payload.get_u32() & STREAM_ID_MASK;
                let associated_id = payload.get_u32() & STREAM_ID_MASK;
                let priority = payload.get_u8() >> 5;
                payload.advance(1);
                Frame::SynStream {
                    stream_id,
                    associated_id,
                    priority,
                    flags,
                    headers: self.headers.decode(&payload)?,
                }
            }
            TYPE_SYN_REPLY | TYPE_HEADERS => {
                need(4)?;
                let stream_id = payload.get_u32() & STREAM_ID_MASK;
                let headers = self.headers.decode(&payload)?;
                if frame_type == TYPE_SYN_REPLY {
                    Frame::SynReply {
                        stream_id,
                        flags,
                        headers,
                    }
                } else {
                    Frame::Headers {
                        stream_id,
                        flags,
                        headers,
                    }
                }
            }
            TYPE_RST_STREAM => {
                need(8)?;
                Frame::RstStream {
                    stream_id: payload.get_u32() & STREAM_ID_MASK,
                    status: payload.get_u32(),
                }
            }
            TYPE_SETTINGS => Frame::Settings,
            TYPE_PING => {
                need(4)?;
                Frame::Ping {
                    id: payload.get_u32(),
                }
            }
            TYPE_GOAWAY => {
                need(4)?;
                let last_good_stream_id = payload.get_u32() & STREAM_ID_MASK;
                let status = if payload.len() >= 4 {
                    payload.get_u32()
                } else {
                    0
                };
                Frame::GoAway {
                    last_good_stream_id,
                    status,
                }
            }
            TYPE_WINDOW_UPDATE => {
                need(8)?;
                Frame::WindowUpdate {
                    stream_id: payload.get_u32() & STREAM_ID_MASK,
                    delta: payload.get_u32() & STREAM_ID_MASK,
                }
            }
            other => Frame::Unknown { frame_type: other },
        };
        Ok(Some(frame))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> Headers {
        pairs
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_string()))
            .collect()
    }

    fn round_trip(frames: &[Frame]) -> Vec<Frame> {
        let mut encoder = FrameEncoder::new().unwrap();
        let mut decoder = FrameDecoder::default();
        let mut wire = BytesMut::new();
        for frame in frames {
            encoder.encode(frame, &mut wire).unwrap();
        }
        let mut decoded = Vec::new();
        // Feed the bytes one at a time: frames must wait for their whole payload.
        let mut buffer = BytesMut::new();
        for byte in wire {
            buffer.put_u8(byte);
            while let Some(frame) = decoder.decode(&mut buffer).unwrap() {
                decoded.push(frame);
            }
        }
        assert!(buffer.is_empty());
        decoded
    }

    #[test]
    fn every_frame_round_trips() {
        let frames = vec![
            Frame::SynStream {
                stream_id: 1,
                associated_id: 0,
                priority: 2,
                flags: FLAG_FIN,
                headers: headers(&[("streamtype", "error"), ("port", "80"), ("requestid", "0")]),
            },
            Frame::SynReply {
                stream_id: 1,
                flags: 0,
                headers: Vec::new(),
            },
            Frame::Headers {
                stream_id: 3,
                flags: 0,
                headers: headers(&[("x", "y")]),
            },
            Frame::Data {
                stream_id: 3,
                flags: FLAG_FIN,
                data: Bytes::from_static(b"payload"),
            },
            Frame::RstStream {
                stream_id: 5,
                status: RST_CANCEL,
            },
            Frame::Settings,
            Frame::Ping { id: 7 },
            Frame::GoAway {
                last_good_stream_id: 5,
                status: 0,
            },
            Frame::WindowUpdate {
                stream_id: 1,
                delta: 65536,
            },
        ];
        assert_eq!(round_trip(&frames), frames);
    }

    #[test]
    fn control_frames_carry_version_three() {
        let mut wire = BytesMut::new();
        FrameEncoder::new()
            .unwrap()
            .encode(&Frame::Ping { id: 1 }, &mut wire)
            .unwrap();
        assert_eq!(
            &wire[..],
            &[0x80, 0x03, 0x00, 0x06, 0x00, 0x00, 0x00, 0x04, 0, 0, 0, 1]
        );
    }

    #[test]
    fn a_data_frame_has_the_stream_flags_and_length() {
        let mut wire = BytesMut::new();
        let frame = Frame::Data {
            stream_id: 3,
            flags: FLAG_FIN,
            data: Bytes::from_static(b"ab"),
        };
        FrameEncoder::new()
            .unwrap()
            .encode(&frame, &mut wire)
            .unwrap();
        assert_eq!(&wire[..], &[0, 0, 0, 3, 1, 0, 0, 2, b'a', b'b']);
    }

    #[test]
    fn another_version_is_refused() {
        let mut buffer = BytesMut::from(&[0x80, 0x02, 0x00, 0x06, 0, 0, 0, 4, 0, 0, 0, 1][..]);
        assert!(FrameDecoder::default().decode(&mut buffer).is_err());
    }
}
