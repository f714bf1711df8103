//! Registering a simulated node as a kubelet does: create the Node (or take over an existing one),
//! post its full status, and create its Lease.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{
    Node, NodeAddress, NodeCondition, NodeDaemonEndpoints, NodeSpec, NodeStatus, NodeSystemInfo,
    Taint,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, Time};
use kube::api::{Patch, PatchParams, PostParams};
use kube::Api;

use crate::args::SimArgs;
use crate::error::SimError;
use crate::heartbeats;
use crate::sim_node::SimNode;

pub const KUBELET_VERSION: &str = "v1.33.0-sim";
const KUBELET_PORT: i32 = 10250;
const REGISTRATION_ATTEMPTS: u32 = 5;

/// What every simulated node looks like, from the flags.
#[derive(Debug, Clone)]
pub struct NodeTemplate {
    pub cpu: String,
    pub memory: String,
    pub ephemeral_storage: String,
    pub pods: u32,
    pub labels: Vec<(String, String)>,
    pub taints: Vec<Taint>,
}

impl NodeTemplate {
    pub fn from_args(args: &SimArgs) -> NodeTemplate {
        NodeTemplate {
            cpu: args.node_cpu.clone(),
            memory: args.node_memory.clone(),
            ephemeral_storage: args.node_ephemeral_storage.clone(),
            pods: args.max_pods,
            labels: args.node_labels.clone(),
            taints: args.node_taints.clone(),
        }
    }
}

/// The Node a kubelet would create for `node`.
pub fn node_object(template: &NodeTemplate, node: &SimNode, now: Timestamp) -> Node {
    Node {
        metadata: ObjectMeta {
            name: Some(node.name.clone()),
            labels: Some(node_labels(template, node)),
            annotations: Some(BTreeMap::from([
                ("kwok.x-k8s.io/node".to_string(), "fake".to_string()),
                ("node.alpha.kubernetes.io/ttl".to_string(), "0".to_string()),
            ])),
            ..ObjectMeta::default()
        },
        spec: Some(NodeSpec {
            taints: (!template.taints.is_empty()).then(|| template.taints.clone()),
            ..NodeSpec::default()
        }),
        status: Some(node_status(template, node, now)),
    }
}

fn node_labels(template: &NodeTemplate, node: &SimNode) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::from([
        ("kubernetes.io/hostname".to_string(), node.name.clone()),
        ("kubernetes.io/os".to_string(), "linux".to_string()),
        ("kubernetes.io/arch".to_string(), "amd64".to_string()),
        ("beta.kubernetes.io/os".to_string(), "linux".to_string()),
        ("beta.kubernetes.io/arch".to_string(), "amd64".to_string()),
        ("type".to_string(), "sim".to_string()),
    ]);
    labels.extend(template.labels.iter().cloned());
    labels
}

/// The full status a kubelet posts when it starts: resources, Ready, addresses, versions.
pub fn node_status(template: &NodeTemplate, node: &SimNode, now: Timestamp) -> NodeStatus {
    let resources = BTreeMap::from([
        ("cpu".to_string(), Quantity(template.cpu.clone())),
        ("memory".to_string(), Quantity(template.memory.clone())),
        (
            "ephemeral-storage".to_string(),
            Quantity(template.ephemeral_storage.clone()),
        ),
        ("pods".to_string(), Quantity(template.pods.to_string())),
    ]);
    NodeStatus {
        capacity: Some(resources.clone()),
        allocatable: Some(resources),
        conditions: Some(node_conditions(now, now)),
        addresses: Some(vec![
            NodeAddress {
                type_: "InternalIP".to_string(),
                address: node.internal_ip.to_string(),
            },
            NodeAddress {
                type_: "Hostname".to_string(),
                address: node.name.clone(),
            },
        ]),
        daemon_endpoints: Some(NodeDaemonEndpoints {
            kubelet_endpoint: Some(k8s_openapi::api::core::v1::DaemonEndpoint {
                port: KUBELET_PORT,
            }),
        }),
        node_info: Some(NodeSystemInfo {
            architecture: "amd64".to_string(),
            boot_id: format!("sim-{}", node.index),
            container_runtime_version: "sim://1.0".to_string(),
            kernel_version: "sim".to_string(),
            kube_proxy_version: KUBELET_VERSION.to_string(),
            kubelet_version: KUBELET_VERSION.to_string(),
            machine_id: format!("sim-{}", node.index),
            operating_system: "linux".to_string(),
            os_image: "r8s simulated node".to_string(),
            system_uuid: format!("sim-{}", node.index),
            ..NodeSystemInfo::default()
        }),
        ..NodeStatus::default()
    }
}

/// Ready=True and no pressure, as a healthy kubelet reports them.
pub fn node_conditions(heartbeat: Timestamp, transition: Timestamp) -> Vec<NodeCondition> {
    let condition = |type_: &str, status: &str, reason: &str, message: &str| NodeCondition {
        type_: type_.to_string(),
        status: status.to_string(),
        reason: Some(reason.to_string()),
        message: Some(message.to_string()),
        last_heartbeat_time: Some(Time(heartbeat)),
        last_transition_time: Some(Time(transition)),
    };
    vec![
        condition(
            "MemoryPressure",
            "False",
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available",
        ),
        condition(
            "DiskPressure",
            "False",
            "KubeletHasNoDiskPressure",
            "kubelet has no disk pressure",
        ),
        condition(
            "PIDPressure",
            "False",
            "KubeletHasSufficientPID",
            "kubelet has sufficient PID available",
        ),
        condition(
            "Ready",
            "True",
            "KubeletReady",
            "kubelet is posting ready status",
        ),
    ]
}

/// Our taints added to the node's, keeping those others put there (the node lifecycle controller's).
fn merged_taints(existing: &[Taint], ours: &[Taint]) -> Vec<Taint> {
    let mut taints = existing.to_vec();
    for taint in ours {
        match taints
            .iter_mut()
            .find(|t| t.key == taint.key && t.effect == taint.effect)
        {
            Some(held) => held.value = taint.value.clone(),
            None => taints.push(taint.clone()),
        }
    }
    taints
}

/// Registers every node, `concurrency` at a time; the first error is answered once all have tried.
pub async fn register_all(
    client: &kube::Client,
    template: &NodeTemplate,
    nodes: &[Arc<SimNode>],
    lease_duration_seconds: i32,
    concurrency: usize,
) -> Result<(), SimError> {
    let results: Vec<Result<(), SimError>> =
        futures::stream::iter(nodes.iter().cloned())
            .map(|node| {
                let client = client.clone();
                let template = template.clone();
                async move {
                    register_with_retries(&client, &template, &node, lease_duration_seconds).await
                }
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
    results.into_iter().collect()
}

/// `register`, tried again after 0.5, 1, 2 and 4 s: a server that is still starting is waited for.
async fn register_with_retries(
    client: &kube::Client,
    template: &NodeTemplate,
    node: &SimNode,
    lease_duration_seconds: i32,
) -> Result<(), SimError> {
    let mut delay = Duration::from_millis(500);
    let mut attempts_left = REGISTRATION_ATTEMPTS;
    loop {
        attempts_left -= 1;
        match register(client, template, node, lease_duration_seconds).await {
            Err(error) if attempts_left > 0 => {
                tracing::warn!(%error, retry_in = ?delay, "node registration failed");
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            result => return result,
        }
    }
}

/// Creates the Node, or takes over the one of that name; then posts its status and its Lease.
pub async fn register(
    client: &kube::Client,
    template: &NodeTemplate,
    node: &SimNode,
    lease_duration_seconds: i32,
) -> Result<(), SimError> {
    let nodes: Api<Node> = Api::all(client.clone());
    let now = Timestamp::now();
    let wanted = node_object(template, node, now);
    let error = |source| SimError::register(&node.name, source);
    let registered = match nodes.create(&PostParams::default(), &wanted).await {
        Ok(created) => created,
        Err(kube::Error::Api(status)) if status.code == 409 => {
            let existing = nodes.get(&node.name).await.map_err(error)?;
            let existing_taints = existing
                .spec
                .as_ref()
                .and_then(|spec| spec.taints.clone())
                .unwrap_or_default();
            let takeover = Node {
                metadata: ObjectMeta {
                    labels: wanted.metadata.labels.clone(),
                    annotations: wanted.metadata.annotations.clone(),
                    ..ObjectMeta::default()
                },
                spec: Some(NodeSpec {
                    taints: Some(merged_taints(&existing_taints, &template.taints)),
                    ..NodeSpec::default()
                }),
                status: None,
            };
            nodes
                .patch(
                    &node.name,
                    &PatchParams::default(),
                    &Patch::Merge(&takeover),
                )
                .await
                .map_err(error)?
        }
        Err(source) => return Err(error(source)),
    };
    node.set_uid(registered.metadata.uid.clone());
    // A server may drop the status on create, and a taken-over node has someone else's.
    let status_kept = registered.status.as_ref().is_some_and(|status| {
        status.conditions == wanted.status.as_ref().and_then(|s| s.conditions.clone())
    });
    if !status_kept {
        let status = Node {
            metadata: ObjectMeta::default(),
            spec: None,
            status: wanted.status,
        };
        nodes
            .patch_status(
                &node.name,
                &PatchParams::default(),
                &Patch::Strategic(&status),
            )
            .await
            .map_err(error)?;
    }
    heartbeats::claim_lease(client, node, lease_duration_seconds).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> NodeTemplate {
        NodeTemplate {
            cpu: "32".into(),
            memory: "256Gi".into(),
            ephemeral_storage: "1Ti".into(),
            pods: 110,
            labels: vec![("zone".into(), "a".into()), ("type".into(), "big".into())],
            taints: vec![Taint {
                key: "k".into(),
                value: Some("v".into()),
                effect: "NoSchedule".into(),
                time_added: None,
            }],
        }
    }

    #[test]
    fn the_node_looks_like_a_kubelets() {
        let node = SimNode::new("sim-node", 2);
        let now = Timestamp::UNIX_EPOCH;
        let object = node_object(&template(), &node, now);
        let labels = object.metadata.labels.unwrap();
        assert_eq!(labels["kubernetes.io/hostname"], "sim-node-2");
        assert_eq!(labels["kubernetes.io/os"], "linux");
        assert_eq!(labels["zone"], "a");
        assert_eq!(labels["type"], "big", "flags override the defaults");
        assert_eq!(object.spec.unwrap().taints.unwrap().len(), 1);
        let status = object.status.unwrap();
        let capacity = status.capacity.unwrap();
        assert_eq!(capacity["cpu"].0, "32");
        assert_eq!(capacity["pods"].0, "110");
        assert_eq!(capacity["ephemeral-storage"].0, "1Ti");
        let ready = status
            .conditions
            .unwrap()
            .into_iter()
            .find(|c| c.type_ == "Ready")
            .unwrap();
        assert_eq!(ready.status, "True");
        assert_eq!(ready.reason.as_deref(), Some("KubeletReady"));
        assert_eq!(
            ready.message.as_deref(),
            Some("kubelet is posting ready status")
        );
        let addresses = status.addresses.unwrap();
        assert_eq!(addresses[0].type_, "InternalIP");
        assert_eq!(addresses[0].address, "10.240.0.3");
        assert_eq!(status.node_info.unwrap().kubelet_version, "v1.33.0-sim");
    }

    #[test]
    fn takeover_keeps_foreign_taints() {
        let foreign = Taint {
            key: "node.kubernetes.io/not-ready".into(),
            value: None,
            effect: "NoSchedule".into(),
            time_added: None,
        };
        let ours = template().taints;
        let merged = merged_taints(std::slice::from_ref(&foreign), &ours);
        assert_eq!(merged, vec![foreign.clone(), ours[0].clone()]);
        let again = merged_taints(&merged, &ours);
        assert_eq!(again.len(), 2);
    }
}
