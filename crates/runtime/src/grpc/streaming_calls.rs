//! RuntimeService calls that hand out streaming URLs (exec, attach, port-forward): each
//! validates its request and parks it in the streaming server under a single-use token.

use k8s_cri::v1 as cri;

use crate::streaming::{AttachTarget, ExecTarget, ForwardTarget, StreamRequest};
use crate::{Runtime, RuntimeError};

pub async fn exec(
    runtime: &Runtime,
    request: cri::ExecRequest,
) -> Result<cri::ExecResponse, RuntimeError> {
    let target = ExecTarget {
        container_id: request.container_id,
        cmd: request.cmd,
        tty: request.tty,
        stdin: request.stdin,
        stdout: request.stdout,
        stderr: request.stderr,
    };
    validate_streams(&target)?;
    if target.cmd.is_empty() {
        return Err(RuntimeError::InvalidArgument(
            "cmd must not be empty".into(),
        ));
    }
    // Only a running container has a process to exec next to.
    runtime.containers.pid(&target.container_id).await?;
    let url = runtime.streaming.register(StreamRequest::Exec(target));
    Ok(cri::ExecResponse { url })
}

pub async fn attach(
    runtime: &Runtime,
    request: cri::AttachRequest,
) -> Result<cri::AttachResponse, RuntimeError> {
    let asked = ExecTarget {
        container_id: request.container_id,
        cmd: Vec::new(),
        tty: request.tty,
        stdin: request.stdin,
        stdout: request.stdout,
        stderr: request.stderr,
    };
    validate_streams(&asked)?;
    let record = runtime.containers.record(&asked.container_id).await?;
    runtime.containers.pid(&record.id).await?;
    // The container's own configuration decides: a terminal has no stderr, and stdin reaches
    // only a container that keeps one (as containerd does).
    let target = AttachTarget {
        container_dir: runtime.paths.containers().join(&record.id),
        container_id: record.id,
        tty: record.config.tty,
        stdin: asked.stdin && record.config.stdin,
        stdout: asked.stdout,
        stderr: asked.stderr && !record.config.tty,
    };
    let url = runtime.streaming.register(StreamRequest::Attach(target));
    Ok(cri::AttachResponse { url })
}

pub async fn port_forward(
    runtime: &Runtime,
    request: cri::PortForwardRequest,
) -> Result<cri::PortForwardResponse, RuntimeError> {
    if request.pod_sandbox_id.is_empty() {
        return Err(RuntimeError::InvalidArgument(
            "missing required pod_sandbox_id".into(),
        ));
    }
    let sandbox = runtime.sandboxes.get(&request.pod_sandbox_id).await?;
    if !sandbox.ready {
        return Err(RuntimeError::Failed(format!(
            "sandbox {} is not running",
            request.pod_sandbox_id
        )));
    }
    let url = runtime
        .streaming
        .register(StreamRequest::PortForward(ForwardTarget {
            sandbox_id: sandbox.id,
            netns_path: sandbox.netns_path,
        }));
    Ok(cri::PortForwardResponse { url })
}

/// Upstream's checks on the streams an exec or attach asks for.
fn validate_streams(target: &ExecTarget) -> Result<(), RuntimeError> {
    if target.container_id.is_empty() {
        return Err(RuntimeError::InvalidArgument(
            "missing required container_id".into(),
        ));
    }
    if target.tty && target.stderr {
        return Err(RuntimeError::InvalidArgument(
            "tty and stderr cannot both be true".into(),
        ));
    }
    if !target.stdin && !target.stdout && !target.stderr {
        return Err(RuntimeError::InvalidArgument(
            "one of stdin, stdout, or stderr must be set".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(tty: bool, stdin: bool, stdout: bool, stderr: bool) -> ExecTarget {
        ExecTarget {
            container_id: "c".into(),
            cmd: vec!["true".into()],
            tty,
            stdin,
            stdout,
            stderr,
        }
    }

    #[test]
    fn streams_are_validated_as_upstream() {
        assert!(validate_streams(&target(false, false, true, true)).is_ok());
        assert!(validate_streams(&target(true, true, true, false)).is_ok());
        let tty_and_stderr = validate_streams(&target(true, false, true, true)).unwrap_err();
        assert!(tty_and_stderr
            .to_string()
            .contains("tty and stderr cannot both be true"));
        let none = validate_streams(&target(false, false, false, false)).unwrap_err();
        assert!(none
            .to_string()
            .contains("one of stdin, stdout, or stderr must be set"));
        let mut nameless = target(false, false, true, false);
        nameless.container_id.clear();
        assert!(validate_streams(&nameless).is_err());
    }
}
