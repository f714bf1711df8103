//! Static pods with their mirror pods, the stats summary, and node-pressure eviction on the
//! local node agent of `r8s server`.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::Server;
use crate::node_agent::BUSYBOX;
use crate::node_support::can_run_containers;

fn wait_for<T>(
    server: &Server,
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}\nserver log tail:\n{}",
            crate::harness::tail(&server.log())
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

fn pod_json(server: &Server, name: &str) -> Option<Value> {
    let out = server.kubectl(&["get", "pod", name, "-o", "json"]);
    out.status
        .success()
        .then(|| serde_json::from_slice(&out.stdout).ok())
        .flatten()
}

/// (pod uid, container id) once the pod runs its container.
fn running_container(pod: &Value) -> Option<(String, String, i64)> {
    let status = &pod["status"]["containerStatuses"][0];
    status["state"]["running"].as_object()?;
    Some((
        pod["metadata"]["uid"].as_str()?.to_string(),
        status["containerID"].as_str()?.to_string(),
        status["restartCount"].as_i64()?,
    ))
}

fn static_manifest(command: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  labels:\n    app: web\nspec:\n  containers:\n  - name: web\n    image: {BUSYBOX}\n    command: [\"sh\", \"-c\", \"{command}\"]\n"
    )
}

#[test]
fn static_pods_run_with_mirror_pods_and_stats() {
    if !can_run_containers() {
        return;
    }
    let started = Instant::now();
    let server = Server::start_with_node(&[]);
    let manifests = server.data_dir().join("agent/pod-manifests");
    std::fs::create_dir_all(&manifests).unwrap();
    std::fs::write(
        manifests.join("web.yaml"),
        static_manifest("while true; do echo hi > /dev/null; done & sleep 3600"),
    )
    .unwrap();

    // The mirror pod shows the static pod running.
    let (mirror_uid, container_id, restarts) = wait_for(
        &server,
        "mirror pod web-r8s-e2e running",
        Duration::from_secs(60),
        || {
            pod_json(&server, "web-r8s-e2e")
                .as_ref()
                .and_then(running_container)
        },
    );
    assert_eq!(restarts, 0);
    let mirror = pod_json(&server, "web-r8s-e2e").unwrap();
    let annotations = &mirror["metadata"]["annotations"];
    assert_eq!(annotations["kubernetes.io/config.source"], "file");
    assert_eq!(
        annotations["kubernetes.io/config.mirror"],
        annotations["kubernetes.io/config.hash"]
    );
    assert_eq!(mirror["metadata"]["ownerReferences"][0]["kind"], "Node");
    assert_eq!(mirror["spec"]["nodeName"], "r8s-e2e");

    // Stats summary: non-zero cpu and memory for the pod's container.
    let stats_path = "/api/v1/nodes/r8s-e2e/proxy/stats/summary";
    let container_stats = |summary: &Value| -> Option<Value> {
        let pod = summary["pods"]
            .as_array()?
            .iter()
            .find(|p| p["podRef"]["name"] == "web-r8s-e2e")?;
        pod["containers"]
            .as_array()?
            .iter()
            .find(|c| c["name"] == "web")
            .cloned()
    };
    let web = wait_for(
        &server,
        "cpu figures of web in stats/summary",
        Duration::from_secs(30),
        || {
            let summary: Value =
                serde_json::from_str(&server.ok(&["get", "--raw", stats_path])).ok()?;
            let web = container_stats(&summary)?;
            (web["cpu"]["usageNanoCores"].as_u64()? > 0).then_some(web)
        },
    );
    assert!(
        web["cpu"]["usageCoreNanoSeconds"].as_u64().unwrap() > 0,
        "{web}"
    );
    assert!(
        web["memory"]["workingSetBytes"].as_u64().unwrap() > 0,
        "{web}"
    );
    assert!(web["memory"]["usageBytes"].as_u64().unwrap() > 0, "{web}");
    let summary: Value = serde_json::from_str(&server.ok(&["get", "--raw", stats_path])).unwrap();
    assert!(
        summary["node"]["memory"]["workingSetBytes"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert!(
        summary["node"]["cpu"]["usageCoreNanoSeconds"]
            .as_u64()
            .unwrap()
            > 0
    );

    // Deleting the mirror pod brings it back, with the same container.
    server.ok(&["delete", "pod", "web-r8s-e2e", "--wait=false"]);
    let (new_uid, same_container, restarts) =
        wait_for(&server, "a new mirror pod", Duration::from_secs(60), || {
            let found = pod_json(&server, "web-r8s-e2e")
                .as_ref()
                .and_then(running_container)?;
            (found.0 != mirror_uid).then_some(found)
        });
    assert_ne!(new_uid, mirror_uid);
    assert_eq!(same_container, container_id);
    assert_eq!(restarts, 0);

    // Editing the manifest restarts the pod with the new spec.
    std::fs::write(manifests.join("web.yaml"), static_manifest("sleep 3601")).unwrap();
    let (_, edited_container, _) = wait_for(
        &server,
        "the edited static pod",
        Duration::from_secs(60),
        || {
            let pod = pod_json(&server, "web-r8s-e2e")?;
            let command = pod["spec"]["containers"][0]["command"][2]
                .as_str()?
                .to_string();
            (command == "sleep 3601")
                .then(|| running_container(&pod))
                .flatten()
        },
    );
    assert_ne!(edited_container, container_id);

    // Removing the manifest removes the pod and its mirror.
    std::fs::remove_file(manifests.join("web.yaml")).unwrap();
    wait_for(
        &server,
        "the mirror pod to go",
        Duration::from_secs(60),
        || pod_json(&server, "web-r8s-e2e").is_none().then_some(()),
    );
    eprintln!("static pods scenario took {:?}", started.elapsed());
}

#[test]
fn memory_pressure_evicts_best_effort_pods() {
    if !can_run_containers() {
        return;
    }
    let started = Instant::now();
    let server = Server::start_with_node(&["--eviction-hard", "memory.available<1000Ti"]);
    let condition = wait_for(
        &server,
        "MemoryPressure=True",
        Duration::from_secs(60),
        || {
            let out = server.kubectl(&["get", "node", "r8s-e2e", "-o", "json"]);
            let node: Value = serde_json::from_slice(&out.stdout).ok()?;
            let condition = node["status"]["conditions"]
                .as_array()?
                .iter()
                .find(|c| c["type"] == "MemoryPressure" && c["status"] == "True")?
                .clone();
            Some(condition)
        },
    );
    assert_eq!(condition["reason"], "KubeletHasInsufficientMemory");
    let pod = format!(
        r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"hog"}},"spec":{{"tolerations":[{{"key":"node.kubernetes.io/memory-pressure","operator":"Exists","effect":"NoSchedule"}}],"containers":[{{"name":"hog","image":"{BUSYBOX}","command":["sleep","3600"]}}]}}}}"#
    );
    let file = crate::harness::manifest(&server, "hog.json", &pod);
    server.ok(&["apply", "-f", crate::harness::path_str(&file)]);
    let evicted = wait_for(&server, "pod hog evicted", Duration::from_secs(60), || {
        let pod = pod_json(&server, "hog")?;
        (pod["status"]["phase"] == "Failed").then_some(pod)
    });
    assert_eq!(evicted["status"]["reason"], "Evicted");
    let message = evicted["status"]["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with(
            "The node was low on resource: memory. Threshold quantity: 1000Ti, available: "
        ),
        "{message}"
    );
    // Its containers are stopped.
    wait_for(
        &server,
        "the evicted pod's container to stop",
        Duration::from_secs(30),
        || {
            let pod = pod_json(&server, "hog")?;
            let state = &pod["status"]["containerStatuses"][0]["state"];
            (state["running"].is_null()).then_some(())
        },
    );
    eprintln!("eviction scenario took {:?}", started.elapsed());
}
