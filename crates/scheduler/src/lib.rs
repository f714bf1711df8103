//! The scheduler: binds pods to nodes through the API, with upstream's framework and plugins
//! over an incrementally updated in-memory snapshot.
#![forbid(unsafe_code)]

pub mod algorithm;
mod binder;
mod error;
pub mod framework;
mod informer;
mod messages;
mod options;
pub mod plugins;
mod priority;
pub mod queue;
mod recorder;
mod scheduling_loop;
pub mod snapshot;

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

pub use error::SchedulerError;
pub use options::SchedulerOptions;

use binder::Binder;
use messages::Message;
use plugins::default_binder::DefaultBinder;
use recorder::Recorder;
use scheduling_loop::SchedulingLoop;

/// Runs the scheduler until `cancel`: with leader election on Lease
/// `kube-system/kube-scheduler` when `options.leader_elect`, scheduling only while leading.
pub async fn run(
    client: kube::Client,
    options: SchedulerOptions,
    cancel: CancellationToken,
) -> Result<(), SchedulerError> {
    if !options.leader_elect {
        return run_scheduling(client, options, cancel).await;
    }
    leader_run(client, options, cancel).await
}

async fn leader_run(
    client: kube::Client,
    options: SchedulerOptions,
    cancel: CancellationToken,
) -> Result<(), SchedulerError> {
    let election = leader::LeaderElection::new(
        client.clone(),
        "kube-system",
        "kube-scheduler",
        &options.identity,
    );
    election
        .run(cancel, |term| {
            let (client, options) = (client.clone(), options.clone());
            async move {
                if let Err(error) = run_scheduling(client, options, term).await {
                    tracing::error!(%error, "scheduler stopped");
                }
            }
        })
        .await
        .map_err(|e| SchedulerError::LeaderElection(e.to_string()))
}

/// The scheduling loop without leader election: watches, the scheduling thread, bindings.
pub async fn run_scheduling(
    client: kube::Client,
    options: SchedulerOptions,
    cancel: CancellationToken,
) -> Result<(), SchedulerError> {
    let cancel = cancel.child_token();
    let (tx, rx) = std::sync::mpsc::channel::<Message>();
    let (recorder, recorder_task) = Recorder::spawn(
        client.clone(),
        options.scheduler_name.clone(),
        options.identity.clone(),
        cancel.clone(),
    );
    let framework = Arc::new(plugins::default_framework(Some(Arc::new(
        DefaultBinder::new(client.clone()),
    ))));
    let binder = Binder::new(
        tokio::runtime::Handle::current(),
        options.bind_concurrency,
        framework.clone(),
        recorder.clone(),
        tx.clone(),
    );
    let watches = informer::spawn(client, tx.clone(), cancel.clone());
    let scheduling = SchedulingLoop::new(framework, options, binder, recorder);
    let thread = std::thread::Builder::new()
        .name("scheduler".into())
        .spawn(move || scheduling.run(rx))
        .map_err(|e| SchedulerError::Thread(e.to_string()))?;
    cancel.cancelled().await;
    let _ = tx.send(Message::Shutdown);
    for watch in watches {
        let _ = watch.await;
    }
    let _ = recorder_task.await;
    tokio::task::spawn_blocking(move || thread.join())
        .await
        .map_err(|e| SchedulerError::Thread(e.to_string()))?
        .map_err(|_| SchedulerError::Thread("scheduling thread panicked".into()))
}
