//! SPDY/3.1, as far as Kubernetes port-forward (and its spdystream clients) use it: streams
//! opened with SYN_STREAM and answered with SYN_REPLY, DATA with FIN half-closes, RST_STREAM,
//! PING echoes and GOAWAY. No flow control: WINDOW_UPDATE and SETTINGS are read and ignored.

mod dictionary;
pub mod frame;
pub mod header_block;
mod session;

pub use header_block::{header_value, Headers};
pub use session::{Role, SpdySession, SpdyStream, StreamWriter};
