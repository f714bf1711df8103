//! Server-side apply and managed-fields tracking, after structured-merge-diff and
//! k8s.io/apimachinery's fieldmanager: each writer's fields are recorded in
//! `metadata.managedFields`; an apply merges the applied configuration, removes the fields
//! its manager stopped applying, and fails on fields another manager owns with another value.

mod conflicts;
mod fieldset;
mod managed_fields;
mod merge;
mod typed;

use serde_json::{Map, Value};

pub use conflicts::{conflicts_message, Conflict};
pub use fieldset::{path_string, FieldSet, Path, PathElement};

use crate::Schema;
use fieldset::PathElement as PE;
use managed_fields::{ManagedEntry, APPLY, UPDATE};

/// Annotation `kubectl apply` (client-side) keeps the last applied configuration in.
pub const LAST_APPLIED_ANNOTATION: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// Longest field manager name upstream accepts.
pub const FIELD_MANAGER_MAX_LENGTH: usize = 128;

/// Why an apply was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApplyError {
    /// Fields owned by other managers would change (409 Conflict, reason `Conflict`, one
    /// `FieldManagerConflict` cause per entry).
    #[error("{}", conflicts::Message(.0))]
    Conflicts(Vec<Conflict>),
    /// The applied configuration carries `metadata.managedFields` (400).
    #[error("metadata.managedFields must be nil")]
    ManagedFieldsInConfig,
    /// The applied configuration is not an object (400).
    #[error("{0}")]
    InvalidConfig(String),
}

impl ApplyError {
    pub fn status_code(&self) -> u16 {
        match self {
            ApplyError::Conflicts(_) => 409,
            _ => 400,
        }
    }
}

/// Parameters of a server-side apply.
#[derive(Clone, Copy, Debug)]
pub struct ApplyOptions<'a> {
    /// `fieldManager` (required for apply upstream).
    pub manager: &'a str,
    /// `force=true`: take ownership of conflicting fields instead of failing.
    pub force: bool,
    /// Now, RFC 3339 (`2026-11-22T20:47:46Z`).
    pub time: &'a str,
    /// `"status"` for the status subresource, `""` for the main resource.
    pub subresource: &'a str,
    pub schema: &'a Schema,
}

/// Parameters of an ordinary write (create, update, patch).
#[derive(Clone, Copy, Debug)]
pub struct UpdateOptions<'a> {
    pub manager: &'a str,
    pub time: &'a str,
    pub subresource: &'a str,
    pub schema: &'a Schema,
}

/// Fields nobody owns: identity and server-set metadata. Built once: every write subtracts it.
fn strip_set() -> &'static FieldSet {
    static STRIP: std::sync::OnceLock<FieldSet> = std::sync::OnceLock::new();
    STRIP.get_or_init(build_strip_set)
}

fn build_strip_set() -> FieldSet {
    let mut set = FieldSet::new();
    let f = |s: &str| PE::Field(s.to_string());
    set.insert(&[f("apiVersion")]);
    set.insert(&[f("kind")]);
    set.insert(&[f("metadata")]);
    for name in [
        "name",
        "namespace",
        "creationTimestamp",
        "selfLink",
        "uid",
        "clusterName",
        "generation",
        "managedFields",
        "resourceVersion",
    ] {
        set.insert(&[f("metadata"), f(name)]);
    }
    set
}

/// The part of a field set a writer of `subresource` can own: the main resource owns
/// everything but `status`, the status subresource only `status`.
fn ownable(mut set: FieldSet, subresource: &str) -> FieldSet {
    set.subtract(strip_set());
    let status = PE::Field("status".to_string());
    if subresource == "status" {
        set.only(&status)
    } else {
        let mut ignored = FieldSet::new();
        ignored.insert(&[status]);
        set.subtract_recursive(&ignored);
        set
    }
}

/// The fields a write added or modified that a manager can own.
fn changed_fields(cmp: typed::Comparison, subresource: &str) -> (FieldSet, FieldSet) {
    let mut changed = cmp.added;
    changed.union_with(cmp.modified);
    (ownable(changed, subresource), cmp.removed)
}

fn api_version_of(obj: &Value) -> &str {
    obj.get("apiVersion").and_then(Value::as_str).unwrap_or("")
}

fn last_applied(obj: &Value) -> Option<&str> {
    obj.get("metadata")?
        .get("annotations")?
        .get(LAST_APPLIED_ANNOTATION)?
        .as_str()
}

/// Record an ordinary write in `new`'s managedFields and return the object to store.
///
/// Fields this write adds or changes become `manager`'s (an `Update` entry) and leave every
/// other entry; fields it removes leave every entry. If `new` carries decodable, non-empty
/// managedFields (a client editing them, as `kubectl apply --server-side` does when migrating
/// from client-side apply) those are the starting point, else `old`'s are.
pub fn track_update(old: Option<&Value>, new: Value, opts: &UpdateOptions<'_>) -> Value {
    let ty = opts.schema.root();
    let from_new = managed_fields::decode(&new)
        .ok()
        .filter(|e| !e.is_empty() && opts.subresource.is_empty());
    let mut entries = from_new
        .or_else(|| old.and_then(|o| managed_fields::decode(o).ok()))
        .unwrap_or_default();
    let mut out = new;
    managed_fields::remove(&mut out);
    // The comparison skips managedFields, so the old object is compared as it is.
    let skeleton;
    let old_clean = match old {
        Some(o) => o,
        None => {
            skeleton = typed::skeleton(ty);
            &skeleton
        }
    };
    let (changed, removed) = changed_fields(typed::compare(old_clean, &out, ty), opts.subresource);
    for e in entries.iter_mut() {
        e.fields.subtract(&changed);
        e.fields.subtract(&removed);
    }
    if !changed.is_empty() {
        let api_version = api_version_of(&out);
        let pos = match entries
            .iter()
            .position(|e| e.is(opts.manager, UPDATE, api_version, opts.subresource))
        {
            Some(p) => p,
            None => {
                entries.push(ManagedEntry::new(
                    opts.manager,
                    UPDATE,
                    api_version,
                    opts.subresource,
                ));
                entries.len() - 1
            }
        };
        entries[pos].fields.union_with(changed);
        entries[pos].time = Some(opts.time.to_string());
    }
    managed_fields::store(&mut out, entries);
    out
}

/// Server-side apply `applied` (the parsed `application/apply-patch+yaml` body) onto `live`
/// (`None` when the object does not exist yet). Returns the object to store, managedFields
/// included.
pub fn apply(
    live: Option<&Value>,
    applied: &Value,
    opts: &ApplyOptions<'_>,
) -> Result<Value, ApplyError> {
    if !applied.is_object() {
        return Err(ApplyError::InvalidConfig(
            "applied configuration must be an object".into(),
        ));
    }
    if applied
        .get("metadata")
        .and_then(|m| m.get("managedFields"))
        .is_some_and(|v| !v.is_null())
    {
        return Err(ApplyError::ManagedFieldsInConfig);
    }
    let ty = opts.schema.root();
    let api_version = api_version_of(applied);
    let live_clean = live
        .map(managed_fields::strip)
        .unwrap_or_else(|| Value::Object(Map::new()));
    let mut entries = live
        .and_then(|l| managed_fields::decode(l).ok())
        .unwrap_or_default();
    if let (Some(l), true) = (live, entries.is_empty()) {
        let mut before = ManagedEntry::new(
            "before-first-apply",
            UPDATE,
            api_version_of(l),
            opts.subresource,
        );
        before.fields = ownable(typed::to_field_set(&live_clean, ty), opts.subresource);
        entries.push(before);
    }

    let config_set = ownable(typed::to_field_set(applied, ty), opts.subresource);
    let mut merged =
        merge::merge(Some(&live_clean), applied, ty).unwrap_or_else(|| Value::Object(Map::new()));
    let me = match entries
        .iter()
        .position(|e| e.is(opts.manager, APPLY, api_version, opts.subresource))
    {
        Some(p) => p,
        None => {
            entries.push(ManagedEntry::new(
                opts.manager,
                APPLY,
                api_version,
                opts.subresource,
            ));
            entries.len() - 1
        }
    };
    let last_set = std::mem::replace(&mut entries[me].fields, config_set);
    entries[me].api_version = api_version.to_string();
    if !last_set.is_empty() {
        let owned = entries
            .iter()
            .fold(FieldSet::new(), |acc, e| acc.union(&e.fields));
        merge::prune(&mut merged, ty, &last_set, Some(&owned));
    }

    let (changed, removed) =
        changed_fields(typed::compare(&live_clean, &merged, ty), opts.subresource);
    let mut found: Vec<(usize, FieldSet)> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        if i == me {
            continue;
        }
        let overlap = e.fields.intersection(&changed);
        if !overlap.is_empty() {
            found.push((i, overlap));
        }
    }
    let is_conflict = |i: usize| entries[i].manager != opts.manager;
    let mut blocking: Vec<Conflict> = Vec::new();
    if !opts.force {
        let allowed = allowed_by_last_applied(opts.manager, &live_clean, ty);
        for (i, set) in &found {
            if !is_conflict(*i) {
                continue;
            }
            let set = match &allowed {
                Some(a) => set.difference(a),
                None => set.clone(),
            };
            for path in set.paths() {
                blocking.push(Conflict {
                    manager: entries[*i].describe(),
                    field: path_string(&path),
                });
            }
        }
    }
    if !blocking.is_empty() {
        return Err(ApplyError::Conflicts(blocking));
    }
    for (i, set) in found {
        entries[i].fields.subtract(&set);
    }
    for (i, e) in entries.iter_mut().enumerate() {
        if i != me {
            e.fields.subtract(&removed);
        }
    }
    if merged != live_clean {
        entries[me].time = Some(opts.time.to_string());
    }
    if opts.manager == "kubectl" && last_applied(&live_clean).is_some() {
        set_last_applied(&mut merged, applied);
    }
    managed_fields::store(&mut merged, entries);
    Ok(merged)
}

/// Conflicts `kubectl apply --server-side` may override when upgrading from client-side
/// apply: fields of the last-applied annotation that are still in the live object.
fn allowed_by_last_applied(
    manager: &str,
    live: &Value,
    ty: crate::strategic::schema::Ty,
) -> Option<FieldSet> {
    if manager != "kubectl" {
        return None;
    }
    let last: Value = serde_json::from_str(last_applied(live)?).ok()?;
    let live_set = typed::to_field_set(live, ty);
    Some(typed::to_field_set(&last, ty).intersection(&live_set))
}

/// Keep the client-side apply annotation in step with what `kubectl` applies server-side.
fn set_last_applied(obj: &mut Value, applied: &Value) {
    let mut config = applied.clone();
    if let Some(Value::Object(ann)) = config
        .get_mut("metadata")
        .and_then(|m| m.get_mut("annotations"))
    {
        ann.remove(LAST_APPLIED_ANNOTATION);
        if ann.is_empty() {
            if let Some(Value::Object(meta)) = config.get_mut("metadata") {
                meta.remove("annotations");
            }
        }
    }
    let text = format!("{}\n", merge::sorted_keys(&config));
    if let Some(Value::Object(ann)) = obj
        .get_mut("metadata")
        .and_then(|m| m.get_mut("annotations"))
    {
        ann.insert(LAST_APPLIED_ANNOTATION.to_string(), Value::String(text));
    }
}

/// Field manager for a request without `fieldManager`: the User-Agent up to its first `/`
/// (`kubectl/v1.32.4 (linux/amd64) ...` → `kubectl`), unprintable characters escaped, cut to
/// [`FIELD_MANAGER_MAX_LENGTH`].
pub fn default_manager_from_user_agent(user_agent: &str) -> String {
    let prefix = user_agent.split('/').next().unwrap_or("");
    let escaped: String = prefix
        .chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect();
    escaped.chars().take(FIELD_MANAGER_MAX_LENGTH).collect()
}

#[cfg(test)]
mod tests;
