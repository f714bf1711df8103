//! Merge metadata of the built-in Kubernetes types, transcribed from the `patchStrategy`,
//! `patchMergeKey`, `+listType`, `+listMapKey`, `+structType` and `+mapType` markers of
//! k8s.io/api. Only structs on a path to a described list or atomic value are listed; any
//! other field is a [`PLAIN`] struct.

use super::schema::{ListTy, Smp, Ssa, Ty, ATOMIC, PLAIN};

/// Structs that have something to describe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum S {
    /// Anything not described: fields merge, lists are atomic.
    Plain,
    /// A top-level object we know only the metadata of.
    Object,
    ObjectMeta,
    Pod,
    PodSpec,
    PodStatus,
    PodTemplate,
    PodTemplateSpec,
    Container,
    ResourceRequirements,
    EnvVar,
    Volume,
    ReplicationController,
    ReplicationControllerSpec,
    Service,
    ServiceSpec,
    Node,
    NodeSpec,
    NodeStatus,
    ServiceAccount,
    /// Object whose `status` has `conditions` keyed by `type` (and nothing else to describe).
    WithConditions,
    ConditionsStatus,
    /// Deployment, ReplicaSet, StatefulSet, DaemonSet.
    Workload,
    WorkloadSpec,
    Job,
    JobSpec,
    JobStatus,
    CronJob,
    CronJobSpec,
    JobTemplateSpec,
    WebhookConfiguration,
}

const fn list(smp: Smp, ssa: Ssa, item: &'static Ty) -> Ty {
    Ty::List(ListTy { smp, ssa, item })
}

const OBJECT_META: Ty = Ty::Struct(S::ObjectMeta);
const CONTAINER: Ty = Ty::Struct(S::Container);
const ENV_VAR: Ty = Ty::Struct(S::EnvVar);
const VOLUME: Ty = Ty::Struct(S::Volume);
const RESOURCES: Ty = Ty::Struct(S::ResourceRequirements);
const POD_SPEC: Ty = Ty::Struct(S::PodSpec);
const POD_TEMPLATE_SPEC: Ty = Ty::Struct(S::PodTemplateSpec);
const CONDITIONS_STATUS: Ty = Ty::Struct(S::ConditionsStatus);

const fn keyed(key: &'static str, keys: &'static [&'static str], item: &'static Ty) -> Ty {
    list(Smp::MergeKey(key), Ssa::Map(keys), item)
}

const BY_NAME: &[&str] = &["name"];
const BY_TYPE: &[&str] = &["type"];
const BY_IP: &[&str] = &["ip"];
const CONDITIONS: Ty = keyed("type", BY_TYPE, &PLAIN);
const CONTAINERS: Ty = keyed("name", BY_NAME, &CONTAINER);

/// Groups whose kinds are compiled into the API server (strategic merge patch applies).
pub fn is_builtin_group(group: &str) -> bool {
    matches!(
        group,
        "" | "apps"
            | "batch"
            | "autoscaling"
            | "policy"
            | "extensions"
            | "admissionregistration.k8s.io"
            | "apiextensions.k8s.io"
            | "apiregistration.k8s.io"
            | "authentication.k8s.io"
            | "authorization.k8s.io"
            | "certificates.k8s.io"
            | "coordination.k8s.io"
            | "discovery.k8s.io"
            | "events.k8s.io"
            | "flowcontrol.apiserver.k8s.io"
            | "internal.apiserver.k8s.io"
            | "networking.k8s.io"
            | "node.k8s.io"
            | "rbac.authorization.k8s.io"
            | "resource.k8s.io"
            | "scheduling.k8s.io"
            | "storage.k8s.io"
            | "storagemigration.k8s.io"
    )
}

/// Top-level struct of a kind.
pub fn root(group: &str, kind: &str) -> S {
    match (group, kind) {
        ("", "Pod") => S::Pod,
        ("", "PodTemplate") => S::PodTemplate,
        ("", "ReplicationController") => S::ReplicationController,
        ("", "Service") => S::Service,
        ("", "Node") => S::Node,
        ("", "ServiceAccount") => S::ServiceAccount,
        ("", "Namespace" | "PersistentVolumeClaim" | "ComponentStatus") => S::WithConditions,
        ("apps" | "extensions", "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet") => {
            S::Workload
        }
        ("batch", "Job") => S::Job,
        ("batch", "CronJob") => S::CronJob,
        (
            "admissionregistration.k8s.io",
            "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration",
        ) => S::WebhookConfiguration,
        _ => S::Object,
    }
}

/// Type of field `name` in struct `s`.
pub fn field(s: S, name: &str) -> Ty {
    use S::*;
    match (s, name) {
        (Plain, _) => PLAIN,
        (_, "metadata") if is_object(s) => OBJECT_META,

        (ObjectMeta, "finalizers") => list(Smp::MergePrimitive, Ssa::Set, &PLAIN),
        (ObjectMeta, "ownerReferences") => keyed("uid", &["uid"], &ATOMIC),
        (ObjectMeta, "managedFields") => ATOMIC,

        (Pod, "spec") => POD_SPEC,
        (Pod, "status") => Ty::Struct(PodStatus),
        (PodTemplate, "template") => POD_TEMPLATE_SPEC,
        (PodTemplateSpec, "metadata") => OBJECT_META,
        (PodTemplateSpec, "spec") => POD_SPEC,

        (PodSpec, "containers" | "initContainers" | "ephemeralContainers") => CONTAINERS,
        (PodSpec, "volumes") => keyed("name", BY_NAME, &VOLUME),
        (PodSpec, "imagePullSecrets") => keyed("name", BY_NAME, &ATOMIC),
        (PodSpec, "hostAliases") => keyed("ip", BY_IP, &PLAIN),
        (PodSpec, "topologySpreadConstraints") => {
            keyed("topologyKey", &["topologyKey", "whenUnsatisfiable"], &PLAIN)
        }
        (PodSpec, "schedulingGates" | "resourceClaims") => keyed("name", BY_NAME, &PLAIN),
        (PodSpec, "nodeSelector") => ATOMIC,

        (Container, "ports") => keyed("containerPort", &["containerPort", "protocol"], &PLAIN),
        (Container, "env") => keyed("name", BY_NAME, &ENV_VAR),
        (Container, "volumeMounts") => keyed("mountPath", &["mountPath"], &PLAIN),
        (Container, "volumeDevices") => keyed("devicePath", &["devicePath"], &PLAIN),
        (Container, "resources") => RESOURCES,
        (Container, "envFrom") => list(Smp::Replace, Ssa::Atomic, &ATOMIC),
        (ResourceRequirements, "claims") => list(Smp::Replace, Ssa::Map(BY_NAME), &PLAIN),
        (EnvVar, "valueFrom") => Ty::Struct(Plain),

        (PodStatus, "conditions") => CONDITIONS,
        (PodStatus, "podIPs") => keyed("ip", BY_IP, &PLAIN),
        (PodStatus, "hostIPs") => list(Smp::MergeKey("ip"), Ssa::Atomic, &PLAIN),
        (PodStatus, "resourceClaimStatuses") => keyed("name", BY_NAME, &PLAIN),

        (ReplicationController, "spec") => Ty::Struct(ReplicationControllerSpec),
        (ReplicationController, "status") => CONDITIONS_STATUS,
        (ReplicationControllerSpec, "template") => POD_TEMPLATE_SPEC,
        (ReplicationControllerSpec, "selector") => ATOMIC,

        (Service, "spec") => Ty::Struct(ServiceSpec),
        (Service, "status") => CONDITIONS_STATUS,
        (ServiceSpec, "ports") => keyed("port", &["port", "protocol"], &PLAIN),
        (ServiceSpec, "selector") => ATOMIC,

        (Node, "spec") => Ty::Struct(NodeSpec),
        (Node, "status") => Ty::Struct(NodeStatus),
        (NodeSpec, "podCIDRs") => list(Smp::MergePrimitive, Ssa::Set, &PLAIN),
        (NodeStatus, "conditions") => CONDITIONS,
        (NodeStatus, "addresses") => keyed("type", BY_TYPE, &PLAIN),

        (ServiceAccount, "secrets") => keyed("name", BY_NAME, &ATOMIC),

        (WithConditions, "status") => CONDITIONS_STATUS,
        (ConditionsStatus, "conditions") => CONDITIONS,

        (Workload, "spec") => Ty::Struct(WorkloadSpec),
        (Workload, "status") => CONDITIONS_STATUS,
        (WorkloadSpec, "selector") => ATOMIC,
        (WorkloadSpec, "template") => POD_TEMPLATE_SPEC,

        (Job, "spec") => Ty::Struct(JobSpec),
        (Job, "status") => Ty::Struct(JobStatus),
        (JobSpec, "selector") => ATOMIC,
        (JobSpec, "template") => POD_TEMPLATE_SPEC,
        (JobStatus, "conditions") => list(Smp::MergeKey("type"), Ssa::Atomic, &PLAIN),
        (CronJob, "spec") => Ty::Struct(CronJobSpec),
        (CronJobSpec, "jobTemplate") => Ty::Struct(JobTemplateSpec),
        (JobTemplateSpec, "metadata") => OBJECT_META,
        (JobTemplateSpec, "spec") => Ty::Struct(JobSpec),

        (WebhookConfiguration, "webhooks") => keyed("name", BY_NAME, &PLAIN),

        _ => PLAIN,
    }
}

/// Top-level objects (those carrying `metadata: ObjectMeta`).
fn is_object(s: S) -> bool {
    use S::*;
    matches!(
        s,
        Object
            | Pod
            | PodTemplate
            | ReplicationController
            | Service
            | Node
            | ServiceAccount
            | WithConditions
            | Workload
            | Job
            | CronJob
            | WebhookConfiguration
    )
}

/// Fields of `s` that Go always serializes for a zero value: non-pointer structs
/// (`Some`) and lists without `omitempty` (`None`, serialized as `null`). Server-side apply
/// diffs a create against this skeleton.
pub fn skeleton_fields(s: S) -> &'static [(&'static str, Option<S>)] {
    use S::*;
    const META: (&str, Option<S>) = ("metadata", Some(ObjectMeta));
    const STATUS: (&str, Option<S>) = ("status", Some(Plain));
    match s {
        Pod => &[META, ("spec", Some(PodSpec)), STATUS],
        Node | Service | ReplicationController | WithConditions => {
            &[META, ("spec", Some(Plain)), STATUS]
        }
        Workload => &[META, ("spec", Some(WorkloadSpec)), STATUS],
        WorkloadSpec => &[
            ("template", Some(PodTemplateSpec)),
            ("strategy", Some(Plain)),
            ("updateStrategy", Some(Plain)),
        ],
        JobSpec => &[("template", Some(PodTemplateSpec))],
        PodTemplateSpec => &[META, ("spec", Some(PodSpec))],
        PodSpec => &[("containers", None)],
        PodTemplate => &[META, ("template", Some(PodTemplateSpec))],
        Job => &[META, ("spec", Some(JobSpec)), STATUS],
        CronJob => &[META, ("spec", Some(CronJobSpec)), STATUS],
        CronJobSpec => &[("jobTemplate", Some(JobTemplateSpec))],
        JobTemplateSpec => &[META, ("spec", Some(JobSpec))],
        Object | ServiceAccount | WebhookConfiguration => &[META],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategic::schema::Schema;

    fn at(schema: Schema, path: &[&str]) -> Ty {
        path.iter().fold(schema.root(), |ty, seg| {
            if *seg == "[]" {
                ty.item()
            } else {
                ty.field(seg)
            }
        })
    }

    #[test]
    fn pod_template_paths() {
        let cases: &[(&str, &str, &[&str], Smp)] = &[
            (
                "apps/v1",
                "Deployment",
                &["spec", "template", "spec", "containers"],
                Smp::MergeKey("name"),
            ),
            (
                "apps/v1",
                "StatefulSet",
                &["spec", "template", "spec", "volumes"],
                Smp::MergeKey("name"),
            ),
            (
                "apps/v1",
                "DaemonSet",
                &["spec", "template", "spec", "initContainers"],
                Smp::MergeKey("name"),
            ),
            (
                "batch/v1",
                "CronJob",
                &[
                    "spec",
                    "jobTemplate",
                    "spec",
                    "template",
                    "spec",
                    "containers",
                ],
                Smp::MergeKey("name"),
            ),
            (
                "v1",
                "PodTemplate",
                &["template", "spec", "containers", "[]", "env"],
                Smp::MergeKey("name"),
            ),
            (
                "v1",
                "ReplicationController",
                &["spec", "template", "spec", "containers", "[]", "ports"],
                Smp::MergeKey("containerPort"),
            ),
            (
                "v1",
                "Pod",
                &["spec", "containers", "[]", "volumeMounts"],
                Smp::MergeKey("mountPath"),
            ),
            ("v1", "Pod", &["spec", "tolerations"], Smp::Replace),
            (
                "v1",
                "Pod",
                &["spec", "containers", "[]", "args"],
                Smp::Replace,
            ),
            (
                "v1",
                "Pod",
                &["metadata", "finalizers"],
                Smp::MergePrimitive,
            ),
            ("v1", "Service", &["spec", "ports"], Smp::MergeKey("port")),
            (
                "v1",
                "ConfigMap",
                &["metadata", "ownerReferences"],
                Smp::MergeKey("uid"),
            ),
            (
                "example.com/v1",
                "Widget",
                &["metadata", "finalizers"],
                Smp::MergePrimitive,
            ),
            (
                "example.com/v1",
                "Widget",
                &["spec", "containers"],
                Smp::Replace,
            ),
        ];
        for (api_version, kind, path, smp) in cases {
            let ty = at(Schema::for_kind(api_version, kind), path);
            assert_eq!(ty.list().smp, *smp, "{kind} {path:?}");
        }
    }

    #[test]
    fn ssa_keys_and_atomics() {
        let pod = Schema::for_kind("v1", "Pod");
        assert_eq!(
            at(pod, &["spec", "containers", "[]", "ports"]).list().ssa,
            Ssa::Map(&["containerPort", "protocol"])
        );
        assert!(at(
            Schema::for_kind("apps/v1", "Deployment"),
            &["spec", "selector"]
        )
        .is_atomic());
        assert!(!Schema::for_kind("example.com/v1", "Widget").is_builtin());
        assert!(Schema::for_kind("apps/v1", "Deployment").is_builtin());
    }
}
