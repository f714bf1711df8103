//! The framing on a shim's attach socket: every frame is a 1-byte kind, a big-endian `u32`
//! length and that many bytes. Clients send stdin bytes, the end of their stdin and terminal
//! sizes; the shim sends the container's output.

/// The header: kind and length.
pub const HEADER_LEN: usize = 5;
/// Frames longer than this are refused (the peer is not speaking this protocol).
pub const MAX_FRAME: usize = 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttachFrame {
    /// Client to shim: bytes for the container's stdin.
    Stdin(Vec<u8>),
    /// Client to shim: this client's stdin ended (with `stdinOnce`, the container's stdin closes).
    StdinClosed,
    /// Client to shim: a new terminal size.
    Resize { width: u16, height: u16 },
    /// Client to shim, first: this client attaches its stdin.
    AttachStdin,
    /// Shim to client: the container's stdout (or its terminal's output).
    Stdout(Vec<u8>),
    /// Shim to client: the container's stderr.
    Stderr(Vec<u8>),
}

const KIND_STDIN: u8 = 0;
const KIND_STDOUT: u8 = 1;
const KIND_STDERR: u8 = 2;
const KIND_STDIN_CLOSED: u8 = 3;
const KIND_RESIZE: u8 = 4;
const KIND_ATTACH_STDIN: u8 = 5;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("unknown attach frame kind {0}")]
    UnknownKind(u8),
    #[error("attach frame of {0} bytes is too long")]
    TooLong(usize),
    #[error("malformed attach frame of kind {0}")]
    Malformed(u8),
}

impl AttachFrame {
    pub fn encode(&self) -> Vec<u8> {
        let (kind, payload): (u8, std::borrow::Cow<'_, [u8]>) = match self {
            Self::Stdin(data) => (KIND_STDIN, data.as_slice().into()),
            Self::Stdout(data) => (KIND_STDOUT, data.as_slice().into()),
            Self::Stderr(data) => (KIND_STDERR, data.as_slice().into()),
            Self::StdinClosed => (KIND_STDIN_CLOSED, (&[][..]).into()),
            Self::AttachStdin => (KIND_ATTACH_STDIN, (&[][..]).into()),
            Self::Resize { width, height } => {
                let mut size = width.to_be_bytes().to_vec();
                size.extend_from_slice(&height.to_be_bytes());
                (KIND_RESIZE, size.into())
            }
        };
        let mut frame = Vec::with_capacity(HEADER_LEN + payload.len());
        frame.push(kind);
        frame.extend_from_slice(&(payload.len() as u32).to_be_bytes());
        frame.extend_from_slice(&payload);
        frame
    }

    fn decode(kind: u8, payload: &[u8]) -> Result<Self, FrameError> {
        Ok(match kind {
            KIND_STDIN => Self::Stdin(payload.to_vec()),
            KIND_STDOUT => Self::Stdout(payload.to_vec()),
            KIND_STDERR => Self::Stderr(payload.to_vec()),
            KIND_STDIN_CLOSED => Self::StdinClosed,
            KIND_ATTACH_STDIN => Self::AttachStdin,
            KIND_RESIZE => match payload {
                [w0, w1, h0, h1] => Self::Resize {
                    width: u16::from_be_bytes([*w0, *w1]),
                    height: u16::from_be_bytes([*h0, *h1]),
                },
                _ => return Err(FrameError::Malformed(kind)),
            },
            other => return Err(FrameError::UnknownKind(other)),
        })
    }
}

/// Collects bytes as they arrive and hands out whole frames.
#[derive(Debug, Default)]
pub struct FrameReader {
    pending: Vec<u8>,
}

impl FrameReader {
    pub fn push(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
    }

    /// The next whole frame, `Ok(None)` when more bytes are needed.
    pub fn next_frame(&mut self) -> Result<Option<AttachFrame>, FrameError> {
        let Some(header) = self.pending.get(..HEADER_LEN) else {
            return Ok(None);
        };
        let kind = header[0];
        let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
        if len > MAX_FRAME {
            return Err(FrameError::TooLong(len));
        }
        if self.pending.len() < HEADER_LEN + len {
            return Ok(None);
        }
        let frame = AttachFrame::decode(kind, &self.pending[HEADER_LEN..HEADER_LEN + len]);
        self.pending.drain(..HEADER_LEN + len);
        frame.map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_even_when_split() {
        let frames = vec![
            AttachFrame::AttachStdin,
            AttachFrame::Stdin(b"echo hi\n".to_vec()),
            AttachFrame::Resize {
                width: 300,
                height: 24,
            },
            AttachFrame::Stdout(vec![7; 70_000]),
            AttachFrame::Stderr(Vec::new()),
            AttachFrame::StdinClosed,
        ];
        let bytes: Vec<u8> = frames.iter().flat_map(AttachFrame::encode).collect();
        let mut reader = FrameReader::default();
        let mut decoded = Vec::new();
        for chunk in bytes.chunks(3) {
            reader.push(chunk);
            while let Some(frame) = reader.next_frame().unwrap() {
                decoded.push(frame);
            }
        }
        assert_eq!(decoded, frames);
    }

    #[test]
    fn the_header_is_kind_then_big_endian_length() {
        assert_eq!(
            AttachFrame::Resize {
                width: 80,
                height: 25
            }
            .encode(),
            vec![4, 0, 0, 0, 4, 0, 80, 0, 25]
        );
        assert_eq!(
            AttachFrame::Stdin(b"a".to_vec()).encode(),
            vec![0, 0, 0, 0, 1, b'a']
        );
    }

    #[test]
    fn bad_frames_are_errors() {
        let mut reader = FrameReader::default();
        reader.push(&[9, 0, 0, 0, 0]);
        assert_eq!(reader.next_frame(), Err(FrameError::UnknownKind(9)));
        let mut reader = FrameReader::default();
        reader.push(&[0, 0xff, 0, 0, 0]);
        assert!(matches!(reader.next_frame(), Err(FrameError::TooLong(_))));
        let mut reader = FrameReader::default();
        reader.push(&[4, 0, 0, 0, 1, 0]);
        assert_eq!(reader.next_frame(), Err(FrameError::Malformed(4)));
    }
}
