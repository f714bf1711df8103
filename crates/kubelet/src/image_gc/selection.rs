//! Which images to delete (upstream's realImageGCManager.freeSpace): when the image filesystem is
//! at or above the high threshold, unused unpinned images go, least recently used first, until
//! usage would fall to the low threshold.

#[derive(Debug, Clone, PartialEq)]
pub struct ImageCandidate {
    pub id: String,
    pub size: u64,
    pub pinned: bool,
    pub in_use: bool,
    /// Seconds since the Unix epoch; 0 when never seen in use.
    pub last_used: u64,
    pub first_detected: u64,
}

/// Bytes to free: none below `high_percent`, else down to `low_percent` of `capacity`.
pub fn bytes_to_free(capacity: u64, available: u64, high_percent: u8, low_percent: u8) -> u64 {
    if capacity == 0 {
        return 0;
    }
    let used_percent = 100 - (u128::from(available.min(capacity)) * 100 / u128::from(capacity));
    if used_percent < u128::from(high_percent) {
        return 0;
    }
    let wanted_available = u128::from(capacity) * u128::from(100 - low_percent.min(100)) / 100;
    u64::try_from(wanted_available.saturating_sub(u128::from(available))).unwrap_or(u64::MAX)
}

/// The images to remove, in order, to free `amount` bytes (all candidates if they are not enough).
pub fn images_to_remove(images: &[ImageCandidate], amount: u64) -> Vec<String> {
    if amount == 0 {
        return Vec::new();
    }
    let mut candidates: Vec<&ImageCandidate> =
        images.iter().filter(|i| !i.in_use && !i.pinned).collect();
    candidates.sort_by_key(|i| (i.last_used, i.first_detected));
    let mut freed = 0u64;
    let mut chosen = Vec::new();
    for image in candidates {
        if freed >= amount {
            break;
        }
        freed = freed.saturating_add(image.size);
        chosen.push(image.id.clone());
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(id: &str, size: u64, last_used: u64, in_use: bool) -> ImageCandidate {
        ImageCandidate {
            id: id.into(),
            size,
            pinned: false,
            in_use,
            last_used,
            first_detected: 1,
        }
    }

    #[test]
    fn frees_only_above_high_threshold() {
        assert_eq!(bytes_to_free(1000, 200, 85, 80), 0);
        // 90% used: free until 20% available.
        assert_eq!(bytes_to_free(1000, 100, 85, 80), 100);
        assert_eq!(bytes_to_free(0, 0, 85, 80), 0);
    }

    #[test]
    fn removes_unused_least_recently_used_first() {
        let mut pinned = image("pause", 500, 0, false);
        pinned.pinned = true;
        let images = [
            image("recent", 50, 300, false),
            image("old", 60, 100, false),
            image("used", 900, 0, true),
            pinned,
            image("never", 30, 0, false),
        ];
        assert_eq!(images_to_remove(&images, 80), vec!["never", "old"]);
        assert_eq!(
            images_to_remove(&images, 10_000),
            vec!["never", "old", "recent"]
        );
        assert!(images_to_remove(&images, 0).is_empty());
    }
}
