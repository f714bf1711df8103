//! The TTL-after-finished controller: deletes finished Jobs (and, by foreground propagation,
//! their pods) once `ttlSecondsAfterFinished` has passed since they finished.

mod expiry;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::batch::v1::Job;
use kube::api::{DeleteParams, Preconditions, PropagationPolicy};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Api, Client, ResourceExt};
use tokio_util::sync::CancellationToken;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("kubernetes API: {0}")]
    Kube(#[from] kube::Error),
}

impl From<Error> for crate::ControllerError {
    fn from(Error::Kube(error): Error) -> Self {
        error.into()
    }
}

pub struct Context {
    client: Client,
}

async fn reconcile(job: Arc<Job>, ctx: Arc<Context>) -> Result<Action, Error> {
    if job.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let Some(expires) = expiry::expires_at(&job) else {
        return Ok(Action::await_change());
    };
    let now = jiff::Timestamp::now();
    if now < expires {
        let wait = Duration::try_from(expires.duration_since(now)).unwrap_or(Duration::ZERO);
        return Ok(Action::requeue(wait.max(Duration::from_millis(100))));
    }
    let api: Api<Job> = Api::namespaced(ctx.client.clone(), &job.namespace().unwrap_or_default());
    let params = DeleteParams {
        propagation_policy: Some(PropagationPolicy::Foreground),
        preconditions: Some(Preconditions {
            uid: job.uid(),
            resource_version: job.resource_version(),
        }),
        ..DeleteParams::default()
    };
    tracing::info!(job = %job.name_any(), "deleting a finished Job past its TTL");
    match api.delete(&job.name_any(), &params).await {
        Ok(_) => Ok(Action::await_change()),
        Err(kube::Error::Api(status)) if status.code == 404 || status.code == 409 => {
            Ok(Action::await_change())
        }
        Err(error) => Err(error.into()),
    }
}

fn error_policy(job: Arc<Job>, error: &Error, _ctx: Arc<Context>) -> Action {
    tracing::warn!(job = %job.name_any(), %error, "ttl-after-finished sync failed");
    Action::requeue(Duration::from_secs(5))
}

pub async fn run(client: Client, cancel: CancellationToken) -> Result<(), Error> {
    let ctx = Arc::new(Context {
        client: client.clone(),
    });
    Controller::new(Api::<Job>::all(client), watcher::Config::default())
        .graceful_shutdown_on(cancel.cancelled_owned())
        .with_config(crate::reconcile_workers::controller_config())
        .run(reconcile, error_policy, ctx)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(%error, "ttl-after-finished reconcile");
            }
        })
        .await;
    Ok(())
}
