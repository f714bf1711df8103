//! Making a container's image present per its imagePullPolicy, with upstream's events and waiting reasons.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Container, Pod};

use super::actions::Waiting;
use super::backoff::BackOff;
use super::container_config::ImageUser;
use super::context::PodContext;
use super::cri_calls::{image_status, pull_image};
use super::start_gate::StartSlot;

/// Upstream's default: Always for `:latest` or untagged images, IfNotPresent otherwise.
pub fn pull_policy(container: &Container) -> String {
    if let Some(policy) = container
        .image_pull_policy
        .clone()
        .filter(|p| !p.is_empty())
    {
        return policy;
    }
    let image = container.image.clone().unwrap_or_default();
    let last = image.rsplit('/').next().unwrap_or_default();
    if image.contains('@') {
        return "IfNotPresent".into();
    }
    match last.split_once(':') {
        Some((_, "latest")) | None => "Always".into(),
        Some(_) => "IfNotPresent".into(),
    }
}

fn waiting(reason: &str, message: String) -> Waiting {
    Waiting {
        reason: reason.into(),
        message,
    }
}

/// The image's user once present, or the waiting state to report.
pub async fn ensure_image(
    ctx: &PodContext,
    pod: &Pod,
    container: &Container,
    init: bool,
    pull_backoff: &mut BackOff,
    turn: &mut StartSlot,
) -> Result<ImageUser, Waiting> {
    let image = container.image.clone().unwrap_or_default();
    let policy = pull_policy(container);
    let event_target = Some((container.name.as_str(), init));
    let present = image_status(&ctx.cri, &image).await.ok().flatten();
    match (policy.as_str(), present) {
        ("Never", None) => {
            let message =
                format!("Container image \"{image}\" is not present with pull policy of Never");
            ctx.events.record(
                pod,
                event_target,
                true,
                "ErrImageNeverPull",
                message.clone(),
            );
            return Err(waiting("ErrImageNeverPull", message));
        }
        ("Never" | "IfNotPresent", Some((_, user))) => {
            ctx.events.record(
                pod,
                event_target,
                false,
                "Pulled",
                format!("Container image \"{image}\" already present on machine"),
            );
            return Ok(user);
        }
        _ => {}
    }
    let key = format!("pull/{image}");
    let now = Timestamp::now();
    if pull_backoff.in_backoff_since(&key, now, now).is_some() {
        let message = format!("Back-off pulling image \"{image}\"");
        ctx.events
            .record(pod, event_target, false, "BackOff", message.clone());
        return Err(waiting("ImagePullBackOff", message));
    }
    ctx.events.record(
        pod,
        event_target,
        false,
        "Pulling",
        format!("Pulling image \"{image}\""),
    );
    let started = std::time::Instant::now();
    // A pull waits on the network: other pods start meanwhile.
    let had_turn = turn.is_held();
    turn.release();
    let pulled = pull_image(&ctx.cri, &image).await;
    if had_turn {
        turn.hold().await;
    }
    match pulled {
        Ok((_, took)) => {
            pull_backoff.reset(&key);
            let pulled = pulled_image(ctx, &image).await;
            ctx.events.record(
                pod,
                event_target,
                false,
                "Pulled",
                format!(
                    "Successfully pulled image \"{image}\" in {} ({} including waiting). Image size: {} bytes.",
                    go_duration_ms(took),
                    go_duration_ms(started.elapsed()),
                    pulled.1,
                ),
            );
            Ok(pulled.0)
        }
        Err(status) => {
            pull_backoff.next(&key, now);
            // Upstream reports the runtime's error as Go's gRPC client prints it.
            let error = grpc_error_text(&status);
            ctx.events.record(
                pod,
                event_target,
                true,
                "Failed",
                format!("Failed to pull image \"{image}\": {error}"),
            );
            ctx.events.record(
                pod,
                event_target,
                true,
                "Failed",
                "Error: ErrImagePull".into(),
            );
            Err(waiting("ErrImagePull", error))
        }
    }
}

/// The user and size of an image just pulled (unknown user and 0 bytes if the runtime lost it).
async fn pulled_image(ctx: &PodContext, image: &str) -> (ImageUser, u64) {
    let response = ctx
        .cri
        .images
        .clone()
        .image_status(k8s_cri::v1::ImageStatusRequest {
            image: Some(k8s_cri::v1::ImageSpec {
                image: image.to_string(),
                ..Default::default()
            }),
            verbose: false,
        })
        .await;
    match response.ok().and_then(|r| r.into_inner().image) {
        Some(found) => (
            ImageUser {
                uid: found.uid.map(|u| u.value),
                username: found.username,
            },
            found.size,
        ),
        None => (ImageUser::default(), 0),
    }
}

/// A duration truncated to milliseconds as Go prints it: `512ms`, `1.5s`, `2m3.004s`, `0s`.
pub fn go_duration_ms(duration: std::time::Duration) -> String {
    let ms = duration.as_millis();
    if ms == 0 {
        return "0s".into();
    }
    if ms < 1000 {
        return format!("{ms}ms");
    }
    let (minutes, rest_ms) = (ms / 60_000, ms % 60_000);
    let seconds = format!("{}.{:03}", rest_ms / 1000, rest_ms % 1000);
    let seconds = seconds.trim_end_matches('0').trim_end_matches('.');
    let (hours, minutes) = (minutes / 60, minutes % 60);
    match (hours, minutes) {
        (0, 0) => format!("{seconds}s"),
        (0, m) => format!("{m}m{seconds}s"),
        (h, m) => format!("{h}h{m}m{seconds}s"),
    }
}

/// `rpc error: code = NotFound desc = ...`, as grpc-go formats a status error.
pub fn grpc_error_text(status: &tonic::Status) -> String {
    let code = match status.code() {
        tonic::Code::Cancelled => "Canceled".to_string(),
        tonic::Code::Ok => "OK".to_string(),
        other => format!("{other:?}"),
    };
    format!("rpc error: code = {code} desc = {}", status.message())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(image: &str) -> Container {
        Container {
            name: "c".into(),
            image: Some(image.into()),
            ..Container::default()
        }
    }

    #[test]
    fn default_pull_policy() {
        assert_eq!(pull_policy(&container("busybox")), "Always");
        assert_eq!(pull_policy(&container("busybox:latest")), "Always");
        assert_eq!(pull_policy(&container("busybox:1.36")), "IfNotPresent");
        assert_eq!(pull_policy(&container("localhost:5000/busybox")), "Always");
        assert_eq!(
            pull_policy(&container("busybox@sha256:abc")),
            "IfNotPresent"
        );
    }

    #[test]
    fn pull_errors_read_like_grpc_go() {
        let status = tonic::Status::not_found("x: not found");
        assert_eq!(
            grpc_error_text(&status),
            "rpc error: code = NotFound desc = x: not found"
        );
        assert_eq!(
            grpc_error_text(&tonic::Status::cancelled("c")),
            "rpc error: code = Canceled desc = c"
        );
    }

    #[test]
    fn durations_print_like_go() {
        use std::time::Duration;
        assert_eq!(go_duration_ms(Duration::from_micros(300)), "0s");
        assert_eq!(go_duration_ms(Duration::from_millis(512)), "512ms");
        assert_eq!(go_duration_ms(Duration::from_millis(1500)), "1.5s");
        assert_eq!(go_duration_ms(Duration::from_millis(2000)), "2s");
        assert_eq!(go_duration_ms(Duration::from_millis(123_004)), "2m3.004s");
        assert_eq!(go_duration_ms(Duration::from_secs(3600)), "1h0m0s");
    }
}
