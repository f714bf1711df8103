//! Field selectors: `f=v`, `f==v`, `f!=v` joined by commas, values escaped with `\`.

use std::fmt;

use super::SelectorError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldOperator {
    Equals,
    NotEquals,
}

/// One term, e.g. `status.phase!=Running`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldRequirement {
    pub field: String,
    pub operator: FieldOperator,
    /// The unescaped value.
    pub value: String,
}

/// A parsed field selector; empty selects everything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldSelector {
    requirements: Vec<FieldRequirement>,
}

impl FieldSelector {
    /// Parses the `fieldSelector` query syntax as upstream's `fields.ParseSelector`.
    pub fn parse(input: &str) -> Result<Self, SelectorError> {
        let mut terms = split_terms(input);
        terms.sort();
        let mut requirements = Vec::new();
        for term in terms.into_iter().filter(|t| !t.is_empty()) {
            let Some((field, operator, raw_value)) = split_term(term) else {
                return Err(SelectorError(format!(
                    "invalid selector: '{input}'; can't understand '{term}'"
                )));
            };
            requirements.push(FieldRequirement {
                field: field.to_string(),
                operator,
                value: unescape_value(raw_value)?,
            });
        }
        Ok(FieldSelector { requirements })
    }

    pub fn requirements(&self) -> &[FieldRequirement] {
        &self.requirements
    }

    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// The value an `=`/`==` term pins `field` to, as upstream's `RequiresExactMatch` (used to
    /// turn `metadata.name=x` into a single get).
    pub fn exact_match(&self, field: &str) -> Option<&str> {
        self.requirements
            .iter()
            .find(|r| r.field == field && r.operator == FieldOperator::Equals)
            .map(|r| r.value.as_str())
    }

    /// Whether field values (looked up through `field`; missing reads as "") satisfy every term.
    pub fn matches_with<'a>(&self, field: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.requirements.iter().all(|r| {
            let actual = field(&r.field).unwrap_or_default();
            (actual == r.value) == (r.operator == FieldOperator::Equals)
        })
    }

    /// Matches a list of (field, value) pairs such as
    /// [`selectable_field_values`](super::selectable_field_values) returns.
    pub fn matches(&self, fields: &[(&str, String)]) -> bool {
        self.matches_with(|name| {
            fields
                .iter()
                .find(|(f, _)| *f == name)
                .map(|(_, v)| v.as_str())
        })
    }
}

/// Terms split on commas that are not escaped.
fn split_terms(input: &str) -> Vec<&str> {
    let mut terms = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in input.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == ',' {
            terms.push(&input[start..i]);
            start = i + 1;
        }
    }
    terms.push(&input[start..]);
    terms
}

/// The first operator found scanning left to right (`!=` and `==` before `=` at a position).
fn split_term(term: &str) -> Option<(&str, FieldOperator, &str)> {
    let operators = [
        ("!=", FieldOperator::NotEquals),
        ("==", FieldOperator::Equals),
        ("=", FieldOperator::Equals),
    ];
    term.char_indices().find_map(|(i, _)| {
        operators.iter().find_map(|(text, op)| {
            term[i..]
                .starts_with(text)
                .then(|| (&term[..i], *op, &term[i + text.len()..]))
        })
    })
}

/// Resolves `\\`, `\,` and `\=`; any other escape, or a bare `,` or `=`, is an error.
fn unescape_value(raw: &str) -> Result<String, SelectorError> {
    if !raw.contains(['\\', ',', '=']) {
        return Ok(raw.to_string());
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(escaped @ ('\\' | ',' | '=')) => out.push(escaped),
                Some(other) => {
                    return Err(SelectorError(format!(
                        "invalid field selector: invalid escape sequence: \\{other}"
                    )))
                }
                None => {
                    return Err(SelectorError(
                        "invalid field selector: invalid escape sequence: \\".to_string(),
                    ))
                }
            },
            ',' | '=' => {
                return Err(SelectorError(format!(
                    "invalid field selector: unescaped character in value: {c}"
                )))
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

fn escape_value(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace(',', "\\,")
        .replace('=', "\\=")
}

/// Terms joined by commas, values escaped.
impl fmt::Display for FieldSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let texts: Vec<String> = self
            .requirements
            .iter()
            .map(|r| {
                let op = match r.operator {
                    FieldOperator::Equals => "=",
                    FieldOperator::NotEquals => "!=",
                };
                format!("{}{op}{}", r.field, escape_value(&r.value))
            })
            .collect();
        write!(f, "{}", texts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> FieldSelector {
        match FieldSelector::parse(s) {
            Ok(selector) => selector,
            Err(e) => panic!("{s:?} should parse: {e}"),
        }
    }

    #[test]
    fn operators() {
        let fields = [("status.phase", "Running".to_string())];
        assert!(parse("status.phase=Running").matches(&fields));
        assert!(parse("status.phase==Running").matches(&fields));
        assert!(!parse("status.phase!=Running").matches(&fields));
        assert!(parse("spec.nodeName=").matches(&fields));
        assert!(parse("").matches(&fields));
        assert!(parse("a=b,").requirements().len() == 1);
        assert_eq!(
            parse("x!=1,metadata.name=web").exact_match("metadata.name"),
            Some("web")
        );
        assert_eq!(
            parse("metadata.name!=web").exact_match("metadata.name"),
            None
        );
    }

    #[test]
    fn escaping() {
        let selector = parse(r"metadata.name=a\,b\=c\\d,x!=y");
        assert_eq!(selector.requirements()[0].value, r"a,b=c\d");
        assert_eq!(selector.to_string(), r"metadata.name=a\,b\=c\\d,x!=y");
    }

    #[test]
    fn errors() {
        assert_eq!(
            FieldSelector::parse("abc").map_err(|e| e.to_string()),
            Err("invalid selector: 'abc'; can't understand 'abc'".to_string())
        );
        assert_eq!(
            FieldSelector::parse("a=b=c").map_err(|e| e.to_string()),
            Err("invalid field selector: unescaped character in value: =".to_string())
        );
        assert_eq!(
            FieldSelector::parse(r"a=\x").map_err(|e| e.to_string()),
            Err(r"invalid field selector: invalid escape sequence: \x".to_string())
        );
    }
}
