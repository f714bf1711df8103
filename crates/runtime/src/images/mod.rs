//! Images: a content-addressed store, pulls from registries, archive imports, unpacked layers.

use crate::{RuntimeError, RuntimeOptions, RuntimePaths};

/// Every image this node has, with its blobs and unpacked layers.
pub struct ImageStore {}

impl ImageStore {
    pub async fn open(_paths: &RuntimePaths, _options: &RuntimeOptions) -> Result<Self, RuntimeError> {
        Ok(Self {})
    }
}
