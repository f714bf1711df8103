//! `certificates.k8s.io/v1` CertificateSigningRequest, as upstream's certificates validation.

use base64::Engine;
use serde_json::Value;

use crate::field_error::{FieldError, Path};

const PEM_REQUEST_HEADER: &str = "-----BEGIN CERTIFICATE REQUEST-----";

fn decoded_request(request: &Value) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(request.as_str()?)
        .ok()?;
    String::from_utf8(bytes).ok()
}

pub fn validate_certificate_signing_request(obj: &Value) -> Vec<FieldError> {
    let spec = &obj["spec"];
    let path = Path::new("spec");
    let mut errors = Vec::new();
    match &spec["request"] {
        Value::Null => errors.push(FieldError::required(path.child("request"), "")),
        request => {
            if !decoded_request(request).is_some_and(|pem| pem.contains(PEM_REQUEST_HEADER)) {
                errors.push(FieldError::invalid(
                    path.child("request"),
                    request.clone(),
                    "PEM block type must be CERTIFICATE REQUEST",
                ));
            }
        }
    }
    let signer = spec["signerName"].as_str().unwrap_or("");
    if signer.is_empty() {
        errors.push(FieldError::required(path.child("signerName"), ""));
    } else if !signer.contains('/') {
        errors.push(FieldError::invalid(
            path.child("signerName"),
            signer,
            "must be a fully qualified domain and path of the form 'example.com/signer-name'",
        ));
    }
    if spec["usages"].as_array().is_none_or(Vec::is_empty) {
        errors.push(FieldError::required(path.child("usages"), ""));
    }
    errors.extend(validate_conditions(obj));
    errors
}

fn validate_conditions(obj: &Value) -> Vec<FieldError> {
    let conditions = obj["status"]["conditions"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let has = |kind: &str| {
        conditions
            .iter()
            .any(|c| c["type"] == kind && c["status"] == "True")
    };
    if has("Approved") && has("Denied") {
        let index = conditions
            .iter()
            .position(|c| c["type"] == "Denied")
            .unwrap_or(0);
        return vec![FieldError::invalid(
            Path::new("status")
                .child("conditions")
                .index(index)
                .child("type"),
            "Denied",
            "Approved and Denied conditions are mutually exclusive",
        )];
    }
    Vec::new()
}

pub fn validate_certificate_signing_request_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let old_certificate = old["status"]["certificate"].as_str().unwrap_or("");
    let new_certificate = new["status"]["certificate"].as_str().unwrap_or("");
    if !old_certificate.is_empty() && new_certificate != old_certificate {
        return vec![FieldError::forbidden(
            Path::new("status").child("certificate"),
            "updates may not modify existing certificate content",
        )];
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn request_b64() -> String {
        base64::engine::general_purpose::STANDARD
            .encode("-----BEGIN CERTIFICATE REQUEST-----\nMII\n-----END CERTIFICATE REQUEST-----\n")
    }

    #[test]
    fn a_complete_request_is_valid() {
        let csr = json!({"spec": {"request": request_b64(), "signerName": "kubernetes.io/kube-apiserver-client-kubelet", "usages": ["client auth"]}});
        assert!(validate_certificate_signing_request(&csr).is_empty());
    }

    #[test]
    fn every_missing_field_is_reported() {
        let errors = validate_certificate_signing_request(&json!({"spec": {}}));
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec!["spec.request", "spec.signerName", "spec.usages"]
        );
        let not_pem = json!({"spec": {"request": "Zm9v", "signerName": "a/b", "usages": ["x"]}});
        assert_eq!(validate_certificate_signing_request(&not_pem).len(), 1);
    }

    #[test]
    fn approved_and_denied_exclude_each_other() {
        let csr = json!({"spec": {"request": request_b64(), "signerName": "a/b", "usages": ["x"]},
            "status": {"conditions": [{"type": "Approved", "status": "True"}, {"type": "Denied", "status": "True"}]}});
        let errors = validate_certificate_signing_request(&csr);
        assert_eq!(errors[0].field, "status.conditions[1].type");
    }

    #[test]
    fn an_issued_certificate_is_immutable() {
        let old = json!({"status": {"certificate": "Zm9v"}});
        assert!(validate_certificate_signing_request_update(&old, &old).is_empty());
        let new = json!({"status": {"certificate": "YmFy"}});
        assert_eq!(
            validate_certificate_signing_request_update(&new, &old).len(),
            1
        );
        assert!(validate_certificate_signing_request_update(&new, &json!({})).is_empty());
    }
}
