//! Bodies real kubectl v1.32 sends as protobuf. The fixtures were captured from kubectl against
//! a loopback listener; each must decode to exactly the JSON that kubectl prints for the same
//! object with `--dry-run=client -o json` (Go's encoding/json of the same Go object).
//! `live_kubectl_capture` repeats the capture with the kubectl on PATH, when there is one.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};

fn namespace_json() -> Value {
    json!({
        "kind": "Namespace", "apiVersion": "v1",
        "metadata": {"name": "foo", "creationTimestamp": null},
        "spec": {}, "status": {}
    })
}

#[test]
fn kubectl_create_namespace() {
    let body = include_bytes!("fixtures/kubectl-create-namespace.bin");
    assert_eq!(api_protobuf::decode(body).unwrap(), namespace_json());
}

#[test]
fn kubectl_create_configmap() {
    let body = include_bytes!("fixtures/kubectl-create-configmap.bin");
    let expected = json!({
        "kind": "ConfigMap", "apiVersion": "v1",
        "metadata": {"name": "x", "namespace": "default", "creationTimestamp": null},
        "data": {"a": "b"}
    });
    assert_eq!(api_protobuf::decode(body).unwrap(), expected);
}

#[test]
fn kubectl_create_secret_keeps_binary_data() {
    // --from-literal=k=$'\x01\xffbin'
    let body = include_bytes!("fixtures/kubectl-create-secret.bin");
    let expected = json!({
        "kind": "Secret", "apiVersion": "v1",
        "metadata": {"name": "s", "namespace": "default", "creationTimestamp": null},
        "data": {"k": "Af9iaW4="}
    });
    assert_eq!(api_protobuf::decode(body).unwrap(), expected);
}

#[test]
fn kubectl_create_deployment_keeps_replicas_zero() {
    // --image=nginx --replicas=0
    let body = include_bytes!("fixtures/kubectl-create-deployment.bin");
    let labels = json!({"app": "d"});
    let expected = json!({
        "kind": "Deployment", "apiVersion": "apps/v1",
        "metadata": {"name": "d", "namespace": "default", "creationTimestamp": null, "labels": labels},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"creationTimestamp": null, "labels": labels},
                "spec": {"containers": [{"name": "nginx", "image": "nginx", "resources": {}}]}
            },
            "strategy": {}
        },
        "status": {}
    });
    assert_eq!(api_protobuf::decode(body).unwrap(), expected);
}

#[test]
fn kubectl_create_job() {
    let body = include_bytes!("fixtures/kubectl-create-job.bin");
    let expected = json!({
        "kind": "Job", "apiVersion": "batch/v1",
        "metadata": {"name": "j", "namespace": "default", "creationTimestamp": null},
        "spec": {
            "template": {
                "metadata": {"creationTimestamp": null},
                "spec": {
                    "containers": [{"name": "j", "image": "busybox", "resources": {}}],
                    "restartPolicy": "Never"
                }
            }
        },
        "status": {}
    });
    assert_eq!(api_protobuf::decode(body).unwrap(), expected);
}

#[test]
fn kubectl_auth_can_i() {
    // kubectl auth can-i get pods -n default
    let body = include_bytes!("fixtures/kubectl-auth-can-i.bin");
    let expected = json!({
        "kind": "SelfSubjectAccessReview", "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": null},
        "spec": {"resourceAttributes": {"namespace": "default", "verb": "get", "resource": "pods"}},
        "status": {"allowed": false}
    });
    assert_eq!(api_protobuf::decode(body).unwrap(), expected);
}

/// Serves discovery for namespaces and hands the first POST body back through the channel.
fn serve_once(listener: TcpListener, bodies: mpsc::Sender<(String, Vec<u8>)>) {
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { return };
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).is_err() {
            continue;
        }
        let mut length = 0usize;
        let mut content_type = String::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            let lower = line.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse().unwrap_or(0);
            }
            if let Some(v) = lower.strip_prefix("content-type:") {
                content_type = v.trim().to_string();
            }
        }
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body).unwrap();
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("")
            .to_string();
        let path = path.split('?').next().unwrap_or("").to_string();
        let (status, reply) = if request_line.starts_with("POST") {
            let _ = bodies.send((content_type, body));
            (
                "500 Internal Server Error",
                json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 500, "message": "captured"}),
            )
        } else if path == "/api" {
            (
                "200 OK",
                json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []}),
            )
        } else if path == "/apis" {
            (
                "200 OK",
                json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": []}),
            )
        } else if path == "/api/v1" {
            (
                "200 OK",
                json!({"kind": "APIResourceList", "groupVersion": "v1", "resources": [
                    {"name": "namespaces", "singularName": "namespace", "namespaced": false, "kind": "Namespace", "verbs": ["create", "get"]}
                ]}),
            )
        } else {
            (
                "404 Not Found",
                json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 404}),
            )
        };
        let reply = reply.to_string();
        let _ = write!(
            stream,
            "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
            reply.len()
        );
    }
}

#[test]
fn live_kubectl_capture() {
    if Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_err()
    {
        eprintln!("no kubectl on PATH: skipped");
        return;
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    let (sender, receiver) = mpsc::channel();
    std::thread::spawn(move || serve_once(listener, sender));
    let output = Command::new("kubectl")
        .env("KUBECONFIG", "/dev/null")
        .args(["create", "namespace", "foo", "--request-timeout=20s"])
        .arg(format!("--server=http://{address}"))
        .output()
        .unwrap();
    let (content_type, body) = receiver
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| {
            panic!(
                "kubectl sent no body: {}",
                String::from_utf8_lossy(&output.stderr)
            )
        });
    assert_eq!(content_type, api_protobuf::PROTOBUF_CONTENT_TYPE);
    assert_eq!(api_protobuf::decode(&body).unwrap(), namespace_json());
    let printed = Command::new("kubectl")
        .env("KUBECONFIG", "/dev/null")
        .args([
            "create",
            "namespace",
            "foo",
            "--dry-run=client",
            "-o",
            "json",
        ])
        .output()
        .unwrap();
    let printed: Value = serde_json::from_slice(&printed.stdout).unwrap();
    assert_eq!(api_protobuf::decode(&body).unwrap(), printed);
}
