//! The service proxy (kube-proxy role): Services and EndpointSlices programmed into one nftables
//! table, `ip r8s`, following kube-proxy's nftables mode: verdict maps keyed by
//! `ip daddr . meta l4proto . th dport` dispatch to per-service chains, which pick a per-endpoint
//! chain at random (`numgen`) that DNATs. A full resync replaces the table atomically; later
//! changes re-program only the Services they touch.

#![forbid(unsafe_code)]

mod model;
mod names;
mod partial;
mod proxier;
mod route;
mod rules;
mod run;
mod table;
mod topology;

#[cfg(test)]
mod test_objects;
#[cfg(test)]
mod tests;

pub use model::{Endpoint, Protocol, ServiceKey, ServicePort, SERVICE_NAME_LABEL};
pub use names::TABLE;
pub use partial::{partial_script, ServiceChange};
pub use proxier::{Proxier, SyncError};
pub use route::{route_arguments, IpRouteCommand, RecordingRoute, RouteError, ServiceCidrRoute};
pub use rules::{service_rules, ElementKey, RenderOptions, ServiceRules};
pub use run::{run, ProxyError, ProxyOptions};
pub use table::{full_ruleset, full_script, render_all, render_service};
