//! Runs each controller as its own task and restarts it after an error.

use std::time::Duration;

use futures::future::BoxFuture;
use tokio_util::sync::CancellationToken;

use crate::context::ControllerContext;
use crate::error::ControllerError;

/// How a controller starts: it runs until the token is cancelled.
pub type StartController =
    fn(ControllerContext, CancellationToken) -> BoxFuture<'static, Result<(), ControllerError>>;

/// A named controller.
#[derive(Clone, Copy)]
pub struct ControllerSpec {
    pub name: &'static str,
    pub start: StartController,
}

impl ControllerSpec {
    pub fn new(name: &'static str, start: StartController) -> Self {
        Self { name, start }
    }
}

const RESTART_DELAY: Duration = Duration::from_secs(2);

/// Run every controller until `cancel`; each failure is logged and the controller started again.
pub async fn run_all(
    context: ControllerContext,
    controllers: Vec<ControllerSpec>,
    cancel: CancellationToken,
) {
    let tasks: Vec<_> = controllers
        .into_iter()
        .map(|spec| tokio::spawn(supervise(spec, context.clone(), cancel.clone())))
        .collect();
    for task in tasks {
        if let Err(error) = task.await {
            tracing::error!(%error, "controller task panicked");
        }
    }
}

async fn supervise(spec: ControllerSpec, context: ControllerContext, cancel: CancellationToken) {
    tracing::info!(controller = spec.name, "starting controller");
    loop {
        let result = (spec.start)(context.clone(), cancel.clone()).await;
        if cancel.is_cancelled() {
            return;
        }
        match result {
            Ok(()) => tracing::warn!(controller = spec.name, "controller stopped; restarting"),
            Err(error) => {
                tracing::error!(controller = spec.name, %error, "controller failed; restarting")
            }
        }
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(RESTART_DELAY) => {}
        }
    }
}
