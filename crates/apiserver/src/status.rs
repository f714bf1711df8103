//! API errors and the `Status` objects they become, with upstream's reasons, codes and messages.

use serde_json::{json, Value};

/// One cause in `details.causes`.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusCause {
    pub reason: String,
    pub message: String,
    pub field: String,
}

/// `details` of a `Status`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StatusDetails {
    pub name: Option<String>,
    pub group: Option<String>,
    /// The resource (plural) for most errors, the Kind for Invalid.
    pub kind: Option<String>,
    pub causes: Vec<StatusCause>,
    pub retry_after_seconds: Option<u32>,
}

/// An error answered to the client as a `Status`.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    pub details: Box<StatusDetails>,
}

/// `deployments.apps` or `configmaps`: how upstream names a resource in messages.
pub fn qualified_resource(group: &str, plural: &str) -> String {
    if group.is_empty() {
        plural.to_string()
    } else {
        format!("{plural}.{group}")
    }
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason,
            message: message.into(),
            details: Box::default(),
        }
    }

    fn with_details(mut self, group: &str, kind: &str, name: &str) -> Self {
        self.details.group = (!group.is_empty()).then(|| group.to_string());
        self.details.kind = Some(kind.to_string());
        self.details.name = (!name.is_empty()).then(|| name.to_string());
        self
    }

    pub fn not_found(group: &str, plural: &str, name: &str) -> Self {
        let qualified = qualified_resource(group, plural);
        Self::new(404, "NotFound", format!("{qualified} \"{name}\" not found"))
            .with_details(group, plural, name)
    }

    pub fn already_exists(group: &str, plural: &str, name: &str) -> Self {
        let qualified = qualified_resource(group, plural);
        Self::new(
            409,
            "AlreadyExists",
            format!("{qualified} \"{name}\" already exists"),
        )
        .with_details(group, plural, name)
    }

    pub fn conflict(group: &str, plural: &str, name: &str, detail: &str) -> Self {
        let qualified = qualified_resource(group, plural);
        Self::new(
            409,
            "Conflict",
            format!("Operation cannot be fulfilled on {qualified} \"{name}\": {detail}"),
        )
        .with_details(group, plural, name)
    }

    pub fn modified(group: &str, plural: &str, name: &str) -> Self {
        Self::conflict(
            group,
            plural,
            name,
            "the object has been modified; please apply your changes to the latest version and try again",
        )
    }

    /// 422 Invalid from field errors, as upstream's `errors.NewInvalid`.
    pub fn invalid(group: &str, kind: &str, name: &str, errors: &[api::FieldError]) -> Self {
        let mut error = Self::new(
            422,
            "Invalid",
            api::field_error::invalid_message(group, kind, name, errors),
        )
        .with_details(group, kind, name);
        error.details.causes = errors
            .iter()
            .map(|e| StatusCause {
                reason: e.error_type.reason().to_string(),
                message: e.cause_message(),
                field: e.field.clone(),
            })
            .collect();
        error
    }

    /// 404 for a path the server does not serve.
    pub fn resource_not_found() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized")
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(403, "Forbidden", message)
    }

    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
    }

    pub fn not_acceptable() -> Self {
        Self::new(
            406,
            "NotAcceptable",
            "the server was unable to respond with a content type that the client supports",
        )
    }

    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!("the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got {content_type})"),
        )
    }

    pub fn gone(message: impl Into<String>) -> Self {
        Self::new(410, "Expired", message)
    }

    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(413, "RequestEntityTooLarge", message)
    }

    pub fn too_many_requests() -> Self {
        let mut error = Self::new(
            429,
            "TooManyRequests",
            "Too many requests, please try again later.",
        );
        error.details.retry_after_seconds = Some(1);
        error
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(
            500,
            "InternalError",
            format!("Internal error occurred: {}", message.into()),
        )
    }

    pub fn service_unavailable(message: impl Into<String>) -> Self {
        Self::new(503, "ServiceUnavailable", message)
    }

    pub fn timeout(message: impl Into<String>) -> Self {
        Self::new(504, "Timeout", message)
    }

    /// The `Status` object.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        let mut details = serde_json::Map::new();
        let d = &self.details;
        if let Some(name) = &d.name {
            details.insert("name".into(), Value::String(name.clone()));
        }
        if let Some(group) = &d.group {
            details.insert("group".into(), Value::String(group.clone()));
        }
        if let Some(kind) = &d.kind {
            details.insert("kind".into(), Value::String(kind.clone()));
        }
        if !d.causes.is_empty() {
            let causes = d
                .causes
                .iter()
                .map(|c| json!({"reason": c.reason, "message": c.message, "field": c.field}))
                .collect();
            details.insert("causes".into(), Value::Array(causes));
        }
        if let Some(seconds) = d.retry_after_seconds {
            details.insert("retryAfterSeconds".into(), json!(seconds));
        }
        if !details.is_empty() {
            status["details"] = Value::Object(details);
        }
        status
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ApiError {}

/// A successful `Status` (delete of a collection, or a delete answered with Status).
pub fn success_status(details: Option<Value>) -> Value {
    let mut status = json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Success",
    });
    if let Some(details) = details {
        status["details"] = details;
    }
    status
}
