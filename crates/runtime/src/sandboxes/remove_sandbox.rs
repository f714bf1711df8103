//! RemovePodSandbox: the pause process, the netns bind mount and the directory go.

use super::netns_mount::{unbind_netns, NETNS_FILE};
use super::run_sandbox::PAUSE_GRACE;
use super::Sandboxes;
use crate::RuntimeError;

impl Sandboxes {
    /// Stops (if needed) and removes a sandbox; an unknown id is already removed. The caller
    /// removes its containers first.
    pub async fn remove(&self, id: &str) -> Result<(), RuntimeError> {
        let record = match self.record(id).await {
            Ok(record) => record,
            Err(RuntimeError::NotFound(_)) => return Ok(()),
            Err(error) => return Err(error),
        };
        self.stop(&record.id).await?;
        record.pause.stop(PAUSE_GRACE).await;
        let dir = self.dir_of(&record.id);
        unbind_netns(&dir.join(NETNS_FILE))?;
        match tokio::fs::remove_dir_all(&dir).await {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
            _ => {}
        }
        self.records.write().await.remove(&record.id);
        Ok(())
    }
}
