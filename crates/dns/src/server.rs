//! Binding the node's DNS sockets and running the server around them.

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use hickory_server::Server;
use tokio::net::{TcpListener, UdpSocket};
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use crate::handler::ClusterDns;
use crate::records::Records;
use crate::upstream::Upstreams;
use crate::{registration, watch, DnsError, DnsOptions};

/// How long a TCP client may stay idle between queries.
const TCP_IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// Responses queued per TCP connection.
const TCP_RESPONSE_BUFFER: usize = 32;

/// A DNS server whose UDP and TCP sockets are bound but not yet served.
pub struct BoundDns {
    udp: UdpSocket,
    tcp: TcpListener,
    options: DnsOptions,
}

/// Binds UDP and TCP on `<node_ip>:<port>` (with port 0, TCP takes the port UDP was given).
pub async fn bind(mut options: DnsOptions) -> Result<BoundDns, DnsError> {
    let mut attempts_left = if options.port == 0 {
        EPHEMERAL_ATTEMPTS
    } else {
        1
    };
    loop {
        attempts_left -= 1;
        match bind_pair(&options).await {
            Ok((udp, tcp, address)) => {
                options.port = address.port();
                return Ok(BoundDns { udp, tcp, options });
            }
            // The port UDP was given may already be a TCP port in use: ephemeral ports are
            // handed out per protocol. Another UDP port will do.
            Err(DnsError::Bind {
                protocol: "TCP",
                source,
                ..
            }) if source.kind() == std::io::ErrorKind::AddrInUse && attempts_left > 0 => {}
            Err(error) => return Err(error),
        }
    }
}

/// How many ephemeral UDP ports are tried before giving up on finding one free for TCP too.
const EPHEMERAL_ATTEMPTS: u32 = 16;

async fn bind_pair(options: &DnsOptions) -> Result<(UdpSocket, TcpListener, SocketAddr), DnsError> {
    let address = SocketAddr::new(options.node_ip, options.port);
    let udp = UdpSocket::bind(address)
        .await
        .map_err(|source| DnsError::Bind {
            protocol: "UDP",
            address,
            source,
        })?;
    let address = udp.local_addr().map_err(DnsError::LocalAddress)?;
    let tcp = TcpListener::bind(address)
        .await
        .map_err(|source| DnsError::Bind {
            protocol: "TCP",
            address,
            source,
        })?;
    Ok((udp, tcp, address))
}

impl BoundDns {
    /// The address both sockets listen on.
    pub fn local_addr(&self) -> Result<SocketAddr, DnsError> {
        self.udp.local_addr().map_err(DnsError::LocalAddress)
    }

    /// Serves until `cancel`: follows Services and EndpointSlices, answers queries, and once the
    /// first lists are in, registers this server behind the cluster DNS address.
    pub async fn serve(
        self,
        client: kube::Client,
        cancel: CancellationToken,
    ) -> Result<(), DnsError> {
        let options = self.options;
        let records = Arc::new(RwLock::new(Records::new(
            &options.cluster_domain,
            options.cluster_dns,
        )));
        let upstreams = read_upstreams(&options).await;
        tracing::info!(upstreams = ?upstreams.servers, "cluster DNS forwards other names");

        let mut tasks = tokio::task::JoinSet::new();
        let (services_synced, services_ready) = oneshot::channel();
        let (slices_synced, slices_ready) = oneshot::channel();
        tasks.spawn(watch::follow_services(
            client.clone(),
            records.clone(),
            services_synced,
        ));
        tasks.spawn(watch::follow_endpoint_slices(
            client.clone(),
            records.clone(),
            slices_synced,
        ));

        let mut server = Server::new(ClusterDns { records, upstreams });
        server.register_socket(self.udp);
        server.register_listener(self.tcp, TCP_IDLE_TIMEOUT, TCP_RESPONSE_BUFFER);

        let synced = async {
            let _ = services_ready.await;
            let _ = slices_ready.await;
        };
        let registered = tokio::select! {
            () = cancel.cancelled() => false,
            () = synced => {
                if options.register {
                    registration::register(&client, &options, &cancel).await;
                }
                options.register
            }
        };
        cancel.cancelled().await;
        tasks.abort_all();
        if registered {
            registration::deregister(&client, &options.node_name).await;
        }
        server
            .shutdown_gracefully()
            .await
            .map_err(|error| DnsError::Serve(error.to_string()))
    }
}

async fn read_upstreams(options: &DnsOptions) -> Upstreams {
    let text = match tokio::fs::read_to_string(&options.resolv_conf).await {
        Ok(text) => text,
        Err(error) => {
            tracing::warn!(path = %options.resolv_conf.display(), %error, "no upstream nameservers");
            String::new()
        }
    };
    let own = if options.port == 53 {
        vec![options.node_ip, options.cluster_dns]
    } else {
        vec![options.cluster_dns]
    };
    Upstreams::from_resolv_conf(&text, &own)
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use super::*;

    fn options(port: u16) -> DnsOptions {
        let mut options = DnsOptions::new(
            "node-a",
            IpAddr::from([127, 0, 0, 1]),
            IpAddr::from([10, 43, 0, 10]),
            "cluster.local",
        );
        options.port = port;
        options
    }

    #[tokio::test]
    async fn an_ephemeral_port_is_bound_for_both_protocols() {
        let bound = bind(options(0)).await.expect("binds");
        let address = bound.local_addr().expect("address");
        assert_ne!(address.port(), 0);
        assert_eq!(bound.tcp.local_addr().expect("tcp address"), address);
        assert_eq!(bound.options.port, address.port());
    }

    #[tokio::test]
    async fn a_chosen_port_taken_for_tcp_is_an_error_not_another_port() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("tcp");
        let port = taken.local_addr().expect("address").port();
        // Almost always the TCP bind fails; UDP on that port may also be someone else's.
        match bind(options(port)).await {
            Err(DnsError::Bind { .. }) => {}
            Err(other) => panic!("unexpected error {other}"),
            Ok(_) => panic!("bound a port whose TCP side is taken"),
        }
    }
}
