//! Attribute paths (RFC 7644 §3.10): `userName`, `name.givenName`, schema-URN-prefixed
//! names, and PATCH paths with a value filter (`members[value eq "x"].display`).

use crate::error::ScimError;
use crate::filter::{parse_attr_word, Filter, Parser, Tok};

/// An attribute reference as it appears in a filter or a PATCH path.
/// Names keep the client's spelling; comparisons are case-insensitive (RFC 7643 §2.1).
#[derive(Debug, Clone, PartialEq)]
pub struct AttrPath {
    /// Schema URN prefix when given, e.g. the enterprise extension URN.
    pub schema: Option<String>,
    /// Top-level attribute name, e.g. `emails`.
    pub attr: String,
    /// Sub-attribute, e.g. `value` in `emails.value`.
    pub sub: Option<String>,
}

/// A PATCH `path` (RFC 7644 §3.5.2): `attrPath` or `valuePath [ "." subAttr ]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    /// Attribute, possibly with a sub-attribute when no filter is given (`name.givenName`).
    pub attr: AttrPath,
    /// Value filter selecting elements of a multi-valued attribute (`emails[type eq "work"]`).
    pub filter: Option<Filter>,
    /// Sub-attribute after the filter (`emails[type eq "work"].value`).
    pub sub_after_filter: Option<String>,
}

impl AttrPath {
    /// A plain attribute name with no schema and no sub-attribute.
    pub fn simple(attr: impl Into<String>) -> Self {
        AttrPath {
            schema: None,
            attr: attr.into(),
            sub: None,
        }
    }

    /// Parses `attr`, `attr.sub`, `urn:...:attr[.sub]` or a bare extension URN (which
    /// stands for the whole extension object and is kept in `attr`). Errors are
    /// 400 invalidPath.
    pub fn parse(input: &str) -> Result<AttrPath, ScimError> {
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(ScimError::invalid_path("empty attribute path"));
        }
        if trimmed.chars().count() > crate::filter::MAX_FILTER_LEN {
            return Err(ScimError::invalid_path("attribute path too long"));
        }
        parse_attr_word(trimmed)
            .map_err(|m| ScimError::invalid_path(format!("invalid attribute path: {m}")))
    }

    /// True when this names `name` in the core schema (no URN prefix or the core URN of
    /// `core_urn`), case-insensitively.
    pub fn is_core(&self, core_urn: &str, name: &str) -> bool {
        self.attr.eq_ignore_ascii_case(name)
            && self
                .schema
                .as_deref()
                .is_none_or(|s| s.eq_ignore_ascii_case(core_urn))
    }
}

impl std::fmt::Display for AttrPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(schema) = &self.schema {
            write!(f, "{schema}:")?;
        }
        f.write_str(&self.attr)?;
        if let Some(sub) = &self.sub {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

impl PatchPath {
    /// Parses a PATCH path with the filter grammar (RFC 7644 §3.5.2 PATH). Any error is
    /// 400 invalidPath, with the character position.
    pub fn parse(input: &str) -> Result<PatchPath, ScimError> {
        let fail = |e: crate::filter::SyntaxError| ScimError::invalid_path(e.describe("path"));
        let mut p = Parser::new(input).map_err(fail)?;
        if p.at_end() {
            return Err(ScimError::invalid_path("empty path"));
        }
        let attr = p.parse_path_word().map_err(fail)?;
        let mut filter = None;
        let mut sub_after_filter = None;
        if p.peek_tok() == Some(&Tok::LBracket) {
            filter = Some(p.parse_value_filter(&attr).map_err(fail)?);
            if let Some(Tok::Word(w)) = p.peek_tok() {
                let w = w.clone();
                let name = w.strip_prefix('.').unwrap_or("");
                if !w.starts_with('.')
                    || name.is_empty()
                    || name.contains(['.', ':'])
                    || !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '$')
                {
                    return Err(fail(p.error_here(format!(
                        "expected '.subAttribute' after ']', found {w:?}"
                    ))));
                }
                sub_after_filter = Some(name.to_string());
                p.skip();
            }
        }
        if !p.at_end() {
            return Err(fail(p.error_here("unexpected trailing input")));
        }
        Ok(PatchPath {
            attr,
            filter,
            sub_after_filter,
        })
    }
}

impl std::fmt::Display for PatchPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.attr)?;
        if let Some(filter) = &self.filter {
            write!(f, "[{filter}]")?;
        }
        if let Some(sub) = &self.sub_after_filter {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}
