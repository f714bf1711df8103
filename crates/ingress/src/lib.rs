//! The built-in ingress controller: a hyper reverse proxy on the node's ports 80/443 for IngressClass `r8s`.
//!
//! Layers, pointing one way: `routing` and `tls` turn Ingresses, Services, EndpointSlices and
//! Secrets into immutable tables (pure functions); `proxy` serves HTTP and HTTPS from whatever
//! tables are current in a [`SwapCell`]; `controller` watches the API, rebuilds and swaps the
//! tables and writes `status.loadBalancer`. Swapping a table never touches open connections.

#![forbid(unsafe_code)]

pub mod class;
pub mod controller;
mod error;
pub mod proxy;
pub mod routing;
mod swap_cell;
pub mod tls;

use std::net::IpAddr;

pub use controller::run;
pub use error::IngressError;
pub use swap_cell::SwapCell;

/// Where this node's ingress controller listens.
#[derive(Debug, Clone)]
pub struct IngressOptions {
    pub node_name: String,
    pub node_ip: IpAddr,
    pub http_port: u16,
    pub https_port: u16,
}
