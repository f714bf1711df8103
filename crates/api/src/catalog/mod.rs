//! Every served built-in resource: group, version, kind, plural, scope, short names, verbs,
//! subresources, where it is stored and which name rule its objects follow. The facts are those
//! of a Kubernetes v1.33 API server's discovery documents.

mod admission;
mod apps;
mod auth;
mod autoscaling;
mod batch;
mod certificates;
mod cluster;
mod core;
mod extensions;
mod groups;
mod name_rule;
mod networking;
mod resource_info;
mod storage;
mod subresource;
mod verbs;

use std::sync::LazyLock;

pub use groups::{group, groups, GroupInfo};
pub use name_rule::{name_validation, NameRule};
pub use resource_info::ResourceInfo;
pub use subresource::Subresource;

static ALL: LazyLock<Vec<ResourceInfo>> = LazyLock::new(|| {
    [
        core::RESOURCES,
        apps::RESOURCES,
        autoscaling::RESOURCES,
        batch::RESOURCES,
        networking::RESOURCES,
        auth::RESOURCES,
        certificates::RESOURCES,
        cluster::RESOURCES,
        storage::RESOURCES,
        admission::RESOURCES,
        extensions::RESOURCES,
    ]
    .concat()
});

/// Every served resource, every group-version.
pub fn all() -> &'static [ResourceInfo] {
    &ALL
}

/// The resource served at `/apis/<group>/<version>/<plural>` (core group: `group == ""`).
pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static ResourceInfo> {
    all()
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// The resource of a group-version-kind, e.g. `("apps", "v1", "Deployment")`.
pub fn find_by_kind(group: &str, version: &str, kind: &str) -> Option<&'static ResourceInfo> {
    all()
        .iter()
        .find(|r| r.group == group && r.version == version && r.kind == kind)
}

/// Every served group-version of a group's resource, preferred version first.
pub fn versions_of(group: &str, plural: &str) -> Vec<&'static ResourceInfo> {
    let order = groups::group(group).map(|g| g.versions).unwrap_or(&[]);
    let mut found: Vec<&'static ResourceInfo> = all()
        .iter()
        .filter(|r| r.group == group && r.plural == plural)
        .collect();
    found.sort_by_key(|r| order.iter().position(|v| *v == r.version));
    found
}

/// Resolves what a user typed (`po`, `pod`, `pods`, `Pod`, `deployments.apps`,
/// `deploy.v1.apps`) to the preferred version of the matching resource, as kubectl's
/// RESTMapper does: plural, then singular, then short name, then kind.
pub fn lookup(name: &str) -> Option<&'static ResourceInfo> {
    let (resource, group_filter, version_filter) = split_qualified(name);
    let in_scope = |r: &&'static ResourceInfo| {
        group_filter.is_none_or(|g| r.group == g) && version_filter.is_none_or(|v| r.version == v)
    };
    let matchers: [&dyn Fn(&ResourceInfo) -> bool; 4] = [
        &|r| r.plural == resource,
        &|r| r.singular == resource,
        &|r| r.short_names.contains(&resource),
        &|r| r.kind.eq_ignore_ascii_case(resource),
    ];
    matchers.iter().find_map(|matches| {
        let mut candidates: Vec<&'static ResourceInfo> = all()
            .iter()
            .filter(|r| matches(r))
            .filter(in_scope)
            .collect();
        candidates.sort_by_key(|r| preference_rank(r));
        candidates.first().copied()
    })
}

/// `"deployments.v1.apps"` → ("deployments", Some("apps"), Some("v1")); `"deployments.apps"`
/// → ("deployments", Some("apps"), None); a bare name has no filters.
fn split_qualified(name: &str) -> (&str, Option<&str>, Option<&str>) {
    let Some((resource, rest)) = name.split_once('.') else {
        return (name, None, None);
    };
    if let Some((version, group)) = rest.split_once('.') {
        if is_version_string(version) && group_exists(group) {
            return (resource, Some(group), Some(version));
        }
    }
    (resource, Some(rest), None)
}

fn is_version_string(s: &str) -> bool {
    s.starts_with('v') && s[1..].starts_with(|c: char| c.is_ascii_digit())
}

fn group_exists(name: &str) -> bool {
    groups::group(name).is_some()
}

/// Lower is more preferred: the core group first, then groups in discovery order, and within a
/// group its preferred version first.
fn preference_rank(info: &ResourceInfo) -> (usize, usize) {
    if info.group.is_empty() {
        return (0, 0);
    }
    let group_rank = groups::groups()
        .iter()
        .position(|g| g.name == info.group)
        .map_or(usize::MAX, |p| p + 1);
    let version_rank = groups::group(info.group)
        .and_then(|g| g.versions.iter().position(|v| *v == info.version))
        .unwrap_or(usize::MAX);
    (group_rank, version_rank)
}

#[cfg(test)]
mod tests;
