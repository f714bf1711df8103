//! The recursive-descent parser of label selector strings, with upstream's error texts.

use super::label_lexer::{tokenize, Token};
use super::label_requirement::{LabelOperator, LabelRequirement};
use super::label_syntax::{go_quote, label_key_problems};
use super::SelectorError;

/// Whether `in`/`notin` read as operators (after a key) or as plain words (everywhere else).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Context {
    KeyAndOperator,
    Values,
}

struct Parser {
    tokens: Vec<Token>,
    position: usize,
}

/// Parses a whole selector into requirements (in written order).
pub(super) fn parse_requirements(input: &str) -> Result<Vec<LabelRequirement>, SelectorError> {
    let mut parser = Parser {
        tokens: tokenize(input),
        position: 0,
    };
    parser.parse()
}

impl Parser {
    fn token_at(&self, index: usize, context: Context) -> Token {
        let token = self
            .tokens
            .get(index)
            .cloned()
            .unwrap_or(Token::EndOfString);
        match (context, token) {
            (Context::Values, Token::In) => Token::Identifier("in".to_string()),
            (Context::Values, Token::NotIn) => Token::Identifier("notin".to_string()),
            (_, token) => token,
        }
    }

    fn lookahead(&self, context: Context) -> Token {
        self.token_at(self.position, context)
    }

    fn consume(&mut self, context: Context) -> Token {
        let token = self.token_at(self.position, context);
        self.position += 1;
        token
    }

    fn parse(&mut self) -> Result<Vec<LabelRequirement>, SelectorError> {
        let mut requirements = Vec::new();
        loop {
            match self.lookahead(Context::Values) {
                Token::Identifier(_) | Token::DoesNotExist => {
                    let requirement = self.parse_requirement().map_err(|e| {
                        SelectorError(format!("unable to parse requirement: {}", e.0))
                    })?;
                    requirements.push(requirement);
                    match self.consume(Context::Values) {
                        Token::EndOfString => return Ok(requirements),
                        Token::Comma => {
                            let next = self.lookahead(Context::Values);
                            if !matches!(next, Token::Identifier(_) | Token::DoesNotExist) {
                                return Err(SelectorError(format!(
                                    "found '{}', expected: identifier after ','",
                                    next.literal()
                                )));
                            }
                        }
                        other => {
                            return Err(SelectorError(format!(
                                "found '{}', expected: ',' or 'end of string'",
                                other.literal()
                            )))
                        }
                    }
                }
                Token::EndOfString => return Ok(requirements),
                other => {
                    return Err(SelectorError(format!(
                        "found '{}', expected: !, identifier, or 'end of string'",
                        other.literal()
                    )))
                }
            }
        }
    }

    fn parse_requirement(&mut self) -> Result<LabelRequirement, SelectorError> {
        let (key, inferred) = self.parse_key_and_infer_operator()?;
        if let Some(operator) = inferred {
            return LabelRequirement::new(&key, operator, Vec::new());
        }
        let operator = self.parse_operator()?;
        let values = match operator {
            LabelOperator::In | LabelOperator::NotIn => self.parse_values()?,
            _ => self.parse_exact_value()?,
        };
        LabelRequirement::new(&key, operator, values)
    }

    /// The key, and `Exists`/`DoesNotExist` when no operator follows it.
    fn parse_key_and_infer_operator(
        &mut self,
    ) -> Result<(String, Option<LabelOperator>), SelectorError> {
        let mut token = self.consume(Context::Values);
        let negated = token == Token::DoesNotExist;
        if negated {
            token = self.consume(Context::Values);
        }
        let Token::Identifier(key) = token else {
            return Err(SelectorError(format!(
                "found '{}', expected: identifier",
                token.literal()
            )));
        };
        let problems = label_key_problems(&key);
        if !problems.is_empty() {
            return Err(SelectorError(format!(
                "<nil>: Invalid value: {}: {}",
                go_quote(&key),
                problems.join("; ")
            )));
        }
        let ends = matches!(
            self.lookahead(Context::Values),
            Token::EndOfString | Token::Comma
        );
        let inferred = match (negated, ends) {
            (true, _) => Some(LabelOperator::DoesNotExist),
            (false, true) => Some(LabelOperator::Exists),
            (false, false) => None,
        };
        Ok((key, inferred))
    }

    fn parse_operator(&mut self) -> Result<LabelOperator, SelectorError> {
        Ok(match self.consume(Context::KeyAndOperator) {
            Token::In => LabelOperator::In,
            Token::Equals => LabelOperator::Equals,
            Token::DoubleEquals => LabelOperator::DoubleEquals,
            Token::GreaterThan => LabelOperator::GreaterThan,
            Token::LessThan => LabelOperator::LessThan,
            Token::NotIn => LabelOperator::NotIn,
            Token::NotEquals => LabelOperator::NotEquals,
            other => {
                return Err(SelectorError(format!(
                    "found '{}', expected: '=', '!=', '==', 'in', notin'",
                    other.literal()
                )))
            }
        })
    }

    /// `(a,b,c)`; empty entries are the empty value; duplicates collapse.
    fn parse_values(&mut self) -> Result<Vec<String>, SelectorError> {
        let open = self.consume(Context::Values);
        if open != Token::OpenPar {
            return Err(SelectorError(format!(
                "found '{}' expected: '('",
                open.literal()
            )));
        }
        match self.lookahead(Context::Values) {
            Token::Identifier(_) | Token::Comma => {
                let values = self.parse_identifier_list()?;
                let close = self.consume(Context::Values);
                if close != Token::ClosedPar {
                    return Err(SelectorError(format!(
                        "found '{}', expected: ')'",
                        close.literal()
                    )));
                }
                Ok(values)
            }
            Token::ClosedPar => {
                self.consume(Context::Values);
                Ok(vec![String::new()])
            }
            other => Err(SelectorError(format!(
                "found '{}', expected: ',', ')' or identifier",
                other.literal()
            ))),
        }
    }

    fn parse_identifier_list(&mut self) -> Result<Vec<String>, SelectorError> {
        let mut values: Vec<String> = Vec::new();
        let insert = |values: &mut Vec<String>, v: String| {
            if !values.contains(&v) {
                values.push(v);
            }
        };
        loop {
            match self.consume(Context::Values) {
                Token::Identifier(value) => {
                    insert(&mut values, value);
                    match self.lookahead(Context::Values) {
                        Token::Comma => continue,
                        Token::ClosedPar => break,
                        other => {
                            return Err(SelectorError(format!(
                                "found '{}', expected: ',' or ')'",
                                other.literal()
                            )))
                        }
                    }
                }
                Token::Comma => {
                    if values.is_empty() {
                        insert(&mut values, String::new());
                    }
                    match self.lookahead(Context::Values) {
                        Token::ClosedPar => {
                            insert(&mut values, String::new());
                            break;
                        }
                        Token::Comma => {
                            self.consume(Context::Values);
                            insert(&mut values, String::new());
                        }
                        _ => {}
                    }
                }
                other => {
                    return Err(SelectorError(format!(
                        "found '{}', expected: ',', or identifier",
                        other.literal()
                    )))
                }
            }
        }
        values.sort();
        Ok(values)
    }

    fn parse_exact_value(&mut self) -> Result<Vec<String>, SelectorError> {
        if matches!(
            self.lookahead(Context::Values),
            Token::EndOfString | Token::Comma
        ) {
            return Ok(vec![String::new()]);
        }
        match self.consume(Context::Values) {
            Token::Identifier(value) => Ok(vec![value]),
            other => Err(SelectorError(format!(
                "found '{}', expected: identifier",
                other.literal()
            ))),
        }
    }
}
