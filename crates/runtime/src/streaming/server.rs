//! The HTTP listener on 127.0.0.1 that streaming URLs point at.

use std::convert::Infallible;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use futures::StreamExt;
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::protocol::Role as WebSocketRole;
use tokio_tungstenite::WebSocketStream;
use tokio_util::sync::{CancellationToken, DropGuard};

use super::attach_session::serve_attach;
use super::channel_protocol::{ChannelSink, ChannelSource};
use super::exec_runner::ExecRunner;
use super::exec_session::serve_exec;
use super::port_forward::{serve_port_forward, PORT_FORWARD_PROTOCOL};
use super::request_cache::RequestCache;
use super::spdy::{Role, SpdySession};
use super::spdy_channels::{accept_channels, WantedStreams, SPDY_CHANNEL_PROTOCOL};
use super::websocket_bytes::websocket_as_bytes;
use super::websocket_handshake::{
    is_spdy_upgrade, is_websocket_upgrade, offered_stream_protocols, offered_subprotocols, refused,
    spdy_accepted, websocket_accepted, Body,
};
use super::{ChannelProtocol, ForwardTarget, StreamRequest, StreamingError};

/// The WebSocket subprotocol of SPDY tunneled in WebSocket (client-go's port-forward).
const SPDY_TUNNEL_SUBPROTOCOL: &str = "SPDY/3.1+portforward.k8s.io";

/// The listener, the parked requests, and who runs exec'd commands. Dropping it stops the
/// listener (sessions already running go on to their end).
pub struct StreamingServer {
    address: SocketAddr,
    shared: Arc<Shared>,
    _stop: DropGuard,
}

struct Shared {
    requests: RequestCache,
    runner: Arc<dyn ExecRunner>,
}

impl StreamingServer {
    /// Listens on an ephemeral port of 127.0.0.1.
    pub async fn start(runner: Arc<dyn ExecRunner>) -> Result<Self, StreamingError> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await?;
        let address = listener.local_addr()?;
        let shared = Arc::new(Shared {
            requests: RequestCache::default(),
            runner,
        });
        let stop = CancellationToken::new();
        tokio::spawn(accept_connections(listener, shared.clone(), stop.clone()));
        tracing::info!(%address, "streaming server listening");
        Ok(Self {
            address,
            shared,
            _stop: stop.drop_guard(),
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Parks `request` for 30 s and returns the single-use URL that serves it.
    pub fn register(&self, request: StreamRequest) -> String {
        let verb = request.verb();
        let token = self.shared.requests.insert(request, Instant::now());
        format!("http://{}/{verb}/{token}", self.address)
    }
}

async fn accept_connections(listener: TcpListener, shared: Arc<Shared>, stop: CancellationToken) {
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stop.cancelled() => return,
        };
        let (stream, _) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "streaming server: accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let shared = shared.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| {
                let shared = shared.clone();
                async move { Ok::<_, Infallible>(route(request, &shared)) }
            });
            let served = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades()
                .await;
            if let Err(e) = served {
                tracing::debug!(error = %e, "streaming server: connection ended");
            }
        });
    }
}

fn route(request: Request<Incoming>, shared: &Shared) -> Response<Body> {
    let path = request.uri().path().trim_start_matches('/').to_string();
    let Some((verb, token)) = path.split_once('/') else {
        return refused(StatusCode::NOT_FOUND, "not found");
    };
    let parked = shared.requests.consume(token, Instant::now());
    match parked {
        Some(StreamRequest::Exec(target)) if verb == "exec" => {
            let runner = shared.runner.clone();
            let wanted = WantedStreams {
                stdin: target.stdin,
                stdout: target.stdout,
                stderr: target.stderr,
                tty: target.tty,
            };
            upgrade_channel_session(request, "exec", wanted, move |sink, source, protocol| {
                serve_exec(sink, source, protocol, target, runner)
            })
        }
        Some(StreamRequest::PortForward(target)) if verb == "portforward" => {
            upgrade_port_forward(request, target)
        }
        Some(StreamRequest::Attach(target)) if verb == "attach" => {
            let wanted = WantedStreams {
                stdin: target.stdin,
                stdout: target.stdout,
                stderr: target.stderr,
                tty: target.tty,
            };
            upgrade_channel_session(request, "attach", wanted, move |sink, source, protocol| {
                serve_attach(sink, source, protocol, target)
            })
        }
        _ => refused(
            StatusCode::NOT_FOUND,
            format!("unknown or expired token for {verb}"),
        ),
    }
}

/// Accepts an upgrade speaking the channel protocol (WebSocket v5/v4, or SPDY/3.1 with
/// `v4.channel.k8s.io`) and runs `session` on the connection's two halves.
fn upgrade_channel_session<F, Fut>(
    mut request: Request<Incoming>,
    verb: &'static str,
    wanted: WantedStreams,
    session: F,
) -> Response<Body>
where
    F: FnOnce(ChannelSink, ChannelSource, ChannelProtocol) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    if is_spdy_upgrade(request.headers()) {
        let offered = offered_stream_protocols(request.headers());
        if !offered.iter().any(|p| p == SPDY_CHANNEL_PROTOCOL) {
            return unnegotiated_spdy_protocol(&offered, SPDY_CHANNEL_PROTOCOL);
        }
        run_after_upgrade(&mut request, verb, move |io| async move {
            let channels = match SpdySession::start(io, Role::Server) {
                Ok(spdy) => accept_channels(spdy, wanted).await,
                Err(e) => Err(e),
            };
            match channels {
                // A stream's FIN is an explicit end of stdin, as v5's close signal.
                Ok((sink, source)) => session(sink, source, ChannelProtocol::V5).await,
                Err(e) => tracing::debug!(error = %e, verb, "remotecommand over SPDY"),
            }
        });
        return spdy_accepted(SPDY_CHANNEL_PROTOCOL);
    }
    if !is_websocket_upgrade(request.headers()) {
        return refused(
            StatusCode::BAD_REQUEST,
            format!("{verb} needs a WebSocket upgrade (v5.channel.k8s.io or v4.channel.k8s.io) or SPDY/3.1"),
        );
    }
    let offered = offered_subprotocols(request.headers());
    let Some(protocol) = ChannelProtocol::negotiate(offered.iter().map(String::as_str)) else {
        return refused(
            StatusCode::BAD_REQUEST,
            format!(
                "unsupported subprotocols {offered:?}: want v5.channel.k8s.io or v4.channel.k8s.io"
            ),
        );
    };
    let response = websocket_accepted(request.headers(), protocol.name());
    run_after_upgrade(&mut request, verb, move |io| async move {
        let (sink, source) = server_websocket(io).await.split();
        session(Box::pin(sink), Box::pin(source), protocol).await;
    });
    response
}

fn upgrade_port_forward(mut request: Request<Incoming>, target: ForwardTarget) -> Response<Body> {
    let headers = request.headers();
    if is_websocket_upgrade(headers) {
        if !offered_subprotocols(headers)
            .iter()
            .any(|p| p == SPDY_TUNNEL_SUBPROTOCOL)
        {
            return refused(
                StatusCode::BAD_REQUEST,
                format!("port-forward over WebSocket needs subprotocol {SPDY_TUNNEL_SUBPROTOCOL}"),
            );
        }
        let response = websocket_accepted(headers, SPDY_TUNNEL_SUBPROTOCOL);
        run_after_upgrade(&mut request, "port-forward", move |io| async move {
            let socket = server_websocket(io).await;
            start_port_forward(websocket_as_bytes(socket), target).await;
        });
        return response;
    }
    if is_spdy_upgrade(headers) {
        let offered = offered_stream_protocols(headers);
        if !offered.is_empty() && !offered.iter().any(|p| p == PORT_FORWARD_PROTOCOL) {
            return unnegotiated_spdy_protocol(&offered, PORT_FORWARD_PROTOCOL);
        }
        run_after_upgrade(&mut request, "port-forward", move |io| {
            start_port_forward(io, target)
        });
        return spdy_accepted(PORT_FORWARD_PROTOCOL);
    }
    refused(
        StatusCode::BAD_REQUEST,
        "port-forward needs an upgrade to SPDY/3.1",
    )
}

/// Runs `run` on the connection once the `101 Switching Protocols` answer has gone out.
fn run_after_upgrade<F, Fut>(request: &mut Request<Incoming>, verb: &'static str, run: F)
where
    F: FnOnce(TokioIo<hyper::upgrade::Upgraded>) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let upgrade = hyper::upgrade::on(request);
    tokio::spawn(async move {
        match upgrade.await {
            Ok(upgraded) => run(TokioIo::new(upgraded)).await,
            Err(e) => tracing::debug!(error = %e, verb, "upgrade failed"),
        }
    });
}

async fn server_websocket(
    io: TokioIo<hyper::upgrade::Upgraded>,
) -> WebSocketStream<TokioIo<hyper::upgrade::Upgraded>> {
    WebSocketStream::from_raw_socket(io, WebSocketRole::Server, None).await
}

/// Upstream's answer to a SPDY client offering none of the `supported` stream protocol.
fn unnegotiated_spdy_protocol(offered: &[String], supported: &str) -> Response<Body> {
    refused(
        StatusCode::FORBIDDEN,
        format!("unable to upgrade: unable to negotiate protocol: client supports {offered:?}, server supports [\"{supported}\"]"),
    )
}

async fn start_port_forward<T>(transport: T, target: ForwardTarget)
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + 'static,
{
    match SpdySession::start(transport, Role::Server) {
        Ok(session) => serve_port_forward(session, target).await,
        Err(e) => tracing::warn!(error = %e, "port-forward: starting the SPDY session failed"),
    }
}
