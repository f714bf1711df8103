//! create, update, patch, and pod binding.

use bytes::Bytes;
use serde_json::{json, Map, Value};

use api::ResourceInfo;

use super::decode::{check_fields, check_type, decode_object, field_manager, is_dry_run};
use super::output::object_response;
use super::resource::Target;
use crate::http::body::{decode_json, decode_yaml};
use crate::http::negotiate::{body_format, BodyFormat};
use crate::http::negotiate::{Encoding, Representation};
use crate::http::response::{add_warnings, json_bytes_response, HttpResponse};
use crate::registry::certificate_signing_requests::is_certificate_signing_request;
use crate::registry::object_meta::{
    bump_generation_if_spec_changed, carry_on_update, fill_on_create, generated_name, meta_str,
    metadata_mut, now_rfc3339,
};
use crate::registry::service_allocation::node_ports_of;
use crate::registry::stored_json::with_resource_version;
use crate::registry::strategy::{
    prepare_for_create, prepare_for_update, uses_generation, WriteTarget,
};
use crate::server::{ApiServer, RequestContext};
use crate::status::ApiError;

fn is_service(info: &ResourceInfo) -> bool {
    info.group.is_empty() && info.kind == "Service"
}

fn is_event(info: &ResourceInfo) -> bool {
    info.kind == "Event"
}

/// The namespace of a new or replaced object must be the one in the URL.
fn settle_namespace(
    info: &ResourceInfo,
    object: &mut Value,
    namespace: Option<&str>,
) -> Result<(), ApiError> {
    let Some(meta) = metadata_mut(object) else {
        return Err(ApiError::bad_request("metadata must be an object"));
    };
    match (info.namespaced, namespace) {
        (true, Some(ns)) => {
            let body_ns = meta.get("namespace").and_then(Value::as_str).unwrap_or("");
            if !body_ns.is_empty() && body_ns != ns {
                return Err(ApiError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            meta.insert("namespace".into(), json!(ns));
        }
        _ => {
            meta.remove("namespace");
        }
    }
    Ok(())
}

/// 422 with every field error, or Ok when there are none.
fn refuse_invalid(
    info: &ResourceInfo,
    object: &Value,
    errors: Vec<api::FieldError>,
) -> Result<(), ApiError> {
    if errors.is_empty() {
        return Ok(());
    }
    let name = crate::registry::object_meta::name_of(object);
    Err(ApiError::invalid(info.group, info.kind, name, &errors))
}

fn validate_new(info: &ResourceInfo, object: &Value) -> Result<(), ApiError> {
    let errors = api::validation::validate_create(info.group, info.kind, object);
    refuse_invalid(info, object, errors)
}

fn validate_changed(info: &ResourceInfo, new: &Value, old: &Value) -> Result<(), ApiError> {
    let errors = api::validation::validate_update(info.group, info.kind, new, old);
    refuse_invalid(info, new, errors)
}

pub async fn create(
    server: &ApiServer,
    ctx: &RequestContext,
    target: &Target<'_>,
    body: &[u8],
) -> Result<HttpResponse, ApiError> {
    let info = target.info;
    let object = decode_object(ctx, body)?;
    let raw_json =
        matches!(body_format(ctx.content_type.as_deref())?, BodyFormat::Json).then_some(body);
    let warnings = check_fields(ctx, info, &object, raw_json)?;
    let created = create_object(server, ctx, target, object, true).await?;
    let mut response = created_response(ctx, info, created);
    add_warnings(&mut response, &warnings);
    Ok(response)
}

/// The 201 answer to a create: a client asking for the object as JSON gets the bytes just
/// stored with the resourceVersion written in, instead of the object serialized a second time.
fn created_response(ctx: &RequestContext, info: &ResourceInfo, created: Created) -> HttpResponse {
    let plain_json = matches!(ctx.accept.representation, Representation::Object)
        && matches!(ctx.accept.encoding, Encoding::Json)
        && info.is_storage_version();
    let spliced = created
        .stored
        .filter(|_| plain_json)
        .and_then(|(bytes, revision)| with_resource_version(&bytes, revision));
    match spliced {
        Some(json) => json_bytes_response(201, Bytes::from(json)),
        None => object_response(ctx, info, 201, &created.object),
    }
}

/// A created object, and the bytes storage holds with their revision (none for a dry run).
struct Created {
    object: Value,
    stored: Option<(Vec<u8>, i64)>,
}

/// Admit, default, validate and store a new object.
async fn create_object(
    server: &ApiServer,
    ctx: &RequestContext,
    target: &Target<'_>,
    mut object: Value,
    manage_fields: bool,
) -> Result<Created, ApiError> {
    let info = target.info;
    let dry_run = is_dry_run(ctx)?;
    check_type(info, &mut object)?;
    settle_namespace(info, &mut object, target.namespace)?;
    if meta_str(&object, "resourceVersion").is_some_and(|rv| !rv.is_empty()) {
        return Err(ApiError::bad_request(
            "resourceVersion should not be set on objects to be created",
        ));
    }
    if meta_str(&object, "name").unwrap_or("").is_empty() {
        if let Some(base) = meta_str(&object, "generateName").filter(|b| !b.is_empty()) {
            let name = generated_name(base);
            if let Some(meta) = metadata_mut(&mut object) {
                meta.insert("name".into(), json!(name));
            }
        }
    }
    if let Some(name) = target.name {
        let body_name = meta_str(&object, "name").unwrap_or("");
        if !body_name.is_empty() && body_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
    }
    fill_on_create(&mut object, uses_generation(info));
    prepare_for_create(info, &mut object);
    if is_certificate_signing_request(info.group, info.kind) {
        crate::registry::certificate_signing_requests::prepare_for_create(&mut object, &ctx.user);
    }
    crate::authz::node_restriction::admit_create(&ctx.user, info.group, info.kind, &object)?;
    if info.group.is_empty() && info.kind == "Pod" {
        server.registry.admit_new_pod(&mut object)?;
    }
    api::defaults::apply_defaults(info.group, info.kind, &mut object);
    validate_new(info, &object)?;
    crate::authz::rbac::check_escalation(
        server.authorizer.as_ref(),
        &ctx.user,
        info.group,
        info.kind,
        &object,
    )?;
    server
        .registry
        .admit_create_in_namespace(info, target.namespace)
        .await?;
    if manage_fields {
        let manager = field_manager(ctx);
        let schema = patch::Schema::for_kind(&info.api_version(), info.kind);
        let time = now_rfc3339();
        let options = patch::apply::UpdateOptions {
            manager: &manager,
            time: &time,
            subresource: "",
            schema: &schema,
        };
        object = patch::apply::track_update(None, object, &options);
    }
    if dry_run {
        return Ok(Created {
            object,
            stored: None,
        });
    }
    let name = crate::registry::object_meta::name_of(&object).to_string();
    if is_service(info) {
        server.registry.services().allocate(&mut object).await?;
    }
    let lease = if is_event(info) {
        let backend = server.registry.store.backend.as_ref();
        Some(server.registry.event_leases.lease(backend).await?)
    } else {
        None
    };
    // A Service's allocations are given back if the write fails, so only it keeps a copy.
    let allocated = is_service(info).then(|| object.clone());
    let created = server
        .registry
        .store
        .create(info, target.namespace, &name, object, lease)
        .await;
    if let (Err(_), Some(service)) = (&created, &allocated) {
        server.registry.services().release_all(service).await;
    }
    created.map(|written| Created {
        object: written.object,
        stored: Some((written.stored, written.revision)),
    })
}

/// What a write computes from the current object.
pub type Mutation<'a> = dyn Fn(Option<&Value>) -> Result<Value, ApiError> + Send + Sync + 'a;

/// The outcome of a guaranteed update.
pub struct Updated {
    pub object: Value,
    pub created: bool,
}

/// Read, compute, compare-and-swap, retrying on conflicts the client did not ask to detect — as
/// upstream's GuaranteedUpdate. `create_missing` lets server-side apply create the object.
pub async fn guaranteed_update(
    server: &ApiServer,
    ctx: &RequestContext,
    target: &Target<'_>,
    write_target: WriteTarget,
    mutation: &Mutation<'_>,
    create_missing: bool,
    manage_fields: bool,
) -> Result<Updated, ApiError> {
    let info = target.info;
    let name = target.name.unwrap_or("");
    let dry_run = is_dry_run(ctx)?;
    let manager = field_manager(ctx);
    loop {
        let current = match server
            .registry
            .store
            .get(info, target.namespace, name)
            .await
        {
            Ok(current) => Some(current),
            Err(error) if error.code == 404 && create_missing => None,
            Err(error) => return Err(error),
        };
        let Some(current) = current else {
            let object = mutation(None)?;
            let created = create_object(server, ctx, target, object, false).await?;
            return Ok(Updated {
                object: created.object,
                created: true,
            });
        };
        let old = &current.object;
        let mut new = mutation(Some(old))?;
        check_type(info, &mut new)?;
        let requested_rv = meta_str(&new, "resourceVersion")
            .filter(|rv| !rv.is_empty())
            .map(str::to_string);
        if let Some(rv) = &requested_rv {
            if rv != &current.revision.to_string() {
                return Err(ApiError::modified(info.group, info.plural, name));
            }
        }
        let body_name = meta_str(&new, "name").unwrap_or("");
        if body_name.is_empty() {
            if let Some(meta) = metadata_mut(&mut new) {
                meta.insert("name".into(), json!(name));
            }
        } else if body_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        settle_namespace(info, &mut new, target.namespace)?;
        carry_on_update(&mut new, old);
        prepare_for_update(info, write_target, &mut new, old);
        api::defaults::apply_defaults(info.group, info.kind, &mut new);
        bump_generation_if_spec_changed(&mut new, old);
        validate_changed(info, &new, old)?;
        crate::authz::node_restriction::admit_update(&ctx.user, info.group, info.kind, &new, old)?;
        crate::authz::rbac::check_escalation(
            server.authorizer.as_ref(),
            &ctx.user,
            info.group,
            info.kind,
            &new,
        )?;
        if manage_fields {
            let subresource = match write_target {
                WriteTarget::Main => "",
                WriteTarget::Status => "status",
                WriteTarget::Finalize => "finalize",
                WriteTarget::Approval => "approval",
            };
            let schema = patch::Schema::for_kind(&info.api_version(), info.kind);
            let time = now_rfc3339();
            let options = patch::apply::UpdateOptions {
                manager: &manager,
                time: &time,
                subresource,
                schema: &schema,
            };
            new = patch::apply::track_update(Some(old), new, &options);
        }
        if equal_but_resource_version(&new, old) {
            return Ok(Updated {
                object: old.clone(),
                created: false,
            });
        }
        if dry_run {
            return Ok(Updated {
                object: new,
                created: false,
            });
        }
        if is_service(info) {
            let held = node_ports_of(old);
            server
                .registry
                .services()
                .sync_node_ports(&mut new, &held)
                .await?;
        }
        let finalized = new
            .get("metadata")
            .and_then(|m| m.get("deletionTimestamp"))
            .is_some()
            && new
                .get("metadata")
                .and_then(|m| m.get("finalizers"))
                .and_then(Value::as_array)
                .is_none_or(|f| f.is_empty());
        let written = if finalized {
            server
                .registry
                .store
                .delete(info, target.namespace, name, current.revision)
                .await
        } else {
            server
                .registry
                .store
                .replace(info, target.namespace, name, new, current.revision)
                .await
        };
        match written {
            Ok(object) => {
                if finalized && is_service(info) {
                    server.registry.services().release_all(&object).await;
                }
                return Ok(Updated {
                    object,
                    created: false,
                });
            }
            Err(error) if error.code == 409 && requested_rv.is_none() => continue,
            Err(error) => return Err(error),
        }
    }
}

pub async fn update(
    server: &ApiServer,
    ctx: &RequestContext,
    target: &Target<'_>,
    write_target: WriteTarget,
    body: &[u8],
) -> Result<HttpResponse, ApiError> {
    let info = target.info;
    let mut object = decode_object(ctx, body)?;
    let raw_json =
        matches!(body_format(ctx.content_type.as_deref())?, BodyFormat::Json).then_some(body);
    let warnings = check_fields(ctx, info, &object, raw_json)?;
    check_type(info, &mut object)?;
    let mutation = move |_: Option<&Value>| Ok(object.clone());
    let updated =
        guaranteed_update(server, ctx, target, write_target, &mutation, false, true).await?;
    let mut response = object_response(ctx, info, 200, &updated.object);
    add_warnings(&mut response, &warnings);
    Ok(response)
}

fn apply_error(error: patch::apply::ApplyError) -> ApiError {
    match &error {
        patch::apply::ApplyError::Conflicts(conflicts) => {
            let mut api_error = ApiError::conflict("", "", "", "");
            api_error.message = error.to_string();
            api_error.details = Box::default();
            api_error.details.causes = conflicts
                .iter()
                .map(|c| crate::status::StatusCause {
                    reason: "FieldManagerConflict".into(),
                    message: c.cause_message(),
                    field: c.field.clone(),
                })
                .collect();
            api_error
        }
        _ => ApiError::bad_request(error.to_string()),
    }
}

/// Whether `new` is `old`, `metadata.resourceVersion` aside: a write that changes nothing (as
/// upstream, which compares the objects as stored, without their resourceVersion).
/// Compared in place; a pod bound, or a status written, per write is too often to copy objects.
fn equal_but_resource_version(new: &Value, old: &Value) -> bool {
    let (Some(new_fields), Some(old_fields)) = (new.as_object(), old.as_object()) else {
        return new == old;
    };
    new_fields.len() == old_fields.len()
        && new_fields
            .iter()
            .all(|(key, value)| match old_fields.get(key) {
                Some(old_value) if key == "metadata" => {
                    metadata_equal_but_version(value, old_value)
                }
                Some(old_value) => value == old_value,
                None => false,
            })
}

fn metadata_equal_but_version(new: &Value, old: &Value) -> bool {
    let (Some(new_meta), Some(old_meta)) = (new.as_object(), old.as_object()) else {
        return new == old;
    };
    let versionless_len =
        |meta: &Map<String, Value>| meta.len() - usize::from(meta.contains_key("resourceVersion"));
    versionless_len(new_meta) == versionless_len(old_meta)
        && new_meta
            .iter()
            .all(|(key, value)| key == "resourceVersion" || old_meta.get(key) == Some(value))
}

fn without_resource_version(object: &Value) -> Value {
    let mut copy = object.clone();
    if let Some(meta) = copy.get_mut("metadata").and_then(Value::as_object_mut) {
        meta.remove("resourceVersion");
    }
    copy
}

fn patch_error(error: patch::PatchError) -> ApiError {
    match error.status_code() {
        400 => ApiError::bad_request(error.to_string()),
        422 => {
            let mut e = ApiError::bad_request(error.to_string());
            e.code = 422;
            e.reason = "Invalid";
            e
        }
        _ => ApiError::internal(error.to_string()),
    }
}

pub async fn patch(
    server: &ApiServer,
    ctx: &RequestContext,
    target: &Target<'_>,
    write_target: WriteTarget,
    body: &[u8],
) -> Result<HttpResponse, ApiError> {
    let info = target.info;
    let format = body_format(ctx.content_type.as_deref())?;
    let api_version = info.api_version();
    let manager = field_manager(ctx);
    let force = ctx.query.flag("force");
    if force && format != BodyFormat::ApplyPatch {
        return Err(ApiError::bad_request(
            "force: Invalid value: true: may not be specified for non-apply patch",
        ));
    }
    let patch_doc = match format {
        BodyFormat::ApplyPatch => decode_yaml(body)?,
        BodyFormat::JsonPatch | BodyFormat::MergePatch | BodyFormat::StrategicMergePatch => {
            decode_json(body)?
        }
        _ => {
            return Err(ApiError::unsupported_media_type(
                ctx.content_type.as_deref().unwrap_or(""),
            ))
        }
    };
    let mut warnings = Vec::new();
    if format == BodyFormat::ApplyPatch {
        let mut applied = patch_doc.clone();
        warnings = check_fields(ctx, info, &applied, None)?;
        check_type(info, &mut applied)?;
        if ctx.query.non_empty("fieldManager").is_none() {
            return Err(ApiError::bad_request(
                "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch",
            ));
        }
    }
    let schema = patch::Schema::for_kind(&api_version, info.kind);
    let now = now_rfc3339();
    let is_apply = format == BodyFormat::ApplyPatch;
    let apply_subresource = if write_target == WriteTarget::Status {
        "status"
    } else {
        ""
    };
    let mutation = move |current: Option<&Value>| -> Result<Value, ApiError> {
        // The patch alone decides whether a resourceVersion precondition applies.
        let base = current.map(without_resource_version);
        let current = base.as_ref();
        match (format, current) {
            (BodyFormat::JsonPatch, Some(c)) => {
                patch::apply_json_patch(c, &patch_doc).map_err(patch_error)
            }
            (BodyFormat::MergePatch, Some(c)) => {
                patch::merge_patch(c, &patch_doc).map_err(patch_error)
            }
            (BodyFormat::StrategicMergePatch, Some(c)) => {
                patch::strategic_merge(c, &patch_doc, &schema).map_err(patch_error)
            }
            (BodyFormat::ApplyPatch, live) => {
                let mut applied = patch_doc.clone();
                if let Some(fields) = applied.as_object_mut() {
                    fields.insert("apiVersion".into(), json!(api_version));
                }
                let options = patch::apply::ApplyOptions {
                    manager: &manager,
                    force,
                    time: &now,
                    subresource: apply_subresource,
                    schema: &schema,
                };
                patch::apply::apply(live, &applied, &options).map_err(apply_error)
            }
            _ => Err(ApiError::not_found(
                info.group,
                info.plural,
                target.name.unwrap_or(""),
            )),
        }
    };
    let updated = guaranteed_update(
        server,
        ctx,
        target,
        write_target,
        &mutation,
        is_apply,
        !is_apply,
    )
    .await?;
    let code = if updated.created { 201 } else { 200 };
    let mut response = object_response(ctx, info, code, &updated.object);
    add_warnings(&mut response, &warnings);
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_equal_but_for_the_resource_version_changes_nothing() {
        let old = json!({"metadata": {"name": "p", "resourceVersion": "5"}, "spec": {"a": 1}});
        let same = json!({"spec": {"a": 1}, "metadata": {"name": "p"}});
        assert!(equal_but_resource_version(&same, &old));
        let spec_changed = json!({"metadata": {"name": "p"}, "spec": {"a": 2}});
        assert!(!equal_but_resource_version(&spec_changed, &old));
        let label_added = json!({"metadata": {"name": "p", "labels": {}}, "spec": {"a": 1}});
        assert!(!equal_but_resource_version(&label_added, &old));
        let field_added = json!({"metadata": {"name": "p"}, "spec": {"a": 1}, "status": {}});
        assert!(!equal_but_resource_version(&field_added, &old));
        // The resourceVersion a write carries (its precondition) is no change either.
        let with_version =
            json!({"metadata": {"name": "p", "resourceVersion": "5"}, "spec": {"a": 1}});
        assert!(equal_but_resource_version(&with_version, &old));
        let without_old_version = json!({"metadata": {"name": "p"}, "spec": {"a": 1}});
        assert!(equal_but_resource_version(&same, &without_old_version));
    }
}
