//! The SCIM write preconditions every resource checks before a change: If-Match against the
//! stored version (RFC 7644 §3.14) and a PUT that keeps the resource's id (RFC 7643 §3.1).

use crate::error::Result;
use scim::ScimError;

/// Checks an If-Match precondition (RFC 7644 §3.14) against the stored version.
pub fn check_version(current: i64, if_match: Option<&str>) -> Result<()> {
    let Some(expected) = if_match else {
        return Ok(());
    };
    let expected = expected.trim();
    if expected == "*" {
        return Ok(());
    }
    let wanted = format!("W/\"{current}\"");
    let strong = format!("\"{current}\"");
    if expected
        .split(',')
        .map(str::trim)
        .any(|e| e == wanted || e == strong)
    {
        Ok(())
    } else {
        Err(ScimError::precondition_failed(format!(
            "If-Match {expected} does not match the current version {wanted}"
        ))
        .into())
    }
}

/// PUT may repeat the resource's id but never change it (RFC 7643 §3.1: id is readOnly).
pub fn check_put_id(given: Option<&str>, id: &str) -> Result<()> {
    match given {
        Some(given) if given != id => {
            Err(ScimError::mutability("id is immutable and does not match the URL").into())
        }
        _ => Ok(()),
    }
}
