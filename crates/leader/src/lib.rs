//! Leader election on coordination.k8s.io Leases, through the API like any client.
#![forbid(unsafe_code)]
