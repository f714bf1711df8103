//! The quota resources other than pods': which object kind each counts, and what one Service or
//! PersistentVolumeClaim charges (upstream's service and PVC evaluators).

use api::catalog::ResourceInfo;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Service};

use super::amount::{Amount, Amounts};

const STORAGE_CLASS_SUFFIX: &str = ".storageclass.storage.k8s.io/";

/// Where the usage of a quota resource comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Pods,
    Services,
    PersistentVolumeClaims,
    /// A plain object count of a namespaced resource.
    Count(&'static ResourceInfo),
}

/// The source of `name`, or None when this controller cannot compute it.
pub fn source_of(name: &str) -> Option<Source> {
    if super::pod_usage::is_pod_resource(name) {
        return Some(Source::Pods);
    }
    match name {
        "services" | "services.loadbalancers" | "services.nodeports" | "count/services" => {
            return Some(Source::Services)
        }
        "persistentvolumeclaims" | "count/persistentvolumeclaims" | "requests.storage" => {
            return Some(Source::PersistentVolumeClaims)
        }
        _ => {}
    }
    if name.contains(STORAGE_CLASS_SUFFIX)
        && (name.ends_with("/requests.storage") || name.ends_with("/persistentvolumeclaims"))
    {
        return Some(Source::PersistentVolumeClaims);
    }
    let (plural, group) = match name {
        "configmaps" | "secrets" | "replicationcontrollers" | "resourcequotas" => (name, ""),
        _ => {
            let resource = name.strip_prefix("count/")?;
            resource.split_once('.').unwrap_or((resource, ""))
        }
    };
    let info = api::catalog::versions_of(group, plural)
        .into_iter()
        .next()?;
    (info.namespaced && info.supports_verb("list")).then_some(Source::Count(info))
}

/// The names a counted resource answers to: `count/<plural>[.<group>]`, and the legacy name
/// of the core kinds that have one.
pub fn count_names(info: &ResourceInfo) -> Vec<String> {
    let mut names = vec![if info.group.is_empty() {
        format!("count/{}", info.plural)
    } else {
        format!("count/{}.{}", info.plural, info.group)
    }];
    if info.group.is_empty()
        && matches!(
            info.plural,
            "configmaps" | "secrets" | "replicationcontrollers" | "resourcequotas"
        )
    {
        names.push(info.plural.to_string());
    }
    names
}

/// One Service's charge: the object, load balancers, and the node ports it allocates.
pub fn service_usage(service: &Service) -> Amounts {
    let mut usage = Amounts::new();
    usage.insert("services".into(), Amount::count(1));
    usage.insert("count/services".into(), Amount::count(1));
    let spec = service.spec.as_ref();
    let ports = spec.and_then(|s| s.ports.as_deref()).unwrap_or_default();
    match spec.and_then(|s| s.type_.as_deref()) {
        Some("NodePort") => {
            usage.insert("services.nodeports".into(), Amount::count(ports.len()));
        }
        Some("LoadBalancer") => {
            let node_ports =
                if spec.and_then(|s| s.allocate_load_balancer_node_ports) == Some(false) {
                    ports.iter().filter(|p| p.node_port.is_some()).count()
                } else {
                    ports.len()
                };
            usage.insert("services.nodeports".into(), Amount::count(node_ports));
            usage.insert("services.loadbalancers".into(), Amount::count(1));
        }
        _ => {}
    }
    usage
}

/// One claim's charge: the object and its storage (the larger of request and allocation),
/// also under its storage class.
pub fn claim_usage(claim: &PersistentVolumeClaim) -> Amounts {
    let mut usage = Amounts::new();
    usage.insert("persistentvolumeclaims".into(), Amount::count(1));
    usage.insert("count/persistentvolumeclaims".into(), Amount::count(1));
    let spec = claim.spec.as_ref();
    let class = spec
        .and_then(|s| s.storage_class_name.as_deref())
        .or_else(|| {
            claim
                .metadata
                .annotations
                .as_ref()?
                .get("volume.beta.kubernetes.io/storage-class")
                .map(String::as_str)
        })
        .filter(|c| !c.is_empty());
    if let Some(class) = class {
        usage.insert(
            format!("{class}{STORAGE_CLASS_SUFFIX}persistentvolumeclaims"),
            Amount::count(1),
        );
    }
    let requested = spec
        .and_then(|s| s.resources.as_ref())
        .and_then(|r| r.requests.as_ref())
        .and_then(|r| r.get("storage"))
        .and_then(|q| Amount::parse(&q.0));
    let allocated = claim
        .status
        .as_ref()
        .and_then(|s| s.allocated_resources.as_ref())
        .and_then(|r| r.get("storage"))
        .and_then(|q| Amount::parse(&q.0));
    let storage = match (requested, allocated) {
        (Some(r), Some(a)) if a.milli() > r.milli() => Some(a),
        (Some(r), _) => Some(r),
        (None, a) => a,
    };
    if let Some(storage) = storage {
        usage.insert("requests.storage".into(), storage);
        if let Some(class) = class {
            usage.insert(
                format!("{class}{STORAGE_CLASS_SUFFIX}requests.storage"),
                storage,
            );
        }
    }
    usage
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_quota_resource_names() {
        assert_eq!(source_of("requests.cpu"), Some(Source::Pods));
        assert_eq!(source_of("count/pods"), Some(Source::Pods));
        assert_eq!(source_of("services.nodeports"), Some(Source::Services));
        assert_eq!(
            source_of("gold.storageclass.storage.k8s.io/requests.storage"),
            Some(Source::PersistentVolumeClaims)
        );
        let Some(Source::Count(info)) = source_of("count/deployments.apps") else {
            panic!("deployments not counted");
        };
        assert_eq!((info.group, info.plural), ("apps", "deployments"));
        let Some(Source::Count(info)) = source_of("configmaps") else {
            panic!("configmaps not counted");
        };
        assert_eq!(count_names(info), ["count/configmaps", "configmaps"]);
        assert_eq!(source_of("count/nodes"), None);
        assert_eq!(source_of("count/widgets.example.com"), None);
        assert_eq!(source_of("bogus"), None);
    }

    #[test]
    fn services_charge_node_ports_and_load_balancers() {
        let service: Service = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "s"},
            "spec": {"type": "LoadBalancer", "allocateLoadBalancerNodePorts": false,
                     "ports": [{"port": 80, "nodePort": 30080}, {"port": 443}]}
        }))
        .unwrap();
        let usage = service_usage(&service);
        assert_eq!(usage["services.loadbalancers"].canonical(), "1");
        assert_eq!(usage["services.nodeports"].canonical(), "1");
        let plain: Service =
            serde_json::from_value(serde_json::json!({"metadata": {"name": "s"}})).unwrap();
        assert!(!service_usage(&plain).contains_key("services.nodeports"));
    }

    #[test]
    fn claims_charge_storage_per_class() {
        let claim: PersistentVolumeClaim = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "c"},
            "spec": {"storageClassName": "gold",
                     "resources": {"requests": {"storage": "1Gi"}}},
            "status": {"allocatedResources": {"storage": "2Gi"}}
        }))
        .unwrap();
        let usage = claim_usage(&claim);
        assert_eq!(usage["requests.storage"].canonical(), "2Gi");
        assert_eq!(
            usage["gold.storageclass.storage.k8s.io/requests.storage"].canonical(),
            "2Gi"
        );
        assert_eq!(
            usage["gold.storageclass.storage.k8s.io/persistentvolumeclaims"].canonical(),
            "1"
        );
    }
}
