//! Field errors as upstream's `field.Error`: a path, a type and a detail, collected, never first-only.

use serde_json::Value;

/// Upstream's `field.ErrorType`, with the exact wording of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    NotFound,
    Required,
    Duplicate,
    Invalid,
    NotSupported,
    Forbidden,
    TooLong,
    TooMany,
    Internal,
    TypeInvalid,
}

impl ErrorType {
    /// The human wording, e.g. "Required value".
    pub fn message(self) -> &'static str {
        match self {
            ErrorType::NotFound => "Not found",
            ErrorType::Required => "Required value",
            ErrorType::Duplicate => "Duplicate value",
            ErrorType::Invalid => "Invalid value",
            ErrorType::NotSupported => "Unsupported value",
            ErrorType::Forbidden => "Forbidden",
            ErrorType::TooLong => "Too long",
            ErrorType::TooMany => "Too many",
            ErrorType::Internal => "Internal error",
            ErrorType::TypeInvalid => "Invalid value",
        }
    }

    /// The `reason` of a Status cause, e.g. "FieldValueRequired".
    pub fn reason(self) -> &'static str {
        match self {
            ErrorType::NotFound => "FieldValueNotFound",
            ErrorType::Required => "FieldValueRequired",
            ErrorType::Duplicate => "FieldValueDuplicate",
            ErrorType::Invalid => "FieldValueInvalid",
            ErrorType::NotSupported => "FieldValueNotSupported",
            ErrorType::Forbidden => "FieldValueForbidden",
            ErrorType::TooLong => "FieldValueTooLong",
            ErrorType::TooMany => "FieldValueTooMany",
            ErrorType::Internal => "InternalError",
            ErrorType::TypeInvalid => "FieldValueTypeInvalid",
        }
    }
}

/// One invalid field.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub error_type: ErrorType,
    /// e.g. `spec.template.spec.containers[0].image`
    pub field: String,
    pub bad_value: Option<serde_json::Value>,
    pub detail: String,
}

/// A field path under construction: `Path::new("spec").child("containers").index(0)` renders
/// `spec.containers[0]`; `.key("foo")` renders `[foo]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path(String);

impl Path {
    pub fn new(root: &str) -> Path {
        Path(root.to_string())
    }

    // Paths are built for every field validated, errors or not, so these join strings directly
    // rather than through `format!`.
    pub fn child(&self, name: &str) -> Path {
        if self.0.is_empty() {
            Path(name.to_string())
        } else {
            Path([self.0.as_str(), ".", name].concat())
        }
    }

    pub fn index(&self, index: usize) -> Path {
        Path([self.0.as_str(), "[", &index.to_string(), "]"].concat())
    }

    pub fn key(&self, key: &str) -> Path {
        Path([self.0.as_str(), "[", key, "]"].concat())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Path {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Path {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl FieldError {
    fn with(
        error_type: ErrorType,
        path: impl AsRef<str>,
        bad_value: Option<Value>,
        detail: impl Into<String>,
    ) -> FieldError {
        FieldError {
            error_type,
            field: path.as_ref().to_string(),
            bad_value,
            detail: detail.into(),
        }
    }

    /// A required field is missing or empty.
    pub fn required(path: impl AsRef<str>, detail: impl Into<String>) -> FieldError {
        FieldError::with(
            ErrorType::Required,
            path,
            Some(Value::String(String::new())),
            detail,
        )
    }

    /// The value is malformed.
    pub fn invalid(
        path: impl AsRef<str>,
        value: impl Into<Value>,
        detail: impl Into<String>,
    ) -> FieldError {
        FieldError::with(ErrorType::Invalid, path, Some(value.into()), detail)
    }

    /// The value is not one of `valid`.
    pub fn not_supported(
        path: impl AsRef<str>,
        value: impl Into<Value>,
        valid: &[&str],
    ) -> FieldError {
        let detail = if valid.is_empty() {
            String::new()
        } else {
            let quoted: Vec<String> = valid.iter().map(|v| go_quote(v)).collect();
            format!("supported values: {}", quoted.join(", "))
        };
        FieldError::with(ErrorType::NotSupported, path, Some(value.into()), detail)
    }

    /// The field may not be set, or not to this.
    pub fn forbidden(path: impl AsRef<str>, detail: impl Into<String>) -> FieldError {
        FieldError::with(
            ErrorType::Forbidden,
            path,
            Some(Value::String(String::new())),
            detail,
        )
    }

    /// The value repeats one seen earlier in a list that must be unique.
    pub fn duplicate(path: impl AsRef<str>, value: impl Into<Value>) -> FieldError {
        FieldError::with(ErrorType::Duplicate, path, Some(value.into()), "")
    }

    /// The value refers to something that does not exist.
    pub fn not_found(path: impl AsRef<str>, value: impl Into<Value>) -> FieldError {
        FieldError::with(ErrorType::NotFound, path, Some(value.into()), "")
    }

    /// The value is longer than `max_bytes`.
    pub fn too_long(
        path: impl AsRef<str>,
        value: impl Into<Value>,
        max_bytes: usize,
    ) -> FieldError {
        let unit = if max_bytes == 1 { "byte" } else { "bytes" };
        let detail = format!("may not be more than {max_bytes} {unit}");
        FieldError::with(ErrorType::TooLong, path, Some(value.into()), detail)
    }

    /// The list holds `actual` items, more than `max`.
    pub fn too_many(path: impl AsRef<str>, actual: usize, max: usize) -> FieldError {
        let unit = if max == 1 { "item" } else { "items" };
        let detail = format!("must have at most {max} {unit}");
        FieldError::with(ErrorType::TooMany, path, Some(Value::from(actual)), detail)
    }

    /// Something went wrong that is not the client's fault.
    pub fn internal(path: impl AsRef<str>, detail: impl Into<String>) -> FieldError {
        FieldError::with(ErrorType::Internal, path, None, detail)
    }

    /// Upstream's `ErrorBody()`: everything after `<field>: `; also a Status cause's message.
    pub fn cause_message(&self) -> String {
        let mut body = self.error_type.message().to_string();
        let shows_value = !matches!(
            self.error_type,
            ErrorType::Required | ErrorType::Forbidden | ErrorType::TooLong | ErrorType::Internal
        );
        if shows_value {
            if let Some(value) = &self.bad_value {
                body.push_str(": ");
                body.push_str(&go_value(value));
            }
        }
        if !self.detail.is_empty() {
            body.push_str(": ");
            body.push_str(&self.detail);
        }
        body
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.cause_message())
    }
}

impl std::error::Error for FieldError {}

/// The errors joined as upstream's `ErrorList.ToAggregate().Error()`: duplicates (same text)
/// dropped, one error bare, several in `[a, b]`. Empty when there are none.
pub fn aggregate_message(errors: &[FieldError]) -> String {
    let mut seen: Vec<String> = Vec::new();
    for error in errors {
        let text = error.to_string();
        if !seen.contains(&text) {
            seen.push(text);
        }
    }
    match seen.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        many => format!("[{}]", many.join(", ")),
    }
}

/// The message of upstream's `errors.NewInvalid(GroupKind, name, errs)`, e.g.
/// `Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be ...`.
pub fn invalid_message(group: &str, kind: &str, name: &str, errors: &[FieldError]) -> String {
    let qualified = if group.is_empty() {
        kind.to_string()
    } else {
        format!("{kind}.{group}")
    };
    let aggregate = aggregate_message(errors);
    if aggregate.is_empty() {
        format!("{qualified} {} is invalid", go_quote(name))
    } else {
        format!("{qualified} {} is invalid: {aggregate}", go_quote(name))
    }
}

/// The whole 422 `Status` object of upstream's `errors.NewInvalid`, causes included (not deduplicated).
pub fn invalid_status(group: &str, kind: &str, name: &str, errors: &[FieldError]) -> Value {
    let causes: Vec<Value> = errors
        .iter()
        .map(|e| {
            serde_json::json!({
                "reason": e.error_type.reason(),
                "message": e.cause_message(),
                "field": e.field,
            })
        })
        .collect();
    let mut details = serde_json::Map::new();
    details.insert("name".into(), Value::from(name));
    if !group.is_empty() {
        details.insert("group".into(), Value::from(group));
    }
    details.insert("kind".into(), Value::from(kind));
    details.insert("causes".into(), Value::from(causes));
    serde_json::json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": invalid_message(group, kind, name, errors),
        "reason": "Invalid",
        "details": details,
        "code": 422,
    })
}

/// Go's `strconv.Quote`: double quotes, Go escapes, printable Unicode kept.
pub fn go_quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => {
                let code = c as u32;
                if code <= 0xffff {
                    out.push_str(&format!("\\u{code:04x}"));
                } else {
                    out.push_str(&format!("\\U{code:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A bad value rendered as Go's `%v`/`%q`/`%#v` would render the upstream Go value.
fn go_value(value: &Value) -> String {
    match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => go_quote(s),
        Value::Array(items) if items.iter().all(Value::is_string) => {
            let quoted: Vec<String> = items.iter().map(go_value).collect();
            format!("[]string{{{}}}", quoted.join(", "))
        }
        Value::Object(map) if is_label_selector(map) => go_label_selector(map),
        Value::Object(map) if map.values().all(Value::is_string) => go_string_map(map),
        other => other.to_string(),
    }
}

fn is_label_selector(map: &serde_json::Map<String, Value>) -> bool {
    !map.is_empty()
        && map
            .keys()
            .all(|k| k == "matchLabels" || k == "matchExpressions")
        && map
            .values()
            .all(|v| v.is_object() || v.is_array() || v.is_null())
}

fn go_string_map(map: &serde_json::Map<String, Value>) -> String {
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    let inner: Vec<String> = entries
        .iter()
        .map(|(k, v)| format!("{}:{}", go_quote(k), go_value(v)))
        .collect();
    format!("map[string]string{{{}}}", inner.join(", "))
}

fn go_label_selector(map: &serde_json::Map<String, Value>) -> String {
    let labels = match map.get("matchLabels").and_then(Value::as_object) {
        Some(labels) => go_string_map(labels),
        None => "map[string]string(nil)".to_string(),
    };
    let expressions = match map.get("matchExpressions").and_then(Value::as_array) {
        Some(list) => {
            let items: Vec<String> = list.iter().map(go_selector_requirement).collect();
            format!("[]v1.LabelSelectorRequirement{{{}}}", items.join(", "))
        }
        None => "[]v1.LabelSelectorRequirement(nil)".to_string(),
    };
    format!("v1.LabelSelector{{MatchLabels:{labels}, MatchExpressions:{expressions}}}")
}

fn go_selector_requirement(requirement: &Value) -> String {
    let text = |name: &str| go_quote(requirement.get(name).and_then(Value::as_str).unwrap_or(""));
    let values = match requirement.get("values").and_then(Value::as_array) {
        Some(values) => go_value(&Value::Array(values.clone())),
        None => "[]string(nil)".to_string(),
    };
    format!(
        "v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:{values}}}",
        text("key"),
        text("operator")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_paths() {
        let p = Path::new("spec")
            .child("containers")
            .index(0)
            .child("image");
        assert_eq!(p.as_str(), "spec.containers[0].image");
        assert_eq!(
            Path::new("metadata").child("labels").key("foo").as_str(),
            "metadata.labels[foo]"
        );
        for index in [0, 7, 10, 42, 1_000_000, usize::MAX] {
            assert_eq!(
                Path::new("items").index(index).as_str(),
                format!("items[{index}]")
            );
        }
        assert_eq!(Path::new("").child("spec").as_str(), "spec");
    }

    #[test]
    fn formats_like_upstream() {
        let cases = [
            (
                FieldError::required("spec.template.spec.containers[0].image", ""),
                "spec.template.spec.containers[0].image: Required value",
            ),
            (
                FieldError::not_supported("spec.restartPolicy", "Sometimes", &["Always", "OnFailure", "Never"]),
                "spec.restartPolicy: Unsupported value: \"Sometimes\": supported values: \"Always\", \"OnFailure\", \"Never\"",
            ),
            (
                FieldError::invalid("spec.replicas", -1, "must be greater than or equal to 0"),
                "spec.replicas: Invalid value: -1: must be greater than or equal to 0",
            ),
            (
                FieldError::forbidden("metadata.namespace", "not allowed on this type"),
                "metadata.namespace: Forbidden: not allowed on this type",
            ),
            (FieldError::duplicate("spec.ports[1].name", "http"), "spec.ports[1].name: Duplicate value: \"http\""),
            (FieldError::not_found("spec.containers[0].volumeMounts[0].name", "data"), "spec.containers[0].volumeMounts[0].name: Not found: \"data\""),
            (FieldError::too_long("metadata.annotations", "", 262144), "metadata.annotations: Too long: may not be more than 262144 bytes"),
            (FieldError::too_many("spec.x", 3, 2), "spec.x: Too many: 3: must have at most 2 items"),
            (
                FieldError::invalid("spec.template.metadata.labels", json!({"b": "2", "a": "1"}), "`selector` does not match template `labels`"),
                "spec.template.metadata.labels: Invalid value: map[string]string{\"a\":\"1\", \"b\":\"2\"}: `selector` does not match template `labels`",
            ),
            (
                FieldError::invalid("spec.selector", json!({"matchLabels": {"app": "nginx2"}}), "field is immutable"),
                "spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{\"app\":\"nginx2\"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable",
            ),
        ];
        for (error, text) in cases {
            assert_eq!(error.to_string(), text);
        }
    }

    #[test]
    fn builds_the_invalid_message() {
        let one = [FieldError::required("spec.containers", "")];
        assert_eq!(
            invalid_message("", "Pod", "p", &one),
            "Pod \"p\" is invalid: spec.containers: Required value"
        );
        let two = [
            FieldError::required("spec.template.spec.containers[0].image", ""),
            FieldError::required("spec.template.spec.containers[0].image", ""),
            FieldError::required("spec.selector", ""),
        ];
        assert_eq!(
            invalid_message("apps", "Deployment", "web", &two),
            "Deployment.apps \"web\" is invalid: [spec.template.spec.containers[0].image: Required value, spec.selector: Required value]"
        );
        let status = invalid_status("apps", "Deployment", "web", &two);
        assert_eq!(status["code"], 422);
        assert_eq!(
            status["details"]["causes"][0]["reason"],
            "FieldValueRequired"
        );
        assert_eq!(status["details"]["causes"][0]["message"], "Required value");
    }

    #[test]
    fn quotes_like_go() {
        assert_eq!(go_quote("a\"b\\c\n\u{1}é"), "\"a\\\"b\\\\c\\n\\x01é\"");
    }
}
