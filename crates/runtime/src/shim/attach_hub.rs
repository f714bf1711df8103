//! The shim's attach socket: clients connect, get the container's output from then on, and
//! send stdin bytes and terminal sizes. Everything is non-blocking so that the shim's single
//! poll loop serves them next to the container's own output; a client that does not keep up is
//! dropped rather than holding the container back.

use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::poll::PollFlags;

use super::attach_frame::{AttachFrame, FrameReader};

/// Output a client may have pending before it is dropped.
const MAX_BACKLOG: usize = 4 * 1024 * 1024;
/// How long the last output may take to reach the clients when the container is gone.
const FINAL_FLUSH: Duration = Duration::from_secs(1);

/// What the clients asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HubEvent {
    Stdin(Vec<u8>),
    /// A client that attached its stdin ended it (or went away).
    StdinEnded,
    Resize {
        width: u16,
        height: u16,
    },
}

struct Client {
    stream: UnixStream,
    reader: FrameReader,
    outgoing: Vec<u8>,
    /// Sent `AttachStdin` and has not ended it yet.
    stdin_open: bool,
    gone: bool,
}

pub struct AttachHub {
    listener: UnixListener,
    path: PathBuf,
    clients: Vec<Client>,
}

impl AttachHub {
    /// Listens on `path` (mode 0600), replacing a stale socket file.
    pub fn bind(path: &Path) -> std::io::Result<Self> {
        let _ = std::fs::remove_file(path);
        let listener = UnixListener::bind(path)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        listener.set_nonblocking(true)?;
        Ok(Self {
            listener,
            path: path.to_path_buf(),
            clients: Vec::new(),
        })
    }

    /// The descriptors to poll and for what: the listener first, then each client.
    pub fn poll_interest(&self) -> Vec<(BorrowedFd<'_>, PollFlags)> {
        let mut interest = vec![(self.listener.as_fd(), PollFlags::POLLIN)];
        for client in &self.clients {
            let mut flags = PollFlags::POLLIN;
            if !client.outgoing.is_empty() {
                flags |= PollFlags::POLLOUT;
            }
            interest.push((client.stream.as_fd(), flags));
        }
        interest
    }

    /// Handles readiness reported for `poll_interest`'s descriptors, in the same order.
    pub fn handle(&mut self, ready: &[PollFlags]) -> Vec<HubEvent> {
        let mut events = Vec::new();
        for (index, flags) in ready.iter().enumerate().skip(1) {
            let Some(client) = self.clients.get_mut(index - 1) else {
                break;
            };
            if flags.intersects(PollFlags::POLLOUT) {
                client.flush();
            }
            if flags.intersects(PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR) {
                client.read(&mut events);
            }
        }
        if ready.first().is_some_and(|f| !f.is_empty()) {
            self.accept();
        }
        self.drop_gone(&mut events);
        events
    }

    /// Queues a frame for every client.
    pub fn broadcast(&mut self, frame: &AttachFrame) {
        if self.clients.is_empty() {
            return;
        }
        let bytes = frame.encode();
        for client in &mut self.clients {
            client.outgoing.extend_from_slice(&bytes);
            client.flush();
            if client.outgoing.len() > MAX_BACKLOG {
                client.gone = true;
            }
        }
        let mut events = Vec::new();
        self.drop_gone(&mut events);
    }

    /// Sends what is still queued, waiting a little for slow clients (the container is gone).
    pub fn finish(&mut self) {
        for client in &mut self.clients {
            if client.outgoing.is_empty() {
                continue;
            }
            let _ = client.stream.set_nonblocking(false);
            let _ = client.stream.set_write_timeout(Some(FINAL_FLUSH));
            let _ = client.stream.write_all(&client.outgoing);
            client.outgoing.clear();
        }
        self.clients.clear();
    }

    fn accept(&mut self) {
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    if stream.set_nonblocking(true).is_err() {
                        continue;
                    }
                    self.clients.push(Client {
                        stream,
                        reader: FrameReader::default(),
                        outgoing: Vec::new(),
                        stdin_open: false,
                        gone: false,
                    });
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }

    fn drop_gone(&mut self, events: &mut Vec<HubEvent>) {
        for client in self.clients.iter_mut().filter(|c| c.gone) {
            if std::mem::take(&mut client.stdin_open) {
                events.push(HubEvent::StdinEnded);
            }
        }
        self.clients.retain(|c| !c.gone);
    }
}

impl Drop for AttachHub {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

impl Client {
    fn flush(&mut self) {
        while !self.outgoing.is_empty() {
            match self.stream.write(&self.outgoing) {
                Ok(0) => {
                    self.gone = true;
                    return;
                }
                Ok(n) => {
                    self.outgoing.drain(..n);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(_) => {
                    self.gone = true;
                    return;
                }
            }
        }
    }

    fn read(&mut self, events: &mut Vec<HubEvent>) {
        let mut buffer = [0u8; 16 * 1024];
        loop {
            match self.stream.read(&mut buffer) {
                Ok(0) => {
                    self.gone = true;
                    break;
                }
                Ok(n) => self.reader.push(&buffer[..n]),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(_) => {
                    self.gone = true;
                    break;
                }
            }
        }
        loop {
            match self.reader.next_frame() {
                Ok(Some(frame)) => self.take(frame, events),
                Ok(None) => return,
                Err(_) => {
                    self.gone = true;
                    return;
                }
            }
        }
    }

    fn take(&mut self, frame: AttachFrame, events: &mut Vec<HubEvent>) {
        match frame {
            AttachFrame::AttachStdin => self.stdin_open = true,
            AttachFrame::Stdin(data) if self.stdin_open => events.push(HubEvent::Stdin(data)),
            AttachFrame::StdinClosed if self.stdin_open => {
                self.stdin_open = false;
                events.push(HubEvent::StdinEnded);
            }
            AttachFrame::Resize { width, height } => {
                events.push(HubEvent::Resize { width, height })
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Polls the hub once (briefly) and handles what is ready.
    fn turn(hub: &mut AttachHub) -> Vec<HubEvent> {
        let ready: Vec<PollFlags> = {
            let interest = hub.poll_interest();
            let mut fds: Vec<nix::poll::PollFd> = interest
                .iter()
                .map(|(fd, flags)| nix::poll::PollFd::new(*fd, *flags))
                .collect();
            nix::poll::poll(&mut fds, nix::poll::PollTimeout::from(200u16)).unwrap();
            fds.iter()
                .map(|f| f.revents().unwrap_or(PollFlags::empty()))
                .collect()
        };
        hub.handle(&ready)
    }

    #[test]
    fn clients_get_output_and_send_stdin_and_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("attach.sock");
        let mut hub = AttachHub::bind(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let mut first = UnixStream::connect(&path).unwrap();
        let mut second = UnixStream::connect(&path).unwrap();
        turn(&mut hub);
        assert_eq!(hub.clients.len(), 2);

        hub.broadcast(&AttachFrame::Stdout(b"hello\n".to_vec()));
        let expected = AttachFrame::Stdout(b"hello\n".to_vec()).encode();
        for client in [&mut first, &mut second] {
            let mut got = vec![0u8; expected.len()];
            client.read_exact(&mut got).unwrap();
            assert_eq!(got, expected);
        }

        let mut input = AttachFrame::AttachStdin.encode();
        input.extend(AttachFrame::Stdin(b"ls\n".to_vec()).encode());
        input.extend(
            AttachFrame::Resize {
                width: 100,
                height: 30,
            }
            .encode(),
        );
        first.write_all(&input).unwrap();
        // Stdin from a client that did not attach its stdin is ignored.
        second
            .write_all(&AttachFrame::Stdin(b"no".to_vec()).encode())
            .unwrap();
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(
            turn(&mut hub),
            vec![
                HubEvent::Stdin(b"ls\n".to_vec()),
                HubEvent::Resize {
                    width: 100,
                    height: 30
                }
            ]
        );

        // A client with stdin that goes away ends its stdin; the other one stays.
        drop(first);
        std::thread::sleep(Duration::from_millis(50));
        assert_eq!(turn(&mut hub), vec![HubEvent::StdinEnded]);
        assert_eq!(hub.clients.len(), 1);
        drop(hub);
        assert!(!path.exists());
    }
}
