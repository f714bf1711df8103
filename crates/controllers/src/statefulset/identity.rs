//! A StatefulSet pod's stable identity: `<set>-<ordinal>`, its labels, DNS name and claims.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{
    PersistentVolumeClaim, PersistentVolumeClaimVolumeSource, Pod, PodTemplateSpec, Volume,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use super::error::Error;
use super::revision::REVISION_LABEL;

pub const POD_NAME_LABEL: &str = "statefulset.kubernetes.io/pod-name";
pub const POD_INDEX_LABEL: &str = "apps.kubernetes.io/pod-index";

pub fn pod_name(set_name: &str, ordinal: i32) -> String {
    format!("{set_name}-{ordinal}")
}

/// The ordinal of a pod named `<set>-<ordinal>`, if the name has that shape.
pub fn ordinal_of(set_name: &str, pod_name: &str) -> Option<i32> {
    let suffix = pod_name.strip_prefix(set_name)?.strip_prefix('-')?;
    if suffix.starts_with('+') || (suffix.len() > 1 && suffix.starts_with('0')) {
        return None;
    }
    suffix.parse().ok().filter(|o: &i32| *o >= 0)
}

pub fn claim_name(template_name: &str, set_name: &str, ordinal: i32) -> String {
    format!("{template_name}-{set_name}-{ordinal}")
}

pub fn owner_reference(set: &StatefulSet, controller: bool) -> Result<OwnerReference, Error> {
    Ok(OwnerReference {
        api_version: "apps/v1".into(),
        kind: "StatefulSet".into(),
        name: set
            .metadata
            .name
            .clone()
            .ok_or(Error::MissingField("metadata.name"))?,
        uid: set
            .metadata
            .uid
            .clone()
            .ok_or(Error::MissingField("metadata.uid"))?,
        controller: Some(controller),
        block_owner_deletion: Some(true),
    })
}

pub fn pod_for_ordinal(
    set: &StatefulSet,
    template: &PodTemplateSpec,
    revision_name: &str,
    ordinal: i32,
) -> Result<Pod, Error> {
    let set_name = set
        .metadata
        .name
        .clone()
        .ok_or(Error::MissingField("metadata.name"))?;
    let name = pod_name(&set_name, ordinal);
    let template_meta = template.metadata.clone().unwrap_or_default();
    let mut labels = template_meta.labels.unwrap_or_default();
    labels.insert(POD_NAME_LABEL.into(), name.clone());
    labels.insert(POD_INDEX_LABEL.into(), ordinal.to_string());
    labels.insert(REVISION_LABEL.into(), revision_name.to_string());
    let mut spec = template
        .spec
        .clone()
        .ok_or(Error::MissingField("spec.template.spec"))?;
    spec.hostname = Some(name.clone());
    if let Some(service) = set
        .spec
        .as_ref()
        .and_then(|s| s.service_name.clone())
        .filter(|s| !s.is_empty())
    {
        spec.subdomain = Some(service);
    }
    let claims = set
        .spec
        .as_ref()
        .and_then(|s| s.volume_claim_templates.clone())
        .unwrap_or_default();
    if !claims.is_empty() {
        let volumes = spec.volumes.get_or_insert_with(Vec::new);
        for claim in &claims {
            let template_name = claim.metadata.name.clone().unwrap_or_default();
            volumes.retain(|v| v.name != template_name);
            volumes.push(Volume {
                name: template_name.clone(),
                persistent_volume_claim: Some(PersistentVolumeClaimVolumeSource {
                    claim_name: claim_name(&template_name, &set_name, ordinal),
                    read_only: None,
                }),
                ..Volume::default()
            });
        }
    }
    Ok(Pod {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: set.metadata.namespace.clone(),
            labels: Some(labels),
            annotations: template_meta.annotations,
            owner_references: Some(vec![owner_reference(set, true)?]),
            ..ObjectMeta::default()
        },
        spec: Some(spec),
        status: None,
    })
}

/// The claims a pod of this ordinal needs, from `spec.volumeClaimTemplates`.
pub fn claims_for_ordinal(set: &StatefulSet, ordinal: i32) -> Vec<PersistentVolumeClaim> {
    let set_name = set.metadata.name.clone().unwrap_or_default();
    let selector_labels: BTreeMap<String, String> = set
        .spec
        .as_ref()
        .and_then(|s| s.selector.match_labels.clone())
        .unwrap_or_default();
    let templates = set
        .spec
        .as_ref()
        .and_then(|s| s.volume_claim_templates.clone())
        .unwrap_or_default();
    templates
        .into_iter()
        .map(|template| {
            let template_name = template.metadata.name.clone().unwrap_or_default();
            let mut labels = template.metadata.labels.clone().unwrap_or_default();
            labels.extend(selector_labels.clone());
            PersistentVolumeClaim {
                metadata: ObjectMeta {
                    name: Some(claim_name(&template_name, &set_name, ordinal)),
                    namespace: set.metadata.namespace.clone(),
                    labels: Some(labels),
                    annotations: template.metadata.annotations.clone(),
                    ..ObjectMeta::default()
                },
                spec: template.spec,
                status: None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinals_parse_only_from_canonical_names() {
        assert_eq!(ordinal_of("web", "web-0"), Some(0));
        assert_eq!(ordinal_of("web", "web-12"), Some(12));
        assert_eq!(ordinal_of("web", "web-01"), None);
        assert_eq!(ordinal_of("web", "web-x"), None);
        assert_eq!(ordinal_of("web", "webby-1"), None);
        assert_eq!(claim_name("data", "web", 2), "data-web-2");
    }
}
