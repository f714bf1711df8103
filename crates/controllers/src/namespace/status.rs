//! The Terminating status a namespace shows while its content is deleted.

use jiff::Timestamp;
use k8s_openapi::api::core::v1::{Namespace, NamespaceCondition, NamespaceStatus};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

use super::conditions::{deletion_conditions, DeletionPass};

/// The namespace with phase Terminating and this pass's conditions; None when that is what it has.
pub fn with_deletion_status(namespace: &Namespace, pass: &DeletionPass) -> Option<Namespace> {
    let current = namespace.status.clone().unwrap_or_default();
    let existing = current.conditions.clone().unwrap_or_default();
    let now = Time(Timestamp::now());
    let mut conditions: Vec<NamespaceCondition> = existing
        .iter()
        .filter(|c| {
            !deletion_conditions(&DeletionPass::default())
                .iter()
                .any(|d| d.type_ == c.type_)
        })
        .cloned()
        .collect();
    let mut changed = current.phase.as_deref() != Some("Terminating");
    for wanted in deletion_conditions(pass) {
        let previous = existing.iter().find(|c| c.type_ == wanted.type_);
        let same = previous.is_some_and(|p| {
            p.status == wanted.status
                && p.reason.as_deref() == Some(wanted.reason)
                && p.message.as_deref() == Some(wanted.message.as_str())
        });
        changed |= !same;
        let transition = match previous {
            Some(p) if p.status == wanted.status => p.last_transition_time.clone(),
            _ => Some(now.clone()),
        };
        conditions.push(NamespaceCondition {
            type_: wanted.type_.to_string(),
            status: wanted.status.to_string(),
            reason: Some(wanted.reason.to_string()),
            message: Some(wanted.message),
            last_transition_time: transition,
        });
    }
    if !changed {
        return None;
    }
    let mut updated = namespace.clone();
    updated.metadata.managed_fields = None;
    updated.status = Some(NamespaceStatus {
        phase: Some("Terminating".into()),
        conditions: Some(conditions),
    });
    Some(updated)
}
