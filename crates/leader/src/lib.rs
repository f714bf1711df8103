//! Leader election on coordination.k8s.io Leases, through the API like any client.
//!
//! Follows client-go's `leaderelection`: a candidate acquires the Lease when it is free or its holder
//! stopped renewing for `leaseDurationSeconds`, renews it every retry period, and gives up leadership
//! when it could not renew within the renew deadline. Every write is a compare-and-swap on the
//! Lease's resourceVersion.
#![forbid(unsafe_code)]

mod decision;
mod election;
mod error;
mod lease_record;

pub use decision::{decide, LeaseAction};
pub use election::{ElectionTimings, LeaderElection};
pub use error::LeaderError;
pub use lease_record::LeaseRecord;
