//! Tokens of the label selector language.

/// One token and the text it was read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Token {
    EndOfString,
    /// A run of special symbols that is no operator; the text is upstream's message.
    Error(String),
    ClosedPar,
    Comma,
    DoesNotExist,
    DoubleEquals,
    Equals,
    GreaterThan,
    Identifier(String),
    In,
    LessThan,
    NotEquals,
    NotIn,
    OpenPar,
}

impl Token {
    /// The text the parser quotes in its messages.
    pub(super) fn literal(&self) -> &str {
        match self {
            Token::EndOfString => "",
            Token::Error(message) | Token::Identifier(message) => message,
            Token::ClosedPar => ")",
            Token::Comma => ",",
            Token::DoesNotExist => "!",
            Token::DoubleEquals => "==",
            Token::Equals => "=",
            Token::GreaterThan => ">",
            Token::In => "in",
            Token::LessThan => "<",
            Token::NotEquals => "!=",
            Token::NotIn => "notin",
            Token::OpenPar => "(",
        }
    }
}

fn is_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_special_symbol(b: u8) -> bool {
    matches!(b, b'=' | b'!' | b'(' | b')' | b',' | b'>' | b'<')
}

fn symbol_token(text: &str) -> Option<Token> {
    Some(match text {
        ")" => Token::ClosedPar,
        "," => Token::Comma,
        "!" => Token::DoesNotExist,
        "==" => Token::DoubleEquals,
        "=" => Token::Equals,
        ">" => Token::GreaterThan,
        "<" => Token::LessThan,
        "!=" => Token::NotEquals,
        "(" => Token::OpenPar,
        _ => return None,
    })
}

/// Splits a selector into tokens, ending with [`Token::EndOfString`].
pub(super) fn tokenize(input: &str) -> Vec<Token> {
    let bytes = input.as_bytes();
    let mut tokens = Vec::new();
    let mut pos = 0;
    loop {
        while pos < bytes.len() && is_whitespace(bytes[pos]) {
            pos += 1;
        }
        if pos >= bytes.len() {
            tokens.push(Token::EndOfString);
            return tokens;
        }
        if is_special_symbol(bytes[pos]) {
            let (token, next) = scan_symbol(input, pos);
            tokens.push(token);
            pos = next;
        } else {
            let start = pos;
            while pos < bytes.len() && !is_special_symbol(bytes[pos]) && !is_whitespace(bytes[pos])
            {
                pos += 1;
            }
            let word = &input[start..pos];
            tokens.push(match word {
                "in" => Token::In,
                "notin" => Token::NotIn,
                _ => Token::Identifier(word.to_string()),
            });
        }
    }
}

/// The longest operator made of the special symbols at `start`.
fn scan_symbol(input: &str, start: usize) -> (Token, usize) {
    let bytes = input.as_bytes();
    let mut end = start;
    let mut best: Option<(Token, usize)> = None;
    while end < bytes.len() && is_special_symbol(bytes[end]) {
        end += 1;
        match symbol_token(&input[start..end]) {
            Some(token) => best = Some((token, end)),
            None if best.is_some() => break,
            None => {}
        }
    }
    best.unwrap_or_else(|| {
        (
            Token::Error(format!(
                "error expected: keyword found '{}'",
                &input[start..end]
            )),
            end,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_operators_and_words() {
        assert_eq!(
            tokenize("a!=b,!c, d in (x)"),
            vec![
                Token::Identifier("a".into()),
                Token::NotEquals,
                Token::Identifier("b".into()),
                Token::Comma,
                Token::DoesNotExist,
                Token::Identifier("c".into()),
                Token::Comma,
                Token::Identifier("d".into()),
                Token::In,
                Token::OpenPar,
                Token::Identifier("x".into()),
                Token::ClosedPar,
                Token::EndOfString,
            ]
        );
        assert_eq!(tokenize("a==b")[1], Token::DoubleEquals);
    }
}
