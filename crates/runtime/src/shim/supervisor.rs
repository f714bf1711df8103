//! The detached shim: creates the container, copies its output into the CRI log, reaps it and
//! records how it ended.

use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::Stdio;

use nix::fcntl::OFlag;
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::sys::wait::WaitStatus;
use nix::unistd::Pid;

use super::args::ShimArgs;
use super::attach_hub::AttachHub;
use super::console::ConsoleSocket;
use super::create_error::create_failure_message;
use super::cri_log::{CriLog, Stream};
use super::io_loop::{self, ContainerIo};
use super::oom;
use super::state_files::{
    now_ns, write_atomically, ExitRecord, StateFiles, ATTACH_SOCKET, CONSOLE_SOCKET,
};
use crate::oci_runtime::{CreateStdio, OciRuntime, Runc};

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
    // The container directory: its sockets are bound by short relative names (a unix socket's
    // path is limited to 108 bytes; container directories are longer).
    std::env::set_current_dir(&args.bundle).map_err(|e| format!("entering the bundle: {e}"))?;
    nix::sys::prctl::set_child_subreaper(true).map_err(|e| format!("becoming a subreaper: {e}"))?;
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGCHLD);
    mask.thread_block()
        .map_err(|e| format!("blocking signals: {e}"))?;
    mask.add(Signal::SIGUSR1);
    let signals = SignalFd::with_flags(&mask, SfdFlags::SFD_CLOEXEC | SfdFlags::SFD_NONBLOCK)
        .map_err(|e| format!("signalfd: {e}"))?;
    write_atomically(&files.shim_pid(), std::process::id().to_string().as_bytes())
        .map_err(|e| format!("writing shim.pid: {e}"))?;

    let (io, stdio, console) = prepare_stdio(args)?;
    let runc = Runc::new(&args.runtime, &args.runtime_root);
    runc.create(&args.id, &args.bundle, &files.runc_pid(), stdio)
        .map_err(|e| create_failure_message(&e))?;
    // SIGUSR1 (reopen the log) is blocked only now: a blocked mask is inherited through exec,
    // and the container must not start with SIGUSR1 blocked. The runtime sends it only once
    // init.pid exists, which is written below.
    let mut reopen = SigSet::empty();
    reopen.add(Signal::SIGUSR1);
    reopen
        .thread_block()
        .map_err(|e| format!("blocking SIGUSR1: {e}"))?;
    let io = match console {
        Some(console) => terminal_io(args, console.receive_master()?)?,
        None => io,
    };
    let init = StateFiles::read_pid(&files.runc_pid()).ok_or("runc wrote no init pid")?;
    // Clients may attach from here on (before init.pid tells the runtime the create is done).
    let hub = AttachHub::bind(Path::new(ATTACH_SOCKET))
        .map_err(|e| format!("listening on {ATTACH_SOCKET}: {e}"))?;
    write_atomically(&files.init_pid(), init.to_string().as_bytes())
        .map_err(|e| format!("writing init.pid: {e}"))?;
    tell_created();

    let mut log = CriLog::open(&args.log);
    let status = io_loop::run(Pid::from_raw(init), &signals, io, Some(hub), &mut log);
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

/// Tells the launcher waiting on this process's stdout that the container exists (`init.pid`
/// is written) with the byte `r8s pause` says it is ready with, and lets go of that pipe
/// (nothing else is ever written to stdout).
fn tell_created() {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    // The launcher may be gone (killed after a timeout): the files say the same.
    let _ = stdout.write_all(&[crate::pause::READY_BYTE]);
    let _ = stdout.flush();
    if let Ok(null) = std::fs::OpenOptions::new().write(true).open("/dev/null") {
        let _ = nix::unistd::dup2_stdout(&null);
    }
}

/// The container's stdio for `runc create` and the shim's ends of it. With a terminal the
/// shim's ends come later, from the console socket.
fn prepare_stdio(
    args: &ShimArgs,
) -> Result<(ContainerIo, CreateStdio, Option<ConsoleSocket>), String> {
    let mut io = ContainerIo {
        outputs: Vec::new(),
        stdin: None,
        terminal: None,
        stdin_once: args.stdin_once,
    };
    if args.tty {
        let console = ConsoleSocket::bind(Path::new(CONSOLE_SOCKET))
            .map_err(|e| format!("listening on {CONSOLE_SOCKET}: {e}"))?;
        // runc runs in this directory too, but says nothing about relative paths: name it
        // through this process's working directory, which keeps it short.
        let path = format!("/proc/{}/cwd/{CONSOLE_SOCKET}", std::process::id());
        let stdio = CreateStdio {
            console_socket: Some(path.into()),
            ..CreateStdio::null()
        };
        return Ok((io, stdio, Some(console)));
    }
    let pipe = || nix::unistd::pipe2(OFlag::O_CLOEXEC).map_err(|e| format!("pipe: {e}"));
    let (stdout_read, stdout_write) = pipe()?;
    let (stderr_read, stderr_write) = pipe()?;
    io.outputs = vec![(stdout_read, Stream::Stdout), (stderr_read, Stream::Stderr)];
    let stdin = if args.stdin {
        let (stdin_read, stdin_write) = pipe()?;
        io.stdin = Some(stdin_write);
        Stdio::from(stdin_read)
    } else {
        Stdio::null()
    };
    let stdio = CreateStdio {
        stdin,
        stdout: Stdio::from(stdout_write),
        stderr: Stdio::from(stderr_write),
        console_socket: None,
    };
    Ok((io, stdio, None))
}

/// The shim's ends of a terminal: its output (to the log as stdout), its input when the
/// container has stdin, and the master itself for sizes.
fn terminal_io(args: &ShimArgs, master: OwnedFd) -> Result<ContainerIo, String> {
    let copy = |fd: &OwnedFd| fd.try_clone().map_err(|e| format!("dup terminal: {e}"));
    Ok(ContainerIo {
        outputs: vec![(copy(&master)?, Stream::Stdout)],
        stdin: if args.stdin {
            Some(copy(&master)?)
        } else {
            None
        },
        terminal: Some(master),
        stdin_once: args.stdin_once,
    })
}
