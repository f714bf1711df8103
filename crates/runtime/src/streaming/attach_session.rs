//! One attach over WebSocket (remotecommand v4/v5) or SPDY: connects to the container's shim and pumps
//! its live output out on the stdout/stderr channels and the client's stdin and terminal sizes
//! in. The session ends with a Success status when the container's output ends (it exited),
//! or quietly when the client goes away (the container goes on).

use std::os::fd::AsRawFd;
use std::path::Path;

use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::UnixStream;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use super::channel_protocol::{decode_channel_message, encode_channel_message};
use super::channel_protocol::{ChannelSink, ChannelSource};
use super::close_handshake::await_close_reply;
use super::exec_session::{send_messages, send_status};
use super::exec_status::internal_error;
use super::{AttachTarget, ChannelProtocol, ResizeEvent};
use super::{CHANNEL_CLOSE, CHANNEL_RESIZE, CHANNEL_STDERR, CHANNEL_STDIN, CHANNEL_STDOUT};
use crate::shim::attach_frame::{AttachFrame, FrameReader};
use crate::shim::state_files::ATTACH_SOCKET;

const OUTGOING_QUEUE: usize = 64;

pub async fn serve_attach(
    sink: ChannelSink,
    mut source: ChannelSource,
    protocol: ChannelProtocol,
    target: AttachTarget,
) {
    let (outgoing, queued) = mpsc::channel(OUTGOING_QUEUE);
    let writer = tokio::spawn(send_messages(sink, queued));
    match connect_to_shim(&target.container_dir).await {
        Ok(shim) => {
            let (from_shim, to_shim) = shim.into_split();
            let output = pump_output(from_shim, target.clone(), outgoing.clone());
            let input = pump_input(&mut source, to_shim, protocol, &target);
            let container_ended = tokio::select! {
                () = output => true,
                () = input => false,
            };
            if container_ended {
                send_status(
                    &outgoing,
                    &serde_json::json!({"metadata": {}, "status": "Success"}),
                )
                .await;
            }
        }
        Err(e) => {
            let message = format!(
                "error attaching to container: container {} has no attach endpoint: {e}",
                target.container_id
            );
            tracing::debug!(%message, "attach");
            send_status(&outgoing, &internal_error(&message)).await;
        }
    }
    drop(outgoing);
    let _ = writer.await;
    await_close_reply(&mut source).await;
}

/// Connects to `<dir>/attach.sock` through `/proc/self/fd`, which keeps the socket path under
/// the 108-byte limit whatever the directory's length.
async fn connect_to_shim(container_dir: &Path) -> std::io::Result<UnixStream> {
    let dir = std::fs::File::open(container_dir)?;
    let path = format!("/proc/self/fd/{}/{ATTACH_SOCKET}", dir.as_raw_fd());
    let stream = UnixStream::connect(&path).await;
    drop(dir);
    stream
}

/// Sends the container's output until the shim closes the connection.
async fn pump_output(
    mut from_shim: OwnedReadHalf,
    target: AttachTarget,
    outgoing: mpsc::Sender<Message>,
) {
    let mut reader = FrameReader::default();
    let mut buffer = vec![0u8; 32 * 1024];
    loop {
        match from_shim.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => reader.push(&buffer[..n]),
        }
        loop {
            let (channel, data) = match reader.next_frame() {
                Ok(Some(AttachFrame::Stdout(data))) if target.stdout => (CHANNEL_STDOUT, data),
                Ok(Some(AttachFrame::Stderr(data))) if target.stderr => (CHANNEL_STDERR, data),
                Ok(Some(_)) => continue,
                Ok(None) => break,
                Err(_) => return,
            };
            let message = Message::Binary(encode_channel_message(channel, &data));
            if outgoing.send(message).await.is_err() {
                return;
            }
        }
    }
}

/// Passes the client's stdin and sizes to the shim until the client closes the connection.
async fn pump_input<R>(
    source: &mut R,
    mut to_shim: OwnedWriteHalf,
    protocol: ChannelProtocol,
    target: &AttachTarget,
) where
    R: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    if target.stdin
        && to_shim
            .write_all(&AttachFrame::AttachStdin.encode())
            .await
            .is_err()
    {
        return;
    }
    let mut stdin_open = target.stdin;
    while let Some(message) = source.next().await {
        let data = match message {
            Ok(Message::Binary(data)) => data,
            Ok(Message::Close(_)) | Err(_) => break,
            Ok(_) => continue,
        };
        let frame = match decode_channel_message(&data) {
            Some((CHANNEL_STDIN, bytes)) if stdin_open => AttachFrame::Stdin(bytes.to_vec()),
            Some((CHANNEL_RESIZE, bytes)) if target.tty => match ResizeEvent::parse(bytes) {
                Some(size) => AttachFrame::Resize {
                    width: size.width,
                    height: size.height,
                },
                None => continue,
            },
            Some((CHANNEL_CLOSE, [CHANNEL_STDIN, ..]))
                if stdin_open && protocol == ChannelProtocol::V5 =>
            {
                stdin_open = false;
                AttachFrame::StdinClosed
            }
            _ => continue,
        };
        if to_shim.write_all(&frame.encode()).await.is_err() {
            // The shim is gone: the output side ends the session.
            std::future::pending::<()>().await;
        }
    }
}
