//! One exec over WebSocket (remotecommand v4/v5) or SPDY: the command's output goes out on the stdout
//! and stderr channels, stdin and resizes come in, and the exit status ends the session on the
//! error channel before a normal close.

use std::sync::Arc;

use futures::{SinkExt, StreamExt};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

use super::channel_protocol::{decode_channel_message, encode_channel_message};
use super::channel_protocol::{ChannelSink, ChannelSource};
use super::close_handshake::await_close_reply;
use super::exec_process::{
    exit_code, spawn_exec, ExecProcess, ProcessInput, ProcessOutput, Terminal,
};
use super::exec_runner::ExecRunner;
use super::exec_status::{exit_status, internal_error};
use super::{ChannelProtocol, ExecTarget, ResizeEvent};
use super::{
    CHANNEL_CLOSE, CHANNEL_ERROR, CHANNEL_RESIZE, CHANNEL_STDERR, CHANNEL_STDIN, CHANNEL_STDOUT,
};

const OUTGOING_QUEUE: usize = 64;

/// Runs one exec on a connection's two halves (a WebSocket's, or SPDY streams seen as channel
/// messages: `spdy_channels`).
pub async fn serve_exec(
    sink: ChannelSink,
    mut source: ChannelSource,
    protocol: ChannelProtocol,
    target: ExecTarget,
    runner: Arc<dyn ExecRunner>,
) {
    let (outgoing, queued) = mpsc::channel(OUTGOING_QUEUE);
    let writer = tokio::spawn(send_messages(sink, queued));
    match spawn_exec(runner.as_ref(), &target) {
        Ok(process) => run_process(process, &mut source, protocol, &target, outgoing).await,
        Err(e) => {
            let message = format!("failed to exec in container {}: {e}", target.container_id);
            tracing::debug!(%message, "exec");
            send_status(&outgoing, &internal_error(&message)).await;
            drop(outgoing);
        }
    }
    let _ = writer.await;
    await_close_reply(&mut source).await;
}

async fn run_process<R>(
    mut process: ExecProcess,
    source: &mut R,
    protocol: ChannelProtocol,
    target: &ExecTarget,
    outgoing: mpsc::Sender<Message>,
) where
    R: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let mut pumps = Vec::new();
    if let Some(stdout) = process.stdout.take() {
        pumps.push(tokio::spawn(pump_output(
            stdout,
            CHANNEL_STDOUT,
            outgoing.clone(),
        )));
    }
    if let Some(stderr) = process.stderr.take() {
        pumps.push(tokio::spawn(pump_output(
            stderr,
            CHANNEL_STDERR,
            outgoing.clone(),
        )));
    }
    let pid = Pid::from_raw(process.child.id() as i32);
    let mut child = process.child;
    let mut exited = tokio::task::spawn_blocking(move || child.wait());
    let mut input = Input {
        stdin: process.stdin.take(),
        terminal: process.terminal.take(),
        protocol,
    };
    let finished = tokio::select! {
        status = &mut exited => Some(status),
        () = input.read_all(source) => None,
    };
    let Some(status) = finished else {
        // The client went away first: ask the command to stop (runc passes the signal on).
        let _ = kill(pid, Signal::SIGTERM);
        return;
    };
    drop(input);
    for pump in pumps {
        let _ = pump.await;
    }
    let status = match status {
        Ok(Ok(status)) => exit_status(&target.cmd, exit_code(status)),
        Ok(Err(e)) => internal_error(&format!("waiting for the command: {e}")),
        Err(e) => internal_error(&format!("waiting for the command: {e}")),
    };
    send_status(&outgoing, &status).await;
}

pub(super) async fn send_status(outgoing: &mpsc::Sender<Message>, status: &serde_json::Value) {
    let body = status.to_string();
    let message = encode_channel_message(CHANNEL_ERROR, body.as_bytes());
    let _ = outgoing.send(Message::Binary(message)).await;
}

/// How long the first frame is held back after the upgrade. client-go's WebSocket executor
/// starts reading frames concurrently with creating its stdout/stderr/error streams and drops
/// frames for streams it has not created yet (logging "Unknown stream id"); a command that
/// prints and exits at once would otherwise lose its output and status to that race.
const CLIENT_STREAM_SETUP_GRACE: std::time::Duration = std::time::Duration::from_millis(100);

/// Sends queued messages in order; when the queue closes, closes the connection normally.
pub(super) async fn send_messages<K>(mut sink: K, mut queued: mpsc::Receiver<Message>)
where
    K: futures::Sink<Message, Error = tokio_tungstenite::tungstenite::Error> + Unpin,
{
    tokio::time::sleep(CLIENT_STREAM_SETUP_GRACE).await;
    while let Some(message) = queued.recv().await {
        if let Err(e) = sink.send(message).await {
            tracing::debug!(error = %e, "exec: sending failed");
            return;
        }
    }
    let close = CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    };
    let _ = sink.send(Message::Close(Some(close))).await;
    let _ = sink.close().await;
}

async fn pump_output(mut output: ProcessOutput, channel: u8, outgoing: mpsc::Sender<Message>) {
    let mut buffer = vec![0u8; 32 * 1024];
    loop {
        match output.read(&mut buffer).await {
            Ok(0) => return,
            Ok(n) => {
                let message = Message::Binary(encode_channel_message(channel, &buffer[..n]));
                if outgoing.send(message).await.is_err() {
                    return;
                }
            }
            // A terminal's master reads EIO once the command's side is closed: its end.
            Err(_) => return,
        }
    }
}

struct Input {
    stdin: Option<ProcessInput>,
    terminal: Option<Terminal>,
    protocol: ChannelProtocol,
}

impl Input {
    /// Handles what the client sends until it closes the connection (clients close only
    /// after the status, or when they give up).
    async fn read_all<R>(&mut self, source: &mut R)
    where
        R: futures::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
    {
        while let Some(message) = source.next().await {
            match message {
                Ok(Message::Binary(data)) => self.handle(&data).await,
                Ok(Message::Close(_)) | Err(_) => break,
                Ok(_) => {}
            }
        }
        self.close_stdin().await;
    }

    async fn handle(&mut self, message: &[u8]) {
        let Some((channel, data)) = decode_channel_message(message) else {
            return;
        };
        match channel {
            CHANNEL_STDIN => {
                if let Some(stdin) = self.stdin.as_mut() {
                    let written = stdin.write_all(data).await.and(stdin.flush().await);
                    if written.is_err() {
                        self.stdin = None;
                    }
                }
            }
            CHANNEL_RESIZE => {
                if let (Some(terminal), Some(size)) = (&self.terminal, ResizeEvent::parse(data)) {
                    terminal.resize(size);
                }
            }
            CHANNEL_CLOSE
                if self.protocol == ChannelProtocol::V5 && data.first() == Some(&CHANNEL_STDIN) =>
            {
                self.close_stdin().await;
            }
            _ => {}
        }
    }

    async fn close_stdin(&mut self) {
        if let Some(mut stdin) = self.stdin.take() {
            let _ = stdin.shutdown().await;
        }
    }
}
