//! The CronJob controller: starts Jobs on a cron schedule (5 fields or @-macros, in a time zone)
//! under a concurrency policy and starting deadline, tracks them in `status.active`, and keeps
//! the configured history of finished Jobs.

mod clock;
mod error;
mod job_template;
mod reconcile;
mod schedule;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use k8s_openapi::api::batch::v1::{CronJob, Job};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::reflector::{self, Store};
use kube::runtime::{watcher, WatchStreamExt};
use kube::{Api, Client};
use tokio_util::sync::CancellationToken;

use crate::event_recorder::EventRecorder;

pub use clock::{Clock, SystemClock};
pub use error::Error;

#[derive(Clone)]
pub struct CronJobOptions {
    pub clock: Arc<dyn Clock>,
    /// The longest a CronJob waits before it is checked again (a moved test clock is noticed).
    pub resync: Duration,
}

impl Default for CronJobOptions {
    fn default() -> Self {
        Self {
            clock: Arc::new(SystemClock),
            resync: Duration::from_secs(300),
        }
    }
}

pub struct Context {
    client: Client,
    options: CronJobOptions,
    jobs: Store<Job>,
    recorder: EventRecorder,
}

pub async fn run(client: Client, cancel: CancellationToken) -> Result<(), Error> {
    run_with_options(client, CronJobOptions::default(), cancel).await
}

pub async fn run_with_options(
    client: Client,
    options: CronJobOptions,
    cancel: CancellationToken,
) -> Result<(), Error> {
    let (jobs, job_writer) = reflector::store();
    let job_events = reflector::reflector(
        job_writer,
        watcher(Api::<Job>::all(client.clone()), watcher::Config::default()),
    )
    .default_backoff()
    .touched_objects();
    let ctx = Arc::new(Context {
        client: client.clone(),
        options,
        jobs,
        recorder: EventRecorder::new(client.clone(), "cronjob-controller"),
    });
    Controller::new(Api::<CronJob>::all(client), watcher::Config::default())
        .owns_stream(job_events)
        .graceful_shutdown_on(cancel.cancelled_owned())
        .with_config(crate::reconcile_workers::controller_config())
        .run(reconcile::reconcile, error_policy, ctx)
        .for_each(|result| async move {
            if let Err(error) = result {
                tracing::debug!(%error, "cronjob reconcile");
            }
        })
        .await;
    Ok(())
}

fn error_policy(cronjob: Arc<CronJob>, error: &Error, _ctx: Arc<Context>) -> Action {
    tracing::warn!(cronjob = ?cronjob.metadata.name, %error, "cronjob sync failed");
    Action::requeue(Duration::from_secs(5))
}
