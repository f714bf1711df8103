use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{ListParams, PostParams};
use kube::{Api, ResourceExt};
use serde_json::json;

use crate::harness::{eventually, pod_template, set_pod_phase, ApiServer, WAIT};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_with_five_completions_and_parallelism_two_completes() {
    let server = ApiServer::start().await;
    let client = server.client.clone();
    tokio::spawn(controllers::job::run(
        client.clone(),
        controllers::Informers::spawn(client.clone(), &server.cancel),
        server.cancel.child_token(),
    ));
    let jobs: Api<Job> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let job: Job = serde_json::from_value(json!({
        "metadata": {"name": "pi"},
        "spec": {"completions": 5, "parallelism": 2, "template": pod_template(json!({"app": "pi"}))}
    }))
    .unwrap();
    jobs.create(&PostParams::default(), &job).await.unwrap();

    let mut finished = 0;
    while finished < 5 {
        let running: Vec<Pod> = eventually("job pods to run", WAIT, || async {
            let list = pods
                .list(&ListParams::default().labels("job-name=pi"))
                .await
                .ok()?;
            let active: Vec<Pod> = list
                .items
                .into_iter()
                .filter(|p| {
                    p.status
                        .as_ref()
                        .and_then(|s| s.phase.as_deref())
                        .is_none_or(|ph| ph == "Pending")
                })
                .collect();
            (!active.is_empty()).then_some(active)
        })
        .await;
        assert!(
            running.len() <= 2,
            "parallelism 2 but {} pods pending",
            running.len()
        );
        for pod in &running {
            assert!(pod
                .finalizers()
                .iter()
                .any(|f| f == "batch.kubernetes.io/job-tracking"));
            set_pod_phase(&client, "default", &pod.name_any(), "Succeeded").await;
            finished += 1;
        }
    }

    let done = eventually("the job to complete", WAIT, || async {
        let job = jobs.get("pi").await.ok()?;
        let status = job.status.clone()?;
        let complete = status
            .conditions
            .iter()
            .flatten()
            .any(|c| c.type_ == "Complete" && c.status == "True");
        complete.then_some(status)
    })
    .await;
    assert_eq!(done.succeeded, Some(5));
    assert_eq!(done.active.unwrap_or(0), 0);
    assert!(done.completion_time.is_some());
    assert!(done
        .conditions
        .iter()
        .flatten()
        .any(|c| c.type_ == "SuccessCriteriaMet"));
    let remaining = pods
        .list(&ListParams::default().labels("job-name=pi"))
        .await
        .unwrap();
    assert_eq!(remaining.items.len(), 5, "no extra pods were created");
    assert!(
        remaining.items.iter().all(|p| p.finalizers().is_empty()),
        "every pod was released"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_fails_after_its_backoff_limit() {
    let server = ApiServer::start().await;
    let client = server.client.clone();
    tokio::spawn(controllers::job::run(
        client.clone(),
        controllers::Informers::spawn(client.clone(), &server.cancel),
        server.cancel.child_token(),
    ));
    let jobs: Api<Job> = Api::namespaced(client.clone(), "default");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let job: Job = serde_json::from_value(json!({
        "metadata": {"name": "flaky"},
        "spec": {"backoffLimit": 0, "template": pod_template(json!({"app": "flaky"}))}
    }))
    .unwrap();
    jobs.create(&PostParams::default(), &job).await.unwrap();
    let pod = eventually("a pod", WAIT, || async {
        pods.list(&ListParams::default().labels("job-name=flaky"))
            .await
            .ok()?
            .items
            .into_iter()
            .next()
    })
    .await;
    set_pod_phase(&client, "default", &pod.name_any(), "Failed").await;
    let status = eventually("the job to fail", WAIT, || async {
        let status = jobs.get("flaky").await.ok()?.status?;
        status
            .conditions
            .iter()
            .flatten()
            .any(|c| c.type_ == "Failed" && c.status == "True")
            .then_some(status)
    })
    .await;
    let failed = status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "Failed")
        .unwrap();
    assert_eq!(failed.reason.as_deref(), Some("BackoffLimitExceeded"));
    assert_eq!(status.failed, Some(1));
}
