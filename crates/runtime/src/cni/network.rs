//! The node's pod network: the conflist (known once the kubelet sends the pod CIDR) and the calls
//! that attach a sandbox to it and detach it.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use serde_json::Value;

use super::attachment::{self, Attachment};
use super::conflist::{self, CONFLIST_FILE};
use super::{CniError, Masquerade, NoMasquerade, PluginExec};

pub struct PodNetwork {
    exec: Arc<dyn PluginExec>,
    conf_dir: PathBuf,
    ipam_dir: PathBuf,
    conflist: RwLock<Option<Value>>,
    masquerade: Arc<dyn Masquerade>,
    /// Written into the bridge's configuration; `None`: the plugin's default.
    pod_mtu: Option<u32>,
}

impl PodNetwork {
    /// Picks up the conflist an earlier run wrote, so a restart does not wait for the kubelet.
    pub fn open(conf_dir: &Path, ipam_dir: &Path, exec: Arc<dyn PluginExec>) -> Self {
        Self::open_with_mtu(conf_dir, ipam_dir, exec, None)
    }

    /// `open` for a network whose pods get `pod_mtu`.
    pub fn open_with_mtu(
        conf_dir: &Path,
        ipam_dir: &Path,
        exec: Arc<dyn PluginExec>,
        pod_mtu: Option<u32>,
    ) -> Self {
        let existing = std::fs::read(conf_dir.join(CONFLIST_FILE))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Value>(&bytes).ok())
            .filter(|list| conflist::pod_cidr_of(list).is_some());
        let network = Self {
            exec,
            conf_dir: conf_dir.to_path_buf(),
            ipam_dir: ipam_dir.to_path_buf(),
            conflist: RwLock::new(None),
            masquerade: Arc::new(NoMasquerade),
            pod_mtu,
        };
        if let Some(cidr) = existing.as_ref().and_then(conflist::pod_cidr_of) {
            let wanted = conflist::bridge_conflist_with_mtu(&cidr, ipam_dir, pod_mtu);
            if existing.as_ref() == Some(&wanted) {
                if let Ok(mut current) = network.conflist.write() {
                    *current = existing;
                }
            } else if let Err(error) = network.set_pod_cidr(&cidr) {
                // A list an older r8s wrote: rewritten as this one writes it.
                tracing::warn!(%error, "rewriting the CNI network list");
            }
        }
        network
    }

    /// From now on keeps the pod CIDR's masquerade rule in place (at once when the CIDR is known).
    pub fn with_masquerade(mut self, masquerade: Arc<dyn Masquerade>) -> Self {
        self.masquerade = masquerade;
        if let Some(cidr) = self.pod_cidr() {
            self.ensure_masquerade(&cidr);
        }
        self
    }

    fn ensure_masquerade(&self, pod_cidr: &str) {
        if let Err(error) = self.masquerade.ensure(pod_cidr) {
            tracing::warn!(pod_cidr, %error, "pods cannot reach beyond the node: masquerade rule");
        }
    }

    fn current(&self) -> Option<Value> {
        self.conflist.read().ok().and_then(|list| list.clone())
    }

    pub fn pod_cidr(&self) -> Option<String> {
        self.current().as_ref().and_then(conflist::pod_cidr_of)
    }

    /// Whether pods can get a network (a conflist exists).
    pub fn is_ready(&self) -> bool {
        self.current().is_some()
    }

    /// Writes the conflist for `pod_cidr` (if it changed); an empty CIDR changes nothing.
    pub fn set_pod_cidr(&self, pod_cidr: &str) -> Result<(), CniError> {
        let pod_cidr = pod_cidr.split(',').next().unwrap_or_default().trim();
        if pod_cidr.is_empty() || self.pod_cidr().as_deref() == Some(pod_cidr) {
            return Ok(());
        }
        validate_cidr(pod_cidr)?;
        let list = conflist::bridge_conflist_with_mtu(pod_cidr, &self.ipam_dir, self.pod_mtu);
        let file_error = |path: &Path| {
            let path = path.to_path_buf();
            move |source| CniError::ConfigFile { path, source }
        };
        std::fs::create_dir_all(&self.conf_dir).map_err(file_error(&self.conf_dir))?;
        let path = self.conf_dir.join(CONFLIST_FILE);
        let temporary = self.conf_dir.join(format!(".{CONFLIST_FILE}.tmp"));
        let bytes =
            serde_json::to_vec_pretty(&list).map_err(|e| CniError::BadConfig(e.to_string()))?;
        std::fs::write(&temporary, bytes).map_err(file_error(&temporary))?;
        std::fs::rename(&temporary, &path).map_err(file_error(&path))?;
        if let Ok(mut current) = self.conflist.write() {
            *current = Some(list);
        }
        self.ensure_masquerade(pod_cidr);
        tracing::info!(pod_cidr, "CNI network configured");
        Ok(())
    }

    fn required(&self) -> Result<Value, CniError> {
        self.current().ok_or_else(|| {
            CniError::BadConfig("cni plugin not initialized: no pod CIDR yet".into())
        })
    }

    /// Loopback on `lo` and the network list on the attachment's interface, side by side (they
    /// touch different interfaces); the list's result.
    pub async fn attach(&self, pod: &Attachment) -> Result<Value, CniError> {
        let list = self.required()?;
        let lo = loopback(pod);
        let loopback_config = conflist::loopback_config();
        let (lo_added, added) = tokio::join!(
            attachment::single(self.exec.as_ref(), "ADD", &loopback_config, &lo),
            attachment::add_list(self.exec.as_ref(), &list, pod),
        );
        lo_added?;
        added
    }

    /// DEL of the network list (releases the address), then of the loopback. Idempotent.
    pub async fn detach(&self, pod: &Attachment, cached: Option<&Value>) -> Result<(), CniError> {
        let Some(list) = self.current() else {
            return Ok(());
        };
        attachment::del_list(self.exec.as_ref(), &list, pod, cached).await?;
        if !pod.netns.is_empty() {
            let lo = loopback(pod);
            if let Err(error) =
                attachment::single(self.exec.as_ref(), "DEL", &conflist::loopback_config(), &lo)
                    .await
            {
                tracing::debug!(%error, "loopback DEL");
            }
        }
        Ok(())
    }

    /// CHECK of the network list against the cached ADD result.
    pub async fn check(&self, pod: &Attachment, cached: &Value) -> Result<(), CniError> {
        let list = self.required()?;
        attachment::check_list(self.exec.as_ref(), &list, pod, cached).await
    }
}

fn loopback(pod: &Attachment) -> Attachment {
    Attachment {
        ifname: "lo".into(),
        port_mappings: Vec::new(),
        ..pod.clone()
    }
}

fn validate_cidr(cidr: &str) -> Result<(), CniError> {
    let invalid = || CniError::BadConfig(format!("pod CIDR {cidr:?} is not an IP prefix"));
    let (address, length) = cidr.split_once('/').ok_or_else(invalid)?;
    let address: IpAddr = address.parse().map_err(|_| invalid())?;
    let length: u8 = length.parse().map_err(|_| invalid())?;
    let max = if address.is_ipv4() { 32 } else { 128 };
    if length > max {
        return Err(invalid());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cni::RecordingPluginExec;

    #[test]
    fn pod_cidr_is_written_once_and_found_again_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("net.d");
        let fake: Arc<dyn PluginExec> = Arc::new(RecordingPluginExec::default());
        let network = PodNetwork::open(&conf, &dir.path().join("ipam"), fake.clone());
        assert!(!network.is_ready());
        network.set_pod_cidr("").unwrap();
        assert!(!network.is_ready());
        network.set_pod_cidr("10.88.0.0/24").unwrap();
        assert!(network.is_ready());
        assert!(conf.join("10-r8s.conflist").exists());

        let reopened = PodNetwork::open(&conf, &dir.path().join("ipam"), fake.clone());
        assert_eq!(reopened.pod_cidr().as_deref(), Some("10.88.0.0/24"));

        let masquerade = Arc::new(crate::cni::RecordingMasquerade::default());
        let _with_rule = PodNetwork::open(&conf, &dir.path().join("ipam"), fake)
            .with_masquerade(masquerade.clone());
        assert_eq!(*masquerade.ensured.lock().unwrap(), ["10.88.0.0/24"]);
    }

    #[test]
    fn a_list_written_by_an_older_version_is_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("net.d");
        let ipam = dir.path().join("ipam");
        let mut old = conflist::bridge_conflist("10.88.0.0/24", &ipam);
        old["plugins"][0]["ipMasq"] = Value::Bool(true);
        std::fs::create_dir_all(&conf).unwrap();
        std::fs::write(conf.join(CONFLIST_FILE), old.to_string()).unwrap();
        let fake: Arc<dyn PluginExec> = Arc::new(RecordingPluginExec::default());
        let network = PodNetwork::open(&conf, &ipam, fake);
        assert_eq!(network.pod_cidr().as_deref(), Some("10.88.0.0/24"));
        let written: Value =
            serde_json::from_slice(&std::fs::read(conf.join(CONFLIST_FILE)).unwrap()).unwrap();
        assert_eq!(written["plugins"][0]["ipMasq"], false);
    }

    #[test]
    fn a_bad_pod_cidr_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let fake: Arc<dyn PluginExec> = Arc::new(RecordingPluginExec::default());
        let network = PodNetwork::open(dir.path(), dir.path(), fake);
        assert!(network.set_pod_cidr("10.88.0.0").is_err());
        assert!(network.set_pod_cidr("10.88.0.0/33").is_err());
        assert!(!network.is_ready());
    }

    #[tokio::test]
    async fn attach_calls_loopback_on_lo_then_the_list_on_eth0() {
        let dir = tempfile::tempdir().unwrap();
        let fake = Arc::new(RecordingPluginExec::default());
        let network = PodNetwork::open(dir.path(), dir.path(), fake.clone());
        let pod = Attachment {
            container_id: "c".into(),
            netns: "/n".into(),
            ifname: "eth0".into(),
            ..Default::default()
        };
        assert!(network.attach(&pod).await.is_err(), "no pod CIDR yet");
        network.set_pod_cidr("10.88.0.0/24").unwrap();
        network.attach(&pod).await.unwrap();
        let calls: Vec<_> = fake
            .recorded()
            .into_iter()
            .map(|c| (c.plugin, c.ifname))
            .collect();
        assert_eq!(
            calls,
            [
                ("loopback".to_owned(), "lo".to_owned()),
                ("bridge".to_owned(), "eth0".to_owned()),
            ],
            "portmap is not run for a pod without hostPorts"
        );
    }
}
