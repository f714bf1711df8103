use super::*;
use fake_runtime::fake_cri;
use k8s_cri::v1::ExecSyncResponse;
use k8s_openapi::api::core::v1::{ContainerPort, ExecAction, TCPSocketAction};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

fn exec_probe(command: &[&str]) -> Probe {
    Probe {
        exec: Some(ExecAction {
            command: Some(command.iter().map(|s| s.to_string()).collect()),
        }),
        timeout_seconds: Some(3),
        ..Default::default()
    }
}

#[tokio::test]
async fn exec_probe_through_cri() {
    let dir = tempfile::tempdir().unwrap();
    let cri = fake_cri(dir.path(), |request| {
        assert_eq!(request.container_id, "c1");
        assert_eq!(request.timeout, 3);
        let fail = request.cmd.last().map(String::as_str) == Some("fail");
        ExecSyncResponse {
            stdout: if fail { b"out ".to_vec() } else { Vec::new() },
            stderr: if fail { b"broken".to_vec() } else { Vec::new() },
            exit_code: i32::from(fail),
        }
    })
    .await;
    assert_eq!(
        run_probe(&cri, &exec_probe(&["check", "ok"]), "c1", None).await,
        ProbeResult::Success
    );
    assert_eq!(
        run_probe(&cri, &exec_probe(&["check", "fail"]), "c1", None).await,
        ProbeResult::Failure("out broken".into())
    );
}

#[tokio::test]
async fn tcp_probe_with_named_port() {
    let dir = tempfile::tempdir().unwrap();
    let cri = fake_cri(dir.path(), |_| ExecSyncResponse::default()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let container = Container {
        name: "c".into(),
        ports: Some(vec![ContainerPort {
            name: Some("svc".into()),
            container_port: i32::from(port),
            ..Default::default()
        }]),
        ..Default::default()
    };
    let probe = Probe {
        tcp_socket: Some(TCPSocketAction {
            port: IntOrString::String("svc".into()),
            host: None,
        }),
        ..Default::default()
    };
    assert_eq!(
        run_container_probe(&cri, &probe, Some(&container), "c1", Some("127.0.0.1")).await,
        ProbeResult::Success
    );
    drop(listener);
    assert_eq!(
        run_container_probe(&cri, &probe, Some(&container), "c1", Some("127.0.0.1")).await,
        ProbeResult::Failure(format!(
            "dial tcp 127.0.0.1:{port}: connect: connection refused"
        ))
    );
}

#[tokio::test]
async fn http_probe_status_message() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let cri = fake_cri(dir.path(), |_| ExecSyncResponse::default()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 1024];
            let _ = stream.read(&mut buf).await;
            let _ = stream
                .write_all(b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n")
                .await;
        }
    });
    let probe = Probe {
        http_get: Some(HTTPGetAction {
            path: Some("healthz".into()),
            port: IntOrString::Int(i32::from(port)),
            ..Default::default()
        }),
        ..Default::default()
    };
    assert_eq!(
        run_probe(&cri, &probe, "c1", Some("127.0.0.1")).await,
        ProbeResult::Failure("HTTP probe failed with statuscode: 500".into())
    );
}
