//! What the garbage collector does with an object, given what it knows of its owners: pure
//! functions (upstream's attemptToDeleteItem, processDeletingDependents, orphanDependents).

pub const FOREGROUND_FINALIZER: &str = "foregroundDeletion";
pub const ORPHAN_FINALIZER: &str = "orphan";

/// How an owner named in an ownerReference stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerState {
    /// Exists with the referenced uid and is not deleting its dependents first.
    Solid,
    /// Gone, or replaced by another object with the same name (uid mismatch).
    Dangling,
    /// Being deleted in the foreground: waiting for its dependents to go.
    WaitingForDependents,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Propagation {
    Background,
    Foreground,
    Orphan,
}

/// What the dependent side of the graph asks for one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DependentAction {
    Keep,
    /// Some owners remain: drop the dangling references and stop blocking waiting owners.
    RewriteOwnerReferences {
        remove: Vec<String>,
        unblock: Vec<String>,
    },
    Delete(Propagation),
}

/// The facts about an object the decision needs.
#[derive(Debug, Clone, Default)]
pub struct ItemFacts {
    pub deleting: bool,
    pub finalizers: Vec<String>,
    pub has_dependents: bool,
}

pub fn dependent_action(item: &ItemFacts, owners: &[(String, OwnerState)]) -> DependentAction {
    if item.deleting || owners.is_empty() {
        return DependentAction::Keep;
    }
    let with_state = |state: OwnerState| -> Vec<String> {
        owners
            .iter()
            .filter(|(_, s)| *s == state)
            .map(|(uid, _)| uid.clone())
            .collect()
    };
    let solid = with_state(OwnerState::Solid);
    let dangling = with_state(OwnerState::Dangling);
    let waiting = with_state(OwnerState::WaitingForDependents);
    if !solid.is_empty() {
        if dangling.is_empty() && waiting.is_empty() {
            return DependentAction::Keep;
        }
        return DependentAction::RewriteOwnerReferences {
            remove: dangling,
            unblock: waiting,
        };
    }
    if !waiting.is_empty() && item.has_dependents {
        return DependentAction::Delete(Propagation::Foreground);
    }
    let has = |finalizer: &str| item.finalizers.iter().any(|f| f == finalizer);
    let propagation = if has(ORPHAN_FINALIZER) {
        Propagation::Orphan
    } else if has(FOREGROUND_FINALIZER) {
        Propagation::Foreground
    } else {
        Propagation::Background
    };
    DependentAction::Delete(propagation)
}

/// What the owner side asks for an object being deleted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnerAction {
    None,
    /// Remove our reference from every dependent, then the `orphan` finalizer.
    OrphanDependents,
    /// Dependents are still there: have them deleted (they see us waiting) and wait.
    AwaitDependents,
    /// No blocking dependent left: remove the `foregroundDeletion` finalizer.
    RemoveForegroundFinalizer,
}

pub fn owner_action(item: &ItemFacts, blocking_dependents: usize) -> OwnerAction {
    if !item.deleting {
        return OwnerAction::None;
    }
    if item.finalizers.iter().any(|f| f == ORPHAN_FINALIZER) {
        return OwnerAction::OrphanDependents;
    }
    if item.finalizers.iter().any(|f| f == FOREGROUND_FINALIZER) {
        if blocking_dependents > 0 {
            return OwnerAction::AwaitDependents;
        }
        return OwnerAction::RemoveForegroundFinalizer;
    }
    OwnerAction::None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owners(states: &[OwnerState]) -> Vec<(String, OwnerState)> {
        states
            .iter()
            .enumerate()
            .map(|(i, s)| (format!("o{i}"), *s))
            .collect()
    }

    #[test]
    fn objects_without_live_owners_are_deleted_in_the_background() {
        let item = ItemFacts::default();
        assert_eq!(
            dependent_action(&item, &owners(&[OwnerState::Dangling])),
            DependentAction::Delete(Propagation::Background)
        );
        assert_eq!(dependent_action(&item, &[]), DependentAction::Keep);
    }

    #[test]
    fn a_solid_owner_keeps_the_object_and_dangling_references_are_dropped() {
        let item = ItemFacts::default();
        assert_eq!(
            dependent_action(&item, &owners(&[OwnerState::Solid])),
            DependentAction::Keep
        );
        assert_eq!(
            dependent_action(&item, &owners(&[OwnerState::Solid, OwnerState::Dangling])),
            DependentAction::RewriteOwnerReferences {
                remove: vec!["o1".into()],
                unblock: vec![]
            }
        );
    }

    #[test]
    fn dependents_of_a_foreground_owner_are_deleted_foreground_when_they_have_their_own() {
        let mut item = ItemFacts::default();
        let waiting = owners(&[OwnerState::WaitingForDependents]);
        assert_eq!(
            dependent_action(&item, &waiting),
            DependentAction::Delete(Propagation::Background)
        );
        item.has_dependents = true;
        assert_eq!(
            dependent_action(&item, &waiting),
            DependentAction::Delete(Propagation::Foreground)
        );
        item.deleting = true;
        assert_eq!(dependent_action(&item, &waiting), DependentAction::Keep);
    }

    #[test]
    fn owner_finalizers_drive_orphaning_and_foreground_completion() {
        let mut owner = ItemFacts {
            deleting: true,
            finalizers: vec![ORPHAN_FINALIZER.into()],
            has_dependents: true,
        };
        assert_eq!(owner_action(&owner, 0), OwnerAction::OrphanDependents);
        owner.finalizers = vec![FOREGROUND_FINALIZER.into()];
        assert_eq!(owner_action(&owner, 1), OwnerAction::AwaitDependents);
        // Dependents that do not block owner deletion do not hold the finalizer.
        assert_eq!(
            owner_action(&owner, 0),
            OwnerAction::RemoveForegroundFinalizer
        );
        owner.deleting = false;
        assert_eq!(owner_action(&owner, 0), OwnerAction::None);
    }
}
