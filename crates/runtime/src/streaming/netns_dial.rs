//! Connecting to a port on the loopback of a sandbox's network namespace: a short-lived thread
//! joins the namespace, connects, and hands the socket back (a socket stays in the namespace it
//! was made in).

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::sched::{setns, CloneFlags};
use tokio::net::TcpStream;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Connects to `localhost:port` (IPv4 first, then IPv6) inside `netns` (`None`: this process's
/// own namespace).
pub async fn connect_in_netns(netns: Option<&Path>, port: u16) -> Result<TcpStream, String> {
    let netns: Option<PathBuf> = netns.map(Path::to_path_buf);
    let (tx, rx) = tokio::sync::oneshot::channel();
    let thread = std::thread::Builder::new()
        .name("r8s-netns-dial".into())
        .spawn(move || {
            let _ = tx.send(connect_blocking(netns.as_deref(), port));
        })
        .map_err(|e| format!("starting the namespace dialer: {e}"))?;
    let result = rx
        .await
        .map_err(|_| "the namespace dialer died".to_string());
    let _ = thread.join();
    let stream = result??;
    stream.set_nonblocking(true).map_err(|e| e.to_string())?;
    TcpStream::from_std(stream).map_err(|e| e.to_string())
}

fn connect_blocking(netns: Option<&Path>, port: u16) -> Result<std::net::TcpStream, String> {
    if let Some(netns) = netns {
        let file =
            std::fs::File::open(netns).map_err(|e| format!("opening {}: {e}", netns.display()))?;
        setns(&file, CloneFlags::CLONE_NEWNET)
            .map_err(|e| format!("joining {}: {e}", netns.display()))?;
    }
    let v4 = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let v6 = SocketAddr::from((Ipv6Addr::LOCALHOST, port));
    let e4 = match std::net::TcpStream::connect_timeout(&v4, CONNECT_TIMEOUT) {
        Ok(stream) => return Ok(stream),
        Err(e) => e,
    };
    let e6 = match std::net::TcpStream::connect_timeout(&v6, CONNECT_TIMEOUT) {
        Ok(stream) => return Ok(stream),
        Err(e) => e,
    };
    let namespace = netns.map(|p| p.display().to_string()).unwrap_or_default();
    Err(format!(
        "failed to connect to localhost:{port} inside namespace {namespace:?}, IPv4: {e4} IPv6: {e6}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn connects_in_the_current_namespace_without_a_path() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let stream = connect_in_netns(None, port).await.unwrap();
        assert_eq!(stream.peer_addr().unwrap().port(), port);
    }

    #[tokio::test]
    async fn a_closed_port_says_what_failed() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let error = connect_in_netns(None, port).await.unwrap_err();
        assert!(error.contains(&format!("localhost:{port}")), "{error}");
    }
}
