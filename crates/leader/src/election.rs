//! The election loop: acquire, run the work while renewing, and start over when the Lease is lost.

use std::future::Future;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};
use tokio_util::sync::CancellationToken;

use crate::decision::{decide, LeaseAction};
use crate::error::LeaderError;
use crate::lease_record::LeaseRecord;

/// The durations of leader election.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ElectionTimings {
    /// How long a Lease stays valid after its last renewal.
    pub lease_duration: Duration,
    /// How long the leader keeps trying to renew before it gives leadership up.
    pub renew_deadline: Duration,
    /// How often candidates try to acquire and the leader renews.
    pub retry_period: Duration,
}

/// Shorter than client-go's 15 s / 10 s / 2 s, so that a standby takes over within 15 s of the
/// leader's death (lease expiry plus one retry), which r8s promises for its hot standbys.
impl Default for ElectionTimings {
    fn default() -> Self {
        Self {
            lease_duration: Duration::from_secs(10),
            renew_deadline: Duration::from_secs(7),
            retry_period: Duration::from_secs(1),
        }
    }
}

pub struct LeaderElection {
    leases: Api<Lease>,
    namespace: String,
    name: String,
    identity: String,
    timings: ElectionTimings,
}

/// What one try at the Lease came to.
enum Attempt {
    Holding,
    HeldByOther,
    /// Someone wrote the Lease between our read and our write.
    Conflict,
}

impl LeaderElection {
    pub fn new(client: kube::Client, namespace: &str, lease_name: &str, identity: &str) -> Self {
        Self {
            leases: Api::namespaced(client, namespace),
            namespace: namespace.to_string(),
            name: lease_name.to_string(),
            identity: identity.to_string(),
            timings: ElectionTimings::default(),
        }
    }

    pub fn with_timings(mut self, timings: ElectionTimings) -> Self {
        self.timings = timings;
        self
    }

    /// Runs `work` while this process holds the lease; `work` gets a token cancelled when the lease
    /// is lost or `cancel` fires. Loops: wait to acquire, run, and on loss wait to acquire again.
    pub async fn run<F, Fut>(self, cancel: CancellationToken, work: F) -> Result<(), LeaderError>
    where
        F: Fn(CancellationToken) -> Fut,
        Fut: Future<Output = ()>,
    {
        loop {
            if !self.wait_to_acquire(&cancel).await {
                return Ok(());
            }
            tracing::info!(lease = %self.name, identity = %self.identity, "acquired leadership");
            let term = cancel.child_token();
            let work_running = work(term.clone());
            tokio::pin!(work_running);
            let work_finished = tokio::select! {
                _ = &mut work_running => true,
                _ = self.keep_renewing(&term) => false,
            };
            if work_finished {
                self.keep_renewing(&term).await;
            }
            term.cancel();
            if !work_finished {
                work_running.await;
            }
            if cancel.is_cancelled() {
                self.release().await;
                return Ok(());
            }
            tracing::warn!(lease = %self.name, identity = %self.identity, "lost leadership");
        }
    }

    /// Try every retry period until we hold the Lease; false when cancelled first.
    async fn wait_to_acquire(&self, cancel: &CancellationToken) -> bool {
        loop {
            match self.try_acquire_or_renew().await {
                Ok(Attempt::Holding) => return true,
                Ok(Attempt::HeldByOther | Attempt::Conflict) => {}
                Err(error) => tracing::warn!(%error, "acquiring lease"),
            }
            tokio::select! {
                _ = cancel.cancelled() => return false,
                _ = tokio::time::sleep(self.timings.retry_period) => {}
            }
        }
    }

    /// Renew every retry period; returns when `term` is cancelled, another holder took the Lease,
    /// or no renewal succeeded within the renew deadline.
    async fn keep_renewing(&self, term: &CancellationToken) {
        let mut last_renewal = Instant::now();
        loop {
            tokio::select! {
                _ = term.cancelled() => return,
                _ = tokio::time::sleep(self.timings.retry_period) => {}
            }
            let attempt =
                tokio::time::timeout(self.timings.renew_deadline, self.try_acquire_or_renew())
                    .await;
            match attempt {
                Ok(Ok(Attempt::Holding)) => last_renewal = Instant::now(),
                Ok(Ok(Attempt::HeldByOther)) => return,
                Ok(Ok(Attempt::Conflict)) => {}
                Ok(Err(error)) => tracing::warn!(%error, "renewing lease"),
                Err(_) => tracing::warn!(lease = %self.name, "renewing lease timed out"),
            }
            if last_renewal.elapsed() >= self.timings.renew_deadline {
                return;
            }
        }
    }

    async fn try_acquire_or_renew(&self) -> Result<Attempt, LeaderError> {
        let existing = self
            .leases
            .get_opt(&self.name)
            .await
            .map_err(|e| self.error(e))?;
        let observed = existing.as_ref().map(LeaseRecord::from_lease);
        let action = decide(
            observed.as_ref(),
            &self.identity,
            Timestamp::now(),
            self.timings.lease_duration,
        );
        let record = match action {
            LeaseAction::HeldByOther { .. } => return Ok(Attempt::HeldByOther),
            LeaseAction::Create(record) => {
                let lease = Lease {
                    metadata: ObjectMeta {
                        name: Some(self.name.clone()),
                        namespace: Some(self.namespace.clone()),
                        ..ObjectMeta::default()
                    },
                    spec: Some(record.to_spec()),
                };
                return match self.leases.create(&PostParams::default(), &lease).await {
                    Ok(_) => Ok(Attempt::Holding),
                    Err(error) if is_status(&error, 409) => Ok(Attempt::Conflict),
                    Err(error) => Err(self.error(error)),
                };
            }
            LeaseAction::Acquire(record) | LeaseAction::Renew(record) => record,
        };
        let Some(mut lease) = existing else {
            return Ok(Attempt::Conflict);
        };
        let mut spec = lease.spec.take().unwrap_or_default();
        let written = record.to_spec();
        spec.holder_identity = written.holder_identity;
        spec.lease_duration_seconds = written.lease_duration_seconds;
        spec.acquire_time = written.acquire_time;
        spec.renew_time = written.renew_time;
        spec.lease_transitions = written.lease_transitions;
        lease.spec = Some(spec);
        // The resourceVersion read above makes this a compare-and-swap.
        match self
            .leases
            .replace(&self.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Ok(Attempt::Holding),
            Err(error) if is_status(&error, 409) => Ok(Attempt::Conflict),
            Err(error) => Err(self.error(error)),
        }
    }

    /// Hand the Lease back so that another candidate need not wait for it to expire.
    async fn release(&self) {
        let Ok(Some(mut lease)) = self.leases.get_opt(&self.name).await else {
            return;
        };
        let Some(spec) = lease.spec.as_mut() else {
            return;
        };
        if spec.holder_identity.as_deref() != Some(self.identity.as_str()) {
            return;
        }
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        spec.renew_time = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime(
            Timestamp::now(),
        ));
        if let Err(error) = self
            .leases
            .replace(&self.name, &PostParams::default(), &lease)
            .await
        {
            tracing::debug!(%error, "releasing lease");
        }
    }

    fn error(&self, source: kube::Error) -> LeaderError {
        LeaderError::Api {
            namespace: self.namespace.clone(),
            name: self.name.clone(),
            source: Box::new(source),
        }
    }
}

fn is_status(error: &kube::Error, code: u16) -> bool {
    matches!(error, kube::Error::Api(status) if status.code == code)
}
