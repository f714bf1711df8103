//! Accept loops: every connection is served on its own task by hyper-util's auto builder
//! (HTTP/1.1 or HTTP/2 by the connection preface), over TLS on the HTTPS port.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rustls::ServerConfig;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use super::forward::{Protocol, Proxy};

const ACCEPT_RETRY: Duration = Duration::from_millis(100);
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves plain HTTP on `listener` until `cancel` fires.
pub async fn serve_http(listener: TcpListener, proxy: Arc<Proxy>, cancel: CancellationToken) {
    accept_loop(listener, cancel, move |stream, peer| {
        let proxy = Arc::clone(&proxy);
        async move { serve_connection(stream, peer, proxy, Protocol::Http).await }
    })
    .await;
}

/// Serves HTTPS on `listener` with `tls` until `cancel` fires.
pub async fn serve_https(
    listener: TcpListener,
    proxy: Arc<Proxy>,
    tls: Arc<ServerConfig>,
    cancel: CancellationToken,
) {
    let acceptor = TlsAcceptor::from(tls);
    accept_loop(listener, cancel, move |stream, peer| {
        let proxy = Arc::clone(&proxy);
        let acceptor = acceptor.clone();
        async move {
            match tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(stream)) => serve_connection(stream, peer, proxy, Protocol::Https).await,
                Ok(Err(error)) => tracing::debug!(%peer, %error, "TLS handshake failed"),
                Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
            }
        }
    })
    .await;
}

async fn accept_loop<F, Fut>(listener: TcpListener, cancel: CancellationToken, serve: F)
where
    F: Fn(TcpStream, SocketAddr) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    loop {
        let accepted = tokio::select! {
            () = cancel.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve(stream, peer));
            }
            Err(error) => {
                tracing::warn!(%error, "accepting a connection");
                tokio::time::sleep(ACCEPT_RETRY).await;
            }
        }
    }
}

async fn serve_connection<S>(stream: S, peer: SocketAddr, proxy: Arc<Proxy>, protocol: Protocol)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |request| {
        let proxy = Arc::clone(&proxy);
        async move { Ok::<_, Infallible>(proxy.handle(request, peer, protocol).await) }
    });
    let builder = auto::Builder::new(TokioExecutor::new());
    if let Err(error) = builder
        .serve_connection(TokioIo::new(stream), service)
        .await
    {
        tracing::debug!(%peer, %error, "connection ended with an error");
    }
}
