//! Which PersistentVolume a claim binds to (upstream's `findBestMatchForClaim`), and what phase a
//! volume whose claim went away moves to. Pure functions over the objects.

use k8s_openapi::api::core::v1::{PersistentVolume, PersistentVolumeClaim};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

const FILESYSTEM: &str = "Filesystem";

fn bytes(quantity: Option<&Quantity>) -> Option<i128> {
    let parsed = api::quantity::Quantity::parse(&quantity?.0).ok()?;
    Some(parsed.milli_value())
}

fn claim_request(claim: &PersistentVolumeClaim) -> i128 {
    let resources = claim.spec.as_ref().and_then(|s| s.resources.as_ref());
    bytes(
        resources
            .and_then(|r| r.requests.as_ref())
            .and_then(|r| r.get("storage")),
    )
    .unwrap_or(0)
}

fn volume_capacity(volume: &PersistentVolume) -> i128 {
    bytes(
        volume
            .spec
            .as_ref()
            .and_then(|s| s.capacity.as_ref())
            .and_then(|c| c.get("storage")),
    )
    .unwrap_or(0)
}

fn claim_class(claim: &PersistentVolumeClaim) -> &str {
    claim
        .spec
        .as_ref()
        .and_then(|s| s.storage_class_name.as_deref())
        .unwrap_or("")
}

fn volume_class(volume: &PersistentVolume) -> &str {
    volume
        .spec
        .as_ref()
        .and_then(|s| s.storage_class_name.as_deref())
        .unwrap_or("")
}

/// Whether `volume`'s claimRef names `claim` (a uid in the ref must match too).
pub fn is_claimed_by(volume: &PersistentVolume, claim: &PersistentVolumeClaim) -> bool {
    let Some(reference) = volume.spec.as_ref().and_then(|s| s.claim_ref.as_ref()) else {
        return false;
    };
    reference.name == claim.metadata.name
        && reference.namespace == claim.metadata.namespace
        && reference
            .uid
            .as_ref()
            .is_none_or(|uid| Some(uid) == claim.metadata.uid.as_ref())
}

fn fits(volume: &PersistentVolume, claim: &PersistentVolumeClaim) -> bool {
    let claim_spec = claim.spec.clone().unwrap_or_default();
    let volume_spec = volume.spec.clone().unwrap_or_default();
    let modes = volume_spec.access_modes.unwrap_or_default();
    let volume_mode = volume_spec.volume_mode.as_deref().unwrap_or(FILESYSTEM);
    let claim_mode = claim_spec.volume_mode.as_deref().unwrap_or(FILESYSTEM);
    let selector_matches = claim_spec.selector.as_ref().is_none_or(|selector| {
        let labels = volume.metadata.labels.clone().unwrap_or_default();
        selector
            .match_labels
            .iter()
            .flatten()
            .all(|(k, v)| labels.get(k) == Some(v))
            && selector.match_expressions.is_none()
    });
    volume_class(volume) == claim_class(claim)
        && claim_spec
            .access_modes
            .iter()
            .flatten()
            .all(|mode| modes.contains(mode))
        && volume_mode == claim_mode
        && volume_capacity(volume) >= claim_request(claim)
        && selector_matches
        && volume.metadata.deletion_timestamp.is_none()
}

fn is_available(volume: &PersistentVolume) -> bool {
    let phase = volume.status.as_ref().and_then(|s| s.phase.as_deref());
    matches!(phase, None | Some("Available" | "Pending"))
}

/// The volume `claim` should bind to: the one it names in `volumeName`, a volume pre-bound to it,
/// or the smallest available volume that fits.
pub fn volume_for_claim<'a>(
    claim: &PersistentVolumeClaim,
    volumes: &'a [PersistentVolume],
) -> Option<&'a PersistentVolume> {
    let named = claim
        .spec
        .as_ref()
        .and_then(|s| s.volume_name.as_deref())
        .filter(|n| !n.is_empty());
    if let Some(name) = named {
        return volumes.iter().find(|v| {
            v.metadata.name.as_deref() == Some(name)
                && (is_claimed_by(v, claim)
                    || v.spec.as_ref().and_then(|s| s.claim_ref.as_ref()).is_none())
        });
    }
    if let Some(pre_bound) = volumes
        .iter()
        .find(|v| is_claimed_by(v, claim) && fits(v, claim))
    {
        return Some(pre_bound);
    }
    volumes
        .iter()
        .filter(|v| v.spec.as_ref().and_then(|s| s.claim_ref.as_ref()).is_none())
        .filter(|v| is_available(v) && fits(v, claim))
        .min_by_key(|v| volume_capacity(v))
}

/// The phase a volume should show, given the claims that exist: Bound while its claim exists,
/// Released once a bound claim is gone, Available when unclaimed.
pub fn volume_phase(volume: &PersistentVolume, claims: &[PersistentVolumeClaim]) -> &'static str {
    let reference = volume.spec.as_ref().and_then(|s| s.claim_ref.as_ref());
    let Some(reference) = reference else {
        return "Available";
    };
    let Some(uid) = reference.uid.as_ref() else {
        // Pre-bound by a user, waiting for its claim.
        return "Available";
    };
    let claim_exists = claims.iter().any(|c| {
        c.metadata.uid.as_ref() == Some(uid)
            && c.metadata.name == reference.name
            && c.metadata.namespace == reference.namespace
    });
    if claim_exists {
        "Bound"
    } else {
        "Released"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn volume(name: &str, size: &str, class: &str) -> PersistentVolume {
        serde_json::from_value(json!({
            "metadata": {"name": name},
            "spec": {"capacity": {"storage": size}, "accessModes": ["ReadWriteOnce"],
                     "storageClassName": class, "hostPath": {"path": "/tmp/x"}},
            "status": {"phase": "Available"}
        }))
        .unwrap()
    }

    fn claim(size: &str, class: &str) -> PersistentVolumeClaim {
        serde_json::from_value(json!({
            "metadata": {"name": "c", "namespace": "default", "uid": "u1"},
            "spec": {"accessModes": ["ReadWriteOnce"], "storageClassName": class,
                     "resources": {"requests": {"storage": size}}}
        }))
        .unwrap()
    }

    #[test]
    fn smallest_fitting_volume_of_the_class() {
        let volumes = [
            volume("big", "10Gi", "manual"),
            volume("small", "1Gi", "manual"),
            volume("tiny", "100Mi", "manual"),
            volume("other", "1Gi", "fast"),
        ];
        let chosen = volume_for_claim(&claim("500Mi", "manual"), &volumes);
        assert_eq!(
            chosen.and_then(|v| v.metadata.name.as_deref()),
            Some("small")
        );
        assert!(volume_for_claim(&claim("20Gi", "manual"), &volumes).is_none());
        assert!(volume_for_claim(&claim("1Gi", "slow"), &volumes).is_none());
    }

    #[test]
    fn claimed_volumes_are_skipped_and_phases_follow_the_claim() {
        let mut taken = volume("taken", "1Gi", "manual");
        taken.spec.as_mut().unwrap().claim_ref = Some(
            serde_json::from_value(json!({"name": "c", "namespace": "default", "uid": "u1"}))
                .unwrap(),
        );
        let other = PersistentVolumeClaim {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                uid: Some("u2".into()),
                ..claim("1Gi", "manual").metadata
            },
            ..claim("1Gi", "manual")
        };
        assert!(volume_for_claim(&other, std::slice::from_ref(&taken)).is_none());
        let mine = claim("1Gi", "manual");
        assert!(volume_for_claim(&mine, std::slice::from_ref(&taken)).is_some());
        assert_eq!(volume_phase(&taken, std::slice::from_ref(&mine)), "Bound");
        assert_eq!(volume_phase(&taken, &[]), "Released");
        assert_eq!(volume_phase(&volume("free", "1Gi", ""), &[]), "Available");
    }
}
