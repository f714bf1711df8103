//! The streaming server behind CRI Exec, Attach and PortForward.
//!
//! The gRPC calls only validate a request and park it under a single-use token
//! (`request_cache`); the client then connects to `http://127.0.0.1:<port>/<verb>/<token>`:
//! - exec speaks the remotecommand protocol over WebSocket (`v5.channel.k8s.io`,
//!   `v4.channel.k8s.io`: `channel_protocol`, `exec_session`) or over SPDY/3.1 (`v4.channel.k8s.io`,
//!   one stream per channel, seen as channel messages by `spdy_channels`), running the command
//!   through an `ExecRunner` (runc exec in production);
//! - attach speaks the same protocol and connects to the container's shim (`attach_session`,
//!   framing in `shim::attach_frame`);
//! - port-forward speaks SPDY/3.1 (`spdy`), either as a plain `Upgrade: SPDY/3.1` or tunneled in
//!   WebSocket binary messages (`SPDY/3.1+portforward.k8s.io`), and connects to the port inside the
//!   sandbox's network namespace (`netns_dial`).

mod attach_session;
mod channel_protocol;
mod close_handshake;
mod error;
mod exec_process;
mod exec_runner;
mod exec_session;
mod exec_status;
mod netns_dial;
mod port_forward;
mod request_cache;
mod server;
pub mod spdy;
mod spdy_channels;
mod websocket_bytes;
mod websocket_handshake;

pub use channel_protocol::{
    ChannelProtocol, ResizeEvent, CHANNEL_CLOSE, CHANNEL_ERROR, CHANNEL_RESIZE,
};
pub use channel_protocol::{CHANNEL_STDERR, CHANNEL_STDIN, CHANNEL_STDOUT};
pub use error::StreamingError;
pub use exec_runner::{ExecRunner, HostExecRunner, RuncExecRunner};
pub use request_cache::{AttachTarget, ExecTarget, ForwardTarget, StreamRequest, REQUEST_TTL};
pub use server::StreamingServer;
pub use websocket_bytes::websocket_as_bytes;
