//! What the runtime holds for one pod: its sandboxes and containers, newest first.

use std::path::PathBuf;

use jiff::Timestamp;

pub const RESTART_COUNT_ANNOTATION: &str = "io.kubernetes.container.restartCount";
pub const HASH_ANNOTATION: &str = "io.kubernetes.container.hash";
pub const TERMINATION_MESSAGE_PATH_ANNOTATION: &str =
    "io.kubernetes.container.terminationMessagePath";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxRecord {
    pub id: String,
    pub attempt: u32,
    pub ready: bool,
    pub created_at: i64,
    pub ips: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunState {
    Created,
    Running,
    Exited,
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerRecord {
    pub id: String,
    pub sandbox_id: String,
    pub name: String,
    pub attempt: u32,
    pub restart_count: i32,
    pub hash: String,
    pub state: RunState,
    pub exit_code: i32,
    /// Nanoseconds since the epoch, 0 when not yet.
    pub created_at: i64,
    pub started_at: i64,
    pub finished_at: i64,
    pub reason: String,
    pub message: String,
    pub image_ref: String,
    /// Host path of the file mounted at terminationMessagePath.
    pub termination_message_file: Option<PathBuf>,
    pub log_path: String,
}

impl ContainerRecord {
    pub fn finished(&self) -> Timestamp {
        nanos_to_timestamp(self.finished_at)
    }
    pub fn started(&self) -> Timestamp {
        nanos_to_timestamp(self.started_at)
    }
}

pub fn nanos_to_timestamp(nanos: i64) -> Timestamp {
    Timestamp::from_nanosecond(i128::from(nanos)).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Sandboxes and containers of one pod, each list sorted newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodRuntimeState {
    pub sandboxes: Vec<SandboxRecord>,
    pub containers: Vec<ContainerRecord>,
}

impl PodRuntimeState {
    pub fn new(mut sandboxes: Vec<SandboxRecord>, mut containers: Vec<ContainerRecord>) -> Self {
        sandboxes.sort_by_key(|s| std::cmp::Reverse((s.created_at, s.attempt)));
        containers.sort_by_key(|c| std::cmp::Reverse((c.created_at, c.restart_count)));
        Self {
            sandboxes,
            containers,
        }
    }

    pub fn latest_sandbox(&self) -> Option<&SandboxRecord> {
        self.sandboxes.first()
    }

    /// The newest container named `name`, in any sandbox.
    pub fn latest(&self, name: &str) -> Option<&ContainerRecord> {
        self.containers.iter().find(|c| c.name == name)
    }

    /// The one before the newest: what lastState reports.
    pub fn previous(&self, name: &str) -> Option<&ContainerRecord> {
        self.containers.iter().filter(|c| c.name == name).nth(1)
    }

    pub fn running(&self) -> impl Iterator<Item = &ContainerRecord> {
        self.containers.iter().filter(|c| {
            matches!(
                c.state,
                RunState::Running | RunState::Created | RunState::Unknown
            )
        })
    }
}
