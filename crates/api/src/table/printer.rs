//! A printer: the columns of one kind and how to fill them from an object.

use jiff::Timestamp;
use serde_json::Value;

use super::Column;

/// Columns and the cell function of one kind. Cells always include the wide (priority 1)
/// columns: the server prints wide and kubectl hides what it does not show.
pub(crate) struct Printer {
    pub(crate) columns: &'static [Column],
    pub(crate) cells: fn(&Value, Timestamp) -> Vec<Value>,
}
