//! The CRI container log format: `<RFC3339Nano time> <stdout|stderr> <F|P> <line>\n`.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Lines longer than this are cut into partial (`P`) records.
pub const MAX_LINE: usize = 16 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    fn name(self) -> &'static str {
        match self {
            Self::Stdout => "stdout",
            Self::Stderr => "stderr",
        }
    }
}

/// Splits a stream's bytes into CRI log records, keeping an unfinished line until it ends.
#[derive(Debug, Default)]
pub struct LineSplitter {
    pending: Vec<u8>,
}

/// One record: the line (without its newline) and whether it is complete.
#[derive(Debug, PartialEq, Eq)]
pub struct Record {
    pub line: Vec<u8>,
    pub full: bool,
}

impl LineSplitter {
    /// Feeds bytes; returns the records they complete.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Record> {
        self.pending.extend_from_slice(bytes);
        let mut records = Vec::new();
        loop {
            match self.pending.iter().position(|b| *b == b'\n') {
                Some(end) if end <= MAX_LINE => {
                    let line = self.pending[..end].to_vec();
                    self.pending.drain(..=end);
                    records.push(Record { line, full: true });
                }
                _ if self.pending.len() > MAX_LINE => {
                    let line = self.pending[..MAX_LINE].to_vec();
                    self.pending.drain(..MAX_LINE);
                    records.push(Record { line, full: false });
                }
                _ => return records,
            }
        }
    }

    /// At the end of the stream: what remains is one last (full) record.
    pub fn finish(&mut self) -> Option<Record> {
        if self.pending.is_empty() {
            return None;
        }
        Some(Record {
            line: std::mem::take(&mut self.pending),
            full: true,
        })
    }
}

/// The log file, reopened on request (after the kubelet rotated it).
pub struct CriLog {
    path: PathBuf,
    file: Option<File>,
}

impl CriLog {
    /// An empty path discards output.
    pub fn open(path: &Path) -> Self {
        let mut log = Self {
            path: path.to_path_buf(),
            file: None,
        };
        log.reopen();
        log
    }

    pub fn reopen(&mut self) {
        self.file = if self.path.as_os_str().is_empty() {
            None
        } else {
            OpenOptions::new()
                .create(true)
                .append(true)
                .open(&self.path)
                .ok()
        };
    }

    pub fn write(&mut self, stream: Stream, record: &Record) {
        if let Some(file) = &mut self.file {
            let _ = file.write_all(&format_record(&jiff::Timestamp::now(), stream, record));
        }
    }
}

pub fn format_record(time: &jiff::Timestamp, stream: Stream, record: &Record) -> Vec<u8> {
    let tag = if record.full { "F" } else { "P" };
    let mut out = format!(
        "{} {} {tag} ",
        time.strftime("%Y-%m-%dT%H:%M:%S%.9fZ"),
        stream.name()
    )
    .into_bytes();
    out.extend_from_slice(&record.line);
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitter_keeps_unfinished_lines_and_cuts_long_ones() {
        let mut splitter = LineSplitter::default();
        assert_eq!(
            splitter.push(b"hello\nwor"),
            vec![Record {
                line: b"hello".to_vec(),
                full: true
            }]
        );
        assert_eq!(
            splitter.push(b"ld\n"),
            vec![Record {
                line: b"world".to_vec(),
                full: true
            }]
        );
        let long = vec![b'x'; MAX_LINE + 10];
        let records = splitter.push(&long);
        assert_eq!(records.len(), 1);
        assert!(!records[0].full);
        assert_eq!(records[0].line.len(), MAX_LINE);
        assert_eq!(
            splitter.finish(),
            Some(Record {
                line: vec![b'x'; 10],
                full: true
            })
        );
    }

    #[test]
    fn records_follow_the_cri_format() {
        let time: jiff::Timestamp = "2024-01-02T03:04:05.000000007Z".parse().unwrap();
        let record = Record {
            line: b"hi".to_vec(),
            full: false,
        };
        assert_eq!(
            format_record(&time, Stream::Stderr, &record),
            b"2024-01-02T03:04:05.000000007Z stderr P hi\n".to_vec()
        );
    }
}
