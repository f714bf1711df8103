//! Column definitions of a server-side table (`meta.k8s.io/v1` `TableColumnDefinition`).

use serde_json::{json, Value};

/// One column of a table. Priority 0 columns are always shown; priority 1 only with `-o wide`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    /// "string", "integer", "boolean", "number" or "date".
    pub column_type: &'static str,
    /// "name" for the object-name column, otherwise "".
    pub format: &'static str,
    pub description: &'static str,
    pub priority: i32,
}

impl Column {
    pub(crate) const fn text(name: &'static str, description: &'static str) -> Column {
        Column {
            name,
            column_type: "string",
            format: "",
            description,
            priority: 0,
        }
    }

    pub(crate) const fn integer(name: &'static str, description: &'static str) -> Column {
        Column {
            column_type: "integer",
            ..Column::text(name, description)
        }
    }

    pub(crate) const fn boolean(name: &'static str, description: &'static str) -> Column {
        Column {
            column_type: "boolean",
            ..Column::text(name, description)
        }
    }

    /// The object's name column.
    pub(crate) const fn object_name() -> Column {
        Column {
            format: "name",
            ..Column::text("Name", NAME_DESCRIPTION)
        }
    }

    /// The object's age, a human duration since its creation.
    pub(crate) const fn age() -> Column {
        Column::text("Age", AGE_DESCRIPTION)
    }

    /// Shown only with `-o wide`.
    pub(crate) const fn wide(self) -> Column {
        Column {
            priority: 1,
            ..self
        }
    }

    /// The `columnDefinitions` entry for this column.
    pub fn to_definition(&self) -> Value {
        json!({
            "name": self.name,
            "type": self.column_type,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        })
    }
}

pub(crate) const NAME_DESCRIPTION: &str =
    "Name of the object, unique within its namespace (or the cluster for cluster-scoped kinds).";
pub(crate) const AGE_DESCRIPTION: &str =
    "Time since the object was created (its metadata.creationTimestamp).";
pub(crate) const CONTAINERS_DESCRIPTION: &str = "Names of each container in the template.";
pub(crate) const IMAGES_DESCRIPTION: &str = "Images referenced by each container in the template.";
