//! What every node test needs: whether this machine can run containers, and waiting with a
//! deadline that shows the server's log when it passes.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::harness::Server;

/// Root, runc, Debian's busybox and CNI plugins; prints why not and returns false otherwise.
pub fn can_run_containers() -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false);
    let tools = ["/bin/busybox", "/usr/lib/cni/bridge"]
        .iter()
        .all(|p| std::path::Path::new(p).exists())
        && Command::new("runc").arg("--version").output().is_ok();
    if !(root && tools) {
        eprintln!("skipping: needs root, runc, /bin/busybox and /usr/lib/cni (scripts/test.sh installs them)");
    }
    root && tools
}

/// Polls `check` until it holds; past `timeout` the test fails with the server log's tail.
pub fn wait_until(server: &Server, what: &str, timeout: Duration, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check() {
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}\nserver log tail:\n{}",
            crate::harness::tail(&server.log())
        );
        std::thread::sleep(Duration::from_millis(150));
    }
}
