//! `kubectl attach`, `kubectl run -it` and `kubectl exec -it` against real containers: stdin and
//! terminals through the shim's attach socket, driven through a pseudo-terminal (`script`).

use std::process::Output;
use std::time::{Duration, Instant};

use crate::harness::{Server, KUBECTL};
use crate::node_agent::BUSYBOX;
use crate::node_support::can_run_containers;

fn wait_until(server: &Server, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !check() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}\nserver log tail:\n{}",
            crate::harness::tail(&server.log())
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn wait_node_ready(server: &Server) {
    wait_until(server, "node r8s-e2e Ready", || {
        let out = server.kubectl(&[
            "get",
            "node",
            "r8s-e2e",
            "-o",
            "jsonpath={.status.conditions[?(@.type==\"Ready\")].status}",
        ]);
        String::from_utf8_lossy(&out.stdout) == "True"
    });
}

/// Runs `shell` (a `sh -c` script that may call `kubectl`) inside the test's network namespace.
fn shell(server: &Server, script: &str) -> Output {
    server
        .command("sh")
        .env("KUBECONFIG", server.kubeconfig())
        .args(["-c", script])
        .output()
        .expect("run sh")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// `kubectl attach` for a few seconds: the lines the logger printed meanwhile.
fn attached_lines(server: &Server, pod: &str) -> Vec<u64> {
    let out = shell(server, &format!("timeout 4 {KUBECTL} attach {pod}"));
    text(&out)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("line-")?.parse().ok())
        .collect()
}

fn assert_live(lines: &[u64], context: &str) {
    assert!(
        lines.len() >= 2 && lines.windows(2).all(|w| w[1] == w[0] + 1),
        "{context}: expected consecutive live lines, got {lines:?}"
    );
}

#[test]
fn node_attaches_to_containers() {
    if !can_run_containers() {
        return;
    }
    let mut server = Server::start_with_node(&[]);
    wait_node_ready(&server);

    // Attach to a running logger: its live output, while the log goes on being written.
    server.ok(&[
        "run",
        "logger",
        &format!("--image={BUSYBOX}"),
        "--restart=Never",
        "--",
        "sh",
        "-c",
        "i=0; while true; do i=$((i+1)); echo line-$i; sleep 1; done",
    ]);
    server.ok(&[
        "wait",
        "--for=condition=Ready",
        "pod/logger",
        "--timeout=60s",
    ]);
    let lines = attached_lines(&server, "logger");
    assert_live(&lines, "kubectl attach");
    assert!(lines[0] > 1, "attach shows live output only: {lines:?}");
    let logs = server.ok(&["logs", "logger"]);
    assert!(logs.starts_with("line-1\n"), "logs: {logs}");
    assert!(logs.contains(&format!("line-{}\n", lines[lines.len() - 1])));

    // `kubectl run -it --rm` with a shell on a terminal: the output, the exit code, the deletion.
    let out = shell(
        &server,
        &format!(
            "printf 'echo hi-$((1+1))\\nexit 7\\n' | script -eqc '{KUBECTL} run -it --rm \
             --restart=Never --image={BUSYBOX} it1 -- sh' /dev/null"
        ),
    );
    let said = text(&out);
    assert!(said.contains("\nhi-2"), "run -it output: {said}");
    assert!(
        said.contains("pod default/it1 terminated (Error)"),
        "run -it output: {said}"
    );
    assert!(
        said.contains("pod \"it1\" deleted"),
        "run -it output: {said}"
    );
    assert_eq!(out.status.code(), Some(7), "run -it: {said}");

    // `kubectl run -i` without a terminal: stdin through a pipe, closed at its end (stdinOnce).
    let out = shell(
        &server,
        &format!(
            "printf 'echo piped-$((4+4))\\n' | {KUBECTL} run -i --rm --restart=Never \
             --image={BUSYBOX} it2 -- sh"
        ),
    );
    let said = text(&out);
    assert!(said.contains("piped-8"), "run -i output: {said}");
    assert!(out.status.success(), "run -i: {said}");

    // `kubectl exec -it` on a terminal: kubectl goes on sending (stdin, its terminal's size)
    // while the shell exits, so this also checks that the session ends with a clean close
    // handshake (a reset used to lose the output and the exit code: `close 1006`).
    let out = shell(
        &server,
        &format!(
            "printf 'echo ex-$((2+3))\\nexit 3\\n' | script -eqc '{KUBECTL} exec -it logger -- sh' \
             /dev/null"
        ),
    );
    let said = text(&out);
    assert!(
        said.contains("\nex-5"),
        "exec -it output: {said}\nserver log:\n{}",
        server.log()
    );
    assert!(
        said.contains("command terminated with exit code 3"),
        "exec -it output: {said}"
    );
    assert_eq!(out.status.code(), Some(3), "exec -it: {said}");

    // The same over SPDY, as kubectl before 1.30 (and client-go's SPDY executor) speak it.
    let spdy = "KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false";
    let out = shell(
        &server,
        &format!("{spdy} {KUBECTL} exec logger -- sh -c 'echo spdy-$((6*7)) >&2; exit 4'"),
    );
    let said = text(&out);
    assert!(said.contains("spdy-42"), "exec over SPDY: {said}");
    assert_eq!(out.status.code(), Some(4), "exec over SPDY: {said}");
    let out = shell(
        &server,
        &format!("printf 'through-spdy\\n' | {spdy} {KUBECTL} exec -i logger -- cat"),
    );
    assert_eq!(text(&out), "through-spdy\n", "exec -i over SPDY");
    let out = shell(
        &server,
        &format!(
            "printf 'echo tty-$((3+4))\\nexit 2\\n' | {spdy} script -eqc '{KUBECTL} exec -it \
             logger -- sh' /dev/null"
        ),
    );
    let said = text(&out);
    assert!(said.contains("\ntty-7"), "exec -it over SPDY: {said}");
    assert_eq!(out.status.code(), Some(2), "exec -it over SPDY: {said}");
    let out = shell(
        &server,
        &format!("{spdy} timeout 4 {KUBECTL} attach logger"),
    );
    let lines: Vec<u64> = text(&out)
        .lines()
        .filter_map(|l| l.trim().strip_prefix("line-")?.parse().ok())
        .collect();
    assert_live(&lines, "kubectl attach over SPDY");

    // After a restart of r8s the adopted container can still be attached.
    server.kill_and_restart();
    wait_node_ready(&server);
    server.ok(&[
        "wait",
        "--for=condition=Ready",
        "pod/logger",
        "--timeout=60s",
    ]);
    wait_until(&server, "attach after the restart", || {
        attached_lines(&server, "logger").len() >= 2
    });
    assert_live(&attached_lines(&server, "logger"), "attach after restart");

    server.ok(&["delete", "pod", "logger", "--grace-period=1"]);
}
