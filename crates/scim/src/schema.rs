//! RFC 7643 schemas Muster serves: User, EnterpriseUser, Muster's extension, Group; their
//! attribute definitions (types, caseExact, mutability, returned), resource validation and
//! normalisation, and the discovery documents (/Schemas, /ResourceTypes, /ServiceProviderConfig).

use crate::error::ScimError;
use crate::urn;
use serde_json::{json, Map, Value};
use std::sync::LazyLock;

/// A member reference in a group (RFC 7643 §4.2).
#[derive(Debug, Clone, PartialEq)]
pub struct MemberRef {
    pub value: String,
    pub display: Option<String>,
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Reference,
    Complex,
    Binary,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

#[derive(Debug, Clone)]
pub struct AttributeDef {
    pub name: &'static str,
    pub kind: AttrType,
    pub multi_valued: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub required: bool,
    pub sub_attributes: Vec<AttributeDef>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    User,
    Group,
}

/// One schema (RFC 7643 §7): its URN, name and top-level attributes.
#[derive(Debug, Clone)]
pub struct SchemaDef {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attributes: Vec<AttributeDef>,
}

impl AttrType {
    pub fn as_str(self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Boolean => "boolean",
            AttrType::Decimal => "decimal",
            AttrType::Integer => "integer",
            AttrType::DateTime => "dateTime",
            AttrType::Reference => "reference",
            AttrType::Complex => "complex",
            AttrType::Binary => "binary",
        }
    }
}

impl Mutability {
    pub fn as_str(self) -> &'static str {
        match self {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
        }
    }
}

impl Returned {
    pub fn as_str(self) -> &'static str {
        match self {
            Returned::Always => "always",
            Returned::Never => "never",
            Returned::Default => "default",
            Returned::Request => "request",
        }
    }
}

impl AttributeDef {
    /// A sub-attribute by name, case-insensitively (RFC 7643 §2.1).
    pub fn sub(&self, name: &str) -> Option<&AttributeDef> {
        find_attr(&self.sub_attributes, name)
    }
    fn is_complex(&self) -> bool {
        self.kind == AttrType::Complex
    }
}

// ---- definition builders (private; keep the tables below readable) ----

fn a(name: &'static str, kind: AttrType) -> AttributeDef {
    AttributeDef {
        name,
        kind,
        multi_valued: false,
        case_exact: false,
        mutability: Mutability::ReadWrite,
        returned: Returned::Default,
        required: false,
        sub_attributes: Vec::new(),
    }
}
fn s(name: &'static str) -> AttributeDef {
    a(name, AttrType::String)
}
fn complex(name: &'static str, subs: Vec<AttributeDef>) -> AttributeDef {
    AttributeDef {
        sub_attributes: subs,
        ..a(name, AttrType::Complex)
    }
}
fn multi(name: &'static str, subs: Vec<AttributeDef>) -> AttributeDef {
    AttributeDef {
        multi_valued: true,
        ..complex(name, subs)
    }
}
fn exact(mut d: AttributeDef) -> AttributeDef {
    d.case_exact = true;
    d
}
fn required(mut d: AttributeDef) -> AttributeDef {
    d.required = true;
    d
}
fn mutab(mut d: AttributeDef, m: Mutability) -> AttributeDef {
    d.mutability = m;
    d
}
fn returned(mut d: AttributeDef, r: Returned) -> AttributeDef {
    d.returned = r;
    d
}

/// The standard value/display/type/primary sub-attributes of RFC 7643 §2.4.
fn mv_subs(value_kind: AttrType) -> Vec<AttributeDef> {
    vec![
        a("value", value_kind),
        s("display"),
        s("type"),
        a("primary", AttrType::Boolean),
    ]
}

/// Common attributes of every resource (RFC 7643 §3.1). Not part of any schema's
/// attribute list, but filterable and resolvable.
pub(crate) static COMMON: LazyLock<Vec<AttributeDef>> = LazyLock::new(|| {
    vec![
        returned(
            mutab(exact(s("id")), Mutability::ReadOnly),
            Returned::Always,
        ),
        exact(s("externalId")),
        mutab(
            complex(
                "meta",
                vec![
                    exact(s("resourceType")),
                    a("created", AttrType::DateTime),
                    a("lastModified", AttrType::DateTime),
                    exact(a("location", AttrType::Reference)),
                    exact(s("version")),
                ],
            ),
            Mutability::ReadOnly,
        ),
    ]
});

/// RFC 7643 §4.1 / §8.7.1.
static USER: LazyLock<SchemaDef> = LazyLock::new(|| SchemaDef {
    id: urn::USER,
    name: "User",
    description: "User Account",
    attributes: vec![
        required(s("userName")),
        complex(
            "name",
            vec![
                s("formatted"),
                s("familyName"),
                s("givenName"),
                s("middleName"),
                s("honorificPrefix"),
                s("honorificSuffix"),
            ],
        ),
        s("displayName"),
        s("nickName"),
        a("profileUrl", AttrType::Reference),
        s("title"),
        s("userType"),
        s("preferredLanguage"),
        s("locale"),
        s("timezone"),
        a("active", AttrType::Boolean),
        returned(mutab(s("password"), Mutability::WriteOnly), Returned::Never),
        multi("emails", mv_subs(AttrType::String)),
        multi("phoneNumbers", mv_subs(AttrType::String)),
        multi("ims", mv_subs(AttrType::String)),
        multi("photos", mv_subs(AttrType::Reference)),
        multi(
            "addresses",
            vec![
                s("formatted"),
                s("streetAddress"),
                s("locality"),
                s("region"),
                s("postalCode"),
                s("country"),
                s("type"),
                a("primary", AttrType::Boolean),
            ],
        ),
        mutab(
            multi(
                "groups",
                vec![
                    mutab(s("value"), Mutability::ReadOnly),
                    mutab(a("$ref", AttrType::Reference), Mutability::ReadOnly),
                    mutab(s("display"), Mutability::ReadOnly),
                    mutab(s("type"), Mutability::ReadOnly),
                ],
            ),
            Mutability::ReadOnly,
        ),
        multi("entitlements", mv_subs(AttrType::String)),
        multi("roles", mv_subs(AttrType::String)),
        multi("x509Certificates", mv_subs(AttrType::Binary)),
    ],
});

/// RFC 7643 §4.3.
static ENTERPRISE: LazyLock<SchemaDef> = LazyLock::new(|| SchemaDef {
    id: urn::ENTERPRISE_USER,
    name: "EnterpriseUser",
    description: "Enterprise User",
    attributes: vec![
        s("employeeNumber"),
        s("costCenter"),
        s("organization"),
        s("division"),
        s("department"),
        complex(
            "manager",
            vec![
                s("value"),
                a("$ref", AttrType::Reference),
                mutab(s("displayName"), Mutability::ReadOnly),
            ],
        ),
    ],
});

/// Muster's own user extension: a small set of free-form strings that role mappings and
/// attribute mappings can key on when the IdP has no standard attribute for them.
/// `costCenterCode` (finance code, distinct from the enterprise free-text costCenter),
/// `location` (office or site), `team`, `level` (job level / grade), and `role` (the
/// application role an IdP that sends no groups assigns as a custom attribute, e.g. a
/// Google Workspace custom schema field; a role mapping on it picks the role).
static MUSTER: LazyLock<SchemaDef> = LazyLock::new(|| SchemaDef {
    id: urn::MUSTER_USER,
    name: "MusterUser",
    description: "Muster user attributes for role and attribute mappings",
    attributes: vec![
        s("costCenterCode"),
        s("location"),
        s("team"),
        s("level"),
        s("role"),
    ],
});

/// RFC 7643 §4.2 / §8.7.1.
static GROUP: LazyLock<SchemaDef> = LazyLock::new(|| SchemaDef {
    id: urn::GROUP,
    name: "Group",
    description: "Group",
    attributes: vec![
        required(s("displayName")),
        // The server derives `$ref`, `display` (the member's current name) and `type`
        // (User or Group, from what the id names): read-only, whatever a client sends.
        multi(
            "members",
            vec![
                mutab(exact(s("value")), Mutability::Immutable),
                mutab(a("$ref", AttrType::Reference), Mutability::ReadOnly),
                mutab(s("display"), Mutability::ReadOnly),
                mutab(s("type"), Mutability::ReadOnly),
            ],
        ),
    ],
});

/// Resource-level common attributes (id, externalId, meta).
pub fn common_attributes() -> &'static [AttributeDef] {
    &COMMON
}

/// The core schema of a resource kind.
pub(crate) fn core_schema(kind: ResourceKind) -> &'static SchemaDef {
    match kind {
        ResourceKind::User => &USER,
        ResourceKind::Group => &GROUP,
    }
}

/// The schema extensions a resource kind supports, in output order.
pub fn extensions(kind: ResourceKind) -> Vec<&'static SchemaDef> {
    match kind {
        ResourceKind::User => vec![&*ENTERPRISE, &*MUSTER],
        ResourceKind::Group => Vec::new(),
    }
}

/// The extension schema of `kind` whose URN equals `name` (case-insensitively).
pub(crate) fn extension_by_urn(kind: ResourceKind, name: &str) -> Option<&'static SchemaDef> {
    extensions(kind)
        .into_iter()
        .find(|s| s.id.eq_ignore_ascii_case(name))
}

/// Whether `name` is the URN of any extension Muster knows (any resource kind).
pub(crate) fn known_extension_urn(name: &str) -> bool {
    extension_by_urn(ResourceKind::User, name).is_some()
}

pub(crate) fn find_attr<'a>(defs: &'a [AttributeDef], name: &str) -> Option<&'a AttributeDef> {
    defs.iter().find(|d| d.name.eq_ignore_ascii_case(name))
}

/// Where an attribute lives in the resource JSON.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Located {
    /// A top-level attribute (`ext` None) or one inside an extension object.
    Attr {
        ext: Option<&'static str>,
        def: &'static AttributeDef,
    },
    /// The path is an extension URN itself: the whole extension object.
    Extension(&'static SchemaDef),
    /// Not an attribute of this resource type.
    Unknown,
}

// ---- limits: no real directory comes near them; each refusal is a 400 that names it ----

/// Page size when the client gives no `count` (clamped to the server's max_results); the
/// ServiceProviderConfig advertises it as `pagination.defaultPageSize`.
pub const DEFAULT_COUNT: u64 = 100;

/// Longest string value, in characters, of a name, identifier or other short attribute
/// (userName, displayName, emails.value, ...).
pub const MAX_STRING_CHARS: usize = 1024;
/// Longest value, in characters, of a reference or binary attribute (photo and profile
/// URLs, base64 certificates).
pub const MAX_LONG_STRING_CHARS: usize = 16 * 1024;
/// Most values one multi-valued attribute (emails, phoneNumbers, roles, ...) may hold.
pub const MAX_VALUES: usize = 1000;
/// Most members a group's POST or PUT may list (a PATCH: `patch::MAX_MEMBERS_PER_PATCH`).
pub const MAX_MEMBERS_PER_REQUEST: usize = 10_000;
/// Largest resource, as stored (compact JSON, without members), in bytes.
pub const MAX_RESOURCE_BYTES: usize = 256 * 1024;

/// The longest string `def` accepts, in characters.
fn max_chars(def: &AttributeDef) -> usize {
    match def.kind {
        AttrType::Reference | AttrType::Binary => MAX_LONG_STRING_CHARS,
        _ => MAX_STRING_CHARS,
    }
}

/// A string attribute's value within its length limit.
pub(crate) fn check_length(def: &AttributeDef, text: &str, label: &str) -> Result<(), ScimError> {
    let max = max_chars(def);
    // Bytes bound characters from above: count characters only when the bytes exceed.
    if text.len() > max {
        let n = text.chars().count();
        if n > max {
            return Err(ScimError::invalid_value(format!(
                "{label} has {n} characters; at most {max} are accepted"
            )));
        }
    }
    Ok(())
}

/// A resource (as it would be stored) within `MAX_RESOURCE_BYTES`.
pub fn check_resource_size(resource: &Value) -> Result<(), ScimError> {
    let bytes = serde_json::to_vec(resource)
        .map(|v| v.len())
        .unwrap_or(usize::MAX);
    if bytes > MAX_RESOURCE_BYTES {
        return Err(ScimError::invalid_value(format!(
            "the resource is {bytes} bytes; at most {MAX_RESOURCE_BYTES} are accepted"
        )));
    }
    Ok(())
}

/// A list of `n` values or members within `max`: a `tooMany` refusal otherwise.
pub(crate) fn check_count(n: usize, max: usize, label: &str) -> Result<(), ScimError> {
    if n > max {
        return Err(ScimError::bad_request(
            crate::error::ScimType::TooMany,
            format!("{label} has {n} values; at most {max} are accepted"),
        ));
    }
    Ok(())
}

/// Identity of a coerced value for de-duplication in linear time: `coerce_single` emits
/// object keys in schema order, so equal values serialise equally.
pub(crate) fn value_key(v: &Value) -> String {
    v.to_string()
}

// ---- value coercion shared by normalisation and PATCH ----

fn has_nul(s: &str) -> bool {
    s.contains('\0')
}

/// Coerces one (non-array) value to `def`'s type. `None` means "unassigned" (null or an
/// empty complex value). Read-only sub-attributes are dropped: clients echo them back
/// (Okta PUTs the GET result) and they are the server's to set.
pub(crate) fn coerce_single(
    def: &AttributeDef,
    v: &Value,
    label: &str,
) -> Result<Option<Value>, ScimError> {
    let bad = |what: &str| ScimError::invalid_value(format!("{label} must be {what}"));
    match (def.kind, v) {
        (_, Value::Null) => Ok(None),
        (AttrType::Complex, Value::Object(obj)) => {
            let mut out = Map::new();
            for sd in &def.sub_attributes {
                if sd.mutability == Mutability::ReadOnly {
                    continue;
                }
                // Last spelling wins when a client sends two casings of one name.
                let found = obj
                    .iter()
                    .rev()
                    .find(|(k, _)| k.eq_ignore_ascii_case(sd.name));
                if let Some((_, sv)) = found {
                    let sub_label = format!("{label}.{}", sd.name);
                    if let Some(cv) = coerce_single(sd, sv, &sub_label)? {
                        out.insert(sd.name.to_string(), cv);
                    }
                }
            }
            Ok(if out.is_empty() {
                None
            } else {
                Some(Value::Object(out))
            })
        }
        (AttrType::Complex, _) => Err(bad("an object")),
        (AttrType::Boolean, Value::Bool(b)) => Ok(Some(Value::Bool(*b))),
        // Entra without aadOptscim062020 sends booleans as "True"/"False".
        (AttrType::Boolean, Value::String(t)) if t.eq_ignore_ascii_case("true") => {
            Ok(Some(Value::Bool(true)))
        }
        (AttrType::Boolean, Value::String(t)) if t.eq_ignore_ascii_case("false") => {
            Ok(Some(Value::Bool(false)))
        }
        (AttrType::Boolean, _) => Err(bad("a boolean")),
        (AttrType::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(Some(v.clone())),
        (AttrType::Integer, _) => Err(bad("an integer")),
        (AttrType::Decimal, Value::Number(_)) => Ok(Some(v.clone())),
        (AttrType::Decimal, _) => Err(bad("a number")),
        (_, Value::String(text)) => {
            if has_nul(text) {
                Err(ScimError::invalid_value(format!(
                    "{label} must not contain NUL characters"
                )))
            } else {
                check_length(def, text, label)?;
                Ok(Some(v.clone()))
            }
        }
        (_, _) => Err(bad("a string")),
    }
}

/// Coerces a whole attribute value: arrays for multi-valued attributes (elements that
/// are null or empty are dropped; an empty result is unassigned), else one value.
pub(crate) fn coerce_attr(
    def: &AttributeDef,
    v: &Value,
    label: &str,
) -> Result<Option<Value>, ScimError> {
    if !def.multi_valued {
        return coerce_single(def, v, label);
    }
    match v {
        Value::Null => Ok(None),
        Value::Array(items) => {
            check_count(items.len(), MAX_VALUES, label)?;
            let mut out = Vec::with_capacity(items.len());
            let mut seen = std::collections::HashSet::with_capacity(items.len());
            for item in items {
                if let Some(cv) = coerce_single(def, item, label)? {
                    if seen.insert(value_key(&cv)) {
                        out.push(cv);
                    }
                }
            }
            enforce_single_primary(&mut out, &[]);
            Ok(if out.is_empty() {
                None
            } else {
                Some(Value::Array(out))
            })
        }
        _ => Err(ScimError::invalid_value(format!(
            "{label} must be an array"
        ))),
    }
}

/// RFC 7643 §2.4: `primary: true` appears at most once. The first element among
/// `preferred` (the ones just written) that is primary wins, else the first primary.
pub(crate) fn enforce_single_primary(items: &mut [Value], preferred: &[usize]) {
    let is_primary = |v: &Value| v.get("primary") == Some(&Value::Bool(true));
    let winner = preferred
        .iter()
        .copied()
        .find(|&i| items.get(i).is_some_and(is_primary))
        .or_else(|| items.iter().position(is_primary));
    if let Some(w) = winner {
        for (i, item) in items.iter_mut().enumerate() {
            if i != w && is_primary(item) {
                item["primary"] = Value::Bool(false);
            }
        }
    }
}

fn body_object(body: &Value) -> Result<&Map<String, Value>, ScimError> {
    body.as_object()
        .ok_or_else(|| ScimError::invalid_syntax("the request body must be a JSON object"))
}

/// Normalises the attributes of one schema from `input` into `out`, in schema order.
/// Read-only and write-only attributes are dropped; unknown names are dropped too
/// (IdPs send attributes an app does not model, e.g. Okta's `locale` variants or
/// Entra custom mappings, and rejecting them would stall provisioning).
fn normalize_attrs(
    defs: &'static [AttributeDef],
    input: &Map<String, Value>,
    out: &mut Map<String, Value>,
    prefix: &str,
) -> Result<(), ScimError> {
    for def in defs {
        if matches!(def.mutability, Mutability::ReadOnly | Mutability::WriteOnly) {
            continue;
        }
        let found = input
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(def.name));
        if let Some((_, v)) = found {
            if let Some(cv) = coerce_attr(def, v, &format!("{prefix}{}", def.name))? {
                out.insert(def.name.to_string(), cv);
            }
        }
    }
    Ok(())
}

fn normalize_resource(
    kind: ResourceKind,
    obj: &Map<String, Value>,
) -> Result<Map<String, Value>, ScimError> {
    let core = core_schema(kind);
    let mut out = Map::new();
    out.insert("schemas".into(), json!([core.id]));
    // externalId is the one writable common attribute (RFC 7643 §3.1).
    let mut rest = Map::new();
    normalize_attrs(&COMMON, obj, &mut rest, "")?;
    normalize_attrs(&core.attributes, obj, &mut rest, "")?;
    out.extend(rest);
    let mut schemas = vec![Value::String(core.id.to_string())];
    for ext in extensions(kind) {
        let found = obj
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(ext.id));
        match found {
            None | Some((_, Value::Null)) => {}
            Some((_, Value::Object(ext_obj))) => {
                let mut ext_out = Map::new();
                normalize_attrs(
                    &ext.attributes,
                    ext_obj,
                    &mut ext_out,
                    &format!("{}:", ext.id),
                )?;
                if !ext_out.is_empty() {
                    out.insert(ext.id.to_string(), Value::Object(ext_out));
                    schemas.push(Value::String(ext.id.to_string()));
                }
            }
            Some(_) => {
                return Err(ScimError::invalid_value(format!(
                    "{} must be an object",
                    ext.id
                )))
            }
        }
    }
    out.insert("schemas".into(), Value::Array(schemas));
    Ok(out)
}

fn require_string(out: &Map<String, Value>, name: &str) -> Result<(), ScimError> {
    match out.get(name) {
        Some(Value::String(v)) if !v.trim().is_empty() => Ok(()),
        _ => Err(ScimError::invalid_value(format!(
            "{name} is required and must be a non-empty string"
        ))),
    }
}

/// The `schemas` policy for a POST or PUT body: a missing `schemas` is accepted (some
/// clients omit it and the endpoint says what the resource is); when present it must be an
/// array that lists the endpoint's core schema, so a Group sent to /Users (or the reverse)
/// is refused. Extension and vendor URNs beside it are accepted.
pub fn check_schemas(kind: ResourceKind, body: &Value) -> Result<(), ScimError> {
    let Some(obj) = body.as_object() else {
        return Ok(());
    };
    let core = core_schema(kind).id;
    match obj
        .iter()
        .rev()
        .find(|(k, _)| k.eq_ignore_ascii_case("schemas"))
    {
        None | Some((_, Value::Null)) => Ok(()),
        Some((_, Value::Array(items))) => {
            let lists_core = items.iter().any(|s| {
                s.as_str()
                    .is_some_and(|s| s.trim().eq_ignore_ascii_case(core))
            });
            if lists_core {
                Ok(())
            } else {
                Err(ScimError::invalid_syntax(format!(
                    "schemas must list {core} on this endpoint"
                )))
            }
        }
        Some(_) => Err(ScimError::invalid_syntax(
            "schemas must be an array of URNs",
        )),
    }
}

/// Validates and normalises a User body from POST or PUT (and after PATCH): attribute
/// names to canonical case, "True"/"False" strings to booleans for boolean attributes,
/// password and read-only attributes (id, meta, groups) dropped, userName required.
/// Returns the resource JSON to store (schemas set; no id, no meta).
///
/// Unknown core attributes are dropped, as are null values and empty arrays/objects
/// (RFC 7643 §2.5: unassigned). `schemas` is recomputed: the core URN plus each
/// extension that has at least one attribute (Entra lists the enterprise URN even with
/// no enterprise attributes).
pub fn normalize_user(body: &Value) -> Result<Value, ScimError> {
    let obj = body_object(body)?;
    let out = Value::Object(normalize_resource(ResourceKind::User, obj)?);
    require_string(out.as_object().unwrap_or(&Map::new()), "userName")?;
    check_resource_size(&out)?;
    Ok(out)
}

/// Same for a Group; members are returned separately (stored as rows, not JSON).
/// `None` when the body has no `members` key (a PUT without members); Entra's
/// non-standard ADSCIM group schema URI is accepted and not stored.
pub fn normalize_group(body: &Value) -> Result<(Value, Option<Vec<MemberRef>>), ScimError> {
    let obj = body_object(body)?;
    let mut out = normalize_resource(ResourceKind::Group, obj)?;
    require_string(&out, "displayName")?;
    out.remove("members");
    let members = match obj
        .iter()
        .rev()
        .find(|(k, _)| k.eq_ignore_ascii_case("members"))
    {
        None => None,
        Some((_, Value::Null)) => Some(Vec::new()),
        Some((_, Value::Array(items))) => {
            check_count(items.len(), MAX_MEMBERS_PER_REQUEST, "members")?;
            Some(
                items
                    .iter()
                    .map(member_ref)
                    .collect::<Result<Vec<_>, _>>()?,
            )
        }
        Some(_) => return Err(ScimError::invalid_value("members must be an array")),
    };
    let out = Value::Object(out);
    check_resource_size(&out)?;
    Ok((out, members))
}

/// A User body parsed at the edge: validated and normalised (`normalize_user`) before it
/// reaches storage, so storage never sees raw JSON. `given_id` is the body's own `id`, which
/// a PUT must not contradict.
#[derive(Debug, Clone, PartialEq)]
pub struct UserResource {
    resource: Value,
    given_id: Option<String>,
}

impl UserResource {
    pub fn parse(body: &Value) -> Result<UserResource, ScimError> {
        Ok(UserResource {
            resource: normalize_user(body)?,
            given_id: given_id(body),
        })
    }

    /// The resource to store: schemas set, no id, no meta, no password.
    pub fn resource(&self) -> &Value {
        &self.resource
    }

    pub fn into_resource(self) -> Value {
        self.resource
    }

    pub fn given_id(&self) -> Option<&str> {
        self.given_id.as_deref()
    }

    pub fn external_id(&self) -> Option<&str> {
        self.resource.get("externalId").and_then(Value::as_str)
    }
}

/// A Group body parsed at the edge (`normalize_group`): the resource without members, the
/// members (None when the body has no `members` key) and the body's own `id`.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupResource {
    resource: Value,
    members: Option<Vec<MemberRef>>,
    given_id: Option<String>,
}

impl GroupResource {
    pub fn parse(body: &Value) -> Result<GroupResource, ScimError> {
        let (resource, members) = normalize_group(body)?;
        Ok(GroupResource {
            resource,
            members,
            given_id: given_id(body),
        })
    }

    pub fn resource(&self) -> &Value {
        &self.resource
    }

    pub fn members(&self) -> Option<&[MemberRef]> {
        self.members.as_deref()
    }

    pub fn given_id(&self) -> Option<&str> {
        self.given_id.as_deref()
    }
}

/// The `id` a body gives itself, if it is a string (a server-assigned attribute, RFC 7643
/// §3.1: checked against the URL on PUT, never stored from the body).
fn given_id(body: &Value) -> Option<String> {
    body.get("id").and_then(Value::as_str).map(str::to_string)
}

/// One `members` element (RFC 7643 §4.2): `value` required; `$ref` is derived by the
/// server, so it is ignored (Entra sends `"$ref": null`).
pub(crate) fn member_ref(v: &Value) -> Result<MemberRef, ScimError> {
    let obj = v
        .as_object()
        .ok_or_else(|| ScimError::invalid_value("each member must be an object with a value"))?;
    let get = |name: &str| {
        obj.iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    let value = match get("value") {
        Some(Value::String(s))
            if !s.trim().is_empty() && !has_nul(s) && s.chars().count() <= MAX_STRING_CHARS =>
        {
            s.clone()
        }
        _ => {
            return Err(ScimError::invalid_value(
                "each member needs a non-empty string value of at most 1024 characters",
            ))
        }
    };
    let opt = |name: &str| -> Result<Option<String>, ScimError> {
        match get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if !has_nul(s) && s.chars().count() <= MAX_STRING_CHARS => {
                Ok(Some(s.clone()))
            }
            Some(_) => Err(ScimError::invalid_value(format!(
                "members.{name} must be a string of at most {MAX_STRING_CHARS} characters"
            ))),
        }
    };
    Ok(MemberRef {
        value,
        display: opt("display")?,
        kind: opt("type")?,
    })
}

/// Limits the service advertises (RFC 7643 §5).
#[derive(Debug, Clone, Copy)]
pub struct ServiceLimits {
    pub max_results: u64,
    pub max_payload_bytes: u64,
    /// RFC 9865 §4 `cursorTimeout`: seconds a cursor stays valid between page requests.
    pub cursor_timeout_secs: u64,
}

fn trim_base(base_url: &str) -> &str {
    base_url.trim_end_matches('/')
}

/// RFC 7643 §5. Truthful about what this crate implements: PATCH, filter, sort, ETags and
/// both pagination methods yes; bulk and password change no.
pub fn service_provider_config(base_url: &str, limits: ServiceLimits) -> Value {
    let base = trim_base(base_url);
    json!({
        "schemas": [urn::SERVICE_PROVIDER_CONFIG],
        "documentationUri": "https://datatracker.ietf.org/doc/html/rfc7644",
        "patch": { "supported": true },
        "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": limits.max_payload_bytes },
        "filter": { "supported": true, "maxResults": limits.max_results },
        "changePassword": { "supported": false },
        "sort": { "supported": true },
        "etag": { "supported": true },
        // RFC 9865 §4. Index stays the default: clients written before cursors expect index
        // pages when they send no pagination parameter (§2.4).
        "pagination": {
            "cursor": true,
            "index": true,
            "defaultPaginationMethod": "index",
            "defaultPageSize": DEFAULT_COUNT.min(limits.max_results),
            "maxPageSize": limits.max_results,
            "cursorTimeout": limits.cursor_timeout_secs,
        },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication with the connection's bearer token (RFC 6750)",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base}/ServiceProviderConfig")
        }
    })
}

/// RFC 7643 §6: User (with the enterprise and Muster extensions, both optional) and Group.
pub fn resource_types(base_url: &str) -> Vec<Value> {
    let base = trim_base(base_url);
    let user_exts: Vec<Value> = extensions(ResourceKind::User)
        .iter()
        .map(|e| json!({ "schema": e.id, "required": false }))
        .collect();
    vec![
        json!({
            "schemas": [urn::RESOURCE_TYPE],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "User Account",
            "schema": urn::USER,
            "schemaExtensions": user_exts,
            "meta": { "resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User") }
        }),
        json!({
            "schemas": [urn::RESOURCE_TYPE],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "Group",
            "schema": urn::GROUP,
            "schemaExtensions": [],
            "meta": { "resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/Group") }
        }),
    ]
}

fn uniqueness(schema: &str, attr: &AttributeDef, top: bool) -> &'static str {
    if top && schema == urn::USER && attr.name == "userName" {
        "server"
    } else {
        "none"
    }
}

/// The value an attribute has when a client never set it, where the server keeps one: a
/// user is active unless told otherwise. Such an attribute cannot be removed by PATCH
/// (removing `active` must never quietly reactivate a deactivated user).
pub fn server_default(kind: ResourceKind, ext: Option<&str>, def: &AttributeDef) -> Option<Value> {
    (kind == ResourceKind::User && ext.is_none() && def.name == "active")
        .then_some(Value::Bool(true))
}

/// What /Schemas says of an attribute beyond its characteristics.
fn description(schema: &str, d: &AttributeDef, top: bool) -> &'static str {
    match (schema, d.name, top) {
        (urn::USER, "active", true) => {
            "Whether the user may sign in. true when a create leaves it out; a PATCH remove of it is refused (mutability): replace it with true or false."
        }
        (urn::USER, "password", true) => "Accepted and never stored or returned.",
        (urn::GROUP, "members", true) => {
            "Users and groups in the group; $ref, display and type are derived by the server."
        }
        _ => "",
    }
}

fn attribute_json(schema: &str, d: &AttributeDef, top: bool) -> Value {
    let mut v = json!({
        "name": d.name,
        "type": d.kind.as_str(),
        "multiValued": d.multi_valued,
        "description": description(schema, d, top),
        "required": d.required,
        "caseExact": d.case_exact,
        "mutability": d.mutability.as_str(),
        "returned": d.returned.as_str(),
        "uniqueness": uniqueness(schema, d, top),
    });
    if d.kind == AttrType::Reference {
        let types = match d.name {
            "$ref" if schema == urn::GROUP => json!(["User", "Group"]),
            "$ref" => json!(["User"]),
            _ => json!(["external"]),
        };
        v["referenceTypes"] = types;
    }
    if d.is_complex() {
        v["subAttributes"] = Value::Array(
            d.sub_attributes
                .iter()
                .map(|sd| attribute_json(schema, sd, false))
                .collect(),
        );
    }
    v
}

/// RFC 7643 §7: the Schema resources for User, EnterpriseUser, MusterUser and Group.
pub fn schemas() -> Vec<Value> {
    [&*USER, &*ENTERPRISE, &*MUSTER, &*GROUP]
        .iter()
        .map(|sch| {
            json!({
                "schemas": [urn::SCHEMA],
                "id": sch.id,
                "name": sch.name,
                "description": sch.description,
                "attributes": sch.attributes.iter().map(|d| attribute_json(sch.id, d, true)).collect::<Vec<_>>(),
                "meta": { "resourceType": "Schema", "location": format!("/Schemas/{}", sch.id) }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ScimType;

    fn bad(body: Value) -> ScimError {
        normalize_user(&body).unwrap_err()
    }

    #[test]
    fn normalize_user_canonicalises() {
        let got = normalize_user(&json!({
            "UserName": "bob",
            "Emails": [{"Value": "b@x", "PRIMARY": "True"}, null],
            "active": "False",
            "nickName": null,
            "favouriteColour": "red",
            "password": "p",
            "id": "1",
            "meta": {"resourceType": "User"},
            "groups": [{"value": "g"}],
            "schemas": ["whatever"],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user": {"employeeNumber": "7", "manager": {"value": "m", "displayName": "M"}},
            "urn:ietf:params:scim:schemas:extension:muster:2.0:User": {}
        }))
        .unwrap();
        assert_eq!(
            got,
            json!({
                "schemas": [urn::USER, urn::ENTERPRISE_USER],
                "userName": "bob",
                "active": false,
                "emails": [{"value": "b@x", "primary": true}],
                urn::ENTERPRISE_USER: {"employeeNumber": "7", "manager": {"value": "m"}}
            })
        );
    }

    #[test]
    fn normalize_user_rejections() {
        assert_eq!(bad(json!("x")).scim_type, Some(ScimType::InvalidSyntax));
        for body in [
            json!({}),
            json!({"userName": ""}),
            json!({"userName": "  "}),
            json!({"userName": 5}),
            json!({"userName": "a", "emails": {"value": "x"}}),
            json!({"userName": "a", "active": "yes"}),
            json!({"userName": "a\u{0}b"}),
            json!({"userName": "a", "name": "x"}),
            json!({"userName": "a", "emails": [{"value": 3}]}),
            json!({"userName": "a", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": "x"}),
        ] {
            assert_eq!(
                bad(body.clone()).scim_type,
                Some(ScimType::InvalidValue),
                "{body}"
            );
        }
    }

    #[test]
    fn normalize_group_members() {
        let (g, m) = normalize_group(&json!({
            "schemas": [urn::GROUP, urn::ENTRA_GROUP],
            "DisplayName": "G",
            "members": [{"value": "u1", "$ref": null, "type": "User"}]
        }))
        .unwrap();
        assert_eq!(g, json!({"schemas": [urn::GROUP], "displayName": "G"}));
        assert_eq!(
            m,
            Some(vec![MemberRef {
                value: "u1".into(),
                display: None,
                kind: Some("User".into())
            }])
        );
        assert_eq!(
            normalize_group(&json!({"displayName": 3}))
                .unwrap_err()
                .scim_type,
            Some(ScimType::InvalidValue)
        );
        assert_eq!(
            normalize_group(&json!({"displayName": "G", "members": [{"display": "x"}]}))
                .unwrap_err()
                .scim_type,
            Some(ScimType::InvalidValue)
        );
        assert_eq!(
            normalize_group(&json!({"displayName": "G", "members": {}}))
                .unwrap_err()
                .scim_type,
            Some(ScimType::InvalidValue)
        );
    }

    #[test]
    fn discovery_documents() {
        let spc = service_provider_config(
            "https://h/scim/v2/c1/",
            ServiceLimits {
                max_results: 200,
                max_payload_bytes: 1 << 20,
                cursor_timeout_secs: 3600,
            },
        );
        assert_eq!(
            spc["pagination"],
            json!({"cursor": true, "index": true, "defaultPaginationMethod": "index",
                   "defaultPageSize": 100, "maxPageSize": 200, "cursorTimeout": 3600})
        );
        assert_eq!(spc["patch"]["supported"], true);
        assert_eq!(spc["bulk"]["supported"], false);
        assert_eq!(spc["filter"], json!({"supported": true, "maxResults": 200}));
        assert_eq!(spc["changePassword"]["supported"], false);
        assert_eq!(spc["sort"]["supported"], true);
        assert_eq!(spc["etag"]["supported"], true);
        assert_eq!(spc["authenticationSchemes"][0]["type"], "oauthbearertoken");
        assert_eq!(spc["authenticationSchemes"][0]["primary"], true);
        assert_eq!(
            spc["meta"]["location"],
            "https://h/scim/v2/c1/ServiceProviderConfig"
        );

        let rts = resource_types("https://h/scim/v2/c1");
        assert_eq!(
            rts[0]["meta"]["location"],
            "https://h/scim/v2/c1/ResourceTypes/User"
        );
        assert_eq!(
            rts[0]["schemaExtensions"],
            json!([{"schema": urn::ENTERPRISE_USER, "required": false}, {"schema": urn::MUSTER_USER, "required": false}])
        );
        assert_eq!(rts[1]["schema"], urn::GROUP);

        let all = schemas();
        let ids: Vec<&str> = all.iter().map(|s| s["id"].as_str().unwrap()).collect();
        assert_eq!(
            ids,
            [
                urn::USER,
                urn::ENTERPRISE_USER,
                urn::MUSTER_USER,
                urn::GROUP
            ]
        );
        for s in &all {
            assert_eq!(s["meta"]["resourceType"], "Schema");
            for a in s["attributes"].as_array().unwrap() {
                for key in [
                    "name",
                    "type",
                    "multiValued",
                    "required",
                    "caseExact",
                    "mutability",
                    "returned",
                    "uniqueness",
                ] {
                    assert!(a.get(key).is_some(), "{} lacks {key}", a["name"]);
                }
            }
        }
        let user_attrs = all[0]["attributes"].as_array().unwrap();
        let names: Vec<&str> = user_attrs
            .iter()
            .map(|a| a["name"].as_str().unwrap())
            .collect();
        for n in [
            "userName",
            "name",
            "emails",
            "phoneNumbers",
            "ims",
            "photos",
            "addresses",
            "groups",
            "entitlements",
            "roles",
            "x509Certificates",
            "password",
        ] {
            assert!(names.contains(&n), "{n}");
        }
        let pw = user_attrs.iter().find(|a| a["name"] == "password").unwrap();
        assert_eq!(
            (pw["mutability"].as_str(), pw["returned"].as_str()),
            (Some("writeOnly"), Some("never"))
        );
        let un = user_attrs.iter().find(|a| a["name"] == "userName").unwrap();
        assert_eq!(un["uniqueness"], "server");
        let emails = user_attrs.iter().find(|a| a["name"] == "emails").unwrap();
        assert_eq!(emails["subAttributes"].as_array().unwrap().len(), 4);
    }
}
