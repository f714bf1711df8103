//! Query strings of kubelet requests, with repeated keys kept (exec's `command`).

/// Decoded `key=value` pairs in order.
#[derive(Debug, Clone, Default)]
pub struct QueryPairs(Vec<(String, String)>);

fn decode(part: &str) -> String {
    let spaced = part.replace('+', " ");
    let bytes = spaced.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl QueryPairs {
    pub fn parse(raw: Option<&str>) -> Self {
        let pairs = raw
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                (decode(key), decode(value))
            })
            .collect();
        Self(pairs)
    }

    pub fn first(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, key: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// `true`/`1` (and a bare key) are set; anything else, or absence, is not.
    pub fn flag(&self, key: &str) -> bool {
        matches!(self.first(key), Some("true" | "1" | "" | "True"))
    }

    pub fn integer(&self, key: &str) -> Result<Option<i64>, String> {
        match self.first(key).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v
                .parse()
                .map(Some)
                .map_err(|_| format!("invalid value {v:?} for {key}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_keys_and_escapes() {
        let q = QueryPairs::parse(Some("command=sh&command=-c&command=echo+a%3Db&stdin=1&tty"));
        assert_eq!(q.all("command"), vec!["sh", "-c", "echo a=b"]);
        assert!(q.flag("stdin"));
        assert!(q.flag("tty"));
        assert!(!q.flag("stderr"));
        assert_eq!(q.integer("tailLines"), Ok(None));
    }
}
