//! Fixtures shared by the integration tests: a fresh embedded store in a tempdir, or a real etcd
//! process on free loopback ports, killed when the fixture drops.
#![allow(dead_code)] // each test binary uses a different part

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use storage::embedded::EmbeddedBackend;
use storage::etcd::EtcdBackend;
use storage::Backend;

const ETCD_BINARY: &str = "/usr/bin/etcd";

pub struct EmbeddedFixture {
    pub backend: EmbeddedBackend,
    pub dir: tempfile::TempDir,
}

impl EmbeddedFixture {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let backend = EmbeddedBackend::open(db_path(dir.path()))
            .await
            .expect("open embedded store");
        Self { backend, dir }
    }

    pub fn backend(&self) -> &dyn Backend {
        &self.backend
    }
}

pub fn db_path(dir: &Path) -> PathBuf {
    dir.join("store.redb")
}

pub struct EtcdFixture {
    pub backend: EtcdBackend,
    process: EtcdProcess,
}

impl EtcdFixture {
    /// Starts a private single-member etcd. Fails (never skips) when the binary is missing: CI
    /// installs it, and a silently skipped backend would hide regressions.
    pub async fn start() -> Self {
        let binary = std::env::var("ETCD_BIN").unwrap_or_else(|_| ETCD_BINARY.to_owned());
        assert!(
            Path::new(&binary).exists(),
            "etcd conformance tests need the etcd binary at {binary} (install Debian's `etcd-server` \
             package, or set ETCD_BIN); refusing to skip them"
        );
        let mut last_failure = String::new();
        // A free port can be taken by someone else between probing and etcd binding it: retry.
        for _attempt in 0..3 {
            let mut process = EtcdProcess::spawn(&binary);
            match process.connect().await {
                Ok(backend) => return Self { backend, process },
                Err(failure) => last_failure = failure,
            }
        }
        panic!("etcd did not start: {last_failure}");
    }

    pub fn backend(&self) -> &dyn Backend {
        &self.backend
    }

    pub fn endpoint(&self) -> String {
        self.process.endpoint.clone()
    }
}

struct EtcdProcess {
    child: Child,
    endpoint: String,
    dir: tempfile::TempDir,
}

impl EtcdProcess {
    fn spawn(binary: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let client = format!("http://127.0.0.1:{}", free_port());
        let peer = format!("http://127.0.0.1:{}", free_port());
        let log = std::fs::File::create(dir.path().join("etcd.log")).expect("etcd log file");
        let child = Command::new(binary)
            .args(["--name", "conformance"])
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .args(["--listen-client-urls", &client])
            .args(["--advertise-client-urls", &client])
            .args(["--listen-peer-urls", &peer])
            .args(["--initial-advertise-peer-urls", &peer])
            .args(["--initial-cluster", &format!("conformance={peer}")])
            .args(["--initial-cluster-state", "new"])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("spawn etcd");
        Self {
            child,
            endpoint: client,
            dir,
        }
    }

    async fn connect(&mut self) -> Result<EtcdBackend, String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("etcd exited with {status}; log:\n{}", self.log()));
            }
            match EtcdBackend::connect(vec![self.endpoint.clone()]).await {
                Ok(backend) => return Ok(backend),
                Err(error) if Instant::now() > deadline => {
                    return Err(format!("{error}; etcd log:\n{}", self.log()));
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("etcd.log")).unwrap_or_default()
    }
}

impl Drop for EtcdProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("free loopback port")
}
