//! How lists of the built-in types merge: the `x-kubernetes-patch-strategy`,
//! `x-kubernetes-patch-merge-key`, `x-kubernetes-list-type` and `x-kubernetes-list-map-keys`
//! extensions, which the generated schemas lack. kubectl's client-side apply reads the patch ones
//! from the v3 document to build strategic merge patches.

use serde_json::{Map, Value};

/// The merge behavior of one list (or map) property of one definition.
struct ListBehavior {
    definition: &'static str,
    property: &'static str,
    patch_strategy: Option<&'static str>,
    merge_key: Option<&'static str>,
    /// "atomic", "set" or "map".
    list_type: Option<&'static str>,
    map_keys: &'static [&'static str],
}

const fn keyed(
    definition: &'static str,
    property: &'static str,
    patch_strategy: &'static str,
    merge_key: &'static str,
    map_keys: &'static [&'static str],
) -> ListBehavior {
    ListBehavior {
        definition,
        property,
        patch_strategy: Some(patch_strategy),
        merge_key: Some(merge_key),
        list_type: Some("map"),
        map_keys,
    }
}

const fn merged_by_type(definition: &'static str) -> ListBehavior {
    keyed(definition, "conditions", "merge", "type", &["type"])
}

const fn atomic(definition: &'static str, property: &'static str) -> ListBehavior {
    ListBehavior {
        definition,
        property,
        patch_strategy: None,
        merge_key: None,
        list_type: Some("atomic"),
        map_keys: &[],
    }
}

const fn merged_set(definition: &'static str, property: &'static str) -> ListBehavior {
    ListBehavior {
        definition,
        property,
        patch_strategy: Some("merge"),
        merge_key: None,
        list_type: Some("set"),
        map_keys: &[],
    }
}

const LIST_BEHAVIORS: &[ListBehavior] = &[
    // Pod spec.
    keyed(
        "io.k8s.api.core.v1.PodSpec",
        "containers",
        "merge",
        "name",
        &["name"],
    ),
    keyed(
        "io.k8s.api.core.v1.PodSpec",
        "initContainers",
        "merge",
        "name",
        &["name"],
    ),
    keyed(
        "io.k8s.api.core.v1.PodSpec",
        "ephemeralContainers",
        "merge",
        "name",
        &["name"],
    ),
    keyed(
        "io.k8s.api.core.v1.PodSpec",
        "volumes",
        "merge,retainKeys",
        "name",
        &["name"],
    ),
    keyed(
        "io.k8s.api.core.v1.PodSpec",
        "imagePullSecrets",
        "merge",
        "name",
        &["name"],
    ),
    keyed(
        "io.k8s.api.core.v1.PodSpec",
        "hostAliases",
        "merge",
        "ip",
        &["ip"],
    ),
    keyed(
        "io.k8s.api.core.v1.PodSpec",
        "topologySpreadConstraints",
        "merge",
        "topologyKey",
        &["topologyKey", "whenUnsatisfiable"],
    ),
    keyed(
        "io.k8s.api.core.v1.PodSpec",
        "resourceClaims",
        "merge,retainKeys",
        "name",
        &["name"],
    ),
    keyed(
        "io.k8s.api.core.v1.PodSpec",
        "schedulingGates",
        "merge",
        "name",
        &["name"],
    ),
    atomic("io.k8s.api.core.v1.PodSpec", "tolerations"),
    atomic("io.k8s.api.core.v1.PodSpec", "readinessGates"),
    // Containers.
    keyed(
        "io.k8s.api.core.v1.Container",
        "env",
        "merge",
        "name",
        &["name"],
    ),
    keyed(
        "io.k8s.api.core.v1.Container",
        "ports",
        "merge",
        "containerPort",
        &["containerPort", "protocol"],
    ),
    keyed(
        "io.k8s.api.core.v1.Container",
        "volumeMounts",
        "merge",
        "mountPath",
        &["mountPath"],
    ),
    keyed(
        "io.k8s.api.core.v1.Container",
        "volumeDevices",
        "merge",
        "devicePath",
        &["devicePath"],
    ),
    atomic("io.k8s.api.core.v1.Container", "args"),
    atomic("io.k8s.api.core.v1.Container", "command"),
    atomic("io.k8s.api.core.v1.Container", "envFrom"),
    atomic("io.k8s.api.core.v1.Container", "resizePolicy"),
    keyed(
        "io.k8s.api.core.v1.EphemeralContainer",
        "env",
        "merge",
        "name",
        &["name"],
    ),
    keyed(
        "io.k8s.api.core.v1.EphemeralContainer",
        "volumeMounts",
        "merge",
        "mountPath",
        &["mountPath"],
    ),
    keyed(
        "io.k8s.api.core.v1.EphemeralContainer",
        "volumeDevices",
        "merge",
        "devicePath",
        &["devicePath"],
    ),
    atomic("io.k8s.api.core.v1.EphemeralContainer", "args"),
    atomic("io.k8s.api.core.v1.EphemeralContainer", "command"),
    atomic("io.k8s.api.core.v1.EphemeralContainer", "envFrom"),
    // Pod status.
    keyed(
        "io.k8s.api.core.v1.PodStatus",
        "conditions",
        "merge",
        "type",
        &["type"],
    ),
    keyed(
        "io.k8s.api.core.v1.PodStatus",
        "podIPs",
        "merge",
        "ip",
        &["ip"],
    ),
    atomic("io.k8s.api.core.v1.PodStatus", "containerStatuses"),
    atomic("io.k8s.api.core.v1.PodStatus", "initContainerStatuses"),
    atomic("io.k8s.api.core.v1.PodStatus", "ephemeralContainerStatuses"),
    // Object metadata and selectors.
    merged_set(
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "finalizers",
    ),
    keyed(
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "ownerReferences",
        "merge",
        "uid",
        &["uid"],
    ),
    atomic(
        "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        "managedFields",
    ),
    atomic(
        "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector",
        "matchExpressions",
    ),
    // Services and nodes.
    keyed(
        "io.k8s.api.core.v1.ServiceSpec",
        "ports",
        "merge",
        "port",
        &["port", "protocol"],
    ),
    keyed(
        "io.k8s.api.core.v1.ServiceStatus",
        "conditions",
        "merge",
        "type",
        &["type"],
    ),
    merged_set("io.k8s.api.core.v1.NodeSpec", "podCIDRs"),
    atomic("io.k8s.api.core.v1.NodeSpec", "taints"),
    keyed(
        "io.k8s.api.core.v1.NodeStatus",
        "addresses",
        "merge",
        "type",
        &["type"],
    ),
    merged_by_type("io.k8s.api.core.v1.NodeStatus"),
    merged_by_type("io.k8s.api.core.v1.NamespaceStatus"),
    merged_by_type("io.k8s.api.core.v1.PersistentVolumeClaimStatus"),
    merged_by_type("io.k8s.api.core.v1.ReplicationControllerStatus"),
    // Workload status conditions.
    merged_by_type("io.k8s.api.apps.v1.DeploymentStatus"),
    merged_by_type("io.k8s.api.apps.v1.ReplicaSetStatus"),
    merged_by_type("io.k8s.api.apps.v1.StatefulSetStatus"),
    merged_by_type("io.k8s.api.apps.v1.DaemonSetStatus"),
    ListBehavior {
        definition: "io.k8s.api.batch.v1.JobStatus",
        property: "conditions",
        patch_strategy: Some("merge"),
        merge_key: Some("type"),
        list_type: Some("atomic"),
        map_keys: &[],
    },
    keyed(
        "io.k8s.api.autoscaling.v2.HorizontalPodAutoscalerStatus",
        "conditions",
        "merge",
        "type",
        &["type"],
    ),
    keyed(
        "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.CustomResourceDefinitionStatus",
        "conditions",
        "merge",
        "type",
        &["type"],
    ),
    // Role-based access control.
    atomic("io.k8s.api.rbac.v1.RoleBinding", "subjects"),
    atomic("io.k8s.api.rbac.v1.ClusterRoleBinding", "subjects"),
    atomic("io.k8s.api.rbac.v1.Role", "rules"),
    atomic("io.k8s.api.rbac.v1.ClusterRole", "rules"),
];

/// Adds the list extensions of the table to the definitions they name.
pub(crate) fn add_list_behaviors(definitions: &mut Map<String, Value>) {
    for behavior in LIST_BEHAVIORS {
        let property = definitions
            .get_mut(behavior.definition)
            .and_then(|definition| definition.get_mut("properties"))
            .and_then(|properties| properties.get_mut(behavior.property))
            .and_then(Value::as_object_mut);
        let Some(property) = property else {
            continue;
        };
        if let Some(strategy) = behavior.patch_strategy {
            property.insert("x-kubernetes-patch-strategy".into(), strategy.into());
        }
        if let Some(key) = behavior.merge_key {
            property.insert("x-kubernetes-patch-merge-key".into(), key.into());
        }
        if let Some(list_type) = behavior.list_type {
            property.insert("x-kubernetes-list-type".into(), list_type.into());
        }
        if !behavior.map_keys.is_empty() {
            let keys = behavior.map_keys.iter().map(|k| Value::from(*k)).collect();
            property.insert("x-kubernetes-list-map-keys".into(), Value::Array(keys));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::openapi::cache::definition_index;

    #[test]
    fn every_entry_names_an_existing_property() {
        let definitions = &definition_index().definitions;
        for behavior in LIST_BEHAVIORS {
            let property = definitions
                .get(behavior.definition)
                .and_then(|definition| definition.get("properties"))
                .and_then(|properties| properties.get(behavior.property));
            assert!(
                property.is_some(),
                "{}.{} does not exist",
                behavior.definition,
                behavior.property
            );
        }
    }
}
