//! The streaming server end to end on loopback: exec over WebSocket (v5 and v4) with a runner
//! that runs commands on the host, and port-forward over plain SPDY and SPDY-in-WebSocket to
//! an echo server in this network namespace.

use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use runtime::streaming::spdy::{Role, SpdySession, SpdyStream};
use runtime::streaming::{
    websocket_as_bytes, ExecTarget, ForwardTarget, HostExecRunner, StreamRequest, StreamingServer,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

const TIMEOUT: Duration = Duration::from_secs(20);

async fn server() -> StreamingServer {
    StreamingServer::start(Arc::new(HostExecRunner))
        .await
        .unwrap()
}

fn exec_target(cmd: &[&str], tty: bool, stdin: bool) -> StreamRequest {
    StreamRequest::Exec(ExecTarget {
        container_id: "c1".into(),
        cmd: cmd.iter().map(|s| s.to_string()).collect(),
        tty,
        stdin,
        stdout: true,
        stderr: !tty,
    })
}

type Socket = tokio_tungstenite::WebSocketStream<TcpStream>;

async fn connect_websocket(url: &str, subprotocol: &str) -> Socket {
    let url = url.replace("http://", "ws://");
    let mut request = url.as_str().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", subprotocol.parse().unwrap());
    let host = request.uri().authority().unwrap().to_string();
    let stream = TcpStream::connect(host).await.unwrap();
    let (socket, response) = tokio_tungstenite::client_async(request, stream)
        .await
        .unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], subprotocol);
    socket
}

/// What came back on each channel until the server closed.
#[derive(Default, Debug)]
struct ExecOutput {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    status: Option<serde_json::Value>,
}

async fn collect(socket: &mut Socket) -> ExecOutput {
    let mut output = ExecOutput::default();
    while let Some(message) = tokio::time::timeout(TIMEOUT, socket.next()).await.unwrap() {
        match message.unwrap() {
            Message::Binary(data) => match data[0] {
                1 => output.stdout.extend_from_slice(&data[1..]),
                2 => output.stderr.extend_from_slice(&data[1..]),
                3 => output.status = Some(serde_json::from_slice(&data[1..]).unwrap()),
                other => panic!("unexpected channel {other}"),
            },
            Message::Close(frame) => {
                assert_eq!(frame.map(|f| u16::from(f.code)), Some(1000));
                break;
            }
            _ => {}
        }
    }
    output
}

#[tokio::test]
async fn exec_v5_pipes_stdin_to_eof_and_reports_the_exit_code() {
    let server = server().await;
    let url = server.register(exec_target(
        &["sh", "-c", "cat; echo oops >&2; exit 3"],
        false,
        true,
    ));
    let mut socket = connect_websocket(&url, "v5.channel.k8s.io").await;
    socket
        .send(Message::Binary(b"\x00hello ".to_vec().into()))
        .await
        .unwrap();
    socket
        .send(Message::Binary(b"\x00world".to_vec().into()))
        .await
        .unwrap();
    // v5: close stdin (channel 255 naming stream 0); `cat` ends on EOF.
    socket
        .send(Message::Binary(vec![255, 0].into()))
        .await
        .unwrap();
    let output = collect(&mut socket).await;
    assert_eq!(output.stdout, b"hello world");
    assert_eq!(output.stderr, b"oops\n");
    let status = output.status.unwrap();
    assert_eq!(status["status"], "Failure");
    assert_eq!(status["reason"], "NonZeroExitCode");
    assert_eq!(status["details"]["causes"][0]["reason"], "ExitCode");
    assert_eq!(status["details"]["causes"][0]["message"], "3");
    assert_eq!(
        status["message"],
        "command terminated with non-zero exit code: error executing command [sh -c cat; echo oops >&2; exit 3], exit code 3"
    );
}

#[tokio::test]
async fn exec_v4_reports_success() {
    let server = server().await;
    let url = server.register(exec_target(&["echo", "hi"], false, false));
    let mut socket = connect_websocket(&url, "v4.channel.k8s.io").await;
    let output = collect(&mut socket).await;
    assert_eq!(output.stdout, b"hi\n");
    assert_eq!(output.status.unwrap()["status"], "Success");
}

#[tokio::test]
async fn exec_with_a_terminal_applies_resizes() {
    let server = server().await;
    let url = server.register(exec_target(
        &["sh", "-c", "read go; stty size; exit 5"],
        true,
        true,
    ));
    let mut socket = connect_websocket(&url, "v5.channel.k8s.io").await;
    socket
        .send(Message::Binary(
            b"\x04{\"Width\":100,\"Height\":40}".to_vec().into(),
        ))
        .await
        .unwrap();
    // The host runner's terminal is raw (runc cooks its own): a newline, not Enter's CR.
    socket
        .send(Message::Binary(b"\x00go\n".to_vec().into()))
        .await
        .unwrap();
    let output = collect(&mut socket).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("40 100"), "{stdout:?}");
    assert!(output.stderr.is_empty());
    assert_eq!(
        output.status.unwrap()["details"]["causes"][0]["message"],
        "5"
    );
}

#[tokio::test]
async fn a_command_that_cannot_start_is_reported_on_the_error_channel() {
    let server = server().await;
    let url = server.register(exec_target(&["/nonexistent/binary"], false, false));
    let mut socket = connect_websocket(&url, "v5.channel.k8s.io").await;
    let status = collect(&mut socket).await.status.unwrap();
    assert_eq!(status["status"], "Failure");
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("failed to exec"),
        "{status}"
    );
}

#[tokio::test]
async fn a_token_serves_once() {
    let server = server().await;
    let url = server.register(exec_target(&["true"], false, false));
    let mut socket = connect_websocket(&url, "v5.channel.k8s.io").await;
    collect(&mut socket).await;
    let url = url.replace("http://", "ws://");
    let mut request = url.as_str().into_client_request().unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "v5.channel.k8s.io".parse().unwrap(),
    );
    let host = request.uri().authority().unwrap().to_string();
    let stream = TcpStream::connect(host).await.unwrap();
    let refused = tokio_tungstenite::client_async(request, stream)
        .await
        .unwrap_err();
    assert!(refused.to_string().contains("404"), "{refused}");
}

/// An echo server on 127.0.0.1 in this network namespace; returns its port.
async fn echo_server() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut connection, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut reader, mut writer) = connection.split();
                let _ = tokio::io::copy(&mut reader, &mut writer).await;
            });
        }
    });
    port
}

fn forward_target() -> StreamRequest {
    StreamRequest::PortForward(ForwardTarget {
        sandbox_id: "sandbox-1".into(),
        netns_path: None,
    })
}

/// Upgrades to SPDY/3.1 by hand, as spdystream's clients do.
async fn connect_spdy(url: &str) -> TcpStream {
    connect_spdy_offering(url, &["portforward.k8s.io"], "portforward.k8s.io").await
}

/// Upgrades to SPDY/3.1 offering `protocols` (one header each, as client-go) and checks that the
/// server chose `chosen`.
async fn connect_spdy_offering(url: &str, protocols: &[&str], chosen: &str) -> TcpStream {
    let mut stream = send_spdy_upgrade(url, protocols).await;
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        head.push(stream.read_u8().await.unwrap());
    }
    let head = String::from_utf8(head).unwrap().to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 101"), "{head}");
    assert!(
        head.contains(&format!("x-stream-protocol-version: {chosen}")),
        "{head}"
    );
    stream
}

/// Sends the upgrade request offering `protocols` (one header each, as client-go); the answer
/// is left to read.
async fn send_spdy_upgrade(url: &str, protocols: &[&str]) -> TcpStream {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_once('/').unwrap();
    let mut stream = TcpStream::connect(host).await.unwrap();
    let offered: String = protocols
        .iter()
        .map(|p| format!("X-Stream-Protocol-Version: {p}\r\n"))
        .collect();
    let request = format!(
        "POST /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n\
         {offered}\r\n"
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    stream
}

/// The protocols client-go's SPDY executor offers, best first.
const SPDY_EXECUTOR_PROTOCOLS: [&str; 5] = [
    "v5.channel.k8s.io",
    "v4.channel.k8s.io",
    "v3.channel.k8s.io",
    "v2.channel.k8s.io",
    "channel.k8s.io",
];

fn stream_type(name: &str) -> Vec<(String, String)> {
    vec![("streamType".into(), name.into())]
}

#[tokio::test]
async fn exec_over_spdy_pipes_stdin_to_eof_and_reports_the_exit_code() {
    let server = server().await;
    let url = server.register(exec_target(
        &["sh", "-c", "cat; echo oops >&2; exit 3"],
        false,
        true,
    ));
    let stream = connect_spdy_offering(&url, &SPDY_EXECUTOR_PROTOCOLS, "v4.channel.k8s.io").await;
    let session = SpdySession::start(stream, Role::Client).unwrap();
    // client-go's order: error, stdin, stdout, stderr.
    let mut error = session.open(stream_type("error")).await.unwrap();
    error.writer().finish().await.unwrap();
    let stdin = session.open(stream_type("stdin")).await.unwrap();
    let mut stdout = session.open(stream_type("stdout")).await.unwrap();
    let mut stderr = session.open(stream_type("stderr")).await.unwrap();
    stdin.writer().write(b"hello ").await.unwrap();
    stdin.writer().write(b"world").await.unwrap();
    stdin.writer().finish().await.unwrap();
    assert_eq!(read_to_end(&mut stdout).await, b"hello world");
    assert_eq!(read_to_end(&mut stderr).await, b"oops\n");
    let raw = read_to_end(&mut error).await;
    let status: serde_json::Value = serde_json::from_slice(&raw)
        .unwrap_or_else(|e| panic!("{e}: {:?}", String::from_utf8_lossy(&raw)));
    assert_eq!(status["status"], "Failure");
    assert_eq!(status["reason"], "NonZeroExitCode");
    assert_eq!(status["details"]["causes"][0]["message"], "3");
    tokio::time::timeout(TIMEOUT, session.closed())
        .await
        .unwrap();
}

#[tokio::test]
async fn exec_over_spdy_with_a_terminal_applies_resizes() {
    let server = server().await;
    let url = server.register(exec_target(
        &["sh", "-c", "read go; stty size; exit 0"],
        true,
        true,
    ));
    let stream = connect_spdy_offering(&url, &SPDY_EXECUTOR_PROTOCOLS, "v4.channel.k8s.io").await;
    let session = SpdySession::start(stream, Role::Client).unwrap();
    let mut error = session.open(stream_type("error")).await.unwrap();
    let stdin = session.open(stream_type("stdin")).await.unwrap();
    let mut stdout = session.open(stream_type("stdout")).await.unwrap();
    let resize = session.open(stream_type("resize")).await.unwrap();
    // Go's json.Encoder: one object per line, possibly split across frames.
    resize.writer().write(b"{\"Width\":100,").await.unwrap();
    resize.writer().write(b"\"Height\":40}\n").await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    stdin.writer().write(b"go\n").await.unwrap();
    let stdout = String::from_utf8(read_to_end(&mut stdout).await).unwrap();
    assert!(stdout.contains("40 100"), "{stdout:?}");
    let status: serde_json::Value = serde_json::from_slice(&read_to_end(&mut error).await).unwrap();
    assert_eq!(status["status"], "Success", "{status}");
}

#[tokio::test]
async fn exec_over_spdy_refuses_clients_without_v4() {
    let server = server().await;
    let url = server.register(exec_target(&["true"], false, false));
    let mut stream = send_spdy_upgrade(&url, &["channel.k8s.io"]).await;
    let mut answer = vec![0u8; 512];
    let n = stream.read(&mut answer).await.unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert!(answer.contains("unable to negotiate protocol"), "{answer}");
}

fn headers(stream_type: &str, port: u16, request_id: u32) -> Vec<(String, String)> {
    vec![
        ("streamType".into(), stream_type.into()),
        ("port".into(), port.to_string()),
        ("requestID".into(), request_id.to_string()),
    ]
}

async fn read_to_end(stream: &mut SpdyStream) -> Vec<u8> {
    let mut all = Vec::new();
    while let Some(chunk) = tokio::time::timeout(TIMEOUT, stream.read()).await.unwrap() {
        all.extend_from_slice(&chunk);
    }
    all
}

/// One forwarded connection as kubectl makes it: error stream (half-closed at once), then the
/// data stream.
async fn forward_once(
    session: &SpdySession,
    port: u16,
    request_id: u32,
    payload: &[u8],
) -> (Vec<u8>, Vec<u8>) {
    let mut error = session
        .open(headers("error", port, request_id))
        .await
        .unwrap();
    error.writer().finish().await.unwrap();
    let mut data = session
        .open(headers("data", port, request_id))
        .await
        .unwrap();
    data.writer().write(payload).await.unwrap();
    data.writer().finish().await.unwrap();
    let echoed = read_to_end(&mut data).await;
    let errors = read_to_end(&mut error).await;
    (echoed, errors)
}

#[tokio::test]
async fn port_forward_over_spdy_copies_both_ways_with_half_close() {
    let port = echo_server().await;
    let server = server().await;
    let url = server.register(forward_target());
    let session = SpdySession::start(connect_spdy(&url).await, Role::Client).unwrap();
    let big: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    for (request_id, payload) in [(0, &b"ping"[..]), (1, &big[..])] {
        let (echoed, errors) = forward_once(&session, port, request_id, payload).await;
        assert_eq!(echoed, payload);
        assert!(errors.is_empty(), "{}", String::from_utf8_lossy(&errors));
    }
}

#[tokio::test]
async fn port_forward_reports_a_closed_port_on_the_error_stream() {
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let server = server().await;
    let url = server.register(forward_target());
    let session = SpdySession::start(connect_spdy(&url).await, Role::Client).unwrap();
    let (_, errors) = forward_once(&session, closed_port, 0, b"x").await;
    let errors = String::from_utf8(errors).unwrap();
    assert!(
        errors.starts_with(&format!(
            "error forwarding port {closed_port} to pod sandbox-1, uid : "
        )),
        "{errors}"
    );
}

#[tokio::test]
async fn port_forward_over_websocket_tunnels_spdy() {
    let port = echo_server().await;
    let server = server().await;
    let url = server.register(forward_target());
    let socket = connect_websocket(&url, "SPDY/3.1+portforward.k8s.io").await;
    let session = SpdySession::start(websocket_as_bytes(socket), Role::Client).unwrap();
    let (echoed, errors) = forward_once(&session, port, 0, b"through the tunnel").await;
    assert_eq!(echoed, b"through the tunnel");
    assert!(errors.is_empty());
}
