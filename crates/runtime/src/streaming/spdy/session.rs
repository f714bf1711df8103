//! One SPDY connection: a reader task that routes frames to streams and a writer task that
//! owns the transport's write half; streams are handed out as `SpdyStream`s.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::frame::{Frame, FrameDecoder, FrameEncoder, FLAG_FIN, RST_CANCEL};
use super::header_block::Headers;
use crate::streaming::StreamingError;

/// Which side of the connection this is: it decides the parity of the stream ids it opens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Client,
    Server,
}

/// Queued frames per connection and queued DATA payloads per stream.
const QUEUE_DEPTH: usize = 64;
/// The largest DATA payload this side sends.
pub const MAX_DATA_CHUNK: usize = 32 * 1024;

struct StreamEntry {
    data: Option<mpsc::Sender<Bytes>>,
    reset: CancellationToken,
}

type StreamTable = Arc<Mutex<HashMap<u32, StreamEntry>>>;

pub struct SpdySession {
    frames: mpsc::Sender<Frame>,
    accepted: mpsc::Receiver<SpdyStream>,
    streams: StreamTable,
    next_id: Mutex<u32>,
    closed: CancellationToken,
}

/// A stream: the peer's headers, its DATA in order (ending at its FIN), and a writer.
pub struct SpdyStream {
    pub id: u32,
    pub headers: Headers,
    data: mpsc::Receiver<Bytes>,
    writer: StreamWriter,
    reset: CancellationToken,
    streams: StreamTable,
}

impl Drop for SpdyStream {
    fn drop(&mut self) {
        lock(&self.streams).remove(&self.id);
    }
}

/// Sends on one stream; clones share the stream.
#[derive(Clone)]
pub struct StreamWriter {
    id: u32,
    frames: mpsc::Sender<Frame>,
}

fn closed_error() -> StreamingError {
    StreamingError::Spdy("connection closed".into())
}

impl SpdySession {
    /// Starts reading and writing `transport` (the connection after the HTTP upgrade).
    pub fn start<T>(transport: T, role: Role) -> Result<Self, StreamingError>
    where
        T: AsyncRead + AsyncWrite + Send + 'static,
    {
        let encoder = FrameEncoder::new()?;
        let (read_half, write_half) = tokio::io::split(transport);
        let (frames, queued) = mpsc::channel(QUEUE_DEPTH);
        let (accept_tx, accepted) = mpsc::channel(QUEUE_DEPTH);
        let streams: StreamTable = Arc::default();
        let closed = CancellationToken::new();
        tokio::spawn(write_frames(write_half, encoder, queued, closed.clone()));
        let reader = FrameReader {
            role,
            frames: frames.clone(),
            accepted: accept_tx,
            streams: streams.clone(),
        };
        tokio::spawn(reader.run(read_half, closed.clone()));
        Ok(Self {
            frames,
            accepted,
            streams,
            next_id: Mutex::new(if role == Role::Client { 1 } else { 2 }),
            closed,
        })
    }

    /// The next stream the peer opened (already answered with SYN_REPLY); `None` once the
    /// connection is gone.
    pub async fn accept(&mut self) -> Option<SpdyStream> {
        self.accepted.recv().await
    }

    /// Opens a stream with `headers` (the peer's SYN_REPLY is not awaited).
    pub async fn open(&self, headers: Headers) -> Result<SpdyStream, StreamingError> {
        let id = {
            let mut next = self.next_id.lock().unwrap_or_else(|p| p.into_inner());
            let id = *next;
            *next += 2;
            id
        };
        let (stream, entry) = new_stream(
            id,
            headers.clone(),
            self.frames.clone(),
            self.streams.clone(),
        );
        lock(&self.streams).insert(id, entry);
        let syn = Frame::SynStream {
            stream_id: id,
            associated_id: 0,
            priority: 0,
            flags: 0,
            headers,
        };
        self.frames.send(syn).await.map_err(|_| closed_error())?;
        Ok(stream)
    }

    /// Resolves when the transport is closed or broken.
    pub async fn closed(&self) {
        self.closed.cancelled().await
    }

    /// Says goodbye (GOAWAY) and stops both tasks.
    pub async fn close(&self) {
        let _ = self
            .frames
            .send(Frame::GoAway {
                last_good_stream_id: 0,
                status: 0,
            })
            .await;
        self.closed.cancel();
    }
}

fn lock(streams: &StreamTable) -> std::sync::MutexGuard<'_, HashMap<u32, StreamEntry>> {
    streams.lock().unwrap_or_else(|p| p.into_inner())
}

fn new_stream(
    id: u32,
    headers: Headers,
    frames: mpsc::Sender<Frame>,
    streams: StreamTable,
) -> (SpdyStream, StreamEntry) {
    let (data_tx, data) = mpsc::channel(QUEUE_DEPTH);
    let reset = CancellationToken::new();
    let stream = SpdyStream {
        id,
        headers,
        data,
        writer: StreamWriter { id, frames },
        reset: reset.clone(),
        streams,
    };
    (
        stream,
        StreamEntry {
            data: Some(data_tx),
            reset,
        },
    )
}

impl SpdyStream {
    /// The next DATA payload; `None` after the peer's FIN, a reset or the connection's end.
    /// Data that arrived before the end is read first.
    pub async fn read(&mut self) -> Option<Bytes> {
        tokio::select! {
            biased;
            data = self.data.recv() => data,
            () = self.reset.cancelled() => None,
        }
    }

    pub fn writer(&self) -> StreamWriter {
        self.writer.clone()
    }

    /// Whether the peer reset the stream or the connection ended.
    pub fn is_reset(&self) -> bool {
        self.reset.is_cancelled()
    }

    /// Resolves when the peer resets the stream or the connection ends.
    pub fn reset_token(&self) -> CancellationToken {
        self.reset.clone()
    }
}

impl StreamWriter {
    pub async fn write(&self, data: &[u8]) -> Result<(), StreamingError> {
        for chunk in data.chunks(MAX_DATA_CHUNK) {
            self.send(Frame::Data {
                stream_id: self.id,
                flags: 0,
                data: Bytes::copy_from_slice(chunk),
            })
            .await?;
        }
        Ok(())
    }

    /// Half-closes the stream: an empty DATA frame with FIN.
    pub async fn finish(&self) -> Result<(), StreamingError> {
        self.send(Frame::Data {
            stream_id: self.id,
            flags: FLAG_FIN,
            data: Bytes::new(),
        })
        .await
    }

    pub async fn reset(&self) -> Result<(), StreamingError> {
        self.send(Frame::RstStream {
            stream_id: self.id,
            status: RST_CANCEL,
        })
        .await
    }

    async fn send(&self, frame: Frame) -> Result<(), StreamingError> {
        self.frames.send(frame).await.map_err(|_| closed_error())
    }
}

async fn write_frames<W: AsyncWrite>(
    write_half: W,
    mut encoder: FrameEncoder,
    mut queued: mpsc::Receiver<Frame>,
    closed: CancellationToken,
) {
    tokio::pin!(write_half);
    let mut buffer = BytesMut::new();
    loop {
        let frame = tokio::select! {
            frame = queued.recv() => frame,
            () = closed.cancelled() => None,
        };
        let Some(frame) = frame else { break };
        buffer.clear();
        let written = match encoder.encode(&frame, &mut buffer) {
            Ok(()) => write_half
                .write_all(&buffer)
                .await
                .and(write_half.flush().await),
            Err(e) => Err(std::io::Error::other(e.to_string())),
        };
        if let Err(e) = written {
            tracing::debug!(error = %e, "spdy: writing a frame failed");
            break;
        }
    }
    // Drain what was queued before the close (a GOAWAY, a last FIN) without blocking.
    while let Ok(frame) = queued.try_recv() {
        buffer.clear();
        if encoder.encode(&frame, &mut buffer).is_err()
            || write_half.write_all(&buffer).await.is_err()
        {
            break;
        }
    }
    let _ = write_half.shutdown().await;
    closed.cancel();
}

struct FrameReader {
    role: Role,
    frames: mpsc::Sender<Frame>,
    accepted: mpsc::Sender<SpdyStream>,
    streams: StreamTable,
}

impl FrameReader {
    async fn run<R: AsyncRead>(self, read_half: R, closed: CancellationToken) {
        tokio::pin!(read_half);
        let mut decoder = FrameDecoder::default();
        let mut buffer = BytesMut::with_capacity(64 * 1024);
        'connection: loop {
            loop {
                match decoder.decode(&mut buffer) {
                    Ok(Some(frame)) => {
                        if !self.handle(frame).await {
                            break 'connection;
                        }
                    }
                    Ok(None) => break,
                    Err(e) => {
                        tracing::debug!(error = %e, "spdy: bad frame");
                        break 'connection;
                    }
                }
            }
            let read = tokio::select! {
                read = read_half.read_buf(&mut buffer) => read,
                () = closed.cancelled() => break,
            };
            match read {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    tracing::debug!(error = %e, "spdy: reading failed");
                    break;
                }
            }
        }
        for (_, entry) in lock(&self.streams).drain() {
            entry.reset.cancel();
        }
        closed.cancel();
    }

    /// Acts on one frame; `false` ends the connection.
    async fn handle(&self, frame: Frame) -> bool {
        match frame {
            Frame::SynStream {
                stream_id,
                flags,
                headers,
                ..
            } => {
                let (stream, mut entry) = new_stream(
                    stream_id,
                    headers,
                    self.frames.clone(),
                    self.streams.clone(),
                );
                if flags & FLAG_FIN != 0 {
                    entry.data = None;
                }
                lock(&self.streams).insert(stream_id, entry);
                let reply = Frame::SynReply {
                    stream_id,
                    flags: 0,
                    headers: Vec::new(),
                };
                self.frames.send(reply).await.is_ok() && self.accepted.send(stream).await.is_ok()
            }
            Frame::Data {
                stream_id,
                flags,
                data,
            } => {
                let sender = lock(&self.streams)
                    .get(&stream_id)
                    .and_then(|e| e.data.clone());
                if let Some(sender) = sender {
                    if !data.is_empty() {
                        // A reader that went away just drops what it would have read.
                        let _ = sender.send(data).await;
                    }
                }
                if flags & FLAG_FIN != 0 {
                    if let Some(entry) = lock(&self.streams).get_mut(&stream_id) {
                        entry.data = None;
                    }
                }
                true
            }
            Frame::SynReply {
                stream_id, flags, ..
            }
            | Frame::Headers {
                stream_id, flags, ..
            } => {
                if flags & FLAG_FIN != 0 {
                    if let Some(entry) = lock(&self.streams).get_mut(&stream_id) {
                        entry.data = None;
                    }
                }
                true
            }
            Frame::RstStream { stream_id, .. } => {
                if let Some(entry) = lock(&self.streams).remove(&stream_id) {
                    entry.reset.cancel();
                }
                true
            }
            Frame::Ping { id } => {
                // Clients number their pings odd, servers even: answer only the peer's own.
                let from_peer = (id % 2 == 1) == (self.role == Role::Server);
                !from_peer || self.frames.send(Frame::Ping { id }).await.is_ok()
            }
            Frame::GoAway { .. } => false,
            Frame::Settings | Frame::WindowUpdate { .. } | Frame::Unknown { .. } => true,
        }
    }
}
