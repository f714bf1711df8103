//! Apply conflicts and the 409 message upstream builds from them.

use std::collections::BTreeMap;
use std::fmt;

/// A field the applier would change that another manager owns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conflict {
    /// The other manager as upstream prints it: `"kubectl"`, or
    /// `"kubectl-client-side-apply" using apps/v1` for an updater.
    pub manager: String,
    /// The field path as upstream prints it: `.spec.replicas`.
    pub field: String,
}

impl Conflict {
    /// `message` of the matching `FieldManagerConflict` status cause.
    pub fn cause_message(&self) -> String {
        format!("conflict with {}", self.manager)
    }
}

/// Upstream's message for a failed apply.
pub fn conflicts_message(conflicts: &[Conflict]) -> String {
    if let [only] = conflicts {
        return format!(
            "Apply failed with 1 conflict: conflict with {}: {}",
            only.manager, only.field
        );
    }
    let mut by_manager: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for c in conflicts {
        by_manager.entry(&c.manager).or_default().push(&c.field);
    }
    let mut lines = Vec::new();
    for (manager, fields) in by_manager {
        lines.push(format!("conflicts with {manager}:"));
        lines.extend(fields.into_iter().map(|f| format!("- {f}")));
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    )
}

pub(crate) struct Message<'a>(pub &'a [Conflict]);

impl fmt::Display for Message<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&conflicts_message(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(m: &str, f: &str) -> Conflict {
        Conflict {
            manager: m.into(),
            field: f.into(),
        }
    }

    #[test]
    fn messages() {
        let one = [c(
            "\"kubectl-client-side-apply\" using apps/v1",
            ".spec.replicas",
        )];
        assert_eq!(
            conflicts_message(&one),
            "Apply failed with 1 conflict: conflict with \"kubectl-client-side-apply\" using apps/v1: .spec.replicas"
        );
        let many = [c("\"b\"", ".x"), c("\"a\"", ".y"), c("\"b\"", ".z")];
        assert_eq!(
            conflicts_message(&many),
            "Apply failed with 3 conflicts: conflicts with \"a\":\n- .y\nconflicts with \"b\":\n- .x\n- .z"
        );
    }
}
