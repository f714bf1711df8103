//! Pod sandboxes: a pause process holding the network, IPC and UTS namespaces, and its CNI network.

use crate::{RuntimeError, RuntimeOptions, RuntimePaths};

/// Every sandbox of this node, in memory and under `<root>/sandboxes`.
pub struct Sandboxes {}

impl Sandboxes {
    pub async fn open(_paths: &RuntimePaths, _options: &RuntimeOptions) -> Result<Self, RuntimeError> {
        Ok(Self {})
    }
}
