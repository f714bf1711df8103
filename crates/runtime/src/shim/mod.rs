//! `r8s shim`: one process per container that runs it through the OCI runtime, holds its stdio,
//! writes the CRI log, records its exit status, and outlives a restart of r8s.
//!
//! The runtime starts `r8s shim --id .. --bundle .. --log .. --runtime .. --runtime-root ..`; that
//! process starts a second copy of itself with `--supervise` and exits at once, so the supervisor
//! is nobody's child (a double fork without `fork`). The supervisor makes a new session, becomes
//! the child subreaper (the container's init is reparented to it after `runc create` exits),
//! creates the container, and then only copies output to the log and waits for the exit. The
//! runtime runs `runc start` itself; the shim learns of it only through the exit.
//!
//! With CRI `tty` the container runs on a terminal whose master runc hands over the console
//! socket; with `stdin` the shim keeps the container's stdin. Attach clients (the runtime's
//! streaming server) connect to `attach.sock` in the container directory (`attach_frame`):
//! they get the live output and feed stdin and terminal sizes.

mod args;
pub mod attach_frame;
mod attach_hub;
mod console;
mod create_error;
mod cri_log;
mod io_loop;
mod oom;
pub mod state_files;
mod supervisor;

pub use args::ShimArgs;
pub use state_files::{ExitRecord, StateFiles};

/// Entry point of `r8s shim`; returns the process exit code. Runs without an async runtime.
pub fn main(args: &[String]) -> i32 {
    let args = match ShimArgs::parse(args) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("r8s shim: {message}");
            return 2;
        }
    };
    if args.supervise {
        supervisor::run(&args)
    } else {
        detach(&args)
    }
}

/// Starts the supervisor as a grandchild of the caller and returns (0) once the supervisor has
/// created the container or ended without doing so (its state files say which), so the caller
/// needs no polling; 1 when the supervisor could not be started.
fn detach(args: &ShimArgs) -> i32 {
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("r8s shim: finding my own executable: {e}");
            return 1;
        }
    };
    let mut supervise = args.clone();
    supervise.supervise = true;
    let (mut created, created_writer) = match std::io::pipe() {
        Ok(pipe) => pipe,
        Err(e) => {
            eprintln!("r8s shim: a pipe for the supervisor: {e}");
            return 1;
        }
    };
    let spawned = std::process::Command::new(exe)
        .args(supervise.to_args())
        .stdin(std::process::Stdio::null())
        .stdout(created_writer)
        .stderr(std::process::Stdio::null())
        .spawn();
    if let Err(e) = spawned {
        eprintln!("r8s shim: starting the supervisor: {e}");
        return 1;
    }
    // The spawn dropped this process's copy of the write end: the read ends with the byte, or
    // at EOF when the supervisor exits without it.
    let mut byte = [0u8; 1];
    let _ = std::io::Read::read(&mut created, &mut byte);
    0
}
