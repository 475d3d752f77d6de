//! The seal: canonical JSON (sorted keys, jq escaping) and its SHA-256.

use super::*;

/// JSON with object keys sorted bytewise and no whitespace; strings escaped as jq does
/// (`"`, `\`, \b \f \n \r \t, other controls and DEL as \u00xx), so `jq -jcS` reproduces it.
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

pub(super) fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Null | Value::Bool(_) | Value::Number(_) => out.push_str(&v.to_string()),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_unstable();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out);
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
    }
}

pub(super) fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The SHA-256 (hex) of a report's canonical JSON without its `integrity` member.
pub fn content_hash(report: &Value) -> String {
    let mut v = report.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("integrity");
    }
    hex::encode(Sha256::digest(canonical_json(&v).as_bytes()))
}

/// Sets the report's hash over everything else in it.
pub fn seal(mut report: EvidenceReport) -> Result<EvidenceReport> {
    report.integrity.sha256 = content_hash(&serde_json::to_value(&report)?);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_json_sorts_keys_and_escapes_like_jq() {
        let v = json!({"b": [1, {"z": null, "a": true}], "a": "x\"\\\n\u{7f}\u{1}é"});
        assert_eq!(
            canonical_json(&v),
            r#"{"a":"x\"\\\n\u007f\u0001é","b":[1,{"a":true,"z":null}]}"#
        );
    }
}
