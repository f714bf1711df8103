//! One OpenAPI v3 operation (GET, POST, PUT, PATCH or DELETE) of a resource path, with the
//! extensions kubectl reads: `x-kubernetes-action` and `x-kubernetes-group-version-kind`.

use serde_json::{json, Map, Value};

use super::definitions::V3_REF_PREFIX;
use super::parameters::{delete_parameters, list_parameters, patch_parameters, write_parameters};

const DELETE_OPTIONS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.DeleteOptions";
const PATCH: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Patch";
const STATUS: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.Status";

const PATCH_TYPES: &[&str] = &[
    "application/apply-patch+yaml",
    "application/json-patch+json",
    "application/merge-patch+json",
    "application/strategic-merge-patch+json",
];
const OBJECT_TYPES: &[&str] = &[
    "application/json",
    "application/vnd.kubernetes.protobuf",
    "application/yaml",
];
const WATCH_TYPES: &[&str] = &[
    "application/json;stream=watch",
    "application/vnd.kubernetes.protobuf;stream=watch",
];

/// What an operation does, as `x-kubernetes-action` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    List,
    Create,
    DeleteCollection,
    Read,
    Replace,
    Patch,
    Delete,
}

impl Action {
    pub(crate) fn method(self) -> &'static str {
        match self {
            Action::List | Action::Read => "get",
            Action::Create => "post",
            Action::Replace => "put",
            Action::Patch => "patch",
            Action::Delete | Action::DeleteCollection => "delete",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Action::List => "list",
            Action::Create => "post",
            Action::DeleteCollection => "deletecollection",
            Action::Read => "get",
            Action::Replace => "put",
            Action::Patch => "patch",
            Action::Delete => "delete",
        }
    }

    /// The verb that starts upstream's operation ids, e.g. `patch` in
    /// `patchAppsV1NamespacedDeployment`.
    pub(crate) fn id_verb(self) -> &'static str {
        match self {
            Action::List => "list",
            Action::Create => "create",
            Action::DeleteCollection => "deletecollection",
            Action::Read => "read",
            Action::Replace => "replace",
            Action::Patch => "patch",
            Action::Delete => "delete",
        }
    }
}

/// The kind an operation reads or writes, and the definition of its schema.
pub(crate) struct OperationTarget<'a> {
    pub group: &'a str,
    pub version: &'a str,
    pub kind: &'a str,
    pub definition: &'a str,
}

/// The operation `action` on `target`, tagged `tag` and identified by `operation_id`.
pub(crate) fn operation(
    action: Action,
    target: &OperationTarget<'_>,
    tag: &str,
    operation_id: &str,
) -> Value {
    let mut op = Map::new();
    op.insert("tags".into(), json!([tag]));
    op.insert(
        "description".into(),
        description(action, target.kind).into(),
    );
    op.insert("operationId".into(), operation_id.into());
    let parameters = match action {
        Action::List => list_parameters(),
        Action::Create | Action::Replace => write_parameters(),
        Action::Patch => patch_parameters(),
        Action::Delete => delete_parameters(),
        Action::DeleteCollection => [delete_parameters(), list_parameters()].concat(),
        Action::Read => Vec::new(),
    };
    if !parameters.is_empty() {
        op.insert("parameters".into(), Value::Array(parameters));
    }
    let request = match action {
        Action::Create | Action::Replace => Some(content(OBJECT_TYPES, target.definition)),
        Action::Patch => Some(content(PATCH_TYPES, PATCH)),
        Action::Delete | Action::DeleteCollection => Some(content(OBJECT_TYPES, DELETE_OPTIONS)),
        Action::List | Action::Read => None,
    };
    if let Some(request) = request {
        let mut body = json!({ "content": request });
        if matches!(action, Action::Create | Action::Replace | Action::Patch) {
            body["required"] = true.into();
        }
        op.insert("requestBody".into(), body);
    }
    op.insert("responses".into(), responses(action, target.definition));
    op.insert("x-kubernetes-action".into(), action.extension().into());
    op.insert(
        "x-kubernetes-group-version-kind".into(),
        json!({ "group": target.group, "kind": target.kind, "version": target.version }),
    );
    Value::Object(op)
}

fn description(action: Action, kind: &str) -> String {
    match action {
        Action::List => format!("list or watch objects of kind {kind}"),
        Action::Create => format!("create a {kind}"),
        Action::DeleteCollection => format!("delete collection of {kind}"),
        Action::Read => format!("read the specified {kind}"),
        Action::Replace => format!("replace the specified {kind}"),
        Action::Patch => format!("partially update the specified {kind}"),
        Action::Delete => format!("delete a {kind}"),
    }
}

fn content(media_types: &[&str], definition: &str) -> Value {
    let schema = json!({ "$ref": format!("{V3_REF_PREFIX}{definition}") });
    Value::Object(
        media_types
            .iter()
            .map(|media_type| ((*media_type).to_owned(), json!({ "schema": schema })))
            .collect(),
    )
}

fn responses(action: Action, definition: &str) -> Value {
    let ok = |definition: &str, media_types: &[&str]| json!({ "description": "OK", "content": content(media_types, definition) });
    let mut responses = Map::new();
    match action {
        Action::List => {
            let list = format!("{definition}List");
            responses.insert(
                "200".into(),
                ok(&list, &[OBJECT_TYPES, WATCH_TYPES].concat()),
            );
        }
        Action::Read => {
            responses.insert("200".into(), ok(definition, OBJECT_TYPES));
        }
        Action::Create | Action::Replace | Action::Patch => {
            responses.insert("200".into(), ok(definition, OBJECT_TYPES));
            responses.insert(
                "201".into(),
                json!({ "description": "Created", "content": content(OBJECT_TYPES, definition) }),
            );
        }
        Action::Delete | Action::DeleteCollection => {
            responses.insert("200".into(), ok(STATUS, OBJECT_TYPES));
            responses.insert(
                "202".into(),
                json!({ "description": "Accepted", "content": content(OBJECT_TYPES, STATUS) }),
            );
        }
    }
    responses.insert("401".into(), json!({ "description": "Unauthorized" }));
    Value::Object(responses)
}
