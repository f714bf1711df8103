//! Starting the real `r8s` binary on a free loopback port and driving it with the real kubectl.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const KUBECTL: &str = "/usr/bin/kubectl";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A running `r8s server`, killed when dropped.
pub struct Server {
    child: Option<Child>,
    pub dir: tempfile::TempDir,
    pub port: u16,
    extra_args: Vec<String>,
    /// Set for servers that run a node: the server, kubectl and everything it starts live in a
    /// network namespace of the test's own, with no default route.
    netns: Option<crate::netns::TestNetns>,
    /// Node tests run one at a time: each runs many real containers, and on two cores several
    /// at once starve each other's kubectl and kubelet past the tests' deadlines.
    _node_turn: Option<std::sync::MutexGuard<'static, ()>>,
}

static NODE_TURN: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl Server {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    pub fn start_with(extra_args: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut server = Server {
            child: None,
            dir,
            port: free_port(),
            extra_args: extra_args.iter().map(|s| s.to_string()).collect(),
            netns: None,
            _node_turn: None,
        };
        server.launch();
        server
    }

    /// A server with its local node agent, inside a fresh network namespace.
    pub fn start_with_node(extra_args: &[&str]) -> Self {
        Self::start_in(crate::netns::TestNetns::create(), extra_args)
    }

    /// A server (with its node agent unless `--disable-agent`) inside `netns`.
    pub fn start_in(netns: crate::netns::TestNetns, extra_args: &[&str]) -> Self {
        let node_turn = NODE_TURN
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let dir = tempfile::tempdir().expect("temp dir");
        let mut server = Server {
            child: None,
            dir,
            port: 6443,
            extra_args: extra_args.iter().map(|s| s.to_string()).collect(),
            netns: Some(netns),
            _node_turn: Some(node_turn),
        };
        let images = server.data_dir().join("agent/images");
        std::fs::create_dir_all(&images).expect("image archive dir");
        let built = Command::new(env!("CARGO_BIN_EXE_r8s"))
            .args([
                "image",
                "build-busybox",
                "--reference",
                crate::node_agent::BUSYBOX,
            ])
            .arg(images.join("busybox.tar"))
            .output()
            .expect("run r8s image build-busybox");
        assert!(
            built.status.success(),
            "building the busybox image failed: {}",
            String::from_utf8_lossy(&built.stderr)
        );
        server.launch();
        server
    }

    /// A command that runs inside this server's network namespace, if it has one.
    pub fn command(&self, program: &str) -> Command {
        match &self.netns {
            Some(netns) => netns.command(program),
            None => Command::new(program),
        }
    }

    pub fn netns(&self) -> Option<&crate::netns::TestNetns> {
        self.netns.as_ref()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn kubeconfig(&self) -> PathBuf {
        self.data_dir().join("kubeconfig.yaml")
    }

    fn launch(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("server.log"))
            .expect("log file");
        let mut command = self.command(env!("CARGO_BIN_EXE_r8s"));
        command.arg("server");
        // Tests whose agents on other machines must reach the server pass their own.
        if !self.extra_args.iter().any(|a| a == "--bind-address") {
            command.args(["--bind-address", "127.0.0.1"]);
        }
        if self.netns.is_none() {
            command.arg("--disable-agent");
        } else {
            command
                .env(crate::node_cleanup::TEST_DIR_ENV, self.dir.path())
                .args(["--node-name", "r8s-e2e"])
                // Test machines run with full disks: no image GC or disk-pressure eviction
                // unless a test asks for it.
                .args(["--image-gc-high-threshold", "100"]);
            if !self.extra_args.iter().any(|a| a == "--eviction-hard") {
                command.args([
                    "--eviction-hard",
                    "memory.available<1Mi,nodefs.available<1%",
                ]);
            }
            command
                .arg("--pod-log-dir")
                .arg(self.dir.path().join("pod-logs"));
        }
        let child = command
            .arg("--https-listen-port")
            .arg(self.port.to_string())
            .arg("--data-dir")
            .arg(self.data_dir())
            .args(&self.extra_args)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start r8s server");
        self.child = Some(child);
        self.wait_ready();
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if self.kubeconfig().exists() {
                let out = self
                    .command(KUBECTL)
                    .env("KUBECONFIG", self.kubeconfig())
                    .args(["get", "--raw", "/readyz"])
                    .output()
                    .expect("run kubectl");
                if out.status.success() {
                    return;
                }
            }
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!("r8s server exited early ({status}): {}", self.log());
                }
            }
            assert!(
                Instant::now() < deadline,
                "server not ready: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// SIGKILL the server and start it again on the same data.
    pub fn kill_and_restart(&mut self) {
        self.kill();
        self.launch();
    }

    /// Stop with SIGTERM and start again.
    pub fn restart(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let _ = child.wait();
        }
        self.launch();
    }

    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().map(|c| c.id()).unwrap_or(0)
    }

    /// Run kubectl against this server.
    pub fn kubectl(&self, args: &[&str]) -> Output {
        self.command(KUBECTL)
            .env("KUBECONFIG", self.kubeconfig())
            .args(args)
            .output()
            .expect("run kubectl")
    }

    /// kubectl with extra environment (e.g. EDITOR) that must succeed; returns stdout.
    pub fn ok_with_env(&self, env: &[(&str, &str)], args: &[&str]) -> String {
        let out = self
            .command(KUBECTL)
            .env("KUBECONFIG", self.kubeconfig())
            .envs(env.iter().copied())
            .args(args)
            .output()
            .expect("run kubectl");
        assert!(
            out.status.success(),
            "kubectl {args:?} failed:\nstdout: {}\nstderr: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// kubectl that must succeed; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(
            out.status.success(),
            "kubectl {args:?} failed:\nstdout: {}\nstderr: {}\nserver log tail: {}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            tail(&self.log())
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// kubectl that must fail; returns stderr.
    pub fn fails(&self, args: &[&str]) -> String {
        let out = self.kubectl(args);
        assert!(
            !out.status.success(),
            "kubectl {args:?} should have failed: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    /// A JSON document from `kubectl get -o json`.
    pub fn get_json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["get"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-o", "json"]);
        serde_json::from_str(&self.ok(&all)).expect("kubectl printed JSON")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
        if self.netns.is_some() {
            crate::node_cleanup::clean_node(self.dir.path());
        }
    }
}

pub fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// Write a manifest into the server's temp dir and return its path.
pub fn manifest(server: &Server, name: &str, contents: &str) -> PathBuf {
    let path = server.dir.path().join(name);
    std::fs::write(&path, contents).expect("write manifest");
    path
}

pub fn path_str(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}
