//! When a finished Job with `ttlSecondsAfterFinished` may be deleted: its finish time (the
//! completion time, else the terminal condition's transition) plus the TTL.

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::batch::v1::Job;

pub fn finished_at(job: &Job) -> Option<Timestamp> {
    let status = job.status.as_ref()?;
    let terminal = status
        .conditions
        .iter()
        .flatten()
        .find(|c| (c.type_ == "Complete" || c.type_ == "Failed") && c.status == "True")?;
    status
        .completion_time
        .as_ref()
        .or(terminal.last_transition_time.as_ref())
        .map(|t| t.0)
}

pub fn expires_at(job: &Job) -> Option<Timestamp> {
    let ttl = job.spec.as_ref()?.ttl_seconds_after_finished?;
    Some(finished_at(job)? + SignedDuration::from_secs(ttl.into()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_finished_jobs_with_a_ttl_expire() {
        let job: Job = serde_json::from_value(json!({
            "spec": {"ttlSecondsAfterFinished": 100, "template": {}},
            "status": {"completionTime": "2025-01-01T00:00:00Z",
                       "conditions": [{"type": "Complete", "status": "True"}]}
        }))
        .unwrap();
        assert_eq!(
            expires_at(&job),
            Some("2025-01-01T00:01:40Z".parse().unwrap())
        );
        let mut running = job.clone();
        running.status.as_mut().unwrap().conditions = None;
        assert_eq!(expires_at(&running), None);
        let mut no_ttl = job;
        no_ttl.spec.as_mut().unwrap().ttl_seconds_after_finished = None;
        assert_eq!(expires_at(&no_ttl), None);
    }
}
