//! The image GC loop: remembers when each image was first seen and last used, and frees the
//! image filesystem when it is above the high threshold.

use std::collections::HashMap;

use tokio_util::sync::CancellationToken;

use super::runtime::ImageRuntime;
use super::selection::{bytes_to_free, images_to_remove, ImageCandidate};
use crate::{KubeletError, KubeletOptions};

/// Images seen for less than this are never removed (upstream's ImageMinimumGCAge, 2 min).
const MIN_AGE_SECONDS: u64 = 120;

#[derive(Debug, Clone, Copy)]
struct Seen {
    first_detected: u64,
    last_used: u64,
}

pub struct ImageGc<R> {
    runtime: R,
    high_percent: u8,
    low_percent: u8,
    seen: HashMap<String, Seen>,
}

impl<R: ImageRuntime> ImageGc<R> {
    pub fn new(runtime: R, high_percent: u8, low_percent: u8) -> Self {
        Self {
            runtime,
            high_percent,
            low_percent,
            seen: HashMap::new(),
        }
    }

    /// One pass at time `now` (seconds): returns the ids of the images removed.
    pub async fn collect(&mut self, now: u64) -> Result<Vec<String>, KubeletError> {
        let images = self.runtime.images().await?;
        let used = self.runtime.images_of_containers().await?;
        self.seen.retain(|id, _| images.iter().any(|i| &i.id == id));
        let mut candidates = Vec::new();
        for image in &images {
            let in_use = used.contains(&image.id) || image.tags.iter().any(|t| used.contains(t));
            let seen = self.seen.entry(image.id.clone()).or_insert(Seen {
                first_detected: now,
                last_used: 0,
            });
            if in_use {
                seen.last_used = now;
            }
            if now.saturating_sub(seen.first_detected) < MIN_AGE_SECONDS {
                continue;
            }
            candidates.push(ImageCandidate {
                id: image.id.clone(),
                size: image.size,
                pinned: image.pinned,
                in_use,
                last_used: seen.last_used,
                first_detected: seen.first_detected,
            });
        }
        let (capacity, available) = self.runtime.image_fs().await?;
        let amount = bytes_to_free(capacity, available, self.high_percent, self.low_percent);
        let mut removed = Vec::new();
        for id in images_to_remove(&candidates, amount) {
            match self.runtime.remove(&id).await {
                Ok(()) => {
                    tracing::info!(image = %id, "image GC removed an unused image");
                    self.seen.remove(&id);
                    removed.push(id);
                }
                Err(e) => {
                    tracing::warn!(image = %id, error = %e, "image GC could not remove an image")
                }
            }
        }
        Ok(removed)
    }
}

fn now_seconds() -> u64 {
    u64::try_from(jiff::Timestamp::now().as_second()).unwrap_or(0)
}

/// Runs image GC every `options.image_gc_interval` until `cancel`.
pub async fn run_image_gc<R: ImageRuntime>(
    runtime: R,
    options: KubeletOptions,
    cancel: CancellationToken,
) {
    if options.image_gc_high_threshold_percent >= 100 {
        tracing::info!("image GC is off (high threshold 100%)");
        return;
    }
    let mut gc = ImageGc::new(
        runtime,
        options.image_gc_high_threshold_percent,
        options.image_gc_low_threshold_percent,
    );
    // The first pass waits a period, as upstream's: freshly imported images are not yet in use.
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::now() + options.image_gc_interval,
        options.image_gc_interval,
    );
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tick.tick() => {}
        }
        if let Err(e) = gc.collect(now_seconds()).await {
            tracing::debug!(error = %e, "image GC");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image_gc::runtime::RuntimeImage;
    use std::collections::HashSet;
    use std::sync::Mutex;

    struct FakeRuntime {
        images: Mutex<Vec<RuntimeImage>>,
        used: HashSet<String>,
        capacity: u64,
        removed: Mutex<Vec<String>>,
    }

    #[async_trait::async_trait]
    impl ImageRuntime for FakeRuntime {
        async fn images(&self) -> Result<Vec<RuntimeImage>, KubeletError> {
            Ok(self.images.lock().unwrap().clone())
        }
        async fn images_of_containers(&self) -> Result<HashSet<String>, KubeletError> {
            Ok(self.used.clone())
        }
        async fn image_fs(&self) -> Result<(u64, u64), KubeletError> {
            let used: u64 = self.images.lock().unwrap().iter().map(|i| i.size).sum();
            Ok((self.capacity, self.capacity - used))
        }
        async fn remove(&self, id: &str) -> Result<(), KubeletError> {
            self.images.lock().unwrap().retain(|i| i.id != id);
            self.removed.lock().unwrap().push(id.into());
            Ok(())
        }
    }

    fn image(id: &str, tag: &str, size: u64) -> RuntimeImage {
        RuntimeImage {
            id: id.into(),
            tags: vec![tag.into()],
            size,
            pinned: false,
        }
    }

    #[tokio::test]
    async fn frees_unused_images_above_high_threshold() {
        let runtime = FakeRuntime {
            images: Mutex::new(vec![
                image("sha256:a", "a:1", 300),
                image("sha256:b", "b:1", 300),
                image("sha256:web", "web:1", 300),
            ]),
            used: ["web:1".to_string()].into(),
            capacity: 1000,
            removed: Mutex::default(),
        };
        let mut gc = ImageGc::new(runtime, 85, 80);
        // 90% used, but every image is new: nothing goes yet.
        assert!(gc.collect(10).await.unwrap().is_empty());
        // Old enough: 100 bytes to free; one of the never-used images goes.
        let removed = gc.collect(200).await.unwrap();
        assert_eq!(removed.len(), 1);
        assert!(!removed.contains(&"sha256:web".to_string()));
        // 60% used now: nothing more.
        assert!(gc.collect(300).await.unwrap().is_empty());
        assert_eq!(gc.runtime.removed.lock().unwrap().len(), 1);
    }
}
