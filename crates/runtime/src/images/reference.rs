//! Image references normalized by docker's rules: `busybox` → `docker.io/library/busybox:latest`.

use std::fmt;

use crate::RuntimeError;

const DEFAULT_DOMAIN: &str = "docker.io";
const LEGACY_DEFAULT_DOMAIN: &str = "index.docker.io";
const OFFICIAL_REPOSITORY_PREFIX: &str = "library/";
const DEFAULT_TAG: &str = "latest";

/// A fully qualified image reference: registry domain, repository path, and a tag or a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageReference {
    pub domain: String,
    pub path: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
}

impl ImageReference {
    /// Parses a reference the way `docker pull` does, adding `docker.io`, `library/` and `:latest`.
    pub fn parse_normalized(text: &str) -> Result<Self, RuntimeError> {
        let invalid =
            |why: &str| RuntimeError::InvalidArgument(format!("invalid reference {text:?}: {why}"));
        if text.is_empty() {
            return Err(invalid("empty"));
        }
        if is_full_hex_id(text) {
            return Err(invalid("cannot specify 64-byte hexadecimal strings"));
        }
        let (name_and_tag, digest) = match text.split_once('@') {
            Some((name, digest)) => (name, Some(digest.to_string())),
            None => (text, None),
        };
        if let Some(digest) = &digest {
            validate_digest(digest).map_err(|why| invalid(&why))?;
        }
        let (domain, remainder) = split_domain(name_and_tag);
        let (path, tag) = match remainder.rsplit_once(':') {
            Some((path, tag)) if !tag.contains('/') => (path.to_string(), Some(tag.to_string())),
            _ => (remainder.to_string(), None),
        };
        let path = if domain == DEFAULT_DOMAIN && !path.contains('/') {
            format!("{OFFICIAL_REPOSITORY_PREFIX}{path}")
        } else {
            path
        };
        if path.chars().any(|c| c.is_ascii_uppercase()) {
            return Err(invalid("repository name must be lowercase"));
        }
        if !is_valid_path(&path) {
            return Err(invalid("invalid repository name"));
        }
        if tag.as_deref().is_some_and(|tag| !is_valid_tag(tag)) {
            return Err(invalid("invalid tag"));
        }
        let tag = match (&tag, &digest) {
            (None, None) => Some(DEFAULT_TAG.to_string()),
            _ => tag,
        };
        Ok(Self {
            domain,
            path,
            tag,
            digest,
        })
    }

    /// `domain/path`, without tag or digest.
    pub fn name(&self) -> String {
        format!("{}/{}", self.domain, self.path)
    }

    /// `domain/path:tag`, when the reference has a tag.
    pub fn tagged(&self) -> Option<String> {
        self.tag
            .as_ref()
            .map(|tag| format!("{}:{tag}", self.name()))
    }

    /// `domain/path@digest`, when the reference has a digest.
    pub fn digested(&self) -> Option<String> {
        self.digest
            .as_ref()
            .map(|digest| format!("{}@{digest}", self.name()))
    }

    /// This repository at another digest.
    pub fn with_digest(&self, digest: &str) -> String {
        format!("{}@{digest}", self.name())
    }
}

impl fmt::Display for ImageReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name())?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// The first path component is a registry when it looks like a host: it has a dot or a port, or
/// is `localhost`, or has upper-case letters (which repository names cannot).
fn split_domain(name: &str) -> (String, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains('.')
                || first.contains(':')
                || first == "localhost"
                || first.chars().any(|c| c.is_ascii_uppercase()) =>
        {
            let domain = if first == LEGACY_DEFAULT_DOMAIN {
                DEFAULT_DOMAIN
            } else {
                first
            };
            (domain.to_string(), rest)
        }
        _ => (DEFAULT_DOMAIN.to_string(), name),
    }
}

fn is_valid_path(path: &str) -> bool {
    !path.is_empty()
        && path.split('/').all(|component| {
            !component.is_empty()
                && component.chars().all(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-')
                })
                && component.starts_with(|c: char| c.is_ascii_alphanumeric())
                && component.ends_with(|c: char| c.is_ascii_alphanumeric())
        })
}

fn is_valid_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= 128
        && tag.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

fn validate_digest(digest: &str) -> Result<(), String> {
    let Some((algorithm, encoded)) = digest.split_once(':') else {
        return Err("invalid digest format".into());
    };
    if algorithm.is_empty() || encoded.len() < 32 || !encoded.chars().all(|c| c.is_ascii_hexdigit())
    {
        return Err("invalid digest format".into());
    }
    Ok(())
}

/// 64 lower-case hex characters: an image id without its `sha256:` prefix.
pub fn is_full_hex_id(text: &str) -> bool {
    text.len() == 64
        && text
            .chars()
            .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normalized(text: &str) -> String {
        ImageReference::parse_normalized(text).unwrap().to_string()
    }

    #[test]
    fn normalizes_like_docker() {
        let digest = format!("sha256:{}", "a".repeat(64));
        let cases = [
            ("busybox", "docker.io/library/busybox:latest".to_string()),
            ("busybox:1.36", "docker.io/library/busybox:1.36".to_string()),
            ("foo/bar:1", "docker.io/foo/bar:1".to_string()),
            (
                "docker.io/busybox",
                "docker.io/library/busybox:latest".to_string(),
            ),
            (
                "index.docker.io/library/busybox",
                "docker.io/library/busybox:latest".to_string(),
            ),
            ("localhost:5000/x", "localhost:5000/x:latest".to_string()),
            ("localhost/x:y", "localhost/x:y".to_string()),
            (
                "registry.k8s.io/pause:3.10",
                "registry.k8s.io/pause:3.10".to_string(),
            ),
            (
                "127.0.0.1:5000/a/b/c",
                "127.0.0.1:5000/a/b/c:latest".to_string(),
            ),
            (
                &format!("busybox@{digest}"),
                format!("docker.io/library/busybox@{digest}"),
            ),
            (
                &format!("busybox:1@{digest}"),
                format!("docker.io/library/busybox:1@{digest}"),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(normalized(input), want, "{input}");
        }
    }

    #[test]
    fn rejects_bad_references() {
        for input in [
            "",
            "Busybox",
            "a".repeat(64).as_str(),
            "busybox@sha256:xyz",
            "foo//bar",
            "foo:bad tag",
        ] {
            assert!(ImageReference::parse_normalized(input).is_err(), "{input}");
        }
    }

    #[test]
    fn names_tags_and_digests() {
        let reference = ImageReference::parse_normalized("foo/bar:1").unwrap();
        assert_eq!(reference.name(), "docker.io/foo/bar");
        assert_eq!(reference.tagged().as_deref(), Some("docker.io/foo/bar:1"));
        assert_eq!(reference.digested(), None);
    }
}
