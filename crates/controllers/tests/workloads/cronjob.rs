use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::{Api, ResourceExt};
use serde_json::json;

use crate::harness::{eventually, pod_template, ApiServer, WAIT};
use controllers::cronjob::{Clock, CronJobOptions};

struct TestClock(Mutex<Timestamp>);

impl Clock for TestClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap()
    }
}

impl TestClock {
    fn advance(&self, by: SignedDuration) {
        let mut now = self.0.lock().unwrap();
        *now += by;
    }
}

async fn owned_jobs(jobs: &Api<Job>) -> Vec<Job> {
    let mut list: Vec<Job> = jobs.list(&ListParams::default()).await.unwrap().items;
    list.retain(|j| j.name_any().starts_with("tick-"));
    list.sort_by_key(|j| j.name_any());
    list
}

async fn complete(jobs: &Api<Job>, name: &str) {
    let now = Timestamp::now().to_string();
    let status = json!({"status": {
        "startTime": now, "completionTime": now, "succeeded": 1,
        "conditions": [
            {"type": "SuccessCriteriaMet", "status": "True", "reason": "CompletionsReached", "lastTransitionTime": now},
            {"type": "Complete", "status": "True", "reason": "CompletionsReached", "lastTransitionTime": now}]
    }});
    jobs.patch_status(name, &PatchParams::default(), &Patch::Merge(&status))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cronjob_starts_jobs_on_schedule_and_keeps_its_history_limit() {
    let server = ApiServer::start().await;
    let client = server.client.clone();
    let clock = Arc::new(TestClock(Mutex::new(Timestamp::now())));
    let options = CronJobOptions {
        clock: clock.clone(),
        resync: Duration::from_millis(200),
    };
    tokio::spawn(controllers::cronjob::run_with_options(
        client.clone(),
        options,
        server.cancel.child_token(),
    ));
    let cronjobs: Api<CronJob> = Api::namespaced(client.clone(), "default");
    let jobs: Api<Job> = Api::namespaced(client.clone(), "default");
    let cronjob: CronJob = serde_json::from_value(json!({
        "metadata": {"name": "tick"},
        "spec": {"schedule": "* * * * *", "successfulJobsHistoryLimit": 2,
                 "jobTemplate": {"spec": {"template": pod_template(json!({"app": "tick"}))}}}
    }))
    .unwrap();
    cronjobs
        .create(&PostParams::default(), &cronjob)
        .await
        .unwrap();

    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        owned_jobs(&jobs).await.is_empty(),
        "nothing is due before the first minute passes"
    );

    let mut started = Vec::new();
    for round in 1..=4 {
        clock.advance(SignedDuration::from_secs(60));
        let job = eventually("the next scheduled job", WAIT, || async {
            owned_jobs(&jobs)
                .await
                .into_iter()
                .find(|j| !started.contains(&j.name_any()))
        })
        .await;
        let scheduled: Timestamp = job.annotations()
            ["batch.kubernetes.io/cronjob-scheduled-timestamp"]
            .parse()
            .unwrap();
        assert_eq!(
            job.name_any(),
            format!("tick-{}", scheduled.as_second() / 60)
        );
        assert!(scheduled <= clock.now());
        started.push(job.name_any());
        complete(&jobs, &job.name_any()).await;
        if round == 1 {
            let status = eventually("lastSuccessfulTime", WAIT, || async {
                let status = cronjobs.get("tick").await.ok()?.status?;
                status.last_successful_time.is_some().then_some(status)
            })
            .await;
            assert!(status.last_schedule_time.is_some());
        }
    }

    let kept = eventually("history trimmed to two", WAIT, || async {
        let names: Vec<String> = owned_jobs(&jobs)
            .await
            .iter()
            .map(|j| j.name_any())
            .collect();
        (names.len() == 2).then_some(names)
    })
    .await;
    assert_eq!(kept, started[2..].to_vec(), "the newest two are kept");
    let status = cronjobs.get("tick").await.unwrap().status.unwrap();
    assert!(status.active.unwrap_or_default().is_empty());
}
