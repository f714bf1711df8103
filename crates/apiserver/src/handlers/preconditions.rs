//! Upstream's write preconditions: the object must still have the uid and the resourceVersion
//! the caller names (a delete's `preconditions`, a Binding's metadata).

use api::ResourceInfo;
use serde_json::Value;

use crate::registry::object_meta::meta_str;
use crate::status::ApiError;

/// Conflict, with upstream's "Precondition failed: …" message, when `object` (stored at
/// `revision`) is not the one `uid` and `resource_version` name.
pub(super) fn check(
    info: &ResourceInfo,
    name: &str,
    object: &Value,
    revision: i64,
    uid: Option<&str>,
    resource_version: Option<&str>,
) -> Result<(), ApiError> {
    check_uid_and_revision(
        info,
        name,
        meta_str(object, "uid").unwrap_or(""),
        revision,
        uid,
        resource_version,
    )
}

/// [`check`] for an object whose uid is `actual_uid`.
pub(super) fn check_uid_and_revision(
    info: &ResourceInfo,
    name: &str,
    actual_uid: &str,
    revision: i64,
    uid: Option<&str>,
    resource_version: Option<&str>,
) -> Result<(), ApiError> {
    if let Some(uid) = uid {
        if uid != actual_uid {
            return Err(ApiError::conflict(
                info.group,
                info.plural,
                name,
                &format!(
                    "Precondition failed: UID in precondition: {uid}, UID in object meta: {actual_uid}"
                ),
            ));
        }
    }
    if let Some(rv) = resource_version {
        if rv != revision.to_string() {
            return Err(ApiError::conflict(
                info.group,
                info.plural,
                name,
                &format!("Precondition failed: ResourceVersion in precondition: {rv}, ResourceVersion in object meta: {revision}"),
            ));
        }
    }
    Ok(())
}
