//! The scheduler against an in-process API server: nodes and pods created through the API,
//! outcomes observed through the API.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{
    Affinity, Container, Event, Node, NodeCondition, NodeSpec, NodeStatus, Pod, PodAffinityTerm,
    PodAntiAffinity, PodSpec, ResourceRequirements, Taint, TopologySpreadConstraint,
};
use k8s_openapi::api::scheduling::v1::PriorityClass;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::DeleteParams;
use kube::api::{ListParams, ObjectMeta, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::Api;
use scheduler::SchedulerOptions;
use tokio_util::sync::CancellationToken;

struct Cluster {
    client: kube::Client,
    cancel: CancellationToken,
    _data_dir: tempfile::TempDir,
}

impl Cluster {
    async fn start() -> Cluster {
        let data_dir = tempfile::tempdir().unwrap();
        let cancel = CancellationToken::new();
        let started = apiserver::run(
            apiserver::ServeOptions::loopback(data_dir.path()),
            cancel.clone(),
        )
        .await
        .unwrap();
        let kubeconfig = Kubeconfig::read_from(&started.kubeconfig_path).unwrap();
        let config =
            kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .unwrap();
        let client = kube::Client::try_from(config).unwrap();
        let options = SchedulerOptions {
            leader_elect: false,
            ..SchedulerOptions::default()
        };
        tokio::spawn(scheduler::run(
            client.clone(),
            options,
            cancel.child_token(),
        ));
        Cluster {
            client,
            cancel,
            _data_dir: data_dir,
        }
    }

    fn pods(&self) -> Api<Pod> {
        Api::namespaced(self.client.clone(), "default")
    }

    async fn node(&self, node: Node) {
        Api::<Node>::all(self.client.clone())
            .create(&PostParams::default(), &node)
            .await
            .unwrap();
    }

    async fn pod(&self, pod: Pod) {
        self.pods()
            .create(&PostParams::default(), &pod)
            .await
            .unwrap();
    }

    async fn node_of(&self, name: &str) -> String {
        let pods = self.pods();
        eventually(
            &format!("{name} bound"),
            Duration::from_secs(20),
            || async {
                pods.get(name)
                    .await
                    .ok()
                    .and_then(|p| p.spec.and_then(|s| s.node_name))
            },
        )
        .await
    }

    async fn unschedulable_message(&self, name: &str) -> String {
        let pods = self.pods();
        eventually(
            &format!("{name} unschedulable"),
            Duration::from_secs(20),
            || async {
                let pod = pods.get(name).await.ok()?;
                let condition = pod
                    .status?
                    .conditions?
                    .into_iter()
                    .find(|c| c.type_ == "PodScheduled" && c.status == "False")?;
                assert_eq!(condition.reason.as_deref(), Some("Unschedulable"));
                condition.message
            },
        )
        .await
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(started.elapsed() < timeout, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn quantities(items: &[(&str, &str)]) -> BTreeMap<String, Quantity> {
    items
        .iter()
        .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
        .collect()
}

fn node(name: &str, labels: &[(&str, &str)], taints: Vec<Taint>) -> Node {
    let mut all: BTreeMap<String, String> = labels
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    all.insert("kubernetes.io/hostname".into(), name.into());
    let resources = quantities(&[("cpu", "4"), ("memory", "8Gi"), ("pods", "110")]);
    Node {
        metadata: ObjectMeta {
            name: Some(name.into()),
            labels: Some(all),
            ..Default::default()
        },
        spec: Some(NodeSpec {
            taints: Some(taints),
            ..Default::default()
        }),
        status: Some(NodeStatus {
            capacity: Some(resources.clone()),
            allocatable: Some(resources),
            conditions: Some(vec![NodeCondition {
                type_: "Ready".into(),
                status: "True".into(),
                ..Default::default()
            }]),
            ..Default::default()
        }),
    }
}

fn pod(name: &str, cpu: &str) -> Pod {
    Pod {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "c".into(),
                image: Some("registry.k8s.io/pause:3.10".into()),
                resources: Some(ResourceRequirements {
                    requests: Some(quantities(&[("cpu", cpu)])),
                    ..Default::default()
                }),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn control_plane_taint() -> Taint {
    Taint {
        key: "node-role.kubernetes.io/control-plane".into(),
        effect: "NoSchedule".into(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binds_honoring_selectors_and_taints_and_reports_failures() {
    let cluster = Cluster::start().await;
    cluster
        .node(node("cp", &[("disk", "ssd")], vec![control_plane_taint()]))
        .await;
    cluster.node(node("a", &[("disk", "ssd")], vec![])).await;
    cluster.node(node("b", &[("disk", "hdd")], vec![])).await;

    cluster.pod(pod("plain", "100m")).await;
    let plain_node = cluster.node_of("plain").await;
    assert!(plain_node == "a" || plain_node == "b", "{plain_node}");

    let mut ssd = pod("ssd", "100m");
    ssd.spec.as_mut().unwrap().node_selector =
        Some([("disk".to_string(), "ssd".to_string())].into());
    cluster.pod(ssd).await;
    assert_eq!(cluster.node_of("ssd").await, "a");

    let events: Api<Event> = Api::namespaced(cluster.client.clone(), "default");
    let scheduled = eventually("Scheduled event", Duration::from_secs(20), || async {
        events
            .list(&ListParams::default())
            .await
            .ok()?
            .items
            .into_iter()
            .find(|e| {
                e.reason.as_deref() == Some("Scheduled")
                    && e.involved_object.name.as_deref() == Some("ssd")
            })
    })
    .await;
    assert_eq!(
        scheduled.message.as_deref(),
        Some("Successfully assigned default/ssd to a")
    );

    cluster.pod(pod("huge", "8")).await;
    assert_eq!(
        cluster.unschedulable_message("huge").await,
        "0/3 nodes are available: 1 node(s) had untolerated taint \
         {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes \
         are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims \
         found for incoming pod."
    );
    let failed = eventually(
        "FailedScheduling event",
        Duration::from_secs(20),
        || async {
            events
                .list(&ListParams::default())
                .await
                .ok()?
                .items
                .into_iter()
                .find(|e| e.reason.as_deref() == Some("FailedScheduling"))
        },
    )
    .await;
    assert_eq!(failed.type_.as_deref(), Some("Warning"));

    // A bigger node arrives: the unschedulable pod is retried and fits.
    let mut big = node("big", &[], vec![]);
    let resources = quantities(&[("cpu", "16"), ("memory", "8Gi"), ("pods", "110")]);
    big.status.as_mut().unwrap().allocatable = Some(resources.clone());
    big.status.as_mut().unwrap().capacity = Some(resources);
    cluster.node(big).await;
    assert_eq!(cluster.node_of("huge").await, "big");
}

fn app_selector(app: &str) -> Option<LabelSelector> {
    Some(LabelSelector {
        match_labels: Some([("app".to_string(), app.to_string())].into()),
        ..Default::default()
    })
}

fn labelled(name: &str, app: &str) -> Pod {
    let mut p = pod(name, "100m");
    p.metadata.labels = Some([("app".to_string(), app.to_string())].into());
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anti_affinity_and_topology_spread() {
    let cluster = Cluster::start().await;
    cluster
        .node(node(
            "z1a",
            &[("topology.kubernetes.io/zone", "z1")],
            vec![],
        ))
        .await;
    cluster
        .node(node(
            "z1b",
            &[("topology.kubernetes.io/zone", "z1")],
            vec![],
        ))
        .await;
    cluster
        .node(node(
            "z2a",
            &[("topology.kubernetes.io/zone", "z2")],
            vec![],
        ))
        .await;

    let mut placed = Vec::new();
    for i in 0..4 {
        let mut p = labelled(&format!("web-{i}"), "web");
        p.spec.as_mut().unwrap().affinity = Some(Affinity {
            pod_anti_affinity: Some(PodAntiAffinity {
                required_during_scheduling_ignored_during_execution: Some(vec![PodAffinityTerm {
                    label_selector: app_selector("web"),
                    topology_key: "kubernetes.io/hostname".into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        });
        cluster.pod(p).await;
        if i < 3 {
            placed.push(cluster.node_of(&format!("web-{i}")).await);
        }
    }
    placed.sort();
    assert_eq!(placed, vec!["z1a", "z1b", "z2a"]);
    assert_eq!(
        cluster.unschedulable_message("web-3").await,
        "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules. preemption: \
         0/3 nodes are available: 3 No preemption victims found for incoming pod."
    );

    let mut zones = BTreeMap::<String, usize>::new();
    for i in 0..4 {
        let mut p = labelled(&format!("spread-{i}"), "spread");
        p.spec.as_mut().unwrap().topology_spread_constraints =
            Some(vec![TopologySpreadConstraint {
                max_skew: 1,
                topology_key: "topology.kubernetes.io/zone".into(),
                when_unsatisfiable: "DoNotSchedule".into(),
                label_selector: app_selector("spread"),
                ..Default::default()
            }]);
        cluster.pod(p).await;
        let node = cluster.node_of(&format!("spread-{i}")).await;
        let zone = if node.starts_with("z1") { "z1" } else { "z2" };
        *zones.entry(zone.to_string()).or_default() += 1;
    }
    assert_eq!(zones.get("z1"), Some(&2));
    assert_eq!(zones.get("z2"), Some(&2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn preemption_evicts_lower_priority_pods() {
    let cluster = Cluster::start().await;
    cluster.node(node("only", &[], vec![])).await;
    cluster.pod(pod("victim", "3")).await;
    assert_eq!(cluster.node_of("victim").await, "only");

    Api::<PriorityClass>::all(cluster.client.clone())
        .create(
            &PostParams::default(),
            &PriorityClass {
                metadata: ObjectMeta {
                    name: Some("high".into()),
                    ..Default::default()
                },
                value: 1000,
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let mut vip = pod("vip", "3");
    vip.spec.as_mut().unwrap().priority_class_name = Some("high".into());
    // Give the scheduler's PriorityClass watch a moment.
    tokio::time::sleep(Duration::from_millis(300)).await;
    cluster.pod(vip).await;

    let pods = cluster.pods();
    let nominated = eventually("nominatedNodeName", Duration::from_secs(20), || async {
        pods.get("vip").await.ok()?.status?.nominated_node_name
    })
    .await;
    assert_eq!(nominated, "only");
    eventually("victim evicted", Duration::from_secs(20), || async {
        match pods.get("victim").await {
            Err(_) => Some(()),
            Ok(p) => p.metadata.deletion_timestamp.map(|_| ()),
        }
    })
    .await;
    // No kubelet runs here: finish the eviction as one would.
    let _ = pods
        .delete("victim", &DeleteParams::default().grace_period(0))
        .await;
    assert_eq!(cluster.node_of("vip").await, "only");
}
