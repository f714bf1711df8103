//! Observing a quota's usage in its namespace: pods from the shared store, Services and claims
//! and counted kinds from the API (lists are served from the watch cache).

use std::collections::BTreeMap;

use api::catalog::ResourceInfo;

use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod, ResourceQuota, Service};
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use kube::runtime::reflector::Store;
use kube::{Client, ResourceExt};

use super::amount::{add_all, Amount, Amounts};
use super::objects::{claim_usage, count_names, service_usage, source_of, Source};
use super::pod_usage::pod_usage;
use super::scopes::{pod_in_scopes, scopes_of};

/// The observed amount of every hard resource this controller computes (zero when nothing is
/// charged). Scoped quotas track pods only, as upstream's other evaluators match no scope.
pub async fn observe_usage(
    client: &Client,
    pods: &Store<Pod>,
    quota: &ResourceQuota,
    now: jiff::Timestamp,
) -> Result<Amounts, kube::Error> {
    let namespace = quota.namespace().unwrap_or_default();
    let sources: Vec<(String, Source)> = quota
        .spec
        .as_ref()
        .and_then(|s| s.hard.as_ref())
        .into_iter()
        .flat_map(|hard| hard.keys())
        .filter_map(|name| Some((name.clone(), source_of(name)?)))
        .collect();
    let scopes = scopes_of(quota);
    let wants = |source: Source| sources.iter().any(|(_, s)| *s == source);
    let mut totals = Amounts::new();
    if wants(Source::Pods) {
        for pod in pods.state() {
            if pod.namespace().as_deref() == Some(namespace.as_str())
                && pod_in_scopes(&pod, &scopes)
            {
                add_all(&mut totals, &pod_usage(&pod, now));
            }
        }
    }
    if scopes.is_empty() {
        if wants(Source::Services) {
            let services: Api<Service> = Api::namespaced(client.clone(), &namespace);
            for service in services.list(&ListParams::default()).await?.items {
                add_all(&mut totals, &service_usage(&service));
            }
        }
        if wants(Source::PersistentVolumeClaims) {
            let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &namespace);
            for claim in claims.list(&ListParams::default()).await?.items {
                add_all(&mut totals, &claim_usage(&claim));
            }
        }
        let counted: BTreeMap<(&str, &str), &ResourceInfo> = sources
            .iter()
            .filter_map(|(_, s)| match s {
                Source::Count(info) => Some(((info.group, info.plural), *info)),
                _ => None,
            })
            .collect();
        for info in counted.into_values() {
            let resource = ApiResource {
                group: info.group.to_string(),
                version: info.version.to_string(),
                api_version: info.api_version(),
                kind: info.kind.to_string(),
                plural: info.plural.to_string(),
            };
            let api: Api<DynamicObject> =
                Api::namespaced_with(client.clone(), &namespace, &resource);
            let count = api.list_metadata(&ListParams::default()).await?.items.len();
            for name in count_names(info) {
                totals.insert(name, Amount::count(count));
            }
        }
    }
    Ok(sources
        .into_iter()
        .map(|(name, _)| {
            let amount = totals.get(&name).copied().unwrap_or(Amount::ZERO);
            (name, amount)
        })
        .collect())
}
