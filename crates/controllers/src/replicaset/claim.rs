//! Which pods a replica owner owns, adopts or releases (upstream's ControllerRefManager).

use k8s_openapi::api::core::v1::Pod;

use crate::owner_reference::controller_of;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    /// Ours and matching the selector.
    Owned,
    /// An orphan matching the selector: take it.
    Adopt,
    /// Ours but no longer matching: let it go.
    Release,
    /// Someone else's, or not for us.
    Ignore,
}

pub fn claim_pod(
    pod: &Pod,
    owner_uid: &str,
    selector_matches: bool,
    owner_deleting: bool,
) -> Claim {
    match controller_of(&pod.metadata) {
        Some(owner) if owner.uid != owner_uid => Claim::Ignore,
        Some(_) if selector_matches => Claim::Owned,
        // A deleting owner keeps what it has rather than orphaning it.
        Some(_) if owner_deleting => Claim::Owned,
        Some(_) => Claim::Release,
        None if selector_matches
            && !owner_deleting
            && pod.metadata.deletion_timestamp.is_none() =>
        {
            Claim::Adopt
        }
        None => Claim::Ignore,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pod_conditions::test_pods::pod;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

    fn owned_by(uid: &str) -> Pod {
        let mut p = pod("p", "", "Pending", None, "2024-01-01T00:00:00Z");
        p.metadata.owner_references = Some(vec![OwnerReference {
            api_version: "apps/v1".into(),
            kind: "ReplicaSet".into(),
            name: "rs".into(),
            uid: uid.into(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }]);
        p
    }

    #[test]
    fn claims_follow_controller_reference_and_selector() {
        let orphan = pod("o", "", "Pending", None, "2024-01-01T00:00:00Z");
        assert_eq!(claim_pod(&orphan, "me", true, false), Claim::Adopt);
        assert_eq!(claim_pod(&orphan, "me", false, false), Claim::Ignore);
        assert_eq!(claim_pod(&orphan, "me", true, true), Claim::Ignore);
        assert_eq!(claim_pod(&owned_by("me"), "me", true, false), Claim::Owned);
        assert_eq!(
            claim_pod(&owned_by("me"), "me", false, false),
            Claim::Release
        );
        assert_eq!(
            claim_pod(&owned_by("other"), "me", true, false),
            Claim::Ignore
        );
    }
}
