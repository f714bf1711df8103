//! One line of a CRI container log file: `<RFC3339Nano time> <stdout|stderr> <P|F> <message>`.

/// Whether a line ends its log entry (`F`) or is a piece of a longer one (`P`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineTag {
    Partial,
    Full,
}

/// A parsed CRI log line; `message` excludes the trailing newline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriLogLine<'a> {
    pub timestamp: &'a str,
    pub stream: &'a str,
    pub tag: LineTag,
    pub message: &'a [u8],
}

impl CriLogLine<'_> {
    /// The time of the line, when it parses.
    pub fn time(&self) -> Option<jiff::Timestamp> {
        self.timestamp.parse().ok()
    }
}

fn split_field(line: &[u8]) -> Option<(&[u8], &[u8])> {
    let space = line.iter().position(|b| *b == b' ')?;
    Some((&line[..space], &line[space + 1..]))
}

/// Parse one line (with or without its trailing newline); `None` for anything malformed.
pub fn parse_cri_log_line(line: &[u8]) -> Option<CriLogLine<'_>> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let (timestamp, rest) = split_field(line)?;
    let (stream, rest) = split_field(rest)?;
    // The tag field may carry more flags after ':' in later CRI versions; only the first matters.
    let (tag, message) = match split_field(rest) {
        Some((tag, message)) => (tag, message),
        None => (rest, &[][..]),
    };
    let tag = match tag.split(|b| *b == b':').next() {
        Some(b"P") => LineTag::Partial,
        Some(b"F") => LineTag::Full,
        _ => return None,
    };
    let stream = std::str::from_utf8(stream).ok()?;
    if stream != "stdout" && stream != "stderr" {
        return None;
    }
    Some(CriLogLine {
        timestamp: std::str::from_utf8(timestamp).ok()?,
        stream,
        tag,
        message,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_and_partial_lines() {
        let line =
            parse_cri_log_line(b"2024-01-02T03:04:05.123456789Z stdout F hello world\n").unwrap();
        assert_eq!(line.timestamp, "2024-01-02T03:04:05.123456789Z");
        assert_eq!(line.stream, "stdout");
        assert_eq!(line.tag, LineTag::Full);
        assert_eq!(line.message, b"hello world");
        assert!(line.time().is_some());
        let line = parse_cri_log_line(b"2024-01-02T03:04:05Z stderr P part").unwrap();
        assert_eq!((line.stream, line.tag), ("stderr", LineTag::Partial));
    }

    #[test]
    fn empty_message_and_garbage() {
        let line = parse_cri_log_line(b"2024-01-02T03:04:05Z stdout F\n").unwrap();
        assert_eq!(line.message, b"");
        let line = parse_cri_log_line(b"2024-01-02T03:04:05Z stdout F \n").unwrap();
        assert_eq!(line.message, b"");
        assert!(parse_cri_log_line(b"not a log line").is_none());
        assert!(parse_cri_log_line(b"2024-01-02T03:04:05Z stdin F x").is_none());
    }
}
