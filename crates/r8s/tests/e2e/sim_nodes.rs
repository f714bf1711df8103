//! `r8s sim` as a child process: simulated nodes for the control-loop scenarios.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::Server;

pub struct SimNodes {
    child: Child,
}

impl SimNodes {
    pub fn start(server: &Server, args: &[&str]) -> Self {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(server.dir.path().join("sim.log"))
            .expect("sim log");
        let child = Command::new(env!("CARGO_BIN_EXE_r8s"))
            .arg("sim")
            .arg("--kubeconfig")
            .arg(server.kubeconfig())
            .args(args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start r8s sim");
        SimNodes { child }
    }
}

impl Drop for SimNodes {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Poll `check` until it returns true or `timeout` passes (then panic with `what`).
pub fn wait_until(timeout: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(250));
    }
}
