//! Host matching as the Ingress spec defines it: exact, `*.suffix` (exactly one label in place of
//! the `*`), or any host when a rule names none.

/// A rule's `host`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HostPattern {
    Exact(String),
    /// `*.example.com` holds `example.com`.
    Wildcard(String),
    Any,
}

impl HostPattern {
    pub fn parse(host: Option<&str>) -> Self {
        match host.map(|host| host.trim().to_ascii_lowercase()) {
            None => Self::Any,
            Some(host) if host.is_empty() => Self::Any,
            Some(host) => match host.strip_prefix("*.") {
                Some(suffix) => Self::Wildcard(suffix.to_owned()),
                None => Self::Exact(host),
            },
        }
    }

    pub fn matches(&self, request_host: &str) -> bool {
        match self {
            Self::Exact(host) => host == request_host,
            Self::Wildcard(suffix) => wildcard_suffix(request_host) == Some(suffix.as_str()),
            Self::Any => true,
        }
    }
}

/// What a `*.` pattern must hold for `request_host` to match it: everything after its first
/// label, as long as that label is not empty.
pub fn wildcard_suffix(request_host: &str) -> Option<&str> {
    let (label, suffix) = request_host.split_once('.')?;
    (!label.is_empty() && !suffix.is_empty()).then_some(suffix)
}

/// The host a request names (`Host` header or `:authority`) without port, case or final dot.
pub fn normalize_request_host(authority: &str) -> String {
    let authority = authority.trim();
    let host = match authority.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or(bracketed),
        None => match authority.rsplit_once(':') {
            Some((host, port)) if port.bytes().all(|byte| byte.is_ascii_digit()) => host,
            _ => authority,
        },
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rule_hosts() {
        assert_eq!(HostPattern::parse(None), HostPattern::Any);
        assert_eq!(HostPattern::parse(Some("")), HostPattern::Any);
        assert_eq!(
            HostPattern::parse(Some("A.Example")),
            HostPattern::Exact("a.example".into())
        );
        assert_eq!(
            HostPattern::parse(Some("*.example.com")),
            HostPattern::Wildcard("example.com".into())
        );
    }

    #[test]
    fn wildcard_matches_exactly_one_label() {
        let pattern = HostPattern::parse(Some("*.foo.com"));
        assert!(pattern.matches("bar.foo.com"));
        assert!(!pattern.matches("baz.bar.foo.com"));
        assert!(!pattern.matches("foo.com"));
        assert!(!pattern.matches(".foo.com"));
    }

    #[test]
    fn exact_and_any() {
        assert!(HostPattern::parse(Some("foo.com")).matches("foo.com"));
        assert!(!HostPattern::parse(Some("foo.com")).matches("www.foo.com"));
        assert!(HostPattern::Any.matches("whatever"));
    }

    #[test]
    fn normalizes_authorities() {
        assert_eq!(normalize_request_host("A.Example:8080"), "a.example");
        assert_eq!(normalize_request_host("a.example."), "a.example");
        assert_eq!(normalize_request_host("[::1]:80"), "::1");
        assert_eq!(normalize_request_host("10.0.0.1"), "10.0.0.1");
    }
}
