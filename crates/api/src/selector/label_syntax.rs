//! Syntax checks of label keys and values, with upstream's wording.

const QUALIFIED_NAME_MESSAGE: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const QUALIFIED_NAME_REGEX: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const LABEL_VALUE_MESSAGE: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_REGEX: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const SUBDOMAIN_MESSAGE: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const SUBDOMAIN_REGEX: &str = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const PREFIX_HINT: &str =
    " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')";

/// "<message> (e.g. 'a',  or 'b', regex used for validation is '<regex>')", upstream's layout.
fn regex_message(message: &str, regex: &str, examples: &[&str]) -> String {
    let quoted: Vec<String> = examples.iter().map(|e| format!("'{e}', ")).collect();
    format!(
        "{message} (e.g. {}regex used for validation is '{regex}')",
        quoted.join(" or ")
    )
}

fn too_long(max: usize) -> String {
    format!("must be no more than {max} characters")
}

/// Alphanumeric at both ends, alphanumeric, '-', '_' or '.' inside.
fn is_qualified_name_part(s: &str) -> bool {
    let bytes = s.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    first.is_ascii_alphanumeric()
        && last.is_ascii_alphanumeric()
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn is_dns_subdomain(s: &str) -> bool {
    s.split('.').all(|label| {
        let bytes = label.as_bytes();
        match (bytes.first(), bytes.last()) {
            (Some(first), Some(last)) => {
                (first.is_ascii_lowercase() || first.is_ascii_digit())
                    && (last.is_ascii_lowercase() || last.is_ascii_digit())
                    && bytes
                        .iter()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
            }
            _ => false,
        }
    })
}

/// Upstream's `IsQualifiedName`: the problems with a label key, empty when it is valid.
pub(crate) fn label_key_problems(key: &str) -> Vec<String> {
    let parts: Vec<&str> = key.split('/').collect();
    let (prefix, name) = match parts.as_slice() {
        [name] => (None, *name),
        [prefix, name] => (Some(*prefix), *name),
        _ => {
            return vec![format!(
                "a qualified name {}{PREFIX_HINT}",
                regex_message(
                    QUALIFIED_NAME_MESSAGE,
                    QUALIFIED_NAME_REGEX,
                    &["MyName", "my.name", "123-abc"]
                )
            )]
        }
    };
    let mut problems = Vec::new();
    if let Some(prefix) = prefix {
        if prefix.is_empty() {
            problems.push("prefix part must be non-empty".to_string());
        } else {
            if prefix.len() > 253 {
                problems.push(format!("prefix part {}", too_long(253)));
            }
            if !is_dns_subdomain(prefix) {
                problems.push(format!(
                    "prefix part {}",
                    regex_message(SUBDOMAIN_MESSAGE, SUBDOMAIN_REGEX, &["example.com"])
                ));
            }
        }
    }
    if name.is_empty() {
        problems.push("name part must be non-empty".to_string());
    } else if name.len() > 63 {
        problems.push(format!("name part {}", too_long(63)));
    }
    if !name.is_empty() && !is_qualified_name_part(name) {
        problems.push(format!(
            "name part {}{PREFIX_HINT}",
            regex_message(
                QUALIFIED_NAME_MESSAGE,
                QUALIFIED_NAME_REGEX,
                &["MyName", "my.name", "123-abc"]
            )
        ));
    }
    problems
}

/// Upstream's `IsValidLabelValue`: the problems with a label value, empty when it is valid.
pub(crate) fn label_value_problems(value: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if value.len() > 63 {
        problems.push(too_long(63));
    }
    if !value.is_empty() && !is_qualified_name_part(value) {
        problems.push(regex_message(
            LABEL_VALUE_MESSAGE,
            LABEL_VALUE_REGEX,
            &["MyValue", "my_value", "12345"],
        ));
    }
    problems
}

/// Go's `%q` of a string, enough for label text.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Go's `%#v` of a `[]string`, as field errors print a value list.
pub(crate) fn go_string_slice(values: &[String]) -> String {
    let quoted: Vec<String> = values.iter().map(|v| go_quote(v)).collect();
    format!("[]string{{{}}}", quoted.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys() {
        assert!(label_key_problems("app").is_empty());
        assert!(label_key_problems("example.com/app-name").is_empty());
        assert_eq!(label_key_problems("/a"), ["prefix part must be non-empty"]);
        assert!(label_key_problems("a_")[0].starts_with("name part must consist of"));
        assert!(label_key_problems("Example.com/a")[0].starts_with("prefix part a lowercase"));
        assert_eq!(
            label_key_problems(&"a".repeat(64)),
            ["name part must be no more than 63 characters"]
        );
    }

    #[test]
    fn values() {
        assert!(label_value_problems("").is_empty());
        assert!(label_value_problems("v1.2_3-x").is_empty());
        assert_eq!(
            label_value_problems("-a")[0],
            "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
        );
    }
}
