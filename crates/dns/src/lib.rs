//! Cluster DNS (kube-dns role) served with hickory-server from watched Services and EndpointSlices.
//!
//! Every node runs one server on `<node-ip>:53`; each registers itself as an EndpointSlice of the
//! `kube-dns` Service, whose ClusterIP the service proxy sends to these servers. Names under the
//! cluster domain are answered from [`records::Records`]; others go to the node's nameservers.

#![forbid(unsafe_code)]

mod error;
mod handler;
pub mod objects;
mod options;
pub mod records;
pub mod registration;
mod server;
mod upstream;
mod watch;

use tokio_util::sync::CancellationToken;

pub use error::DnsError;
pub use options::DnsOptions;
pub use server::{bind, BoundDns};
pub use upstream::Upstreams;

/// Binds and serves until `cancel`.
pub async fn run(
    client: kube::Client,
    options: DnsOptions,
    cancel: CancellationToken,
) -> Result<(), DnsError> {
    bind(options).await?.serve(client, cancel).await
}
