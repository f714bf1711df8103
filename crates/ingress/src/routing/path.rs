//! Path matching as the Ingress spec defines it: `Exact` compares the whole path, `Prefix` compares
//! element by element (`/foo` matches `/foo` and `/foo/bar`, not `/foobar`); r8s treats
//! `ImplementationSpecific` as `Prefix`.

use std::cmp::Reverse;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PathKind {
    Exact,
    Prefix,
}

impl PathKind {
    pub fn parse(path_type: &str) -> Self {
        match path_type {
            "Exact" => Self::Exact,
            _ => Self::Prefix,
        }
    }
}

/// One rule's path and how it matches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PathMatch {
    kind: PathKind,
    /// For `Prefix`, without trailing `/` (so `/` is the empty string and matches everything).
    path: String,
}

impl PathMatch {
    pub fn new(kind: PathKind, path: Option<&str>) -> Self {
        let path = match path {
            Some(path) if !path.is_empty() => path,
            _ => "/",
        };
        let path = match kind {
            PathKind::Exact => path.to_owned(),
            PathKind::Prefix => path.trim_end_matches('/').to_owned(),
        };
        Self { kind, path }
    }

    pub fn kind(&self) -> PathKind {
        self.kind
    }

    pub fn matches(&self, request_path: &str) -> bool {
        match self.kind {
            PathKind::Exact => self.path == request_path,
            PathKind::Prefix => match request_path.strip_prefix(self.path.as_str()) {
                Some(rest) => rest.is_empty() || rest.starts_with('/'),
                None => false,
            },
        }
    }

    /// Orders matches by precedence, first is best: the longest path wins, then `Exact` before
    /// `Prefix`.
    pub fn precedence(&self) -> (Reverse<usize>, PathKind) {
        (Reverse(self.path.len()), self.kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefix(path: &str) -> PathMatch {
        PathMatch::new(PathKind::Prefix, Some(path))
    }

    fn exact(path: &str) -> PathMatch {
        PathMatch::new(PathKind::Exact, Some(path))
    }

    // The table of examples in the Ingress documentation.
    #[test]
    fn upstream_examples() {
        assert!(prefix("/").matches("/"));
        assert!(prefix("/").matches("/anything"));
        assert!(exact("/foo").matches("/foo"));
        assert!(!exact("/foo").matches("/bar"));
        assert!(!exact("/foo").matches("/foo/"));
        assert!(!exact("/foo/").matches("/foo"));
        assert!(prefix("/foo").matches("/foo"));
        assert!(prefix("/foo").matches("/foo/"));
        assert!(prefix("/foo/").matches("/foo"));
        assert!(prefix("/foo/").matches("/foo/"));
        assert!(prefix("/aaa/bb").matches("/aaa/bb"));
        assert!(!prefix("/aaa/bb").matches("/aaa/bbb"));
        assert!(prefix("/aaa/bbb").matches("/aaa/bbb/"));
        assert!(prefix("/aaa/bbb").matches("/aaa/bbb/ccc"));
        assert!(!prefix("/aaa/bbb/").matches("/aaa/bbbxyz"));
        assert!(!prefix("/foo").matches("/foobar"));
    }

    #[test]
    fn implementation_specific_and_missing_paths_are_prefixes_of_root() {
        assert_eq!(PathKind::parse("ImplementationSpecific"), PathKind::Prefix);
        assert!(PathMatch::new(PathKind::Prefix, None).matches("/x/y"));
    }

    #[test]
    fn longer_paths_then_exact_come_first() {
        let mut matches = [
            prefix("/foo"),
            exact("/foo"),
            prefix("/foo/bar"),
            prefix("/"),
        ];
        matches.sort_by_key(PathMatch::precedence);
        assert_eq!(
            matches,
            [
                prefix("/foo/bar"),
                exact("/foo"),
                prefix("/foo"),
                prefix("/")
            ]
        );
    }
}
