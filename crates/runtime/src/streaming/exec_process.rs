//! Starting an exec'd command with the stdio its request asks for: pipes, or a pseudo-terminal
//! whose master this side keeps.

use std::os::fd::OwnedFd;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Stdio};

use nix::fcntl::{fcntl, FcntlArg, FdFlag};
use nix::pty::openpty;
use nix::sys::signal::{kill, Signal};
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};
use nix::unistd::Pid;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::unix::pipe;

use super::exec_runner::ExecRunner;
use super::{ExecTarget, ResizeEvent};

pub type ProcessInput = Box<dyn AsyncWrite + Send + Unpin>;
pub type ProcessOutput = Box<dyn AsyncRead + Send + Unpin>;

/// A started command: its stdio ends (each `None` when not asked for), its terminal, and the
/// child to wait for.
pub struct ExecProcess {
    pub stdin: Option<ProcessInput>,
    pub stdout: Option<ProcessOutput>,
    pub stderr: Option<ProcessOutput>,
    pub terminal: Option<Terminal>,
    pub child: Child,
}

/// The master side of the command's terminal, for resizes.
pub struct Terminal {
    master: OwnedFd,
    child: Pid,
}

impl Terminal {
    /// Sets the terminal's size and tells the child (runc re-reads it on SIGWINCH and passes it
    /// on to the container's terminal).
    pub fn resize(&self, size: ResizeEvent) {
        let winsize = rustix::termios::Winsize {
            ws_row: size.height,
            ws_col: size.width,
            ws_xpixel: 0,
            ws_ypixel: 0,
        };
        if let Err(e) = rustix::termios::tcsetwinsize(&self.master, winsize) {
            tracing::debug!(error = %e, "exec: resizing the terminal failed");
            return;
        }
        let _ = kill(self.child, Signal::SIGWINCH);
    }
}

/// The exit code the way a shell reports it (128 + signal for a killed process).
pub fn exit_code(status: std::process::ExitStatus) -> i32 {
    status
        .code()
        .or_else(|| status.signal().map(|s| 128 + s))
        .unwrap_or(1)
}

pub fn spawn_exec(runner: &dyn ExecRunner, target: &ExecTarget) -> std::io::Result<ExecProcess> {
    if target.tty {
        spawn_with_terminal(runner, target)
    } else {
        spawn_with_pipes(runner, target)
    }
}

fn piped_or_null(wanted: bool) -> Stdio {
    if wanted {
        Stdio::piped()
    } else {
        Stdio::null()
    }
}

fn spawn_with_pipes(runner: &dyn ExecRunner, target: &ExecTarget) -> std::io::Result<ExecProcess> {
    let mut command = runner.command(&target.container_id, &target.cmd, false);
    command
        .stdin(piped_or_null(target.stdin))
        .stdout(piped_or_null(target.stdout))
        .stderr(piped_or_null(target.stderr));
    let mut child = command.spawn()?;
    let stdin = match child.stdin.take() {
        Some(end) => {
            Some(Box::new(pipe::Sender::from_owned_fd(OwnedFd::from(end))?) as ProcessInput)
        }
        None => None,
    };
    let stdout = match child.stdout.take() {
        Some(end) => {
            Some(Box::new(pipe::Receiver::from_owned_fd(OwnedFd::from(end))?) as ProcessOutput)
        }
        None => None,
    };
    let stderr = match child.stderr.take() {
        Some(end) => {
            Some(Box::new(pipe::Receiver::from_owned_fd(OwnedFd::from(end))?) as ProcessOutput)
        }
        None => None,
    };
    Ok(ExecProcess {
        stdin,
        stdout,
        stderr,
        terminal: None,
        child,
    })
}

/// The command's stdin, stdout and stderr are all the slave of a fresh raw-mode terminal;
/// its output comes back on stdout only.
fn spawn_with_terminal(
    runner: &dyn ExecRunner,
    target: &ExecTarget,
) -> std::io::Result<ExecProcess> {
    let pty = openpty(None, None).map_err(std::io::Error::from)?;
    // openpty's descriptors would leak into every process spawned meanwhile, and a leaked
    // slave keeps the master from ever seeing the command's end.
    for fd in [&pty.master, &pty.slave] {
        fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC)).map_err(std::io::Error::from)?;
    }
    let mut mode = tcgetattr(&pty.slave).map_err(std::io::Error::from)?;
    cfmakeraw(&mut mode);
    tcsetattr(&pty.slave, SetArg::TCSANOW, &mode).map_err(std::io::Error::from)?;
    let child = {
        let mut command = runner.command(&target.container_id, &target.cmd, true);
        command
            .stdin(Stdio::from(pty.slave.try_clone()?))
            .stdout(Stdio::from(pty.slave.try_clone()?))
            .stderr(Stdio::from(pty.slave));
        command.spawn()?
        // The command, and with it every slave descriptor of ours, is dropped here: reading the
        // master ends (EIO) once the child's side is closed.
    };
    let reader = tokio::fs::File::from_std(std::fs::File::from(pty.master.try_clone()?));
    let writer = tokio::fs::File::from_std(std::fs::File::from(pty.master.try_clone()?));
    let terminal = Terminal {
        master: pty.master,
        child: Pid::from_raw(child.id() as i32),
    };
    Ok(ExecProcess {
        stdin: target.stdin.then(|| Box::new(writer) as ProcessInput),
        stdout: Some(Box::new(reader)),
        stderr: None,
        terminal: Some(terminal),
        child,
    })
}
