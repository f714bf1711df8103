//! Which cached objects each controller owns, and which objects of a namespace have no
//! controller: what a ReplicaSet's sync reads instead of every pod of its namespace.
//!
//! A sync used to walk the namespace's whole pod cache (and match its selector against each
//! pod) to find its own pods and the orphans it may adopt. With 150 ReplicaSets of 1,000 pods
//! in one namespace that made every sync O(150,000), and the syncs most of the server's CPU.
//! The index is kept by the shared informer's watch task, next to the store; it names objects
//! only, so a reader takes each object from the store (and skips one already gone).

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;

use kube::api::ObjectMeta;

/// An object's place: its namespace ("" when cluster-scoped) and name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ObjectKey {
    pub namespace: String,
    pub name: String,
}

impl ObjectKey {
    fn of(meta: &ObjectMeta) -> Option<Self> {
        Some(Self {
            namespace: meta.namespace.clone().unwrap_or_default(),
            name: meta.name.clone()?,
        })
    }
}

#[derive(Default)]
struct Entries {
    /// Each indexed object's controller uid (None: an orphan).
    controller_of: HashMap<ObjectKey, Option<String>>,
    /// Objects by the uid of their controller.
    owned: HashMap<String, HashSet<ObjectKey>>,
    /// Objects without a controller, by namespace.
    orphans: HashMap<String, HashSet<ObjectKey>>,
}

impl Entries {
    fn remove(&mut self, key: &ObjectKey) {
        match self.controller_of.remove(key) {
            Some(Some(uid)) => remove_from(&mut self.owned, &uid, key),
            Some(None) => remove_from(&mut self.orphans, &key.namespace, key),
            None => {}
        }
    }

    fn insert(&mut self, key: ObjectKey, controller: Option<String>) {
        match &controller {
            Some(uid) => self.owned.entry(uid.clone()).or_default(),
            None => self.orphans.entry(key.namespace.clone()).or_default(),
        }
        .insert(key.clone());
        self.controller_of.insert(key, controller);
    }
}

fn remove_from(sets: &mut HashMap<String, HashSet<ObjectKey>>, set: &str, key: &ObjectKey) {
    if let Some(members) = sets.get_mut(set) {
        members.remove(key);
        if members.is_empty() {
            sets.remove(set);
        }
    }
}

fn controller_uid(meta: &ObjectMeta) -> Option<String> {
    meta.owner_references
        .iter()
        .flatten()
        .find(|r| r.controller == Some(true))
        .map(|r| r.uid.clone())
}

#[derive(Default)]
pub struct OwnerIndex {
    entries: RwLock<Entries>,
}

impl OwnerIndex {
    /// An object was created or changed.
    pub fn apply(&self, meta: &ObjectMeta) {
        let Some(key) = ObjectKey::of(meta) else {
            return;
        };
        let controller = controller_uid(meta);
        if let Ok(mut entries) = self.entries.write() {
            if entries.controller_of.get(&key) == Some(&controller) {
                return;
            }
            entries.remove(&key);
            entries.insert(key, controller);
        }
    }

    /// An object was deleted.
    pub fn delete(&self, meta: &ObjectMeta) {
        if let (Some(key), Ok(mut entries)) = (ObjectKey::of(meta), self.entries.write()) {
            entries.remove(&key);
        }
    }

    /// Forget everything and index `metas` (after a re-list, which reports no deletions).
    pub fn rebuild<'a>(&self, metas: impl IntoIterator<Item = &'a ObjectMeta>) {
        let mut fresh = Entries::default();
        for meta in metas {
            if let Some(key) = ObjectKey::of(meta) {
                fresh.insert(key, controller_uid(meta));
            }
        }
        if let Ok(mut entries) = self.entries.write() {
            *entries = fresh;
        }
    }

    /// The objects whose controller has uid `uid`, and the orphans of `namespace`.
    pub fn owned_by_or_orphaned_in(&self, uid: &str, namespace: &str) -> Vec<ObjectKey> {
        let Ok(entries) = self.entries.read() else {
            return Vec::new();
        };
        entries
            .owned
            .get(uid)
            .into_iter()
            .chain(entries.orphans.get(namespace))
            .flatten()
            .cloned()
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

    use super::*;

    fn meta(namespace: &str, name: &str, controller: Option<&str>) -> ObjectMeta {
        ObjectMeta {
            namespace: Some(namespace.into()),
            name: Some(name.into()),
            owner_references: controller.map(|uid| {
                vec![OwnerReference {
                    controller: Some(true),
                    uid: uid.into(),
                    ..OwnerReference::default()
                }]
            }),
            ..ObjectMeta::default()
        }
    }

    fn names(mut keys: Vec<ObjectKey>) -> Vec<String> {
        keys.sort_by(|a, b| a.name.cmp(&b.name));
        keys.into_iter().map(|k| k.name).collect()
    }

    #[test]
    fn finds_owned_objects_and_the_namespace_orphans() {
        let index = OwnerIndex::default();
        index.apply(&meta("a", "p1", Some("rs1")));
        index.apply(&meta("a", "p2", Some("rs2")));
        index.apply(&meta("a", "lone", None));
        index.apply(&meta("b", "elsewhere", None));
        assert_eq!(
            names(index.owned_by_or_orphaned_in("rs1", "a")),
            ["lone", "p1"]
        );
        // Released by rs1, adopted by rs2, deleted: the index follows.
        index.apply(&meta("a", "p1", None));
        assert_eq!(
            names(index.owned_by_or_orphaned_in("rs1", "a")),
            ["lone", "p1"]
        );
        index.apply(&meta("a", "p1", Some("rs2")));
        assert_eq!(names(index.owned_by_or_orphaned_in("rs1", "a")), ["lone"]);
        assert_eq!(
            names(index.owned_by_or_orphaned_in("rs2", "a")),
            ["lone", "p1", "p2"]
        );
        index.delete(&meta("a", "lone", None));
        assert_eq!(
            names(index.owned_by_or_orphaned_in("rs2", "a")),
            ["p1", "p2"]
        );
    }

    #[test]
    fn a_rebuild_forgets_what_the_relist_no_longer_holds() {
        let index = OwnerIndex::default();
        index.apply(&meta("a", "gone", Some("rs1")));
        index.rebuild([&meta("a", "kept", Some("rs1"))]);
        assert_eq!(names(index.owned_by_or_orphaned_in("rs1", "a")), ["kept"]);
    }
}
