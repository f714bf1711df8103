//! The periodic check of every running container's log file.

use std::path::{Path, PathBuf};

use k8s_cri::v1 as cri;
use tokio_util::sync::CancellationToken;

use super::rotation::{needs_rotation, prepare_rotation, rotated_path};
use crate::cri_client::CriClient;
use crate::KubeletOptions;

/// Checks every `container_log_monitor_interval` until `cancel`.
pub async fn run_container_log_manager(
    cri: CriClient,
    options: KubeletOptions,
    cancel: CancellationToken,
) {
    let mut ticker = tokio::time::interval(options.container_log_monitor_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = ticker.tick() => {}
        }
        if let Err(e) = rotate_container_logs(&cri, &options).await {
            tracing::warn!(error = %e, "checking container logs for rotation");
        }
    }
}

/// One pass over the running containers.
pub async fn rotate_container_logs(
    cri: &CriClient,
    options: &KubeletOptions,
) -> Result<(), tonic::Status> {
    let running = cri
        .runtime
        .clone()
        .list_containers(cri::ListContainersRequest {
            filter: Some(cri::ContainerFilter {
                state: Some(cri::ContainerStateValue {
                    state: cri::ContainerState::ContainerRunning as i32,
                }),
                ..Default::default()
            }),
        })
        .await?
        .into_inner()
        .containers;
    for container in running {
        let status = match cri
            .runtime
            .clone()
            .container_status(cri::ContainerStatusRequest {
                container_id: container.id.clone(),
                verbose: false,
            })
            .await
        {
            Ok(response) => response.into_inner().status,
            Err(e) => {
                tracing::debug!(error = %e, container = %container.id, "container status");
                continue;
            }
        };
        let Some(log) = status.map(|s| PathBuf::from(s.log_path)) else {
            continue;
        };
        if log.as_os_str().is_empty() || !needs_rotation(&log, options.container_log_max_size) {
            continue;
        }
        if let Err(e) = rotate_one(cri, &container.id, &log, options.container_log_max_files).await
        {
            tracing::warn!(error = %e, container = %container.id, log = %log.display(),
                "rotating a container log");
        }
    }
    Ok(())
}

#[derive(Debug, thiserror::Error)]
enum RotateError {
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("reopening the log: {0}")]
    Reopen(#[from] tonic::Status),
    #[error("preparing the rotation: {0}")]
    Join(#[from] tokio::task::JoinError),
}

/// Renames the current file away and has the runtime reopen it; undone when the reopen fails.
async fn rotate_one(
    cri: &CriClient,
    id: &str,
    log: &Path,
    max_files: usize,
) -> Result<(), RotateError> {
    let current = log.to_path_buf();
    tokio::task::spawn_blocking(move || prepare_rotation(&current, max_files)).await??;
    let rotated = rotated_path(log, jiff::Timestamp::now());
    tokio::fs::rename(log, &rotated).await?;
    let reopened = cri
        .runtime
        .clone()
        .reopen_container_log(cri::ReopenContainerLogRequest {
            container_id: id.to_string(),
        })
        .await;
    if let Err(status) = reopened {
        // The shim still writes to the renamed file: give it back its name.
        if let Err(e) = tokio::fs::rename(&rotated, log).await {
            tracing::warn!(error = %e, "renaming a rotated log back");
        }
        return Err(status.into());
    }
    tracing::info!(container = %id, rotated = %rotated.display(), "rotated a container log");
    Ok(())
}
