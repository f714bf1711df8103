//! The routing table: which Service endpoints serve a request's host and path. Built from the API
//! objects by a pure function and never changed afterwards.

mod backend;
mod build;
mod host;
mod path;
mod table;

pub use backend::{Backend, BackendName};
pub use build::build_routing_table;
pub use host::{normalize_request_host, wildcard_suffix, HostPattern};
pub use path::{PathKind, PathMatch};
pub use table::{Route, RoutingTable, RoutingTableBuilder};
