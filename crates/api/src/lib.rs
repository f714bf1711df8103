//! The resource catalog and the per-kind rules of the Kubernetes API: what every built-in kind is
//! called and where it lives, how it is defaulted and validated, how selectors match it, how it is
//! patched and applied, how it is printed as a Table, and its OpenAPI schema. Pure functions over
//! `serde_json::Value`: no I/O.
#![forbid(unsafe_code)]

pub mod catalog;
pub mod conversion;
pub mod defaults;
pub mod field_error;
pub mod json_key;
pub mod kubelet_labels;
pub mod openapi;
pub mod quantity;
pub mod selector;
pub mod table;
pub mod validation;
pub mod without_managed_fields;

pub use catalog::{GroupInfo, NameRule, ResourceInfo, Subresource};
pub use field_error::{ErrorType, FieldError};
pub use selector::{FieldSelector, LabelSelector, SelectorError};
