//! One requirement of a label selector: a key, an operator and values.

use std::fmt;

use super::label_syntax::{go_quote, go_string_slice, label_key_problems, label_value_problems};
use super::SelectorError;

/// Operators of label requirements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelOperator {
    Equals,
    DoubleEquals,
    NotEquals,
    In,
    NotIn,
    Exists,
    DoesNotExist,
    GreaterThan,
    LessThan,
}

/// One requirement, e.g. `tier in (web,db)`. Built only through [`LabelRequirement::new`], so
/// always valid.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelRequirement {
    key: String,
    operator: LabelOperator,
    values: Vec<String>,
}

impl LabelRequirement {
    /// Checks the key, the number of values for the operator, and each value, reporting every
    /// problem as upstream's `NewRequirement` does (field paths `key`, `values[i][<key>]`).
    pub fn new(
        key: &str,
        operator: LabelOperator,
        values: Vec<String>,
    ) -> Result<Self, SelectorError> {
        let mut problems = Vec::new();
        let key_problems = label_key_problems(key);
        if !key_problems.is_empty() {
            problems.push(invalid("key", &go_quote(key), &key_problems.join("; ")));
        }
        let listed = go_string_slice(&values);
        match operator {
            LabelOperator::In | LabelOperator::NotIn if values.is_empty() => {
                problems.push(invalid(
                    "values",
                    &listed,
                    "for 'in', 'notin' operators, values set can't be empty",
                ))
            }
            LabelOperator::Equals | LabelOperator::DoubleEquals | LabelOperator::NotEquals
                if values.len() != 1 =>
            {
                problems.push(invalid(
                    "values",
                    &listed,
                    "exact-match compatibility requires one single value",
                ))
            }
            LabelOperator::Exists | LabelOperator::DoesNotExist if !values.is_empty() => problems
                .push(invalid(
                    "values",
                    &listed,
                    "values set must be empty for exists and does not exist",
                )),
            LabelOperator::GreaterThan | LabelOperator::LessThan => {
                if values.len() != 1 {
                    problems.push(invalid(
                        "values",
                        &listed,
                        "for 'Gt', 'Lt' operators, exactly one value is required",
                    ));
                }
                for (i, value) in values.iter().enumerate() {
                    if value.parse::<i64>().is_err() {
                        problems.push(invalid(
                            &format!("values[{i}]"),
                            &go_quote(value),
                            "for 'Gt', 'Lt' operators, the value must be an integer",
                        ));
                    }
                }
            }
            _ => {}
        }
        for (i, value) in values.iter().enumerate() {
            let value_problems = label_value_problems(value);
            if !value_problems.is_empty() {
                problems.push(invalid(
                    &format!("values[{i}][{key}]"),
                    &go_quote(value),
                    &value_problems.join("; "),
                ));
            }
        }
        match problems.len() {
            0 => Ok(LabelRequirement {
                key: key.to_string(),
                operator,
                values,
            }),
            1 => Err(SelectorError(problems.remove(0))),
            _ => Err(SelectorError(format!("[{}]", problems.join(", ")))),
        }
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn operator(&self) -> LabelOperator {
        self.operator
    }

    pub fn values(&self) -> &[String] {
        &self.values
    }

    /// Whether labels (looked up through `label`) satisfy this requirement. A missing key
    /// satisfies only `!=`, `notin` and `!`.
    pub fn matches<'a>(&self, label: impl Fn(&str) -> Option<&'a str>) -> bool {
        let found = label(&self.key);
        let listed = |v: &str| self.values.iter().any(|x| x == v);
        match self.operator {
            LabelOperator::Equals | LabelOperator::DoubleEquals | LabelOperator::In => {
                found.is_some_and(listed)
            }
            LabelOperator::NotEquals | LabelOperator::NotIn => !found.is_some_and(listed),
            LabelOperator::Exists => found.is_some(),
            LabelOperator::DoesNotExist => found.is_none(),
            LabelOperator::GreaterThan | LabelOperator::LessThan => {
                let (Some(actual), Some(bound)) = (
                    found.and_then(|v| v.parse::<i64>().ok()),
                    self.values.first().and_then(|v| v.parse::<i64>().ok()),
                ) else {
                    return false;
                };
                if self.operator == LabelOperator::GreaterThan {
                    actual > bound
                } else {
                    actual < bound
                }
            }
        }
    }
}

fn invalid(field: &str, value: &str, detail: &str) -> String {
    format!("{field}: Invalid value: {value}: {detail}")
}

/// Upstream's canonical text: `!k`, `k`, `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a)`,
/// `k>1`, `k<1`; set values sorted.
impl fmt::Display for LabelRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut values = self.values.clone();
        values.sort();
        let joined = values.join(",");
        let key = &self.key;
        match self.operator {
            LabelOperator::Exists => write!(f, "{key}"),
            LabelOperator::DoesNotExist => write!(f, "!{key}"),
            LabelOperator::Equals => write!(f, "{key}={joined}"),
            LabelOperator::DoubleEquals => write!(f, "{key}=={joined}"),
            LabelOperator::NotEquals => write!(f, "{key}!={joined}"),
            LabelOperator::In => write!(f, "{key} in ({joined})"),
            LabelOperator::NotIn => write!(f, "{key} notin ({joined})"),
            LabelOperator::GreaterThan => write!(f, "{key}>{joined}"),
            LabelOperator::LessThan => write!(f, "{key}<{joined}"),
        }
    }
}
