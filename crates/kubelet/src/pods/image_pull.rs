//! Making a container's image present per its imagePullPolicy, with upstream's events and waiting reasons.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Container, Pod};

use super::actions::Waiting;
use super::backoff::BackOff;
use super::container_config::ImageUser;
use super::context::PodContext;
use super::cri_calls::{image_status, pull_image};

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
    match pull_image(&ctx.cri, &image).await {
        Ok((_, took)) => {
            pull_backoff.reset(&key);
            ctx.events.record(
                pod,
                event_target,
                false,
                "Pulled",
                format!(
                    "Successfully pulled image \"{image}\" in {:.3}s",
                    took.as_secs_f64()
                ),
            );
            let user = image_status(&ctx.cri, &image)
                .await
                .ok()
                .flatten()
                .map(|(_, u)| u)
                .unwrap_or_default();
            Ok(user)
        }
        Err(status) => {
            pull_backoff.next(&key, now);
            let message = format!("Failed to pull image \"{image}\": {}", status.message());
            ctx.events
                .record(pod, event_target, true, "Failed", message.clone());
            ctx.events.record(
                pod,
                event_target,
                true,
                "Failed",
                "Error: ErrImagePull".into(),
            );
            Err(waiting("ErrImagePull", message))
        }
    }
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
}
