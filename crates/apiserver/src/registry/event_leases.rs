//! Events expire through storage leases; one lease is reused for the events of a minute, as
//! upstream's lease manager does, instead of one lease per event.

use std::time::{Duration, Instant};

use storage::Backend;
use tokio::sync::Mutex;

use crate::status::ApiError;

/// How long one lease is handed out before a new one is granted.
const REUSE_WINDOW: Duration = Duration::from_secs(60);

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

    /// A lease that expires between `ttl` and `ttl + 60 s` from now.
    pub async fn lease(&self, backend: &dyn Backend) -> Result<i64, ApiError> {
        let mut current = self.current.lock().await;
        if let Some((id, granted)) = *current {
            if granted.elapsed() < REUSE_WINDOW {
                return Ok(id);
            }
        }
        let seconds = i64::try_from((self.ttl + REUSE_WINDOW).as_secs()).unwrap_or(i64::MAX);
        let id = backend
            .grant_lease(seconds)
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?;
        *current = Some((id, Instant::now()));
        Ok(id)
    }
}
