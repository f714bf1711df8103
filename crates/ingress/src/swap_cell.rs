//! An immutable value replaced as a whole: readers take an `Arc` of the current value and keep
//! using it for as long as they like while a writer publishes the next one.

use std::sync::{Arc, RwLock};

#[derive(Debug)]
pub struct SwapCell<T> {
    current: RwLock<Arc<T>>,
}

impl<T> SwapCell<T> {
    pub fn new(value: T) -> Self {
        Self {
            current: RwLock::new(Arc::new(value)),
        }
    }

    /// The value published last.
    pub fn load(&self) -> Arc<T> {
        let guard = self
            .current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Arc::clone(&guard)
    }

    /// Publishes `value`; readers holding the previous one keep it until they drop it.
    pub fn store(&self, value: T) {
        let value = Arc::new(value);
        let mut guard = self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *guard = value;
    }
}
