//! Reading and adding CSR conditions.

use k8s_openapi::api::certificates::v1::{
    CertificateSigningRequest, CertificateSigningRequestCondition,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;

fn conditions(csr: &CertificateSigningRequest) -> &[CertificateSigningRequestCondition] {
    csr.status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default()
}

/// Whether the CSR has a condition of this type with status True.
pub fn has_condition(csr: &CertificateSigningRequest, type_: &str) -> bool {
    conditions(csr)
        .iter()
        .any(|c| c.type_ == type_ && c.status == "True")
}

pub fn is_approved_or_denied(csr: &CertificateSigningRequest) -> bool {
    has_condition(csr, "Approved") || has_condition(csr, "Denied")
}

pub fn has_certificate(csr: &CertificateSigningRequest) -> bool {
    csr.status
        .as_ref()
        .and_then(|s| s.certificate.as_ref())
        .is_some_and(|c| !c.0.is_empty())
}

/// The CSR's conditions with one more, True, now.
pub fn with_condition(
    csr: &CertificateSigningRequest,
    type_: &str,
    reason: &str,
    message: &str,
) -> Vec<CertificateSigningRequestCondition> {
    let now = Time(jiff::Timestamp::now());
    let mut all = conditions(csr).to_vec();
    all.push(CertificateSigningRequestCondition {
        type_: type_.to_string(),
        status: "True".into(),
        reason: Some(reason.to_string()),
        message: Some(message.to_string()),
        last_update_time: Some(now.clone()),
        last_transition_time: Some(now),
    });
    all
}
