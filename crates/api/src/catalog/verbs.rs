//! The verb sets resources are served with.

/// Every standard verb, in discovery's order.
pub(super) const ALL: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// Namespaces: deleting a collection of namespaces is not served.
pub(super) const ALL_BUT_DELETECOLLECTION: &[&str] = &[
    "create", "delete", "get", "list", "patch", "update", "watch",
];

/// Review and binding APIs: one request in, one answer out.
pub(super) const CREATE_ONLY: &[&str] = &["create"];

/// componentstatuses: computed on read.
pub(super) const GET_LIST: &[&str] = &["get", "list"];
