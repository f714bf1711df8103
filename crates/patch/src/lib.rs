#![forbid(unsafe_code)]
//! Patch engines for the r8s API server: JSON merge patch (RFC 7386), JSON patch (RFC 6902),
//! Kubernetes strategic merge patch and server-side apply with `metadata.managedFields`.
//!
//! Everything here is a pure function over `serde_json::Value`.

pub mod apply;
mod error;
mod json_patch;
mod merge_patch;
pub mod strategic;

pub use crate::error::PatchError;
pub use crate::json_patch::apply_json_patch;
pub use crate::merge_patch::merge_patch;
pub use crate::strategic::schema::{Schema, StrategicSchema};
pub use crate::strategic::strategic_merge;
pub use apply::{
    apply, default_manager_from_user_agent, track_update, ApplyError, ApplyOptions, Conflict,
    UpdateOptions,
};
