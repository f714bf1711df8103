//! A parsed label selector: requirements all of which must hold.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

use super::label_parser::parse_requirements;
use super::label_requirement::{LabelOperator, LabelRequirement};
use super::{Selectable, SelectorError};

/// A label selector. Empty selects everything; the selector of a missing (`null`)
/// `metav1.LabelSelector` selects nothing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelSelector {
    requirements: Vec<LabelRequirement>,
    selects_nothing: bool,
}

impl LabelSelector {
    /// Selects every object.
    pub fn everything() -> Self {
        LabelSelector::default()
    }

    /// Selects no object.
    pub fn nothing() -> Self {
        LabelSelector {
            requirements: Vec::new(),
            selects_nothing: true,
        }
    }

    /// Parses the `labelSelector` query syntax: `a=b`, `a==b`, `a!=b`, `a in (x,y)`,
    /// `a notin (x)`, `a`, `!a`, `a>1`, `a<1`, joined by commas.
    pub fn parse(input: &str) -> Result<Self, SelectorError> {
        let mut requirements = parse_requirements(input)?;
        requirements.sort_by(|a, b| a.key().cmp(b.key()));
        Ok(LabelSelector {
            requirements,
            selects_nothing: false,
        })
    }

    /// Builds from a `metav1.LabelSelector` object (`matchLabels`, `matchExpressions` with
    /// `In`, `NotIn`, `Exists`, `DoesNotExist`), as upstream's `LabelSelectorAsSelector`:
    /// `None`/`null` selects nothing, `{}` selects everything.
    pub fn from_label_selector_json(selector: Option<&Value>) -> Result<Self, SelectorError> {
        let Some(object) = selector.and_then(Value::as_object) else {
            return Ok(LabelSelector::nothing());
        };
        let mut requirements = Vec::new();
        if let Some(labels) = object.get("matchLabels").and_then(Value::as_object) {
            for (key, value) in labels {
                let value = value.as_str().unwrap_or_default().to_string();
                requirements.push(LabelRequirement::new(
                    key,
                    LabelOperator::Equals,
                    vec![value],
                )?);
            }
        }
        let expressions = object
            .get("matchExpressions")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for expression in expressions {
            requirements.push(requirement_from_expression(expression)?);
        }
        requirements.sort_by(|a, b| a.key().cmp(b.key()));
        Ok(LabelSelector {
            requirements,
            selects_nothing: false,
        })
    }

    pub fn requirements(&self) -> &[LabelRequirement] {
        &self.requirements
    }

    /// Selects everything (no requirement).
    pub fn is_empty(&self) -> bool {
        !self.selects_nothing && self.requirements.is_empty()
    }

    /// Whether labels looked up through `label` satisfy every requirement.
    pub fn matches_with<'a>(&self, label: impl Fn(&str) -> Option<&'a str> + Copy) -> bool {
        !self.selects_nothing && self.requirements.iter().all(|r| r.matches(label))
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.matches_with(|k| labels.get(k).map(String::as_str))
    }

    /// Labels as a JSON object (`metadata.labels`); non-string values count as absent.
    pub fn matches_map(&self, labels: &Map<String, Value>) -> bool {
        self.matches_with(|k| labels.get(k).and_then(Value::as_str))
    }

    /// Matches an object's `metadata.labels` (absent labels are an empty set).
    pub fn matches_object(&self, object: &Value) -> bool {
        self.matches_labels_of(object)
    }

    /// Matches the labels of an object or of a cache's view of one.
    pub fn matches_labels_of<S: Selectable + ?Sized>(&self, object: &S) -> bool {
        self.matches_with(|k| object.label(k))
    }
}

fn requirement_from_expression(expression: &Value) -> Result<LabelRequirement, SelectorError> {
    let text = |field: &str| {
        expression
            .get(field)
            .and_then(Value::as_str)
            .unwrap_or_default()
    };
    let operator = match text("operator") {
        "In" => LabelOperator::In,
        "NotIn" => LabelOperator::NotIn,
        "Exists" => LabelOperator::Exists,
        "DoesNotExist" => LabelOperator::DoesNotExist,
        other => {
            return Err(SelectorError(format!(
                "{:?} is not a valid label selector operator",
                other
            )))
        }
    };
    let values = expression
        .get("values")
        .and_then(Value::as_array)
        .map(|vs| {
            vs.iter()
                .map(|v| v.as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default();
    LabelRequirement::new(text("key"), operator, values)
}

/// Requirements in key order joined by commas; empty for everything (and for nothing).
impl fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let texts: Vec<String> = self.requirements.iter().map(ToString::to_string).collect();
        write!(f, "{}", texts.join(","))
    }
}

#[cfg(test)]
mod tests;
