//! Setting up one volume of a pod, by its source.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::{
    ConfigMap, EmptyDirVolumeSource, PersistentVolume, PersistentVolumeClaim, Pod,
    ProjectedVolumeSource, Secret, Volume,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::api::Api;

use super::atomic_writer::{write_payload, Payload};
use super::fs_group::apply_fs_group;
use super::host_path::check_host_path_type;
use super::mounter::Mounter;
use super::payload::{
    config_map_payload, downward_api_payload, file, secret_payload, DEFAULT_MODE,
};
use super::service_account_token::TokenCache;
use crate::env::fetch::{get_optional, node_allocatable};
use crate::KubeletError;

const EMPTY_DIR: &str = "kubernetes.io~empty-dir";
const CONFIG_MAP: &str = "kubernetes.io~configmap";
const SECRET: &str = "kubernetes.io~secret";
const PROJECTED: &str = "kubernetes.io~projected";
const DOWNWARD_API: &str = "kubernetes.io~downward-api";

/// What every volume of one pod is set up with.
pub struct SetupContext<'a> {
    client: &'a kube::Client,
    pod: &'a Pod,
    namespace: &'a str,
    volumes_dir: &'a Path,
    mounter: &'a dyn Mounter,
    fs_group: Option<u32>,
    node_allocatable: BTreeMap<String, Quantity>,
    tokens: Option<&'a TokenCache>,
}

fn failed(message: impl Into<String>) -> KubeletError {
    KubeletError::Failed(message.into())
}

impl<'a> SetupContext<'a> {
    pub async fn new(
        client: &'a kube::Client,
        pod: &'a Pod,
        volumes_dir: &'a Path,
        mounter: &'a dyn Mounter,
    ) -> Result<SetupContext<'a>, KubeletError> {
        let spec = pod.spec.as_ref();
        let fs_group = spec
            .and_then(|s| s.security_context.as_ref())
            .and_then(|s| s.fs_group)
            .and_then(|g| u32::try_from(g).ok());
        let needs_allocatable = spec
            .iter()
            .flat_map(|s| s.volumes.iter().flatten())
            .any(|v| {
                v.empty_dir
                    .as_ref()
                    .is_some_and(|e| e.medium.as_deref() == Some("Memory"))
                    || v.downward_api.is_some()
                    || v.projected.is_some()
            });
        let node_allocatable = match spec.and_then(|s| s.node_name.as_deref()) {
            Some(node) if needs_allocatable => node_allocatable(client, node).await?,
            _ => BTreeMap::new(),
        };
        Ok(SetupContext {
            client,
            pod,
            namespace: pod.metadata.namespace.as_deref().unwrap_or("default"),
            volumes_dir,
            mounter,
            fs_group,
            node_allocatable,
            tokens: None,
        })
    }

    /// Service account tokens come from (and go into) `tokens` instead of a fresh request each time.
    pub fn with_tokens(mut self, tokens: &'a TokenCache) -> Self {
        self.tokens = Some(tokens);
        self
    }

    /// Sets up `volume`; answers its host path and whether it is read-only.
    pub async fn setup(&self, volume: &Volume) -> Result<(PathBuf, bool), KubeletError> {
        let name = volume.name.as_str();
        if let Some(empty_dir) = &volume.empty_dir {
            let dir = self.plugin_dir(EMPTY_DIR, name)?;
            self.setup_empty_dir(&dir, empty_dir)?;
            return Ok((dir, false));
        }
        if let Some(host_path) = &volume.host_path {
            let path = PathBuf::from(&host_path.path);
            check_host_path_type(&path, host_path.type_.as_deref()).map_err(failed)?;
            return Ok((path, false));
        }
        if let Some(source) = &volume.config_map {
            let optional = source.optional == Some(true);
            let cm = self.config_map(&source.name, optional).await?;
            let payload = config_map_payload(
                cm.as_ref(),
                source.items.as_deref().unwrap_or_default(),
                source.default_mode.unwrap_or(DEFAULT_MODE),
                optional,
            )
            .map_err(failed)?;
            return Ok((self.write_volume(CONFIG_MAP, name, &payload, false)?, true));
        }
        if let Some(source) = &volume.secret {
            let optional = source.optional == Some(true);
            let secret_name = source.secret_name.as_deref().unwrap_or_default();
            let secret = self.secret(secret_name, optional).await?;
            let payload = secret_payload(
                secret.as_ref(),
                source.items.as_deref().unwrap_or_default(),
                source.default_mode.unwrap_or(DEFAULT_MODE),
                optional,
            )
            .map_err(failed)?;
            return Ok((self.write_volume(SECRET, name, &payload, true)?, true));
        }
        if let Some(source) = &volume.downward_api {
            let payload = downward_api_payload(
                self.pod,
                source.items.as_deref().unwrap_or_default(),
                source.default_mode.unwrap_or(DEFAULT_MODE),
                &self.node_allocatable,
            )
            .map_err(failed)?;
            return Ok((
                self.write_volume(DOWNWARD_API, name, &payload, false)?,
                true,
            ));
        }
        if let Some(source) = &volume.projected {
            let payload = self.projected_payload(source).await?;
            return Ok((self.write_volume(PROJECTED, name, &payload, false)?, true));
        }
        if let Some(claim) = &volume.persistent_volume_claim {
            let path = self.claim_path(&claim.claim_name).await?;
            return Ok((path, claim.read_only == Some(true)));
        }
        Err(failed(format!(
            "unsupported volume type for volume \"{name}\""
        )))
    }

    fn plugin_dir(&self, plugin: &str, name: &str) -> Result<PathBuf, KubeletError> {
        let dir = self.volumes_dir.join(plugin).join(name);
        fs::create_dir_all(&dir)?;
        Ok(dir)
    }

    fn setup_empty_dir(
        &self,
        dir: &Path,
        source: &EmptyDirVolumeSource,
    ) -> Result<(), KubeletError> {
        if source.medium.as_deref() == Some("Memory") {
            if !self.mounter.is_mount_point(dir) {
                let size = source
                    .size_limit
                    .as_ref()
                    .and_then(quantity_bytes)
                    .or_else(|| self.node_allocatable.get("memory").and_then(quantity_bytes))
                    .or_else(memory_total_bytes);
                self.mounter.mount_tmpfs(dir, size)?;
            }
        } else {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o777))?;
        }
        if let Some(gid) = self.fs_group {
            apply_fs_group(dir, gid, false)?;
        }
        Ok(())
    }

    /// Writes `payload` atomically into the volume's directory (on a tmpfs when `in_memory`).
    fn write_volume(
        &self,
        plugin: &str,
        name: &str,
        payload: &Payload,
        in_memory: bool,
    ) -> Result<PathBuf, KubeletError> {
        let dir = self.plugin_dir(plugin, name)?;
        if in_memory && !self.mounter.is_mount_point(&dir) {
            self.mounter.mount_tmpfs(&dir, None)?;
        }
        write_payload(&dir, payload)?;
        if let Some(gid) = self.fs_group {
            apply_fs_group(&dir, gid, true)?;
        }
        Ok(dir)
    }

    async fn config_map(
        &self,
        name: &str,
        optional: bool,
    ) -> Result<Option<ConfigMap>, KubeletError> {
        match get_optional::<ConfigMap>(self.client, self.namespace, name).await? {
            Some(cm) => Ok(Some(cm)),
            None if optional => Ok(None),
            None => Err(failed(format!("configmap \"{name}\" not found"))),
        }
    }

    async fn secret(&self, name: &str, optional: bool) -> Result<Option<Secret>, KubeletError> {
        match get_optional::<Secret>(self.client, self.namespace, name).await? {
            Some(secret) => Ok(Some(secret)),
            None if optional => Ok(None),
            None => Err(failed(format!("secret \"{name}\" not found"))),
        }
    }

    async fn projected_payload(
        &self,
        source: &ProjectedVolumeSource,
    ) -> Result<Payload, KubeletError> {
        let default_mode = source.default_mode.unwrap_or(DEFAULT_MODE);
        let mut payload = Payload::new();
        for projection in source.sources.iter().flatten() {
            if let Some(cm_source) = &projection.config_map {
                let optional = cm_source.optional == Some(true);
                let cm = self.config_map(&cm_source.name, optional).await?;
                payload.extend(
                    config_map_payload(
                        cm.as_ref(),
                        cm_source.items.as_deref().unwrap_or_default(),
                        default_mode,
                        optional,
                    )
                    .map_err(failed)?,
                );
            }
            if let Some(secret_source) = &projection.secret {
                let optional = secret_source.optional == Some(true);
                let secret = self.secret(&secret_source.name, optional).await?;
                payload.extend(
                    secret_payload(
                        secret.as_ref(),
                        secret_source.items.as_deref().unwrap_or_default(),
                        default_mode,
                        optional,
                    )
                    .map_err(failed)?,
                );
            }
            if let Some(downward) = &projection.downward_api {
                payload.extend(
                    downward_api_payload(
                        self.pod,
                        downward.items.as_deref().unwrap_or_default(),
                        default_mode,
                        &self.node_allocatable,
                    )
                    .map_err(failed)?,
                );
            }
            if let Some(token) = &projection.service_account_token {
                let value = match self.tokens {
                    Some(tokens) => tokens.token(self.client, self.pod, token).await,
                    None => {
                        TokenCache::default()
                            .token(self.client, self.pod, token)
                            .await
                    }
                };
                payload.insert(token.path.clone(), file(value.into_bytes(), default_mode));
            }
        }
        Ok(payload)
    }

    /// The host path of the PersistentVolume bound to claim `name` (hostPath or local only).
    async fn claim_path(&self, name: &str) -> Result<PathBuf, KubeletError> {
        let not_bound = || failed(format!("persistentvolumeclaim \"{name}\" is not bound"));
        let claim = get_optional::<PersistentVolumeClaim>(self.client, self.namespace, name)
            .await?
            .ok_or_else(|| failed(format!("persistentvolumeclaim \"{name}\" not found")))?;
        let phase = claim.status.as_ref().and_then(|s| s.phase.as_deref());
        let volume_name = claim
            .spec
            .as_ref()
            .and_then(|s| s.volume_name.as_deref())
            .filter(|v| !v.is_empty());
        let (Some("Bound"), Some(volume_name)) = (phase, volume_name) else {
            return Err(not_bound());
        };
        let api: Api<PersistentVolume> = Api::all(self.client.clone());
        let volume = api
            .get_opt(volume_name)
            .await?
            .ok_or_else(|| failed(format!("persistentvolume \"{volume_name}\" not found")))?;
        let spec = volume.spec.unwrap_or_default();
        if let Some(host_path) = spec.host_path {
            let path = PathBuf::from(&host_path.path);
            check_host_path_type(&path, host_path.type_.as_deref()).map_err(failed)?;
            return Ok(path);
        }
        if let Some(local) = spec.local {
            return Ok(PathBuf::from(local.path));
        }
        Err(failed(format!(
            "persistentvolume \"{volume_name}\" has no hostPath or local source"
        )))
    }
}

fn quantity_bytes(quantity: &Quantity) -> Option<u64> {
    let amount = api::quantity::Quantity::parse(&quantity.0).ok()?;
    let milli = amount.milli_value();
    u64::try_from((milli + 999) / 1000).ok().filter(|b| *b > 0)
}

/// MemTotal from /proc/meminfo, in bytes.
fn memory_total_bytes() -> Option<u64> {
    let text = fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
