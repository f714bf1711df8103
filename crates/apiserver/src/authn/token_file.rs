//! Upstream's static token file: `token,user,uid,"group1,group2"` per line.

use std::collections::HashMap;
use std::path::Path;

use super::UserInfo;

#[derive(Debug, thiserror::Error)]
pub enum TokenFileError {
    #[error("reading token file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("token file {path}, line {line}: at least 3 columns are required (token,user,uid)")]
    TooFewColumns { path: String, line: usize },
}

/// Bearer tokens and the users they authenticate.
#[derive(Debug, Clone, Default)]
pub struct StaticTokens {
    users: HashMap<String, UserInfo>,
}

impl StaticTokens {
    pub fn authenticate(&self, token: &str) -> Option<UserInfo> {
        self.users.get(token).cloned()
    }

    pub fn insert(&mut self, token: String, user: UserInfo) {
        self.users.insert(token, user);
    }
}

/// Split one CSV line, honouring double quotes.
fn csv_fields(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                current.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => fields.push(std::mem::take(&mut current)),
            _ => current.push(c),
        }
    }
    fields.push(current);
    fields
}

pub fn parse_token_file(path: &str, contents: &str) -> Result<StaticTokens, TokenFileError> {
    let mut tokens = StaticTokens::default();
    for (index, line) in contents.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields = csv_fields(line);
        if fields.len() < 3 {
            return Err(TokenFileError::TooFewColumns {
                path: path.to_string(),
                line: index + 1,
            });
        }
        let groups = fields
            .get(3)
            .map(|g| {
                g.split(',')
                    .map(str::trim)
                    .filter(|g| !g.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let user = UserInfo {
            name: fields[1].clone(),
            uid: fields[2].clone(),
            groups,
        }
        .with_authenticated_group();
        tokens.insert(fields[0].clone(), user);
    }
    Ok(tokens)
}

pub fn load_token_file(path: &Path) -> Result<StaticTokens, TokenFileError> {
    let display = path.display().to_string();
    let contents = std::fs::read_to_string(path).map_err(|source| TokenFileError::Read {
        path: display.clone(),
        source,
    })?;
    parse_token_file(&display, &contents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quoted_groups() {
        let tokens =
            parse_token_file("t", "# comment\nabc,alice,1001,\"dev,ops\"\nxyz,bob,1002\n").unwrap();
        let alice = tokens.authenticate("abc").unwrap();
        assert_eq!(alice.name, "alice");
        assert_eq!(alice.uid, "1001");
        assert_eq!(alice.groups, vec!["dev", "ops", "system:authenticated"]);
        assert_eq!(
            tokens.authenticate("xyz").unwrap().groups,
            vec!["system:authenticated"]
        );
        assert!(tokens.authenticate("nope").is_none());
    }

    #[test]
    fn too_few_columns_is_an_error() {
        assert!(parse_token_file("t", "abc,alice\n").is_err());
    }
}
