//! The parameters of the operations of a resource path, in OpenAPI v3 form. kubectl's
//! QueryParamVerifierV3 looks for `fieldValidation` and `dryRun` among the parameters of a kind's
//! PATCH operation before relying on the server for them.

use serde_json::{json, Value};

fn query(name: &str, description: &str, schema: Value) -> Value {
    json!({
        "name": name,
        "in": "query",
        "description": description,
        "schema": schema,
    })
}

fn string_query(name: &str, description: &str) -> Value {
    query(
        name,
        description,
        json!({ "type": "string", "uniqueItems": true }),
    )
}

fn boolean_query(name: &str, description: &str) -> Value {
    query(
        name,
        description,
        json!({ "type": "boolean", "uniqueItems": true }),
    )
}

fn integer_query(name: &str, description: &str) -> Value {
    query(
        name,
        description,
        json!({ "type": "integer", "uniqueItems": true }),
    )
}

/// A required path parameter such as `name` or `namespace`.
pub(crate) fn path_parameter(name: &str, description: &str) -> Value {
    json!({
        "name": name,
        "in": "path",
        "description": description,
        "required": true,
        "schema": { "type": "string", "uniqueItems": true },
    })
}

pub(crate) fn pretty() -> Value {
    string_query("pretty", "If 'true', the output is indented for reading.")
}

fn dry_run() -> Value {
    string_query(
        "dryRun",
        "When present (only 'All' is valid), the request is processed in full but nothing is \
         persisted.",
    )
}

fn field_manager() -> Value {
    string_query(
        "fieldManager",
        "The name of the actor making the change, recorded in managedFields. Required for apply \
         patches; at most 128 printable characters.",
    )
}

fn field_validation() -> Value {
    string_query(
        "fieldValidation",
        "What to do with unknown or duplicate fields in the body: Ignore drops them, Warn drops \
         them and answers with a warning for each, Strict rejects the request.",
    )
}

fn force() -> Value {
    boolean_query(
        "force",
        "Apply only: take ownership of fields that other managers own, instead of failing with a \
         conflict.",
    )
}

/// Query parameters of create (POST) and update (PUT).
pub(crate) fn write_parameters() -> Vec<Value> {
    vec![dry_run(), field_manager(), field_validation()]
}

/// Query parameters of PATCH, including apply's `force`.
pub(crate) fn patch_parameters() -> Vec<Value> {
    vec![dry_run(), field_manager(), field_validation(), force()]
}

/// Query parameters of list and watch.
pub(crate) fn list_parameters() -> Vec<Value> {
    vec![
        boolean_query(
            "allowWatchBookmarks",
            "Watch only: ask for BOOKMARK events carrying the latest resourceVersion.",
        ),
        string_query(
            "continue",
            "The continue token of the previous page of a paginated list.",
        ),
        string_query(
            "fieldSelector",
            "Only objects whose fields match this selector. Default: everything.",
        ),
        string_query(
            "labelSelector",
            "Only objects whose labels match this selector. Default: everything.",
        ),
        integer_query(
            "limit",
            "At most this many objects; the list metadata then carries a continue token.",
        ),
        string_query(
            "resourceVersion",
            "Which state to serve: with resourceVersionMatch, an exact or a minimal version.",
        ),
        string_query(
            "resourceVersionMatch",
            "How resourceVersion applies to the list: Exact or NotOlderThan.",
        ),
        boolean_query(
            "sendInitialEvents",
            "Watch only: start with synthetic ADDED events for the current objects.",
        ),
        integer_query(
            "timeoutSeconds",
            "End the list or watch call after this many seconds.",
        ),
        boolean_query(
            "watch",
            "Stream ADDED, MODIFIED and DELETED events instead of answering a list.",
        ),
    ]
}

/// Query parameters of delete and deletecollection.
pub(crate) fn delete_parameters() -> Vec<Value> {
    vec![
        dry_run(),
        integer_query(
            "gracePeriodSeconds",
            "Seconds before the object is deleted; 0 deletes at once.",
        ),
        boolean_query(
            "orphanDependents",
            "Deprecated, use propagationPolicy: whether dependents are orphaned.",
        ),
        string_query(
            "propagationPolicy",
            "Whether and how garbage collection deletes dependents: Orphan, Background or \
             Foreground.",
        ),
    ]
}
