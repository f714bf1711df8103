//! Turning CRI log lines into what `kubectl logs` prints: messages only (or `<time> <message>`),
//! partial lines joined, lines before `since` skipped, output cut at `limit_bytes`.

use super::cri_log_line::{parse_cri_log_line, LineTag};
use super::log_options::LogOptions;

/// Whether more output may follow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    LimitReached,
}

/// Formats lines one at a time, remembering partial entries and the bytes written so far.
pub struct LogFormatter {
    since: Option<jiff::Timestamp>,
    timestamps: bool,
    limit_bytes: Option<u64>,
    written: u64,
    /// Inside an entry whose earlier pieces were `P` lines; `Some(kept)` says whether it is printed.
    open_entry: Option<bool>,
}

impl LogFormatter {
    pub fn new(options: &LogOptions) -> Self {
        Self {
            since: options.since,
            timestamps: options.timestamps,
            limit_bytes: options.limit_bytes,
            written: 0,
            open_entry: None,
        }
    }

    /// Append the output for one raw file line to `out`.
    pub fn push_line(&mut self, raw: &[u8], out: &mut Vec<u8>) -> Flow {
        if self.limit_reached() {
            return Flow::LimitReached;
        }
        let Some(line) = parse_cri_log_line(raw) else {
            return Flow::Continue;
        };
        let kept = match self.open_entry {
            Some(kept) => kept,
            None => self
                .since
                .is_none_or(|since| line.time().is_none_or(|t| t >= since)),
        };
        let mut piece = Vec::with_capacity(line.message.len() + 40);
        if kept {
            if self.open_entry.is_none() && self.timestamps {
                piece.extend_from_slice(line.timestamp.as_bytes());
                piece.push(b' ');
            }
            piece.extend_from_slice(line.message);
            if line.tag == LineTag::Full {
                piece.push(b'\n');
            }
        }
        self.open_entry = match line.tag {
            LineTag::Partial => Some(kept),
            LineTag::Full => None,
        };
        self.write(&piece, out)
    }

    fn limit_reached(&self) -> bool {
        self.limit_bytes.is_some_and(|limit| self.written >= limit)
    }

    fn write(&mut self, piece: &[u8], out: &mut Vec<u8>) -> Flow {
        let room = self.limit_bytes.map_or(piece.len() as u64, |limit| {
            limit.saturating_sub(self.written)
        });
        let take = usize::try_from(room.min(piece.len() as u64)).unwrap_or(piece.len());
        out.extend_from_slice(&piece[..take]);
        self.written += take as u64;
        if self.limit_reached() {
            Flow::LimitReached
        } else {
            Flow::Continue
        }
    }
}

/// The byte offset in `content` where the last `tail` complete entries start.
pub fn tail_start(content: &[u8], tail: u64) -> usize {
    if tail == 0 {
        return content.len();
    }
    let mut entries = 0u64;
    // Offsets of line starts, walking backwards; an entry ends at each `F` line.
    let mut end = content.len();
    while end > 0 {
        let line_end = end;
        let search_end = if content[line_end - 1] == b'\n' {
            line_end - 1
        } else {
            line_end
        };
        let start = content[..search_end]
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1);
        let is_full =
            parse_cri_log_line(&content[start..line_end]).is_some_and(|l| l.tag == LineTag::Full);
        if is_full {
            entries += 1;
            if entries > tail {
                return line_end;
            }
        }
        end = start;
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "2024-01-01T00:00:01Z stdout F one\n\
2024-01-01T00:00:02Z stderr P tw\n\
2024-01-01T00:00:02.5Z stderr F o\n\
2024-01-01T00:00:03Z stdout F three\n";

    fn format(options: &LogOptions, content: &[u8]) -> String {
        let mut formatter = LogFormatter::new(options);
        let mut out = Vec::new();
        for line in content.split_inclusive(|b| *b == b'\n') {
            if formatter.push_line(line, &mut out) == Flow::LimitReached {
                break;
            }
        }
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn messages_joined_across_partial_lines() {
        let out = format(&LogOptions::default(), LOG.as_bytes());
        assert_eq!(out, "one\ntwo\nthree\n");
    }

    #[test]
    fn timestamps_prefix_each_entry_once() {
        let options = LogOptions {
            timestamps: true,
            ..LogOptions::default()
        };
        let out = format(&options, LOG.as_bytes());
        assert_eq!(
            out,
            "2024-01-01T00:00:01Z one\n2024-01-01T00:00:02Z two\n2024-01-01T00:00:03Z three\n"
        );
    }

    #[test]
    fn since_skips_older_entries() {
        let options = LogOptions {
            since: Some("2024-01-01T00:00:02Z".parse().unwrap()),
            ..LogOptions::default()
        };
        assert_eq!(format(&options, LOG.as_bytes()), "two\nthree\n");
    }

    #[test]
    fn limit_bytes_cuts_output() {
        let options = LogOptions {
            limit_bytes: Some(6),
            ..LogOptions::default()
        };
        assert_eq!(format(&options, LOG.as_bytes()), "one\ntw");
    }

    #[test]
    fn tail_counts_whole_entries() {
        let content = LOG.as_bytes();
        let start = tail_start(content, 2);
        assert_eq!(
            format(&LogOptions::default(), &content[start..]),
            "two\nthree\n"
        );
        assert_eq!(
            tail_start(content, 1),
            LOG.rfind("2024-01-01T00:00:03Z").unwrap()
        );
        assert_eq!(tail_start(content, 10), 0);
        assert_eq!(tail_start(content, 0), content.len());
    }
}
