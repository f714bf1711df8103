//! `certificates.k8s.io/v1`.

use super::{ResourceInfo, Subresource as S};

pub(super) const RESOURCES: &[ResourceInfo] = &[ResourceInfo::new(
    "certificates.k8s.io",
    "v1",
    "CertificateSigningRequest",
    "certificatesigningrequests",
    "certificatesigningrequest",
    false,
)
.with_short_names(&["csr"])
.with_subresources(&[S::Approval, S::Status])];
