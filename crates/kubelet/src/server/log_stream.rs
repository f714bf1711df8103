//! Streaming one CRI log file: the tail of what is there, then (with follow) what is appended
//! while the container runs.

use std::io::SeekFrom;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::mpsc;

use super::log_formatter::{tail_start, Flow, LogFormatter};
use super::log_options::LogOptions;

/// Whether the container writing a log file still runs (follow stops once it does not).
#[async_trait::async_trait]
pub trait ContainerLiveness: Send + Sync {
    async fn is_running(&self) -> bool;
}

/// Formats whole lines of a growing byte stream, keeping an unfinished last line for later.
struct LineAssembler {
    formatter: LogFormatter,
    pending: Vec<u8>,
}

impl LineAssembler {
    fn feed(&mut self, bytes: &[u8], out: &mut Vec<u8>) -> Flow {
        self.pending.extend_from_slice(bytes);
        let Some(last_newline) = self.pending.iter().rposition(|b| *b == b'\n') else {
            return Flow::Continue;
        };
        let rest = self.pending.split_off(last_newline + 1);
        let complete = std::mem::replace(&mut self.pending, rest);
        for line in complete.split_inclusive(|b| *b == b'\n') {
            if self.formatter.push_line(line, out) == Flow::LimitReached {
                return Flow::LimitReached;
            }
        }
        Flow::Continue
    }

    fn finish(&mut self, out: &mut Vec<u8>) {
        let rest = std::mem::take(&mut self.pending);
        if !rest.is_empty() {
            self.formatter.push_line(&rest, out);
        }
    }
}

async fn send(sink: &mpsc::Sender<Bytes>, out: &mut Vec<u8>) -> bool {
    if out.is_empty() {
        return !sink.is_closed();
    }
    sink.send(Bytes::from(std::mem::take(out))).await.is_ok()
}

async fn read_from(path: &Path, position: &mut u64) -> std::io::Result<Vec<u8>> {
    let mut file = tokio::fs::File::open(path).await?;
    let length = file.metadata().await?.len();
    if length < *position {
        // Truncated or replaced: start over.
        *position = 0;
    }
    file.seek(SeekFrom::Start(*position)).await?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).await?;
    *position += bytes.len() as u64;
    Ok(bytes)
}

/// Send the log at `path` to `sink` as `options` ask; returns when done or the receiver is gone.
pub async fn stream_log_file(
    path: &Path,
    options: &LogOptions,
    liveness: &dyn ContainerLiveness,
    sink: mpsc::Sender<Bytes>,
    poll_interval: Duration,
) -> std::io::Result<()> {
    let content = tokio::fs::read(path).await?;
    let mut position = content.len() as u64;
    let start = options
        .tail_lines
        .map_or(0, |tail| tail_start(&content, tail));
    let mut assembler = LineAssembler {
        formatter: LogFormatter::new(options),
        pending: Vec::new(),
    };
    let mut out = Vec::new();
    let flow = assembler.feed(&content[start..], &mut out);
    if flow == Flow::LimitReached || !options.follow {
        assembler.finish(&mut out);
        send(&sink, &mut out).await;
        return Ok(());
    }
    if !send(&sink, &mut out).await {
        return Ok(());
    }
    loop {
        let bytes = read_from(path, &mut position).await?;
        if bytes.is_empty() {
            if !liveness.is_running().await {
                let last = read_from(path, &mut position).await?;
                assembler.feed(&last, &mut out);
                assembler.finish(&mut out);
                send(&sink, &mut out).await;
                return Ok(());
            }
            tokio::select! {
                _ = tokio::time::sleep(poll_interval) => {}
                _ = sink.closed() => return Ok(()),
            }
            continue;
        }
        let flow = assembler.feed(&bytes, &mut out);
        if !send(&sink, &mut out).await || flow == Flow::LimitReached {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;

    use super::*;

    struct Flag(Arc<AtomicBool>);

    #[async_trait::async_trait]
    impl ContainerLiveness for Flag {
        async fn is_running(&self) -> bool {
            self.0.load(Ordering::SeqCst)
        }
    }

    async fn collect(mut rx: mpsc::Receiver<Bytes>) -> String {
        let mut all = Vec::new();
        while let Some(chunk) = rx.recv().await {
            all.extend_from_slice(&chunk);
        }
        String::from_utf8(all).unwrap()
    }

    #[tokio::test]
    async fn reads_tail_without_follow() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.log");
        std::fs::write(
            &path,
            "2024-01-01T00:00:01Z stdout F a\n2024-01-01T00:00:02Z stdout F b\n",
        )
        .unwrap();
        let (tx, rx) = mpsc::channel(8);
        let options = LogOptions {
            tail_lines: Some(1),
            ..LogOptions::default()
        };
        let running = Flag(Arc::new(AtomicBool::new(true)));
        stream_log_file(&path, &options, &running, tx, Duration::from_millis(10))
            .await
            .unwrap();
        assert_eq!(collect(rx).await, "b\n");
    }

    #[tokio::test]
    async fn follows_until_the_container_stops() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.log");
        std::fs::write(&path, "2024-01-01T00:00:01Z stdout F a\n").unwrap();
        let running = Arc::new(AtomicBool::new(true));
        let (tx, rx) = mpsc::channel(8);
        let options = LogOptions {
            follow: true,
            ..LogOptions::default()
        };
        let task = {
            let path = path.clone();
            let liveness = Flag(running.clone());
            tokio::spawn(async move {
                stream_log_file(&path, &options, &liveness, tx, Duration::from_millis(10)).await
            })
        };
        let collected = tokio::spawn(collect(rx));
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        use std::io::Write;
        file.write_all(b"2024-01-01T00:00:02Z stdout P b").unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        file.write_all(b"\n2024-01-01T00:00:02Z stdout F c\n")
            .unwrap();
        running.store(false, Ordering::SeqCst);
        task.await.unwrap().unwrap();
        assert_eq!(collected.await.unwrap(), "a\nbc\n");
    }
}
