//! Port-forward over a SPDY connection, as upstream's portforward protocol: the client opens
//! an error stream and a data stream per connection (headers `streamType`, `port`,
//! `requestID`); once both are there, the data stream is joined to a TCP connection to the
//! port inside the sandbox, and a failure is written on the error stream.

use std::collections::HashMap;
use std::path::Path;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::netns_dial::connect_in_netns;
use super::spdy::{header_value, SpdySession, SpdyStream, StreamWriter};
use super::ForwardTarget;

/// `X-Stream-Protocol-Version` of port-forward.
pub const PORT_FORWARD_PROTOCOL: &str = "portforward.k8s.io";

#[derive(Default)]
struct StreamPair {
    data: Option<SpdyStream>,
    error: Option<SpdyStream>,
}

/// Serves every stream pair of one connection until the client goes away.
pub async fn serve_port_forward(mut session: SpdySession, target: ForwardTarget) {
    let mut pending: HashMap<String, StreamPair> = HashMap::new();
    while let Some(stream) = session.accept().await {
        let stream_type = header_value(&stream.headers, "streamType")
            .unwrap_or_default()
            .to_string();
        // Clients older than requestID pair their streams by port.
        let key = header_value(&stream.headers, "requestID")
            .or_else(|| header_value(&stream.headers, "port"))
            .unwrap_or_default()
            .to_string();
        let pair = pending.entry(key.clone()).or_default();
        match stream_type.as_str() {
            "data" => pair.data = Some(stream),
            "error" => pair.error = Some(stream),
            other => {
                tracing::debug!(stream_type = other, "port-forward: unknown stream type");
                let _ = stream.writer().reset().await;
                continue;
            }
        }
        if pair.data.is_some() && pair.error.is_some() {
            if let Some(StreamPair {
                data: Some(data),
                error: Some(error),
            }) = pending.remove(&key)
            {
                tokio::spawn(forward_pair(data, error, target.clone()));
            }
        }
    }
}

async fn forward_pair(data: SpdyStream, error: SpdyStream, target: ForwardTarget) {
    let port_header = header_value(&data.headers, "port")
        .unwrap_or_default()
        .to_string();
    let result = match port_header.parse::<u16>() {
        Ok(port) if port > 0 => forward_port(data, target.netns_path.as_deref(), port).await,
        _ => Err((format!("invalid port {port_header:?}"), data.writer())),
    };
    let errors = error.writer();
    if let Err((message, data)) = result {
        // The data stream ends too, as upstream closes both.
        let _ = data.finish().await;
        let message = format!(
            "error forwarding port {port_header} to pod {}, uid : {message}",
            target.sandbox_id
        );
        tracing::debug!(%message, "port-forward");
        let _ = errors.write(message.as_bytes()).await;
    }
    let _ = errors.finish().await;
}

/// Joins the data stream to the port; on failure, says why and gives back the data stream's
/// writer to close it with.
async fn forward_port(
    data: SpdyStream,
    netns: Option<&Path>,
    port: u16,
) -> Result<(), (String, StreamWriter)> {
    match connect_in_netns(netns, port).await {
        Ok(connection) => {
            copy_both_ways(data, connection).await;
            Ok(())
        }
        Err(message) => Err((message, data.writer())),
    }
}

/// Copies until both directions ended (each with its half-close) or the client reset the
/// stream.
async fn copy_both_ways(mut data: SpdyStream, connection: TcpStream) {
    let (mut from_pod, mut to_pod) = connection.into_split();
    let writer = data.writer();
    let reset = data.reset_token();
    // `data` stays alive to the end: dropping it would forget the stream and miss its reset.
    let to_pod_done = async {
        while let Some(chunk) = data.read().await {
            if to_pod.write_all(&chunk).await.is_err() {
                return;
            }
        }
        let _ = to_pod.shutdown().await;
    };
    let from_pod_done = async move {
        let mut buffer = vec![0u8; 32 * 1024];
        loop {
            match from_pod.read(&mut buffer).await {
                Ok(0) => {
                    let _ = writer.finish().await;
                    return;
                }
                Ok(n) => {
                    if writer.write(&buffer[..n]).await.is_err() {
                        return;
                    }
                }
                Err(_) => {
                    let _ = writer.reset().await;
                    return;
                }
            }
        }
    };
    tokio::select! {
        _ = async { tokio::join!(to_pod_done, from_pod_done) } => {}
        () = reset.cancelled() => {}
    }
}
