//! A short description of how one spec differs from another, in the spirit of the `cmp.Diff`
//! text upstream appends to "may not change" errors (field by field, not byte for byte).

use serde_json::Value;

/// `  <type>{` then `- Field: old` / `+ Field: new` lines for each changed top-level field, then `  }`.
pub fn describe_changes(type_name: &str, old: &Value, new: &Value) -> String {
    let mut lines = vec![format!("  {type_name}{{")];
    let mut keys: Vec<&String> = Vec::new();
    for object in [old, new] {
        for key in object.as_object().into_iter().flatten().map(|(k, _)| k) {
            if !keys.contains(&key) {
                keys.push(key);
            }
        }
    }
    for key in keys {
        let (before, after) = (old.get(key), new.get(key));
        if before == after {
            continue;
        }
        let field = go_field_name(key);
        if let Some(value) = before {
            lines.push(format!("- \t{field}: {value},"));
        }
        if let Some(value) = after {
            lines.push(format!("+ \t{field}: {value},"));
        }
    }
    lines.push("  }".to_string());
    lines.join("\n")
}

fn go_field_name(key: &str) -> String {
    let mut chars = key.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lists_changed_fields() {
        let text = describe_changes(
            "core.PodSpec",
            &json!({"a": 1, "b": 2}),
            &json!({"a": 1, "b": 3}),
        );
        assert_eq!(text, "  core.PodSpec{\n- \tB: 2,\n+ \tB: 3,\n  }");
    }
}
