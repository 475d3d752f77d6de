//! The attribute tables of the schemas Muster serves (RFC 7643 §3.1, §4.1–4.3 and Muster's
//! extension) and the lookups over them: core schema, extensions, attributes by name.

use super::{AttrType, AttributeDef, Mutability, ResourceKind, Returned, SchemaDef};
use crate::urn;
use serde_json::Value;
use std::sync::LazyLock;

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
pub(super) static USER: LazyLock<SchemaDef> = LazyLock::new(|| SchemaDef {
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
pub(super) static ENTERPRISE: LazyLock<SchemaDef> = LazyLock::new(|| SchemaDef {
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
pub(super) static MUSTER: LazyLock<SchemaDef> = LazyLock::new(|| SchemaDef {
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
pub(super) static GROUP: LazyLock<SchemaDef> = LazyLock::new(|| SchemaDef {
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

/// The value an attribute has when a client never set it, where the server keeps one: a
/// user is active unless told otherwise. Such an attribute cannot be removed by PATCH
/// (removing `active` must never quietly reactivate a deactivated user).
pub fn server_default(kind: ResourceKind, ext: Option<&str>, def: &AttributeDef) -> Option<Value> {
    (kind == ResourceKind::User && ext.is_none() && def.name == "active")
        .then_some(Value::Bool(true))
}
