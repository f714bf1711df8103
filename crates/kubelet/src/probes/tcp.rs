//! tcpSocket probes: a connection within the timeout is success.

use std::time::Duration;

use tokio::net::TcpStream;

/// Connects to `host:port`; `Err` carries Go's dial error text.
pub async fn check_tcp(host: &str, port: u16, timeout: Duration) -> Result<(), String> {
    let address = join_host_port(host, port);
    match tokio::time::timeout(timeout, TcpStream::connect(&address)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(format!("dial tcp {address}: {}", connect_error(&e))),
        Err(_) => Err(format!("dial tcp {address}: i/o timeout")),
    }
}

/// Go's text for a failed connect.
pub fn connect_error(error: &std::io::Error) -> String {
    match error.kind() {
        std::io::ErrorKind::ConnectionRefused => "connect: connection refused".to_string(),
        std::io::ErrorKind::HostUnreachable => "connect: no route to host".to_string(),
        std::io::ErrorKind::NetworkUnreachable => "connect: network is unreachable".to_string(),
        _ => format!("connect: {error}"),
    }
}

pub fn join_host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn open_and_closed_ports() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        assert_eq!(
            check_tcp("127.0.0.1", port, Duration::from_secs(1)).await,
            Ok(())
        );
        drop(listener);
        assert_eq!(
            check_tcp("127.0.0.1", port, Duration::from_secs(1)).await,
            Err(format!(
                "dial tcp 127.0.0.1:{port}: connect: connection refused"
            ))
        );
    }
}
