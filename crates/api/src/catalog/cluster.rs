//! Cluster plumbing: `coordination.k8s.io/v1`, `events.k8s.io/v1` (the core events, stored once),
//! `policy/v1`, `scheduling.k8s.io/v1`, `node.k8s.io/v1`, `flowcontrol.apiserver.k8s.io/v1`.

use super::{ResourceInfo, Subresource as S};

const FLOWCONTROL: &str = "flowcontrol.apiserver.k8s.io";

pub(super) const RESOURCES: &[ResourceInfo] = &[
    ResourceInfo::new(
        "coordination.k8s.io",
        "v1",
        "Lease",
        "leases",
        "lease",
        true,
    ),
    ResourceInfo::new("events.k8s.io", "v1", "Event", "events", "event", true)
        .with_short_names(&["ev"])
        .stored_as("", "v1"),
    ResourceInfo::new(
        FLOWCONTROL,
        "v1",
        "FlowSchema",
        "flowschemas",
        "flowschema",
        false,
    )
    .with_subresources(&[S::Status]),
    ResourceInfo::new(
        FLOWCONTROL,
        "v1",
        "PriorityLevelConfiguration",
        "prioritylevelconfigurations",
        "prioritylevelconfiguration",
        false,
    )
    .with_subresources(&[S::Status]),
    ResourceInfo::new(
        "node.k8s.io",
        "v1",
        "RuntimeClass",
        "runtimeclasses",
        "runtimeclass",
        false,
    ),
    ResourceInfo::new(
        "policy",
        "v1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        "poddisruptionbudget",
        true,
    )
    .with_short_names(&["pdb"])
    .with_subresources(&[S::Status]),
    ResourceInfo::new(
        "scheduling.k8s.io",
        "v1",
        "PriorityClass",
        "priorityclasses",
        "priorityclass",
        false,
    )
    .with_short_names(&["pc"]),
];
