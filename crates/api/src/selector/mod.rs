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
mod selectable_fields;
mod selection_view;

pub use error::SelectorError;
pub use field_selector::{FieldOperator, FieldRequirement, FieldSelector};
pub use label_format::format_labels;
pub use label_requirement::{LabelOperator, LabelRequirement};
pub use label_selector::LabelSelector;
pub use selectable_fields::{check_field_selector, selectable_field_values};
pub use selection_view::selection_view;
