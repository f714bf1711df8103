//! First start, health, version, authentication, and watches.

use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::harness::{manifest, path_str, Server, KUBECTL};

#[test]
fn first_start_writes_kubeconfig_and_bootstraps() {
    let extra = tempfile::tempdir().unwrap();
    let copy = extra.path().join("nested/admin.yaml");
    let s = Server::start_with(&["--write-kubeconfig", path_str(&copy)]);
    let mode = std::fs::metadata(s.kubeconfig())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    assert!(copy.exists());
    let namespaces = s.ok(&["get", "namespaces", "-o", "name"]);
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        assert!(
            namespaces.contains(&format!("namespace/{ns}")),
            "{namespaces}"
        );
    }
    let svc = s.ok(&["get", "svc", "kubernetes", "-n", "default"]);
    assert!(
        svc.contains("10.43.0.1") && svc.contains("443/TCP"),
        "{svc}"
    );
    let verbose = s.ok(&["get", "--raw", "/readyz?verbose"]);
    assert!(
        verbose.contains("[+]ping ok") && verbose.contains("readyz check passed"),
        "{verbose}"
    );
    assert_eq!(s.ok(&["get", "--raw", "/livez"]), "ok");
    let version = s.ok(&["version", "-o", "json"]);
    assert!(
        version.contains("\"gitVersion\": \"v1.33.0+r8s\""),
        "{version}"
    );
    let metrics = s.ok(&["get", "--raw", "/metrics"]);
    assert!(metrics.contains("apiserver_request_total{"), "{metrics}");
}

#[test]
fn anonymous_and_token_authentication() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("tokens.csv");
    std::fs::write(
        &tokens,
        "admintoken,alice,1,\"system:masters\"\nplaintoken,bob,2,dev\n",
    )
    .unwrap();
    let s = Server::start_with(&["--token-file", path_str(&tokens)]);
    let server = format!("https://127.0.0.1:{}", s.port);
    let as_token = |token: &str, args: &[&str]| {
        Command::new(KUBECTL)
            .args([
                "--kubeconfig",
                "/dev/null",
                "--server",
                &server,
                "--insecure-skip-tls-verify",
            ])
            .args(["--token", token])
            .args(args)
            .output()
            .unwrap()
    };
    let out = as_token("admintoken", &["get", "ns", "-o", "name"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = as_token("plaintoken", &["get", "configmaps"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("User \"bob\" cannot list resource \"configmaps\" in API group \"\" in the namespace \"default\""), "{err}");
    let out = as_token("wrong", &["get", "configmaps"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("Unauthorized"), "{err}");
    // Anonymous requests: health checks are open, everything else is 401.
    let curl = |path: &str| {
        let out = Command::new("curl")
            .args(["-sk", &format!("{server}{path}")])
            .output()
            .expect("curl is installed (scripts/test.sh installs it)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(curl("/healthz"), "ok");
    let version = curl("/version");
    assert!(version.contains("v1.33.0+r8s"), "{version}");
    let denied = curl("/api/v1/namespaces");
    assert!(
        denied.contains("\"code\":401") && denied.contains("Unauthorized"),
        "{denied}"
    );
}

/// Run `kubectl <args>` (a watch), do `changes` once it is listening, and return what it
/// printed until a line satisfies `last` (or 5 s pass without output).
fn kubectl_watch(
    s: &Server,
    args: &[&str],
    changes: impl FnOnce(),
    last: impl Fn(&str) -> bool,
) -> String {
    let mut watcher = Command::new(KUBECTL)
        .env("KUBECONFIG", s.kubeconfig())
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = watcher.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    std::thread::sleep(Duration::from_millis(700));
    changes();
    let mut seen = Vec::new();
    while let Ok(line) = rx.recv_timeout(Duration::from_secs(5)) {
        let done = last(&line);
        seen.push(line);
        if done {
            break;
        }
    }
    let _ = watcher.kill();
    let _ = watcher.wait();
    seen.join("\n")
}

#[test]
fn kubectl_get_watch_streams_changes() {
    let s = Server::start();
    let text = kubectl_watch(
        &s,
        &["get", "configmaps", "-w", "--output-watch-events"],
        || {
            s.ok(&["create", "configmap", "watched"]);
            s.ok(&["label", "configmap", "watched", "a=b"]);
            s.ok(&["delete", "configmap", "watched"]);
        },
        |line| line.starts_with("DELETED"),
    );
    assert!(
        text.contains("ADDED") && text.contains("MODIFIED") && text.contains("DELETED"),
        "{text}"
    );
    assert!(text.contains("watched"), "{text}");
}

#[test]
fn restart_keeps_objects_and_resumes_watches() {
    let mut s = Server::start();
    let file = manifest(
        &s,
        "cm.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kept\ndata:\n  a: \"1\"\n",
    );
    s.ok(&["create", "-f", path_str(&file)]);
    let rv_before: i64 = s
        .ok(&[
            "get",
            "cm",
            "kept",
            "-o",
            "jsonpath={.metadata.resourceVersion}",
        ])
        .parse()
        .unwrap();
    s.restart();
    assert_eq!(
        s.ok(&["get", "cm", "kept", "-o", "jsonpath={.data.a}"]),
        "1"
    );
    s.ok(&["create", "configmap", "after-restart"]);
    s.ok(&["patch", "cm", "kept", "-p", r#"{"data":{"a":"2"}}"#]);
    let rv_after: i64 = s
        .ok(&[
            "get",
            "cm",
            "kept",
            "-o",
            "jsonpath={.metadata.resourceVersion}",
        ])
        .parse()
        .unwrap();
    assert!(
        rv_after > rv_before,
        "resourceVersions only grow: {rv_before} -> {rv_after}"
    );
    s.kill_and_restart();
    // A watch resumed from the revision before the restart gets exactly the missed events.
    let events = s.ok(&[
        "get",
        "--raw",
        &format!("/api/v1/namespaces/default/configmaps?watch=true&resourceVersion={rv_before}&timeoutSeconds=2"),
    ]);
    let lines: Vec<serde_json::Value> = events
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let summary: Vec<(String, String)> = lines
        .iter()
        .map(|e| {
            (
                e["type"].as_str().unwrap().to_string(),
                e["object"]["metadata"]["name"]
                    .as_str()
                    .unwrap()
                    .to_string(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("ADDED".to_string(), "after-restart".to_string()),
            ("MODIFIED".to_string(), "kept".to_string())
        ],
        "{events}"
    );
}

#[test]
fn events_expire_after_the_event_ttl() {
    let s = Server::start_with(&["--event-ttl", "2s"]);
    let event = "apiVersion: v1\nkind: Event\nmetadata:\n  name: short-lived\ninvolvedObject:\n  kind: ConfigMap\n  name: x\n  namespace: default\nreason: Tested\nmessage: gone soon\n";
    let file = manifest(&s, "event.yaml", event);
    s.ok(&["create", "-f", path_str(&file)]);
    s.ok(&["create", "configmap", "stays"]);
    assert!(s
        .ok(&["get", "events", "-o", "name"])
        .contains("short-lived"));
    let deadline = std::time::Instant::now() + Duration::from_secs(15);
    while s
        .ok(&["get", "events", "-o", "name"])
        .contains("short-lived")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the event outlived its TTL"
        );
        std::thread::sleep(Duration::from_millis(250));
    }
    assert!(s.ok(&["get", "configmaps", "-o", "name"]).contains("stays"));
}

#[test]
fn watch_list_bookmark_and_size_limits() {
    let s = Server::start();
    s.ok(&["create", "configmap", "one"]);
    let events = s.ok(&[
        "get",
        "--raw",
        "/api/v1/namespaces/default/configmaps?watch=1&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=1",
    ]);
    let events: Vec<serde_json::Value> = events
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "ADDED" && e["object"]["metadata"]["name"] == "one"),
        "{events:?}"
    );
    let last = events.last().unwrap();
    assert_eq!(last["type"], "BOOKMARK", "{events:?}");
    assert_eq!(
        last["object"]["metadata"]["annotations"]["k8s.io/initial-events-end"],
        "true"
    );

    // Over ConfigMap's own 1 MiB limit: a 422 from validation.
    let big = s.dir.path().join("big.txt");
    std::fs::write(&big, "x".repeat(2 * 1024 * 1024)).unwrap();
    let err = s.fails(&[
        "create",
        "configmap",
        "big",
        &format!("--from-file=data={}", big.display()),
    ]);
    assert!(err.contains("Too long"), "{err}");
    // A valid object over storage's 1.5 MiB limit: 413.
    let pod = format!(
        "apiVersion: v1\nkind: PodTemplate\nmetadata:\n  name: huge-args\ntemplate:\n  spec:\n    containers:\n    - name: c\n      image: busybox\n      args: [\"{}\"]\n",
        "y".repeat(2 * 1024 * 1024)
    );
    let err = s.fails(&[
        "create",
        "-f",
        path_str(&manifest(&s, "huge-args.yaml", &pod)),
    ]);
    assert!(err.contains("Request entity too large"), "{err}");
    let huge = s.dir.path().join("huge.txt");
    std::fs::write(&huge, "x".repeat(4 * 1024 * 1024)).unwrap();
    let err = s.fails(&[
        "create",
        "configmap",
        "huge",
        &format!("--from-file=data={}", huge.display()),
    ]);
    assert!(
        err.contains("Request entity too large: limit is 3145728"),
        "{err}"
    );
    assert!(!s.ok(&["get", "cm", "-o", "name"]).contains("big"));
}

/// Events are not in the watch cache (as upstream): their lists, watches, field selectors,
/// the events.k8s.io view and deletecollection all read storage.
#[test]
fn events_are_served_from_storage() {
    let s = Server::start();
    let event = |name: &str, reason: &str| {
        format!(
            "apiVersion: v1\nkind: Event\nmetadata:\n  name: {name}\ninvolvedObject:\n  kind: ConfigMap\n  name: cm\n  namespace: default\nreason: {reason}\nmessage: about {name}\ntype: Normal\n"
        )
    };
    s.ok(&[
        "create",
        "-f",
        path_str(&manifest(&s, "e1.yaml", &event("first", "Alpha"))),
    ]);
    let text = kubectl_watch(
        &s,
        &["get", "events", "-w", "-o", "name"],
        || {
            s.ok(&[
                "create",
                "-f",
                path_str(&manifest(&s, "e2.yaml", &event("second", "Beta"))),
            ]);
        },
        |line| line.contains("second"),
    );
    assert!(text.contains("event/first"), "{text}");
    assert!(text.contains("event/second"), "{text}");

    let listed = s.ok(&["get", "events", "-o", "name"]);
    assert!(
        listed.contains("event/first") && listed.contains("event/second"),
        "{listed}"
    );
    let selected = s.ok(&[
        "get",
        "events",
        "--field-selector",
        "reason=Beta",
        "-o",
        "name",
    ]);
    assert_eq!(selected.trim(), "event/second");
    let new_api = s.ok(&["get", "events.v1.events.k8s.io", "-o", "name"]);
    assert!(new_api.contains("second"), "{new_api}");
    let paged = s.ok(&["get", "events", "--chunk-size", "1", "-o", "name"]);
    assert_eq!(paged.lines().count(), 2, "{paged}");

    s.ok(&["delete", "events", "--all"]);
    let after = s.ok(&["get", "events", "-o", "name"]);
    assert!(after.trim().is_empty(), "{after}");
}
