//! Containers: an OCI bundle each, run by the OCI runtime under an `r8s shim`.

use crate::{RuntimeError, RuntimeOptions, RuntimePaths};

/// Every container of this node, in memory and under `<root>/containers`.
pub struct Containers {}

impl Containers {
    pub async fn open(_paths: &RuntimePaths, _options: &RuntimeOptions) -> Result<Self, RuntimeError> {
        Ok(Self {})
    }
}
