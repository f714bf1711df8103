//! Node client certificates through the certificates.k8s.io CSR API: the approver accepts
//! kubelet client requests from join-token holders and from nodes renewing themselves; the signer
//! issues approved ones with the cluster CA.

pub mod approver;
mod conditions;
mod issue;
pub mod kubelet_client;
pub mod signer;

pub use issue::{issue_certificate, IssueError};
