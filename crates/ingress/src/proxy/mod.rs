//! The reverse proxy: HTTP/1.1 and HTTP/2 (cleartext and over TLS) in, HTTP/1.1 to the pods out,
//! with pooled backend connections.

mod forward;
mod headers;
mod listener;

pub use forward::{Protocol, Proxy, ProxyBody};
pub use listener::{serve_http, serve_https};
