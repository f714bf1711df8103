//! The official Python client (`pip install kubernetes`) against r8s.

use std::process::Command;

use crate::harness::Server;

#[test]
fn official_python_client_works() {
    let available = Command::new("python3")
        .args(["-c", "import kubernetes"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    assert!(
        available,
        "the Python client is missing: python3 -m pip install kubernetes (scripts/test.sh does)"
    );
    let s = Server::start();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/python/client_check.py");
    let out = Command::new("python3")
        .arg(script)
        .arg(s.kubeconfig())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}\nserver: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
        crate::harness::tail(&s.log())
    );
}
