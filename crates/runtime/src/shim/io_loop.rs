//! The shim's one loop: copies the container's output (pipes, or its terminal) into the CRI log
//! and to attach clients, feeds the container's stdin from them, and reaps children until the
//! init exits and its output goes quiet. Single-threaded: everything is polled.

use std::os::fd::{AsFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::signal::Signal;
use nix::sys::signalfd::SignalFd;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

use super::attach_frame::AttachFrame;
use super::attach_hub::{AttachHub, HubEvent};
use super::cri_log::{CriLog, LineSplitter, Stream};

/// How long output may stay silent after the init exited before the shim stops reading.
const DRAIN_QUIET_MS: u16 = 100;
/// Stdin bytes held for a container that does not read them; more are dropped.
const MAX_STDIN_BACKLOG: usize = 1024 * 1024;

/// The container's side of its stdio as the shim holds it.
pub struct ContainerIo {
    /// What to read: stdout and stderr pipes, or the terminal's master (as stdout).
    pub outputs: Vec<(OwnedFd, Stream)>,
    /// Where attach clients' input goes: the stdin pipe, or the terminal's master.
    pub stdin: Option<OwnedFd>,
    /// The terminal's master, for window sizes.
    pub terminal: Option<OwnedFd>,
    /// Close the stdin pipe when the first attached stdin ends.
    pub stdin_once: bool,
}

struct Stdin {
    fd: Option<OwnedFd>,
    pending: Vec<u8>,
    close_when_flushed: bool,
}

impl Stdin {
    fn queue(&mut self, data: &[u8]) {
        if self.fd.is_some() && self.pending.len() + data.len() <= MAX_STDIN_BACKLOG {
            self.pending.extend_from_slice(data);
        }
        self.flush();
    }

    fn flush(&mut self) {
        let Some(fd) = &self.fd else {
            self.pending.clear();
            return;
        };
        while !self.pending.is_empty() {
            match nix::unistd::write(fd, &self.pending) {
                Ok(n) => {
                    self.pending.drain(..n);
                }
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => return,
                Err(_) => {
                    self.pending.clear();
                    self.fd = None;
                    return;
                }
            }
        }
        if self.close_when_flushed {
            self.fd = None;
        }
    }
}

/// What one poll is waiting on, in the order of the poll set.
#[derive(Clone, Copy)]
enum Slot {
    Output(usize),
    Signals,
    Stdin,
    Hub,
}

/// Runs until the init exits (then until the output closes or goes quiet); returns its status.
pub fn run(
    init: Pid,
    signals: &SignalFd,
    io: ContainerIo,
    mut hub: Option<AttachHub>,
    log: &mut CriLog,
) -> WaitStatus {
    let mut outputs: Vec<(Option<OwnedFd>, Stream, LineSplitter)> = io
        .outputs
        .into_iter()
        .map(|(fd, stream)| (Some(fd), stream, LineSplitter::default()))
        .collect();
    if let Some(fd) = &io.stdin {
        let _ = fcntl(fd, FcntlArg::F_SETFL(OFlag::O_NONBLOCK));
    }
    let mut stdin = Stdin {
        fd: io.stdin,
        pending: Vec::new(),
        close_when_flushed: false,
    };
    let terminal = io.terminal;
    let mut exit = None;
    let mut buffer = vec![0u8; 32 * 1024];
    loop {
        if exit.is_some() && outputs.iter().all(|(fd, ..)| fd.is_none()) {
            break;
        }
        let mut slots = Vec::new();
        let mut poll_fds = Vec::new();
        for (index, (fd, ..)) in outputs.iter().enumerate() {
            if let Some(fd) = fd {
                slots.push(Slot::Output(index));
                poll_fds.push(PollFd::new(fd.as_fd(), PollFlags::POLLIN));
            }
        }
        slots.push(Slot::Signals);
        poll_fds.push(PollFd::new(signals.as_fd(), PollFlags::POLLIN));
        if let (Some(fd), false) = (&stdin.fd, stdin.pending.is_empty()) {
            slots.push(Slot::Stdin);
            poll_fds.push(PollFd::new(fd.as_fd(), PollFlags::POLLOUT));
        }
        let hub_start = poll_fds.len();
        if let Some(hub) = &hub {
            for (fd, flags) in hub.poll_interest() {
                slots.push(Slot::Hub);
                poll_fds.push(PollFd::new(fd, flags));
            }
        }
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
        let revents: Vec<PollFlags> = poll_fds
            .iter()
            .map(|fd| fd.revents().unwrap_or(PollFlags::empty()))
            .collect();
        drop(poll_fds);
        for (slot, flags) in slots.iter().zip(&revents) {
            if flags.is_empty() {
                continue;
            }
            match *slot {
                Slot::Output(index) => {
                    let (fd, stream, splitter) = &mut outputs[index];
                    let read = fd.as_ref().map(|fd| nix::unistd::read(fd, &mut buffer));
                    match read {
                        Some(Ok(n)) if n > 0 => {
                            for record in splitter.push(&buffer[..n]) {
                                log.write(*stream, &record);
                            }
                            if let Some(hub) = &mut hub {
                                let data = buffer[..n].to_vec();
                                hub.broadcast(&match stream {
                                    Stream::Stdout => AttachFrame::Stdout(data),
                                    Stream::Stderr => AttachFrame::Stderr(data),
                                });
                            }
                        }
                        Some(Err(Errno::EAGAIN | Errno::EINTR)) => {}
                        // End of the pipe, or EIO from a terminal whose other side closed.
                        _ => {
                            if let Some(record) = splitter.finish() {
                                log.write(*stream, &record);
                            }
                            *fd = None;
                        }
                    }
                }
                Slot::Signals => {
                    while let Ok(Some(info)) = signals.read_signal() {
                        if info.ssi_signo == Signal::SIGUSR1 as u32 {
                            log.reopen();
                        }
                    }
                    reap_children(init, &mut exit);
                }
                Slot::Stdin => stdin.flush(),
                Slot::Hub => {}
            }
        }
        if let Some(hub) = &mut hub {
            for event in hub.handle(&revents[hub_start..]) {
                match event {
                    HubEvent::Stdin(data) => stdin.queue(&data),
                    HubEvent::StdinEnded if io.stdin_once && terminal.is_none() => {
                        stdin.close_when_flushed = true;
                        stdin.flush();
                    }
                    HubEvent::StdinEnded => {}
                    HubEvent::Resize { width, height } => {
                        if let Some(terminal) = &terminal {
                            let size = rustix::termios::Winsize {
                                ws_row: height,
                                ws_col: width,
                                ws_xpixel: 0,
                                ws_ypixel: 0,
                            };
                            let _ = rustix::termios::tcsetwinsize(terminal, size);
                        }
                    }
                }
            }
        }
    }
    for (_, stream, splitter) in &mut outputs {
        if let Some(record) = splitter.finish() {
            log.write(*stream, &record);
        }
    }
    if let Some(hub) = &mut hub {
        hub.finish();
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
