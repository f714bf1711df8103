//! Label and field selectors, as upstream's `labels` and `fields` packages parse and match them,
//! and the fields each kind can be selected by.

mod error;
mod field_selector;
mod label_format;
mod label_lexer;
mod label_parser;
mod label_requirement;
mod label_selector;
mod label_syntax;
mod pruned_json;
mod selectable_fields;
mod selection_view;

pub use error::SelectorError;
pub use field_selector::{FieldOperator, FieldRequirement, FieldSelector};
pub use label_format::format_labels;
pub use label_requirement::{LabelOperator, LabelRequirement};
pub use label_selector::LabelSelector;
pub use pruned_json::{parse_pruned, PathTree};
pub use selectable_fields::{check_field_selector, selectable_field_values};
pub use selection_view::SelectionView;

use serde_json::Value;

/// What selectors read of an object: a parsed object, or a cache's [`SelectionView`] of one.
pub trait Selectable {
    /// The value at a JSON pointer (RFC 6901), as `Value::pointer`.
    fn pointer(&self, pointer: &str) -> Option<&Value>;
    /// A label's value; labels that are not strings count as absent.
    fn label(&self, key: &str) -> Option<&str>;
}

impl Selectable for Value {
    fn pointer(&self, pointer: &str) -> Option<&Value> {
        Value::pointer(self, pointer)
    }

    fn label(&self, key: &str) -> Option<&str> {
        Value::pointer(self, "/metadata/labels")?.get(key)?.as_str()
    }
}
