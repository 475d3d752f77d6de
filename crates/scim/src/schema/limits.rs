//! Size limits on what a client may send (string lengths, values per attribute, members per
//! request, resource bytes) and the checks that refuse past them with a 400 naming the limit.

use super::{AttrType, AttributeDef};
use crate::error::ScimError;
use serde_json::Value;

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
