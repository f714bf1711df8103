//! One served resource of one group-version, and what can be derived from it.

use super::Subresource;

/// One served resource of one group-version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceInfo {
    /// "" for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    /// Lower-case plural used in URLs, e.g. "deployments".
    pub plural: &'static str,
    /// Lower-case singular, e.g. "deployment".
    pub singular: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    /// Verbs as in discovery: get, list, watch, create, update, patch, delete, deletecollection.
    pub verbs: &'static [&'static str],
    pub subresources: &'static [Subresource],
    /// The key segment upstream stores the objects under, `/registry/<segment>/[<ns>/]<name>`
    /// (e.g. "pods", "minions" for nodes, "services/specs"). `None` for resources that are
    /// served but never stored: the review APIs, bindings, componentstatuses.
    pub storage_resource: Option<&'static str>,
    /// The group-version whose representation is written to storage. Two served resources with
    /// the same `storage_resource` share their objects (autoscaling v1/v2 HPAs, core and
    /// events.k8s.io events); each reads and writes through this one representation.
    pub storage_version: (&'static str, &'static str),
}

impl ResourceInfo {
    /// A namespaced or cluster-scoped resource with every standard verb, stored under its plural
    /// in its own group-version. The other fields are set with the `with_*` builders.
    pub(crate) const fn new(
        group: &'static str,
        version: &'static str,
        kind: &'static str,
        plural: &'static str,
        singular: &'static str,
        namespaced: bool,
    ) -> Self {
        ResourceInfo {
            group,
            version,
            kind,
            plural,
            singular,
            namespaced,
            short_names: &[],
            categories: &[],
            verbs: super::verbs::ALL,
            subresources: &[],
            storage_resource: Some(plural),
            storage_version: (group, version),
        }
    }

    pub(crate) const fn with_short_names(mut self, names: &'static [&'static str]) -> Self {
        self.short_names = names;
        self
    }

    pub(crate) const fn with_categories(mut self, categories: &'static [&'static str]) -> Self {
        self.categories = categories;
        self
    }

    pub(crate) const fn with_verbs(mut self, verbs: &'static [&'static str]) -> Self {
        self.verbs = verbs;
        self
    }

    pub(crate) const fn with_subresources(mut self, subresources: &'static [Subresource]) -> Self {
        self.subresources = subresources;
        self
    }

    pub(crate) const fn stored_under(mut self, segment: &'static str) -> Self {
        self.storage_resource = Some(segment);
        self
    }

    pub(crate) const fn stored_as(mut self, group: &'static str, version: &'static str) -> Self {
        self.storage_version = (group, version);
        self
    }

    /// Served but never stored: every request is answered from the request itself.
    pub(crate) const fn not_stored(mut self) -> Self {
        self.storage_resource = None;
        self
    }

    /// "apps/v1", or "v1" for the core group.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The kind of a list of these objects, e.g. "DeploymentList".
    pub fn list_kind(&self) -> String {
        format!("{}List", self.kind)
    }

    /// `"deployments.apps"`, or just the plural for the core group.
    pub fn group_resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    pub fn has_subresource(&self, subresource: Subresource) -> bool {
        self.subresources.contains(&subresource)
    }

    /// Whether `status` is a subresource, hence whether writes to the main resource ignore
    /// `.status` and writes to `/status` ignore everything else (upstream's status strategy).
    pub fn has_status_subresource(&self) -> bool {
        self.has_subresource(Subresource::Status)
    }

    pub fn supports_verb(&self, verb: &str) -> bool {
        self.verbs.contains(&verb)
    }

    /// Served only to answer requests; nothing is kept (review APIs, bindings, componentstatuses).
    pub fn is_virtual(&self) -> bool {
        self.storage_resource.is_none()
    }

    /// Whether this group-version is the one written to storage.
    pub fn is_storage_version(&self) -> bool {
        self.storage_version == (self.group, self.version)
    }

    /// The other served resources (other group or version) whose objects are the same stored
    /// objects as this one's.
    pub fn shares_storage_with(&self) -> Vec<&'static ResourceInfo> {
        let Some(segment) = self.storage_resource else {
            return Vec::new();
        };
        super::all()
            .iter()
            .filter(|other| {
                other.storage_resource == Some(segment)
                    && (other.group, other.version) != (self.group, self.version)
            })
            .collect()
    }
}
