//! A container's terminal: during `runc create`, runc connects to the console socket and sends
//! the pty master it made inside the container over it (`SCM_RIGHTS`).

use std::io::IoSliceMut;
use std::mem::MaybeUninit;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixListener;
use std::path::{Path, PathBuf};

use rustix::net::{RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags};

/// The listening console socket; removed when dropped.
pub struct ConsoleSocket {
    listener: UnixListener,
    path: PathBuf,
}

impl ConsoleSocket {
    pub fn bind(path: &Path) -> std::io::Result<Self> {
        let _ = std::fs::remove_file(path);
        let listener = UnixListener::bind(path)?;
        Ok(Self {
            listener,
            path: path.to_path_buf(),
        })
    }

    /// Takes the pty master runc sent; call after `runc create` succeeded (runc has connected
    /// and sent it by then, so nothing here waits).
    pub fn receive_master(&self) -> Result<OwnedFd, String> {
        self.listener
            .set_nonblocking(true)
            .map_err(|e| format!("console socket: {e}"))?;
        let (stream, _) = self
            .listener
            .accept()
            .map_err(|e| format!("runc did not connect to the console socket: {e}"))?;
        stream
            .set_nonblocking(false)
            .map_err(|e| format!("console socket: {e}"))?;
        let mut data = [0u8; 4096];
        let mut iov = [IoSliceMut::new(&mut data)];
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
        let mut control = RecvAncillaryBuffer::new(&mut space);
        rustix::net::recvmsg(&stream, &mut iov, &mut control, RecvFlags::CMSG_CLOEXEC)
            .map_err(|e| format!("receiving the terminal from runc: {e}"))?;
        let master = control.drain().find_map(|message| match message {
            RecvAncillaryMessage::ScmRights(mut fds) => fds.next(),
            _ => None,
        });
        master.ok_or_else(|| "runc sent no terminal over the console socket".to_string())
    }
}

impl Drop for ConsoleSocket {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{IoSlice, Read, Write};
    use std::os::fd::AsFd;
    use std::os::unix::net::UnixStream;

    use rustix::net::{SendAncillaryBuffer, SendAncillaryMessage, SendFlags};

    #[test]
    fn receives_a_descriptor_sent_over_the_socket() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("console.sock");
        let console = ConsoleSocket::bind(&path).unwrap();
        let (mut reader, writer) = UnixStream::pair().unwrap();
        let sender = UnixStream::connect(&path).unwrap();
        let fds = [writer.as_fd()];
        let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(1))];
        let mut control = SendAncillaryBuffer::new(&mut space);
        assert!(control.push(SendAncillaryMessage::ScmRights(&fds)));
        rustix::net::sendmsg(
            &sender,
            &[IoSlice::new(b"x")],
            &mut control,
            SendFlags::empty(),
        )
        .unwrap();
        drop(writer);
        let received = console.receive_master().unwrap();
        let mut received = std::fs::File::from(received);
        received.write_all(b"through").unwrap();
        drop(received);
        let mut text = String::new();
        reader.read_to_string(&mut text).unwrap();
        assert_eq!(text, "through");
        drop(console);
        assert!(!path.exists());
    }
}
