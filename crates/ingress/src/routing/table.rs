//! The immutable routing table and its lookup.
//!
//! A request's host picks the rules of its exact host first, then those of a matching `*.`
//! host, then the rules that name no host; within each, the best matching path wins (longest,
//! then `Exact` before `Prefix`). When no path matches anywhere, the default backend serves it.
//! Where two Ingresses claim the same host and path, the one added first (the oldest) wins.

use std::collections::HashMap;
use std::sync::Arc;

use super::backend::Backend;
use super::host::{wildcard_suffix, HostPattern};
use super::path::PathMatch;

#[derive(Debug, Clone)]
pub struct Route {
    pub path: PathMatch,
    pub backend: Arc<Backend>,
}

#[derive(Debug, Default)]
pub struct RoutingTable {
    exact_hosts: HashMap<String, Vec<Route>>,
    wildcard_hosts: HashMap<String, Vec<Route>>,
    any_host: Vec<Route>,
    default_backend: Option<Arc<Backend>>,
}

impl RoutingTable {
    pub fn builder() -> RoutingTableBuilder {
        RoutingTableBuilder::default()
    }

    /// The backend for `host` (normalized, see [`super::normalize_request_host`]) and `path`;
    /// `None` means 404.
    pub fn route(&self, host: &str, path: &str) -> Option<&Arc<Backend>> {
        let exact = self.exact_hosts.get(host);
        let wildcard = wildcard_suffix(host).and_then(|suffix| self.wildcard_hosts.get(suffix));
        [exact, wildcard, Some(&self.any_host)]
            .into_iter()
            .flatten()
            .find_map(|routes| best_match(routes, path))
            .or(self.default_backend.as_ref())
    }

    pub fn default_backend(&self) -> Option<&Arc<Backend>> {
        self.default_backend.as_ref()
    }
}

fn best_match<'a>(routes: &'a [Route], path: &str) -> Option<&'a Arc<Backend>> {
    routes
        .iter()
        .find(|route| route.path.matches(path))
        .map(|route| &route.backend)
}

#[derive(Debug, Default)]
pub struct RoutingTableBuilder {
    table: RoutingTable,
}

impl RoutingTableBuilder {
    /// Adds a rule unless an earlier one has the same host and path.
    pub fn route(&mut self, host: &HostPattern, path: PathMatch, backend: Arc<Backend>) {
        let routes = match host {
            HostPattern::Exact(host) => self.table.exact_hosts.entry(host.clone()).or_default(),
            HostPattern::Wildcard(suffix) => {
                self.table.wildcard_hosts.entry(suffix.clone()).or_default()
            }
            HostPattern::Any => &mut self.table.any_host,
        };
        if routes.iter().all(|route| route.path != path) {
            routes.push(Route { path, backend });
        }
    }

    /// Sets the default backend unless an earlier one is set.
    pub fn default_backend(&mut self, backend: Arc<Backend>) {
        self.table.default_backend.get_or_insert(backend);
    }

    pub fn build(mut self) -> RoutingTable {
        let groups = self
            .table
            .exact_hosts
            .values_mut()
            .chain(self.table.wildcard_hosts.values_mut())
            .chain(std::iter::once(&mut self.table.any_host));
        for routes in groups {
            routes.sort_by_key(|route| route.path.precedence());
        }
        self.table
    }
}

#[cfg(test)]
mod tests {
    use super::super::backend::BackendName;
    use super::super::path::PathKind;
    use super::*;

    fn backend(service: &str) -> Arc<Backend> {
        Arc::new(Backend::new(
            BackendName {
                namespace: "default".into(),
                service: service.into(),
                port: "80".into(),
            },
            vec![],
        ))
    }

    fn host(host: &str) -> HostPattern {
        HostPattern::parse(Some(host))
    }

    fn prefix(path: &str) -> PathMatch {
        PathMatch::new(PathKind::Prefix, Some(path))
    }

    fn exact(path: &str) -> PathMatch {
        PathMatch::new(PathKind::Exact, Some(path))
    }

    fn routed(table: &RoutingTable, host: &str, path: &str) -> Option<String> {
        table
            .route(host, path)
            .map(|backend| backend.name().service.clone())
    }

    #[test]
    fn exact_host_before_wildcard_before_any() {
        let mut builder = RoutingTable::builder();
        builder.route(&HostPattern::Any, prefix("/"), backend("any"));
        builder.route(&host("*.example"), prefix("/"), backend("wild"));
        builder.route(&host("a.example"), prefix("/"), backend("a"));
        let table = builder.build();
        assert_eq!(routed(&table, "a.example", "/x").as_deref(), Some("a"));
        assert_eq!(routed(&table, "b.example", "/x").as_deref(), Some("wild"));
        assert_eq!(routed(&table, "c.b.example", "/").as_deref(), Some("any"));
        assert_eq!(routed(&table, "other", "/").as_deref(), Some("any"));
    }

    #[test]
    fn longest_path_wins_then_exact() {
        let mut builder = RoutingTable::builder();
        builder.route(&host("b.example"), prefix("/"), backend("root"));
        builder.route(&host("b.example"), prefix("/path"), backend("prefix"));
        builder.route(&host("b.example"), exact("/path"), backend("exact"));
        builder.route(
            &host("b.example"),
            prefix("/path/deeper"),
            backend("deeper"),
        );
        let table = builder.build();
        assert_eq!(
            routed(&table, "b.example", "/path").as_deref(),
            Some("exact")
        );
        assert_eq!(
            routed(&table, "b.example", "/path/x").as_deref(),
            Some("prefix")
        );
        assert_eq!(
            routed(&table, "b.example", "/path/deeper/y").as_deref(),
            Some("deeper")
        );
        assert_eq!(
            routed(&table, "b.example", "/pathology").as_deref(),
            Some("root")
        );
    }

    #[test]
    fn unmatched_paths_fall_through_to_other_hosts_then_the_default_backend() {
        let mut builder = RoutingTable::builder();
        builder.route(&host("b.example"), prefix("/path"), backend("b"));
        builder.route(&HostPattern::Any, exact("/healthz"), backend("health"));
        builder.default_backend(backend("default"));
        builder.default_backend(backend("later-default"));
        let table = builder.build();
        assert_eq!(routed(&table, "b.example", "/path").as_deref(), Some("b"));
        assert_eq!(
            routed(&table, "b.example", "/healthz").as_deref(),
            Some("health")
        );
        assert_eq!(routed(&table, "b.example", "/").as_deref(), Some("default"));
    }

    #[test]
    fn no_match_and_no_default_is_none() {
        let mut builder = RoutingTable::builder();
        builder.route(&host("a.example"), prefix("/"), backend("a"));
        assert_eq!(routed(&builder.build(), "b.example", "/"), None);
    }

    #[test]
    fn first_claim_of_a_host_and_path_wins() {
        let mut builder = RoutingTable::builder();
        builder.route(&host("a.example"), prefix("/"), backend("oldest"));
        builder.route(&host("a.example"), prefix("/"), backend("newer"));
        assert_eq!(
            routed(&builder.build(), "a.example", "/").as_deref(),
            Some("oldest")
        );
    }
}
