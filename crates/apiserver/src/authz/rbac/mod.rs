//! RBAC: Roles and ClusterRoles granted through RoleBindings and ClusterRoleBindings, read from the
//! watch cache. The parsed [`PolicyIndex`] is rebuilt only when one of the four RBAC resources has
//! changed, so a request costs a scan of the bindings that could apply to it.

mod bootstrap_policy;
mod escalation;
mod policy_index;
mod policy_rule;
mod subject;

use std::sync::{Arc, Mutex};

pub use bootstrap_policy::{bootstrap_cluster_role_bindings, bootstrap_cluster_roles};
pub use escalation::check_escalation;
pub use policy_index::{Grant, PolicyIndex, RoleKind};
pub use policy_rule::PolicyRule;

use super::Attributes;
use crate::authn::UserInfo;
use crate::registry::keys::collection_prefix;
use crate::watch_cache::WatchCache;

const RESOURCES: [&str; 4] = [
    "clusterroles",
    "roles",
    "clusterrolebindings",
    "rolebindings",
];

type Generations = [u64; 4];

pub struct RbacAuthorizer {
    cache: Arc<WatchCache>,
    index: Mutex<Option<(Generations, Arc<PolicyIndex>)>>,
}

impl RbacAuthorizer {
    pub fn new(cache: Arc<WatchCache>) -> Self {
        Self {
            cache,
            index: Mutex::new(None),
        }
    }

    fn generations(&self) -> Generations {
        RESOURCES.map(|r| self.cache.resource(r).map_or(0, |c| c.generation()))
    }

    fn objects(&self, resource: &str) -> Vec<serde_json::Value> {
        self.cache
            .resource(resource)
            .map(|c| {
                c.list(&collection_prefix(resource, None), &|_| true)
                    .iter()
                    .map(|o| o.value())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The index for the current RBAC objects, rebuilt when they changed.
    pub fn index(&self) -> Arc<PolicyIndex> {
        let generations = self.generations();
        let Ok(mut slot) = self.index.lock() else {
            return Arc::default();
        };
        if let Some((built_at, index)) = slot.as_ref() {
            if *built_at == generations {
                return index.clone();
            }
        }
        let [cluster_roles, roles, cluster_role_bindings, role_bindings] =
            RESOURCES.map(|r| self.objects(r));
        let index = Arc::new(PolicyIndex::build(
            &cluster_roles,
            &roles,
            &cluster_role_bindings,
            &role_bindings,
        ));
        *slot = Some((generations, index.clone()));
        index
    }

    /// The binding that allows the request, if any.
    pub fn allowing(&self, user: &UserInfo, a: &Attributes) -> Option<Grant> {
        self.index().allowing(user, a)
    }
}
