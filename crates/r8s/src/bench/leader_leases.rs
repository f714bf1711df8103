//! The control plane's leader Leases during a benchmark. A leader that cannot renew in time under
//! load loses its Lease and restarts its loops: a benchmark that starves the server should show
//! it. A task reads both Leases every [`POLL`] and keeps, per Lease, the longest gap between two
//! renewals it saw (from the renewTime values the holder wrote, so the machines' clocks do not
//! matter) and every change of holder.

use std::time::Duration;

use jiff::Timestamp;
use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The Leases kube-scheduler and kube-controller-manager (and r8s's loops) elect their leader on.
const LEADER_LEASES: [&str; 2] = ["kube-scheduler", "kube-controller-manager"];
const NAMESPACE: &str = "kube-system";
/// Often enough to see every renewal of a leader that renews each second or two.
const POLL: Duration = Duration::from_millis(500);

/// What was seen of one Lease.
#[derive(Debug, Default, Clone, PartialEq)]
struct LeaseHistory {
    name: &'static str,
    /// Holders in the order they were seen; `None` is a Lease with no holder.
    holders: Vec<Option<String>>,
    last_renewal: Option<Timestamp>,
    longest_gap: Option<Duration>,
    lease_duration: Option<Duration>,
    /// The Lease did not exist (or could not be read) at some poll.
    missing: bool,
}

impl LeaseHistory {
    fn new(name: &'static str) -> Self {
        Self {
            name,
            ..Self::default()
        }
    }

    fn observe(&mut self, lease: Option<&Lease>) {
        let Some(spec) = lease.and_then(|lease| lease.spec.as_ref()) else {
            self.missing = true;
            return;
        };
        if self.holders.last() != Some(&spec.holder_identity) {
            self.holders.push(spec.holder_identity.clone());
        }
        if let Some(seconds) = spec.lease_duration_seconds {
            self.lease_duration = Some(Duration::from_secs(u64::try_from(seconds).unwrap_or(0)));
        }
        let Some(renewed) = spec.renew_time.as_ref().map(|time| time.0) else {
            return;
        };
        if let Some(previous) = self.last_renewal.filter(|previous| renewed > *previous) {
            let gap = Duration::try_from(renewed.duration_since(previous)).unwrap_or_default();
            self.longest_gap = Some(self.longest_gap.map_or(gap, |longest| longest.max(gap)));
        }
        if self.last_renewal.is_none_or(|previous| renewed > previous) {
            self.last_renewal = Some(renewed);
        }
    }

    /// One line: who held the Lease and how late its renewals came.
    fn report(&self) -> String {
        let lease = format!("{NAMESPACE}/{}", self.name);
        let holders: Vec<&str> = self
            .holders
            .iter()
            .map(|holder| holder.as_deref().unwrap_or("(nobody)"))
            .collect();
        let mut line = match holders.as_slice() {
            [] => format!("{lease}: not found"),
            [only] => format!("{lease}: held by {only} throughout"),
            several => format!(
                "{lease}: CHANGED HANDS {} times: {}",
                several.len() - 1,
                several.join(" → ")
            ),
        };
        if let Some(gap) = self.longest_gap {
            line.push_str(&format!(
                ", longest gap between renewals {:.1} s",
                gap.as_secs_f64()
            ));
            if let Some(duration) = self.lease_duration {
                line.push_str(&format!(" (lease duration {} s)", duration.as_secs()));
            }
        }
        if self.missing && !holders.is_empty() {
            line.push_str(", missing at times");
        }
        line
    }
}

/// The polling task; [`LeaderLeaseWatch::finish`] stops it and answers its report.
pub struct LeaderLeaseWatch {
    stop: watch::Sender<bool>,
    task: JoinHandle<Vec<LeaseHistory>>,
}

impl LeaderLeaseWatch {
    pub fn start(client: &kube::Client) -> Self {
        let leases: Api<Lease> = Api::namespaced(client.clone(), NAMESPACE);
        let (stop, mut stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut histories = LEADER_LEASES.map(LeaseHistory::new).to_vec();
            loop {
                for history in &mut histories {
                    let lease = leases.get_opt(history.name).await.ok().flatten();
                    history.observe(lease.as_ref());
                }
                tokio::select! {
                    _ = stopped.changed() => return histories,
                    _ = tokio::time::sleep(POLL) => {}
                }
            }
        });
        Self { stop, task }
    }

    /// Lines for the benchmark's summary, one per Lease.
    pub async fn finish(self) -> Vec<String> {
        let _ = self.stop.send(true);
        match self.task.await {
            Ok(histories) => histories.iter().map(LeaseHistory::report).collect(),
            Err(error) => vec![format!("leader leases not watched: {error}")],
        }
    }
}

/// Prints the lines of [`LeaderLeaseWatch::finish`] under their heading.
pub fn print_leader_leases(lines: &[String]) {
    println!("  leader leases during the run:");
    for line in lines {
        println!("    {line}");
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::api::coordination::v1::LeaseSpec;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;

    use super::*;

    fn lease(holder: &str, renewed_ms: i64) -> Lease {
        Lease {
            spec: Some(LeaseSpec {
                holder_identity: Some(holder.to_string()),
                lease_duration_seconds: Some(10),
                renew_time: Some(MicroTime(
                    Timestamp::from_millisecond(renewed_ms).expect("in range"),
                )),
                ..LeaseSpec::default()
            }),
            ..Lease::default()
        }
    }

    #[test]
    fn a_kept_lease_reports_its_longest_renewal_gap() {
        let mut history = LeaseHistory::new("kube-scheduler");
        for renewed in [1_000, 1_000, 2_000, 4_500, 5_500] {
            history.observe(Some(&lease("r8s-a", renewed)));
        }
        assert_eq!(
            history.report(),
            "kube-system/kube-scheduler: held by r8s-a throughout, \
             longest gap between renewals 2.5 s (lease duration 10 s)"
        );
    }

    #[test]
    fn a_change_of_holder_is_reported() {
        let mut history = LeaseHistory::new("kube-controller-manager");
        history.observe(Some(&lease("r8s-a", 1_000)));
        history.observe(None);
        history.observe(Some(&lease("r8s-b", 13_000)));
        let report = history.report();
        assert!(
            report.starts_with(
                "kube-system/kube-controller-manager: CHANGED HANDS 1 times: r8s-a → r8s-b"
            ),
            "{report}"
        );
        assert!(report.ends_with("missing at times"), "{report}");
    }

    #[test]
    fn an_absent_lease_is_not_found() {
        let mut history = LeaseHistory::new("kube-scheduler");
        history.observe(None);
        assert_eq!(history.report(), "kube-system/kube-scheduler: not found");
    }
}
