//! `r8s pause`: the process that holds a sandbox's network, IPC and UTS namespaces.
//!
//! `r8s pause [--net] [--ipc] [--uts] [--pid] [--hostname NAME]` starts its own session, unshares
//! the namespaces it is asked for, sets the hostname in a new UTS namespace, writes one byte to
//! stdout once its namespaces are in place (the runtime waits for it), then sleeps in `sigwait`,
//! reaping children, until SIGTERM or SIGINT. With `--pid` it also starts `r8s pause --pid-init`
//! as PID 1 of a new PID namespace (reachable as `/proc/<pause>/ns/pid_for_children`) and kills
//! it when it stops. No async runtime, no threads: a tiny resident set.

use std::io::Write;
use std::process::{Child, Command, Stdio};

use nix::sched::{unshare, CloneFlags};
use nix::sys::signal::{kill, SigSet, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag};
use nix::unistd::Pid;

/// The byte the pause process writes once its namespaces exist.
pub const READY_BYTE: u8 = b'R';

#[derive(Debug, Default, PartialEq, Eq)]
struct PauseArgs {
    net: bool,
    ipc: bool,
    uts: bool,
    pid: bool,
    pid_init: bool,
    hostname: Option<String>,
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<PauseArgs, String> {
    let mut parsed = PauseArgs::default();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--net" => parsed.net = true,
            "--ipc" => parsed.ipc = true,
            "--uts" => parsed.uts = true,
            "--pid" => parsed.pid = true,
            "--pid-init" => parsed.pid_init = true,
            "--hostname" => parsed.hostname = Some(args.next().ok_or("--hostname needs a value")?),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    Ok(parsed)
}

/// Entry point of `r8s pause`; returns the process exit code. Runs without an async runtime.
pub fn main() -> i32 {
    let args = std::env::args().skip_while(|arg| arg != "pause").skip(1);
    match parse_args(args).and_then(run) {
        Ok(()) => 0,
        Err(message) => {
            eprintln!("r8s pause: {message}");
            1
        }
    }
}

fn run(args: PauseArgs) -> Result<(), String> {
    let signals = waited_signals();
    signals
        .thread_block()
        .map_err(|e| format!("blocking signals: {e}"))?;
    if args.pid_init {
        sleep_until_stopped(&signals, None);
        return Ok(());
    }
    // Fails only when already a session leader, which is fine.
    let _ = nix::unistd::setsid();
    let mut flags = CloneFlags::empty();
    flags.set(CloneFlags::CLONE_NEWNET, args.net);
    flags.set(CloneFlags::CLONE_NEWIPC, args.ipc);
    flags.set(CloneFlags::CLONE_NEWUTS, args.uts);
    if !flags.is_empty() {
        unshare(flags).map_err(|e| format!("unshare: {e}"))?;
    }
    if let (true, Some(hostname)) = (args.uts, args.hostname.as_deref()) {
        nix::unistd::sethostname(hostname).map_err(|e| format!("sethostname {hostname:?}: {e}"))?;
    }
    let pid_init = if args.pid {
        Some(start_pid_init()?)
    } else {
        None
    };
    let mut stdout = std::io::stdout();
    stdout
        .write_all(&[READY_BYTE])
        .and_then(|()| stdout.flush())
        .map_err(|e| format!("signalling readiness: {e}"))?;
    sleep_until_stopped(&signals, pid_init);
    Ok(())
}

fn waited_signals() -> SigSet {
    let mut set = SigSet::empty();
    for signal in [Signal::SIGCHLD, Signal::SIGTERM, Signal::SIGINT] {
        set.add(signal);
    }
    set
}

/// PID 1 of a new PID namespace: this process stays outside it, its children land in it.
fn start_pid_init() -> Result<Child, String> {
    unshare(CloneFlags::CLONE_NEWPID).map_err(|e| format!("unshare pid: {e}"))?;
    Command::new("/proc/self/exe")
        .args(["pause", "--pid-init"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting the PID namespace's init: {e}"))
}

fn sleep_until_stopped(signals: &SigSet, pid_init: Option<Child>) {
    let init = pid_init
        .and_then(|child| i32::try_from(child.id()).ok())
        .map(Pid::from_raw);
    let mut init_reaped = false;
    loop {
        match signals.wait() {
            Ok(Signal::SIGCHLD) => init_reaped |= reap_children(init),
            Ok(Signal::SIGTERM | Signal::SIGINT) => break,
            Ok(_) | Err(_) => {}
        }
    }
    if let (Some(init), false) = (init, init_reaped) {
        let _ = kill(init, Signal::SIGKILL);
        let _ = waitpid(init, None);
    }
}

/// Reaps every exited child; whether `init` was one of them.
fn reap_children(init: Option<Pid>) -> bool {
    let mut init_reaped = false;
    while let Ok(status) = waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
        match status.pid() {
            None => break,
            Some(pid) => init_reaped |= Some(pid) == init,
        }
    }
    init_reaped
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<PauseArgs, String> {
        parse_args(list.iter().map(|s| s.to_string()))
    }

    #[test]
    fn flags_and_hostname_are_parsed() {
        assert_eq!(
            args(&["--net", "--uts", "--hostname", "web-0"]).unwrap(),
            PauseArgs {
                net: true,
                uts: true,
                hostname: Some("web-0".into()),
                ..Default::default()
            }
        );
        assert!(args(&["--hostname"]).is_err());
        assert!(args(&["--bogus"]).is_err());
    }
}
