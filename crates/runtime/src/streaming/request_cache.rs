//! Single-use tokens for parked streaming requests, as upstream's request cache: a token is
//! valid once, for `REQUEST_TTL`, and the cache never holds more than `MAX_REQUESTS`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;
use rand::RngCore;

/// How long a token stays valid.
pub const REQUEST_TTL: Duration = Duration::from_secs(30);
const MAX_REQUESTS: usize = 1000;
const TOKEN_BYTES: usize = 8;

/// What an exec or attach URL runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecTarget {
    pub container_id: String,
    pub cmd: Vec<String>,
    pub tty: bool,
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
}

/// What an attach URL connects to: the container's shim, through the attach socket in its
/// directory. `tty` is the container's own (its output comes on stdout only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachTarget {
    pub container_id: String,
    pub container_dir: PathBuf,
    pub tty: bool,
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
}

/// Where a port-forward URL connects: ports inside this network namespace (`None`: the
/// current one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForwardTarget {
    pub sandbox_id: String,
    pub netns_path: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StreamRequest {
    Exec(ExecTarget),
    Attach(AttachTarget),
    PortForward(ForwardTarget),
}

impl StreamRequest {
    /// The URL path segment of this kind of request.
    pub fn verb(&self) -> &'static str {
        match self {
            Self::Exec(_) => "exec",
            Self::Attach(_) => "attach",
            Self::PortForward(_) => "portforward",
        }
    }
}

#[derive(Default)]
pub struct RequestCache {
    entries: Mutex<HashMap<String, (StreamRequest, Instant)>>,
}

impl RequestCache {
    /// Parks `request` and returns its token.
    pub fn insert(&self, request: StreamRequest, now: Instant) -> String {
        let token = new_token();
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|_, (_, at)| now.duration_since(*at) < REQUEST_TTL);
        if entries.len() >= MAX_REQUESTS {
            let oldest = entries
                .iter()
                .min_by_key(|(_, (_, at))| *at)
                .map(|(t, _)| t.clone());
            if let Some(oldest) = oldest {
                entries.remove(&oldest);
            }
        }
        entries.insert(token.clone(), (request, now));
        token
    }

    /// Takes the request parked under `token`, if it is there and not expired.
    pub fn consume(&self, token: &str, now: Instant) -> Option<StreamRequest> {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let (request, at) = entries.remove(token)?;
        (now.duration_since(at) < REQUEST_TTL).then_some(request)
    }
}

fn new_token() -> String {
    let mut bytes = [0u8; TOKEN_BYTES];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn forward() -> StreamRequest {
        StreamRequest::PortForward(ForwardTarget {
            sandbox_id: "s".into(),
            netns_path: None,
        })
    }

    #[test]
    fn a_token_is_valid_once() {
        let cache = RequestCache::default();
        let now = Instant::now();
        let token = cache.insert(forward(), now);
        assert_eq!(cache.consume(&token, now), Some(forward()));
        assert_eq!(cache.consume(&token, now), None);
    }

    #[test]
    fn a_token_expires() {
        let cache = RequestCache::default();
        let now = Instant::now();
        let token = cache.insert(forward(), now);
        assert_eq!(cache.consume(&token, now + REQUEST_TTL), None);
    }

    #[test]
    fn tokens_differ() {
        let cache = RequestCache::default();
        let now = Instant::now();
        assert_ne!(cache.insert(forward(), now), cache.insert(forward(), now));
    }
}
