//! Attribute paths (RFC 7644 §3.10): `userName`, `name.givenName`, schema-URN-prefixed names,
//! and where such a path lands in a resource's schema. PATCH paths with a value filter
//! (`members[value eq "x"].display`) build on this in `patch`.

use crate::error::ScimError;
use crate::schema::{self, AttributeDef, Located, ResourceKind};

/// Longest attribute path accepted, in characters (as long as a whole filter may be,
/// `filter::MAX_FILTER_LEN`).
pub const MAX_PATH_LEN: usize = 4096;

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
        if trimmed.chars().count() > MAX_PATH_LEN {
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

fn valid_name(name: &str) -> bool {
    // RFC 7643 §2.1 ATTRNAME = ALPHA *(nameChar); `$ref` is the one name starting with `$`.
    if name.eq_ignore_ascii_case("$ref") {
        return true;
    }
    let mut chars = name.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))
}

/// Parses one attribute-path word: `attr`, `attr.sub`, `urn:...:attr[.sub]`, or a bare
/// extension URN (which names the whole extension object, RFC 7644 §3.5.2).
pub(crate) fn parse_attr_word(word: &str) -> Result<AttrPath, String> {
    if schema::known_extension_urn(word) {
        return Ok(AttrPath {
            schema: None,
            attr: word.to_string(),
            sub: None,
        });
    }
    let (schema, rest) = if word
        .get(..4)
        .is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
    {
        let cut = word.rfind(':').unwrap_or(0);
        (Some(&word[..cut]), &word[cut + 1..])
    } else {
        (None, word)
    };
    if let Some(s) = schema {
        let urn_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':');
        if s.len() <= 4 || s.ends_with(':') || s.contains("::") || !s.chars().all(urn_char) {
            return Err(format!("invalid schema URN in {word:?}"));
        }
    }
    let mut parts = rest.split('.');
    let attr = parts.next().unwrap_or("");
    let sub = parts.next();
    if parts.next().is_some() {
        return Err(format!("{word:?} has more than one sub-attribute"));
    }
    if !valid_name(attr) {
        return Err(format!("{word:?} is not a valid attribute name"));
    }
    if let Some(sub) = sub {
        if !valid_name(sub) {
            return Err(format!("{word:?} has an invalid sub-attribute name"));
        }
    }
    Ok(AttrPath {
        schema: schema.map(str::to_string),
        attr: attr.to_string(),
        sub: sub.map(str::to_string),
    })
}

/// Resolves the top-level part of a path (schema prefix and attr, ignoring `sub`).
pub(crate) fn locate(kind: ResourceKind, path: &AttrPath) -> Located {
    let core = schema::core_schema(kind);
    match &path.schema {
        Some(schema) if schema.eq_ignore_ascii_case(core.id) => {}
        Some(schema) => {
            return match schema::extension_by_urn(kind, schema) {
                Some(ext) => match schema::find_attr(&ext.attributes, &path.attr) {
                    Some(def) => Located::Attr {
                        ext: Some(ext.id),
                        def,
                    },
                    None => Located::Unknown,
                },
                None => Located::Unknown,
            }
        }
        None => {
            if let Some(ext) = schema::extension_by_urn(kind, &path.attr) {
                return Located::Extension(ext);
            }
        }
    }
    match schema::find_attr(&schema::COMMON, &path.attr)
        .or_else(|| schema::find_attr(&core.attributes, &path.attr))
    {
        Some(def) => Located::Attr { ext: None, def },
        None => Located::Unknown,
    }
}

/// Resolves an attribute path against the User (with extensions) or Group schema,
/// case-insensitively, honouring URN prefixes. Returns the attribute and, when the path
/// names a sub-attribute, that sub-attribute's definition.
///
/// An unprefixed name resolves only against the core schema and the common attributes
/// (RFC 7644 §3.10); extension attributes need their URN prefix.
pub fn resolve(
    kind: ResourceKind,
    path: &AttrPath,
) -> Option<(&'static AttributeDef, Option<&'static AttributeDef>)> {
    match locate(kind, path) {
        Located::Attr { def, .. } => match &path.sub {
            None => Some((def, None)),
            Some(sub) => def.sub(sub).map(|sd| (def, Some(sd))),
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{AttrType, Returned};

    #[test]
    fn resolve_paths() {
        let p = |s: &str| AttrPath::parse(s).unwrap();
        let (d, sd) = resolve(ResourceKind::User, &p("NAME.givenname")).unwrap();
        assert_eq!((d.name, sd.unwrap().name), ("name", "givenName"));
        let (d, _) = resolve(
            ResourceKind::User,
            &p("urn:ietf:params:scim:schemas:core:2.0:User:userName"),
        )
        .unwrap();
        assert!(!d.case_exact && d.required);
        let (d, _) = resolve(
            ResourceKind::User,
            &p("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"),
        )
        .unwrap();
        assert_eq!(d.name, "employeeNumber");
        assert!(resolve(ResourceKind::User, &p("id")).unwrap().0.case_exact);
        assert!(
            resolve(ResourceKind::User, &p("externalId"))
                .unwrap()
                .0
                .case_exact
        );
        assert_eq!(
            resolve(ResourceKind::User, &p("meta.lastModified"))
                .unwrap()
                .1
                .unwrap()
                .kind,
            AttrType::DateTime
        );
        assert!(resolve(ResourceKind::User, &p("employeeNumber")).is_none());
        assert!(resolve(ResourceKind::User, &p("members")).is_none());
        assert!(resolve(ResourceKind::Group, &p("members.value")).is_some());
        assert!(resolve(ResourceKind::User, &p("urn:example:foo:bar")).is_none());
        assert_eq!(
            resolve(ResourceKind::User, &p("password"))
                .unwrap()
                .0
                .returned,
            Returned::Never
        );
    }
}
