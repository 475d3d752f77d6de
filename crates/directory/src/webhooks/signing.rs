//! Standard Webhooks signing: new secrets, the `v1,` HMAC-SHA256 signature, ids and bodies.

use crate::error::{Error, Result};
use crate::feed;
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// A new signing secret: `whsec_` and the base64 of 32 random bytes.
pub fn new_secret() -> String {
    let mut raw = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut raw);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

/// `v1,` + base64(HMAC-SHA256(secret bytes, "{id}.{timestamp}.{body}")), where the secret
/// bytes are the base64 after `whsec_` (Standard Webhooks, "Signature scheme").
pub fn sign(secret: &str, id: &str, timestamp: i64, body: &str) -> Result<String> {
    let b64 = secret.strip_prefix("whsec_").unwrap_or(secret);
    let key = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .map_err(|_| Error::Corrupt("a webhook secret is not base64".into()))?;
    let mut mac = Hmac::<Sha256>::new_from_slice(&key)
        .map_err(|_| Error::Corrupt("a webhook secret has no usable key".into()))?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Ok(format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The `webhook-id` of feed event `seq` sent to endpoint `endpoint_id`.
pub fn message_id(seq: i64, endpoint_id: &str) -> String {
    format!("msg_{seq}_{endpoint_id}")
}

/// The body Standard Webhooks prescribes: the event type, when it happened, and the feed
/// event itself.
pub fn body_of(event: &feed::FeedEvent) -> Result<String> {
    Ok(serde_json::json!({
        "type": event.kind,
        "timestamp": event.at,
        "data": event,
    })
    .to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    // The example of the Standard Webhooks reference libraries (their test suites): this
    // secret, id, timestamp and payload sign to this value.
    #[test]
    fn signature_matches_the_reference_example() {
        let sig = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        )
        .unwrap();
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
