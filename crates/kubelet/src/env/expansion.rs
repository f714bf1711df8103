//! `$(VAR)` references in env values, command and args, with upstream's rules: `$$` is an escaped
//! `$`, an unknown name is left as written, an unclosed `$(` is kept literally.

/// Expands `$(NAME)` in `input`, looking each name up with `lookup`.
pub fn expand<'a>(input: &str, lookup: impl Fn(&str) -> Option<&'a str>) -> String {
    let bytes = input.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut cursor = 0;
    while cursor < bytes.len() {
        if bytes[cursor] != b'$' || cursor + 1 >= bytes.len() {
            out.push(bytes[cursor]);
            cursor += 1;
            continue;
        }
        let next = bytes[cursor + 1];
        match next {
            b'$' => {
                out.push(b'$');
                cursor += 2;
            }
            b'(' => match input[cursor + 2..].find(')') {
                Some(len) => {
                    let name = &input[cursor + 2..cursor + 2 + len];
                    match lookup(name) {
                        Some(value) => out.extend_from_slice(value.as_bytes()),
                        None => {
                            out.extend_from_slice(b"$(");
                            out.extend_from_slice(name.as_bytes());
                            out.push(b')');
                        }
                    }
                    cursor += 2 + len + 1;
                }
                None => {
                    out.extend_from_slice(b"$(");
                    cursor += 2;
                }
            },
            other => {
                out.push(b'$');
                out.push(other);
                cursor += 2;
            }
        }
    }
    // Only whole characters were copied or split at ASCII bytes, so the text stays UTF-8.
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn expands_like_upstream() {
        let vars: HashMap<&str, &str> = [
            ("VAR_A", "A"),
            ("VAR_B", "B"),
            ("VAR_C", "C"),
            ("VAR_REF", "$(VAR_A)"),
            ("VAR_EMPTY", ""),
        ]
        .into_iter()
        .collect();
        let cases = [
            ("$(VAR_A)", "A"),
            ("___$(VAR_B)___", "___B___"),
            ("$(VAR_A)-$(VAR_A)", "A-A"),
            ("f000-$$VAR_A", "f000-$VAR_A"),
            ("foo\\$(VAR_C)bar", "foo\\Cbar"),
            ("$$$(VAR_B)", "$B"),
            ("$$$$$$(VAR_A)", "$$$(VAR_A)"),
            ("$$$$$$$(VAR_A)", "$$$A"),
            ("$(VAR_REF)", "$(VAR_A)"),
            ("$(VAR_EMPTY)", ""),
            ("$(UNKNOWN)", "$(UNKNOWN)"),
            ("$(VAR_A", "$(VAR_A"),
            ("$VAR_A", "$VAR_A"),
            ("$", "$"),
            ("$()", "$()"),
            ("$(VAR_A)$", "A$"),
            ("héllo $(VAR_B) wörld", "héllo B wörld"),
            ("$$(VAR_A)", "$(VAR_A)"),
            ("$(VAR_A)$(VAR_B)$(VAR_C)", "ABC"),
        ];
        for (input, want) in cases {
            let got = expand(input, |name| vars.get(name).copied());
            assert_eq!(got, want, "input {input:?}");
        }
    }
}
