//! ConfigMaps and Secrets: valid keys, at most 1 MiB of data, the keys each secret type needs,
//! and `immutable: true` freezing the data.

use base64::Engine;
use serde_json::Value;

use super::identifiers;
use super::object_meta::immutable;
use crate::field_error::{FieldError, Path};

/// Upstream's `MaxSecretSize` (also the ConfigMap limit).
const MAX_DATA_BYTES: usize = 1024 * 1024;

fn entries(value: &Value) -> impl Iterator<Item = (&String, &Value)> {
    value.as_object().into_iter().flatten()
}

/// The decoded length of base64 data (its text length when it does not decode).
fn decoded_len(value: &Value) -> usize {
    let text = value.as_str().unwrap_or("");
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_or(text.len(), |bytes| bytes.len())
}

fn key_errors(key: &str, path: &Path) -> Vec<FieldError> {
    identifiers::config_map_key(key)
        .into_iter()
        .map(|message| FieldError::invalid(path, key, message))
        .collect()
}

/// A ConfigMap's data and binaryData.
pub fn validate_config_map(obj: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut total = 0;
    let data_path = Path::new("data");
    for (key, value) in entries(&obj["data"]) {
        errors.extend(key_errors(key, &data_path.key(key)));
        if obj["binaryData"].get(key).is_some() {
            errors.push(FieldError::invalid(
                data_path.key(key),
                key.as_str(),
                "duplicate of key present in binaryData",
            ));
        }
        total += value.as_str().map_or(0, str::len);
    }
    let binary_path = Path::new("binaryData");
    for (key, value) in entries(&obj["binaryData"]) {
        errors.extend(key_errors(key, &binary_path.key(key)));
        total += decoded_len(value);
    }
    if total > MAX_DATA_BYTES {
        errors.push(FieldError::too_long("", "", MAX_DATA_BYTES));
    }
    errors
}

/// A Secret's data and the keys its type requires.
pub fn validate_secret(obj: &Value) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let data_path = Path::new("data");
    let data = &obj["data"];
    let mut total = 0;
    for (key, value) in entries(data) {
        errors.extend(key_errors(key, &data_path.key(key)));
        total += decoded_len(value);
    }
    if total > MAX_DATA_BYTES {
        errors.push(FieldError::too_long(&data_path, "", MAX_DATA_BYTES));
    }
    let has = |key: &str| data.get(key).is_some();
    match obj["type"].as_str().unwrap_or("") {
        "kubernetes.io/service-account-token" => {
            let annotation = "kubernetes.io/service-account.name";
            if obj["metadata"]["annotations"][annotation]
                .as_str()
                .unwrap_or("")
                .is_empty()
            {
                errors.push(FieldError::required(
                    Path::new("metadata").child("annotations").key(annotation),
                    "",
                ));
            }
        }
        "kubernetes.io/dockercfg" => errors.extend(json_key(data, ".dockercfg", &data_path)),
        "kubernetes.io/dockerconfigjson" => {
            errors.extend(json_key(data, ".dockerconfigjson", &data_path))
        }
        "kubernetes.io/basic-auth" if !has("username") && !has("password") => {
            errors.push(FieldError::required(data_path.key("username"), ""));
            errors.push(FieldError::required(data_path.key("password"), ""));
        }
        "kubernetes.io/ssh-auth" if decoded_len(&data["ssh-privatekey"]) == 0 => {
            errors.push(FieldError::required(data_path.key("ssh-privatekey"), ""));
        }
        "kubernetes.io/tls" => {
            for key in ["tls.crt", "tls.key"] {
                if !has(key) {
                    errors.push(FieldError::required(data_path.key(key), ""));
                }
            }
        }
        _ => {}
    }
    errors
}

/// The key must be present and hold JSON.
fn json_key(data: &Value, key: &str, data_path: &Path) -> Vec<FieldError> {
    let Some(value) = data.get(key) else {
        return vec![FieldError::required(data_path.key(key), "")];
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value.as_str().unwrap_or(""))
        .unwrap_or_default();
    match serde_json::from_slice::<serde_json::Map<String, Value>>(&bytes) {
        Ok(_) => Vec::new(),
        Err(error) => vec![FieldError::invalid(
            data_path.key(key),
            "<secret contents redacted>",
            error.to_string(),
        )],
    }
}

/// Immutable ConfigMaps and Secrets keep their data; a Secret keeps its type.
fn frozen_update(new: &Value, old: &Value, data_fields: &[&str]) -> Vec<FieldError> {
    let mut errors = Vec::new();
    if old["immutable"].as_bool() == Some(true) {
        if new["immutable"].as_bool() != Some(true) {
            errors.push(FieldError::forbidden(
                "immutable",
                "field is immutable when `immutable` is set",
            ));
        }
        for field in data_fields {
            if new[*field] != old[*field] {
                errors.push(FieldError::forbidden(
                    *field,
                    "field is immutable when `immutable` is set",
                ));
            }
        }
    }
    errors
}

pub fn validate_config_map_update(new: &Value, old: &Value) -> Vec<FieldError> {
    frozen_update(new, old, &["data", "binaryData"])
}

pub fn validate_secret_update(new: &Value, old: &Value) -> Vec<FieldError> {
    let mut errors = immutable(&new["type"], &old["type"], &Path::new("type"));
    errors.extend(frozen_update(new, old, &["data"]));
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn messages(errors: Vec<FieldError>) -> Vec<String> {
        errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn keys_and_types() {
        let cm = json!({"data": {"good.key": "x", "bad key": "y"}});
        let got = messages(validate_config_map(&cm));
        assert_eq!(got.len(), 1);
        assert!(got[0].starts_with("data[bad key]: Invalid value: \"bad key\": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME'") || got[0].starts_with("data[bad key]: Invalid value: \"bad key\": a valid config key"));
        let tls = json!({"type": "kubernetes.io/tls", "data": {"tls.crt": "eA=="}});
        assert_eq!(
            messages(validate_secret(&tls)),
            vec!["data[tls.key]: Required value"]
        );
    }

    #[test]
    fn immutable_data() {
        let old = json!({"immutable": true, "data": {"a": "YQ=="}, "type": "Opaque"});
        let new = json!({"immutable": true, "data": {"a": "Yg=="}, "type": "Opaque"});
        assert_eq!(
            messages(validate_secret_update(&new, &old)),
            vec!["data: Forbidden: field is immutable when `immutable` is set"]
        );
    }
}
