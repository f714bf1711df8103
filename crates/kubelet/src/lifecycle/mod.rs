//! Lifecycle hooks postStart and preStop (exec, httpGet, sleep).

use std::time::Duration;

use k8s_openapi::api::core::v1::{Container, LifecycleHandler, Pod};

use crate::probes::exec::exec_sync;
use crate::probes::http_get::http_get;
use crate::probes::http_target;
use crate::CriClient;

/// Which container of which pod a hook runs for; names appear in the failure message.
#[derive(Debug, Clone, Copy)]
pub struct HookTarget<'a> {
    pub pod: Option<&'a Pod>,
    pub container: Option<&'a Container>,
    pub container_id: &'a str,
    pub pod_ip: Option<&'a str>,
    /// Upper bound for the hook (the termination grace period for preStop); `None`: unbounded.
    pub timeout: Option<Duration>,
}

/// Runs a hook handler to completion; `Err` carries upstream's FailedPostStartHook/FailedPreStopHook message.
pub async fn run_handler(
    cri: &CriClient,
    handler: &LifecycleHandler,
    container_id: &str,
    pod_ip: Option<&str>,
) -> Result<(), String> {
    let target = HookTarget {
        pod: None,
        container: None,
        container_id,
        pod_ip,
        timeout: None,
    };
    run_hook(cri, handler, &target).await
}

/// As `run_handler`, with the pod and container named in messages, named ports resolved and an
/// optional time bound.
pub async fn run_hook(
    cri: &CriClient,
    handler: &LifecycleHandler,
    target: &HookTarget<'_>,
) -> Result<(), String> {
    let run = run_unbounded(cri, handler, target);
    match target.timeout {
        Some(limit) => tokio::time::timeout(limit, run).await.unwrap_or_else(|_| {
            Err(format!(
                "lifecycle hook did not complete within {}s",
                limit.as_secs()
            ))
        }),
        None => run.await,
    }
}

async fn run_unbounded(
    cri: &CriClient,
    handler: &LifecycleHandler,
    target: &HookTarget<'_>,
) -> Result<(), String> {
    let container_name = target
        .container
        .map(|c| c.name.as_str())
        .unwrap_or_default();
    let pod_name = target.pod.map(format_pod).unwrap_or_default();
    if let Some(action) = &handler.exec {
        let command = action.command.clone().unwrap_or_default();
        let shown = format!("[{}]", command.join(" "));
        return match exec_sync(cri, target.container_id, &command, Duration::ZERO).await {
            Ok(out) if out.exit_code == 0 => Ok(()),
            Ok(out) => Err(format!(
                "Exec lifecycle hook ({shown}) for Container \"{container_name}\" in Pod \"{pod_name}\" failed - error: command '{}' exited with {}: {}, message: {:?}",
                command.join(" "),
                out.exit_code,
                out.stderr,
                out.output
            )),
            Err(e) => Err(format!(
                "Exec lifecycle hook ({shown}) for Container \"{container_name}\" in Pod \"{pod_name}\" failed - error: {e}, message: \"\""
            )),
        };
    }
    if let Some(action) = &handler.http_get {
        let path = action.path.as_deref().unwrap_or_default();
        let fail = |e: String| {
            format!(
                "HTTP lifecycle hook ({path}) for Container \"{container_name}\" in Pod \"{pod_name}\" failed - error: {e}"
            )
        };
        let request = http_target(action, target.container, target.pod_ip.unwrap_or_default())
            .map_err(fail)?;
        // Upstream's hook client has no status check: only a failed request is an error.
        return http_get(&request, Duration::from_secs(3600))
            .await
            .map(|_| ())
            .map_err(fail);
    }
    if let Some(action) = &handler.sleep {
        tokio::time::sleep(Duration::from_secs(action.seconds.max(0).unsigned_abs())).await;
        return Ok(());
    }
    Err("Cannot run handler: invalid handler".to_string())
}

/// Upstream's `format.Pod`: `name_namespace(uid)`.
fn format_pod(pod: &Pod) -> String {
    format!(
        "{}_{}({})",
        pod.metadata.name.as_deref().unwrap_or_default(),
        pod.metadata.namespace.as_deref().unwrap_or_default(),
        pod.metadata.uid.as_deref().unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probes::fake_runtime::fake_cri;
    use k8s_cri::v1::ExecSyncResponse;
    use k8s_openapi::api::core::v1::{ExecAction, SleepAction};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    #[tokio::test]
    async fn exec_hook_failure_message() {
        let dir = tempfile::tempdir().unwrap();
        let cri = fake_cri(dir.path(), |request| ExecSyncResponse {
            stdout: Vec::new(),
            stderr: b"nope".to_vec(),
            exit_code: if request.cmd[0] == "ok" { 0 } else { 2 },
        })
        .await;
        let handler = |cmd: &str| LifecycleHandler {
            exec: Some(ExecAction {
                command: Some(vec![cmd.to_string(), "x".to_string()]),
            }),
            ..Default::default()
        };
        assert_eq!(run_handler(&cri, &handler("ok"), "c1", None).await, Ok(()));
        let pod = Pod {
            metadata: ObjectMeta {
                name: Some("p".into()),
                namespace: Some("ns".into()),
                uid: Some("u".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let container = Container {
            name: "app".into(),
            ..Default::default()
        };
        let target = HookTarget {
            pod: Some(&pod),
            container: Some(&container),
            container_id: "c1",
            pod_ip: None,
            timeout: None,
        };
        assert_eq!(
            run_hook(&cri, &handler("bad"), &target).await,
            Err("Exec lifecycle hook ([bad x]) for Container \"app\" in Pod \"p_ns(u)\" failed - error: command 'bad x' exited with 2: nope, message: \"nope\"".into())
        );
    }

    #[tokio::test]
    async fn sleep_hook_is_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let cri = fake_cri(dir.path(), |_| ExecSyncResponse::default()).await;
        let handler = LifecycleHandler {
            sleep: Some(SleepAction { seconds: 30 }),
            ..Default::default()
        };
        let target = HookTarget {
            pod: None,
            container: None,
            container_id: "c1",
            pod_ip: None,
            timeout: Some(Duration::from_millis(50)),
        };
        assert!(run_hook(&cri, &handler, &target).await.is_err());
    }
}
