//! The detached shim: creates the container, copies its output into the CRI log, reaps it and
//! records how it ended.

use std::os::fd::{AsFd, OwnedFd};
use std::process::Stdio;

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use super::args::ShimArgs;
use super::create_error::create_failure_message;
use super::cri_log::{CriLog, LineSplitter, Stream};
use super::oom;
use super::state_files::{now_ns, write_atomically, ExitRecord, StateFiles};
use crate::oci_runtime::{CreateStdio, OciRuntime, Runc};

/// How long output may stay silent after the init exited before the shim stops reading.
const DRAIN_QUIET_MS: u16 = 100;

pub fn run(args: &ShimArgs) -> i32 {
    let files = StateFiles::new(&args.bundle);
    match supervise(args, &files) {
        Ok(()) => 0,
        Err(message) => {
            let _ = write_atomically(&files.create_error(), message.as_bytes());
            1
        }
    }
}

fn supervise(args: &ShimArgs, files: &StateFiles) -> Result<(), String> {
    // A session of its own: no terminal or process group of the runtime reaches it.
    let _ = nix::unistd::setsid();
    let _ = std::env::set_current_dir("/");
    nix::sys::prctl::set_child_subreaper(true).map_err(|e| format!("becoming a subreaper: {e}"))?;
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGCHLD);
    mask.add(Signal::SIGUSR1);
    mask.thread_block()
        .map_err(|e| format!("blocking signals: {e}"))?;
    let signals = SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
        .map_err(|e| format!("signalfd: {e}"))?;
    write_atomically(&files.shim_pid(), std::process::id().to_string().as_bytes())
        .map_err(|e| format!("writing shim.pid: {e}"))?;

    let (stdout_read, stdout_write) =
        nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| format!("pipe: {e}"))?;
    let (stderr_read, stderr_write) =
        nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| format!("pipe: {e}"))?;
    let runc = Runc::new(&args.runtime, &args.runtime_root);
    let stdio = CreateStdio {
        stdin: Stdio::null(),
        stdout: Stdio::from(stdout_write),
        stderr: Stdio::from(stderr_write),
    };
    runc.create(&args.id, &args.bundle, &files.runc_pid(), stdio)
        .map_err(|e| create_failure_message(&e))?;
    let init = StateFiles::read_pid(&files.runc_pid()).ok_or("runc wrote no init pid")?;
    write_atomically(&files.init_pid(), init.to_string().as_bytes())
        .map_err(|e| format!("writing init.pid: {e}"))?;

    let mut log = CriLog::open(&args.log);
    let status = copy_output_until_exit(
        Pid::from_raw(init),
        &signals,
        [
            (Some(stdout_read), Stream::Stdout),
            (Some(stderr_read), Stream::Stderr),
        ],
        &mut log,
    );
    let finished_at = now_ns();
    let (exit_code, signal) = match status {
        WaitStatus::Exited(_, code) => (code, None),
        WaitStatus::Signaled(_, signal, _) => (128 + signal as i32, Some(signal as i32)),
        _ => (255, None),
    };
    let oom_killed = exit_code != 0 && oom::was_oom_killed(&oom::cgroups_path_of(&args.bundle));
    let record = ExitRecord {
        exit_code,
        signal,
        finished_at,
        reason: ExitRecord::reason_for(exit_code, oom_killed).to_string(),
    };
    let document = serde_json::to_vec(&record).map_err(|e| e.to_string())?;
    // The record first: a `runc start` that fails because the state below is already gone
    // must find that the container ran.
    write_atomically(&files.exit(), &document).map_err(|e| format!("writing exit.json: {e}"))?;
    let _ = runc.delete(&args.id, true);
    Ok(())
}

/// Copies both streams into the log until the init exits (then until they go quiet or close),
/// reaping every child on the way; returns the init's wait status.
fn copy_output_until_exit(
    init: Pid,
    signals: &SignalFd,
    mut streams: [(Option<OwnedFd>, Stream); 2],
    log: &mut CriLog,
) -> WaitStatus {
    let mut splitters = [LineSplitter::default(), LineSplitter::default()];
    let mut exit = None;
    let mut buffer = vec![0u8; 32 * 1024];
    loop {
        let open: Vec<usize> = (0..2).filter(|i| streams[*i].0.is_some()).collect();
        if exit.is_some() && open.is_empty() {
            break;
        }
        let mut poll_fds: Vec<PollFd> = open
            .iter()
            .filter_map(|i| streams[*i].0.as_ref())
            .map(|fd| PollFd::new(fd.as_fd(), PollFlags::POLLIN))
            .collect();
        poll_fds.push(PollFd::new(signals.as_fd(), PollFlags::POLLIN));
        let timeout = if exit.is_some() {
            PollTimeout::from(DRAIN_QUIET_MS)
        } else {
            PollTimeout::NONE
        };
        let ready = match nix::poll::poll(&mut poll_fds, timeout) {
            Ok(n) => n,
            Err(Errno::EINTR) => continue,
            Err(_) => break,
        };
        if ready == 0 {
            break;
        }
        let readable: Vec<bool> = poll_fds
            .iter()
            .map(|fd| fd.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        drop(poll_fds);
        for (slot, index) in open.iter().enumerate() {
            if !readable[slot] {
                continue;
            }
            let (fd, stream) = &mut streams[*index];
            let read = fd.as_ref().map(|fd| nix::unistd::read(fd, &mut buffer));
            match read {
                Some(Ok(0)) | Some(Err(_)) | None => {
                    if let Some(record) = splitters[*index].finish() {
                        log.write(*stream, &record);
                    }
                    *fd = None;
                }
                Some(Ok(n)) => {
                    for record in splitters[*index].push(&buffer[..n]) {
                        log.write(*stream, &record);
                    }
                }
            }
        }
        if readable.last().copied().unwrap_or(false) {
            while let Ok(Some(info)) = signals.read_signal() {
                if info.ssi_signo == Signal::SIGUSR1 as u32 {
                    log.reopen();
                }
            }
            reap_children(init, &mut exit);
        }
    }
    for (index, (_, stream)) in streams.iter().enumerate() {
        if let Some(record) = splitters[index].finish() {
            log.write(*stream, &record);
        }
    }
    // Nothing could be read any more; make sure the init is reaped before reporting.
    while exit.is_none() {
        match waitpid(Pid::from_raw(-1), None) {
            Ok(status) if status.pid() == Some(init) => exit = Some(status),
            Ok(_) => {}
            Err(Errno::EINTR) => {}
            Err(_) => break,
        }
    }
    exit.unwrap_or(WaitStatus::StillAlive)
}

fn reap_children(init: Pid, exit: &mut Option<WaitStatus>) {
    loop {
        match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(_) => return,
            Ok(status) => {
                if status.pid() == Some(init)
                    && matches!(status, WaitStatus::Exited(..) | WaitStatus::Signaled(..))
                {
                    *exit = Some(status);
                }
            }
        }
    }
}
