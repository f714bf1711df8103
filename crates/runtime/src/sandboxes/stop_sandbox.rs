//! StopPodSandbox: the network goes (its addresses are released); the sandbox becomes NOTREADY.

use super::netns_mount::NETNS_FILE;
use super::run_sandbox::attachment_of;
use super::Sandboxes;
use crate::cni::PodIps;
use crate::RuntimeError;

impl Sandboxes {
    /// Detaches the sandbox from the pod network (idempotent) and marks it stopped. The caller
    /// stops its containers first.
    pub async fn stop(&self, id: &str) -> Result<(), RuntimeError> {
        let mut record = self.record(id).await?;
        if record.stopped {
            return Ok(());
        }
        let dir = self.dir_of(&record.id);
        if !record.namespaces.host_network {
            let netns = dir.join(NETNS_FILE);
            let netns = if netns.exists() {
                netns.to_string_lossy().into_owned()
            } else {
                String::new()
            };
            let attachment = attachment_of(&record, &netns);
            self.network
                .detach(&attachment, record.cni_result.as_ref())
                .await
                .map_err(|e| {
                    RuntimeError::Failed(format!(
                        "failed to destroy network for sandbox {:?}: {e}",
                        record.id
                    ))
                })?;
        }
        record.stopped = true;
        record.ips = PodIps::default();
        record.cni_result = None;
        record.save(&dir)?;
        self.records.write().await.insert(record.id.clone(), record);
        Ok(())
    }
}
