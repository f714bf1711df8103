//! A container's volumeMounts as CRI mounts, creating subPath directories inside the volume.

use std::path::{Component, Path, PathBuf};

use k8s_cri::v1 as cri;
use k8s_openapi::api::core::v1::{Container, VolumeMount};

use super::PodVolumes;
use crate::env::expansion::expand;
use crate::KubeletError;

impl PodVolumes {
    /// The CRI mounts of one container (volumeMounts with subPath, readOnly; plus the pod's
    /// /etc/hosts and termination-log file are added by the caller). `subPathExpr` is expanded
    /// against the container's literal `env` values only; use `mounts_for_with_env` to pass the
    /// resolved environment.
    pub fn mounts_for(&self, container: &Container) -> Result<Vec<cri::Mount>, KubeletError> {
        let env: Vec<(String, String)> = container
            .env
            .iter()
            .flatten()
            .map(|e| (e.name.clone(), e.value.clone().unwrap_or_default()))
            .collect();
        self.mounts_for_with_env(container, &env)
    }

    /// As `mounts_for`, expanding `subPathExpr` with `env` (the container's resolved variables).
    pub fn mounts_for_with_env(
        &self,
        container: &Container,
        env: &[(String, String)],
    ) -> Result<Vec<cri::Mount>, KubeletError> {
        container
            .volume_mounts
            .iter()
            .flatten()
            .map(|mount| self.mount(mount, env))
            .collect()
    }

    fn mount(
        &self,
        mount: &VolumeMount,
        env: &[(String, String)],
    ) -> Result<cri::Mount, KubeletError> {
        let (_, volume_path, volume_read_only) = self
            .volumes
            .iter()
            .find(|(name, _, _)| *name == mount.name)
            .ok_or_else(|| {
                KubeletError::Failed(format!(
                    "cannot find volume \"{}\" to mount into container",
                    mount.name
                ))
            })?;
        let sub_path = match (&mount.sub_path, &mount.sub_path_expr) {
            (Some(p), _) if !p.is_empty() => p.clone(),
            (_, Some(expr)) if !expr.is_empty() => expand(expr, |name| {
                env.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
            }),
            _ => String::new(),
        };
        let host_path = if sub_path.is_empty() {
            volume_path.clone()
        } else {
            sub_path_in(volume_path, &sub_path)?
        };
        let propagation = match mount.mount_propagation.as_deref() {
            Some("HostToContainer") => cri::MountPropagation::PropagationHostToContainer,
            Some("Bidirectional") => cri::MountPropagation::PropagationBidirectional,
            _ => cri::MountPropagation::PropagationPrivate,
        };
        Ok(cri::Mount {
            container_path: mount.mount_path.clone(),
            host_path: host_path.to_string_lossy().into_owned(),
            readonly: mount.read_only == Some(true) || *volume_read_only,
            selinux_relabel: false,
            propagation: propagation as i32,
            ..Default::default()
        })
    }
}

/// `volume/sub_path`, created as a directory when missing; it must stay inside the volume.
fn sub_path_in(volume: &Path, sub_path: &str) -> Result<PathBuf, KubeletError> {
    let relative = Path::new(sub_path);
    let escapes =
        relative.is_absolute() || relative.components().any(|c| c == Component::ParentDir);
    if escapes {
        return Err(KubeletError::Failed(format!(
            "subPath \"{sub_path}\" must be a relative path without '..'"
        )));
    }
    let path = volume.join(relative);
    if std::fs::symlink_metadata(&path).is_err() {
        std::fs::create_dir_all(&path)?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))?;
    }
    let resolved = path.canonicalize()?;
    let root = volume.canonicalize()?;
    if !resolved.starts_with(&root) {
        return Err(KubeletError::Failed(format!(
            "subpath \"{}\" not within volume path \"{}\"",
            resolved.display(),
            root.display()
        )));
    }
    Ok(resolved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::EnvVar;

    #[test]
    fn mounts_with_sub_paths() {
        let dir = tempfile::tempdir().unwrap();
        let volumes = PodVolumes {
            volumes: vec![
                ("data".into(), dir.path().to_path_buf(), false),
                ("cfg".into(), PathBuf::from("/cfg"), true),
            ],
        };
        let container = Container {
            name: "c".into(),
            env: Some(vec![EnvVar {
                name: "POD".into(),
                value: Some("p1".into()),
                value_from: None,
            }]),
            volume_mounts: Some(vec![
                VolumeMount {
                    name: "data".into(),
                    mount_path: "/data".into(),
                    sub_path: Some("logs/app".into()),
                    mount_propagation: Some("HostToContainer".into()),
                    ..Default::default()
                },
                VolumeMount {
                    name: "data".into(),
                    mount_path: "/per-pod".into(),
                    sub_path_expr: Some("$(POD)".into()),
                    read_only: Some(true),
                    ..Default::default()
                },
                VolumeMount {
                    name: "cfg".into(),
                    mount_path: "/etc/cfg".into(),
                    ..Default::default()
                },
            ]),
            ..Default::default()
        };
        let mounts = volumes.mounts_for(&container).unwrap();
        let root = dir.path().canonicalize().unwrap();
        assert_eq!(mounts[0].host_path, root.join("logs/app").to_string_lossy());
        assert!(root.join("logs/app").is_dir());
        assert_eq!(
            mounts[0].propagation,
            cri::MountPropagation::PropagationHostToContainer as i32
        );
        assert!(!mounts[0].readonly);
        assert_eq!(mounts[1].host_path, root.join("p1").to_string_lossy());
        assert!(mounts[1].readonly);
        assert_eq!(mounts[2].host_path, "/cfg");
        assert!(mounts[2].readonly);

        let bad = Container {
            name: "c".into(),
            volume_mounts: Some(vec![VolumeMount {
                name: "data".into(),
                mount_path: "/x".into(),
                sub_path: Some("../escape".into()),
                ..Default::default()
            }]),
            ..Default::default()
        };
        assert!(volumes.mounts_for(&bad).is_err());
    }
}
