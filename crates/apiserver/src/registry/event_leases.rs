//! Events expire through storage leases; one lease is reused for the events of a short window
//! (5% of the TTL, as upstream's lease manager), instead of one lease per event.

use std::time::{Duration, Instant};

use storage::Backend;
use tokio::sync::Mutex;

use crate::status::ApiError;

/// The share of the TTL during which one lease is handed out before a new one is granted.
const REUSE_FRACTION: u32 = 20;

pub struct EventLeases {
    ttl: Duration,
    current: Mutex<Option<(i64, Instant)>>,
}

impl EventLeases {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            current: Mutex::new(None),
        }
    }

    /// A lease that expires between `ttl` and `ttl + 5%` from now.
    pub async fn lease(&self, backend: &dyn Backend) -> Result<i64, ApiError> {
        let window = self.ttl / REUSE_FRACTION;
        let mut current = self.current.lock().await;
        if let Some((id, granted)) = *current {
            if granted.elapsed() < window {
                return Ok(id);
            }
        }
        let seconds = i64::try_from((self.ttl + window).as_secs().max(1)).unwrap_or(i64::MAX);
        let id = backend
            .grant_lease(seconds)
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?;
        *current = Some((id, Instant::now()));
        Ok(id)
    }
}
