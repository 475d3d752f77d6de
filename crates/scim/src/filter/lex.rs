//! The filter lexer: tokens (parentheses, brackets, words, JSON strings) with their
//! 1-based positions, and the syntax error that names one.

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    LParen,
    RParen,
    LBracket,
    RBracket,
    /// Attribute paths, keywords, operators, numbers and true/false/null.
    Word(String),
    Str(String),
}

/// A syntax error with its 1-based character position; mapped to invalidFilter or
/// invalidPath by the caller.
#[derive(Debug, Clone)]
pub(crate) struct SyntaxError {
    pub pos: usize,
    pub msg: String,
}

impl SyntaxError {
    pub(super) fn new(pos: usize, msg: impl Into<String>) -> Self {
        SyntaxError {
            pos,
            msg: msg.into(),
        }
    }
    pub(crate) fn describe(&self, what: &str) -> String {
        format!("invalid {what} at character {}: {}", self.pos, self.msg)
    }
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '$' | '+')
}

pub(crate) fn lex(input: &str) -> Result<Vec<(Tok, usize)>, SyntaxError> {
    let chars: Vec<char> = input.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let pos = i + 1;
        match c {
            ' ' | '\t' | '\r' | '\n' => i += 1,
            '(' => {
                toks.push((Tok::LParen, pos));
                i += 1
            }
            ')' => {
                toks.push((Tok::RParen, pos));
                i += 1
            }
            '[' => {
                toks.push((Tok::LBracket, pos));
                i += 1
            }
            ']' => {
                toks.push((Tok::RBracket, pos));
                i += 1
            }
            '"' => {
                // Find the closing quote, then let serde_json decode the JSON escapes
                // (\" \\ \uXXXX incl. surrogate pairs); RFC 7644 compValue strings are JSON.
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => return Err(SyntaxError::new(pos, "unterminated string")),
                        Some('\\') => j += 2,
                        Some('"') => break,
                        Some(_) => j += 1,
                    }
                }
                let raw: String = chars[i..=j].iter().collect();
                let decoded: String = serde_json::from_str(&raw).map_err(|_| {
                    SyntaxError::new(pos, "invalid escape or control character in string")
                })?;
                toks.push((Tok::Str(decoded), pos));
                i = j + 1;
            }
            c if is_word_char(c) => {
                let mut j = i;
                while j < chars.len() && is_word_char(chars[j]) {
                    j += 1;
                }
                toks.push((Tok::Word(chars[i..j].iter().collect()), pos));
                i = j;
            }
            other => {
                return Err(SyntaxError::new(
                    pos,
                    format!("unexpected character {:?}", other),
                ));
            }
        }
    }
    Ok(toks)
}
