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
    options.port = address.port();
    Ok(BoundDns { udp, tcp, options })
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
