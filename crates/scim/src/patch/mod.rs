//! PATCH (RFC 7644 §3.5.2): parsing with IdP dialects normalised to canonical operations
//! (Okta, Entra with and without aadOptscim062020), and applying them to a resource.

mod apply;
mod attr;
mod members;
mod parse;

pub use apply::{apply_group_patch, apply_user_patch};
pub use members::split_group_patch;
pub use parse::parse_patch;

use crate::error::ScimError;
use crate::filter::{Filter, Parser, Tok};
use crate::path::AttrPath;
pub use crate::schema::MemberRef;
use serde_json::{Map, Value};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchOpKind {
    Add,
    Remove,
    Replace,
}

/// One canonical operation. Dialect quirks are gone by the time one of these exists.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOperation {
    pub op: PatchOpKind,
    pub path: Option<PatchPath>,
    pub value: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PatchRequest {
    pub operations: Vec<PatchOperation>,
}

/// A change to a group's membership, in request order. Directory storage applies these
/// row by row so one member costs the same in a group of any size.
#[derive(Debug, Clone, PartialEq)]
pub enum MemberChange {
    Add(Vec<MemberRef>),
    /// Remove these member ids (from `members[value eq "x"]`, or Entra's value array).
    Remove(Vec<String>),
    /// Remove members matching a general value filter (evaluated by the store).
    RemoveWhere(Filter),
    RemoveAll,
    ReplaceAll(Vec<MemberRef>),
}

/// Most member ids one group PATCH may add, replace or remove in total. Entra sends at
/// most a few hundred per request; a bigger body is a client bug or abuse, and one PATCH
/// is one transaction in the store.
pub const MAX_MEMBERS_PER_PATCH: usize = 1000;

fn get_ci<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ScimType;
    use crate::urn;

    #[test]
    fn patch_paths() {
        let p = PatchPath::parse(r#"emails[type eq "work"].value"#).unwrap();
        assert_eq!(p.attr.attr, "emails");
        assert_eq!(p.sub_after_filter.as_deref(), Some("value"));
        assert_eq!(p.to_string(), r#"emails[type eq "work"].value"#);
        let p = PatchPath::parse(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        )
        .unwrap();
        assert_eq!(p.attr.schema.as_deref(), Some(urn::ENTERPRISE_USER));
        assert_eq!(
            (p.attr.attr.as_str(), p.attr.sub.as_deref()),
            ("manager", Some("value"))
        );
        let p = PatchPath::parse(urn::ENTERPRISE_USER).unwrap();
        assert_eq!(
            (p.attr.schema.clone(), p.attr.attr.as_str()),
            (None, urn::ENTERPRISE_USER)
        );
        for bad in [
            "",
            "emails[",
            "emails[type eq \"w\"]value",
            "emails[type eq \"w\"].",
            "a b",
            "name.a.b",
            "emails]",
            "a[b pr].c.d",
        ] {
            assert_eq!(
                PatchPath::parse(bad).unwrap_err().scim_type,
                Some(ScimType::InvalidPath),
                "{bad:?}"
            );
        }
    }
}
