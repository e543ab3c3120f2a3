//! Zoom webhook signatures (R29).
//!
//! Zoom signs each delivery with `x-zm-signature: v0=<hex>`, where hex is
//! HMAC-SHA256(secret token, `v0:{x-zm-request-timestamp}:{raw body}`).
//! Zoom documents no freshness window; we refuse deliveries whose timestamp
//! is more than five minutes from the time we received them, which bounds
//! how long a captured delivery can be replayed.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How far a delivery's timestamp may be from its receive time, either way.
pub const FRESHNESS_WINDOW_MS: i64 = 5 * 60 * 1000;

pub const SIGNATURE_HEADER: &str = "x-zm-signature";
pub const TIMESTAMP_HEADER: &str = "x-zm-request-timestamp";

/// Why a delivery's signature was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error(
        "missing {TIMESTAMP_HEADER} header: Zoom signs every delivery, so this did not come from Zoom"
    )]
    MissingTimestamp,
    #[error("{TIMESTAMP_HEADER} header {0:?} is not a whole number of seconds")]
    InvalidTimestamp(String),
    #[error(
        "stale delivery: signed {age_seconds} s before it was received (the limit is {} s); a replayed delivery is refused",
        FRESHNESS_WINDOW_MS / 1000
    )]
    Stale { age_seconds: i64 },
    #[error(
        "delivery timestamp is {ahead_seconds} s in the future (the limit is {} s); check the host's clock",
        FRESHNESS_WINDOW_MS / 1000
    )]
    FromTheFuture { ahead_seconds: i64 },
    #[error(
        "missing {SIGNATURE_HEADER} header: Zoom signs every delivery, so this did not come from Zoom"
    )]
    MissingSignature,
    #[error("{SIGNATURE_HEADER} header is not of the form v0=<hex>")]
    MalformedSignature,
    #[error(
        "signature does not match: the delivery was altered, or was signed with another secret token than the one configured as zoom.webhook-secret-token"
    )]
    Mismatch,
}

/// The value of the `x-zm-signature` header for `body` sent at `timestamp_s`.
pub fn sign(secret_token: &str, timestamp_s: i64, body: &[u8]) -> String {
    let mut mac = keyed(secret_token);
    mac.update(format!("v0:{timestamp_s}:").as_bytes());
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

/// The `encryptedToken` of a URL validation answer: hex(HMAC-SHA256(secret, plainToken)).
pub fn encrypt_token(secret_token: &str, plain_token: &str) -> String {
    let mut mac = keyed(secret_token);
    mac.update(plain_token.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// Checks a delivery's signature headers against its raw body.
pub fn verify(
    secret_token: &str,
    timestamp_header: Option<&str>,
    signature_header: Option<&str>,
    body: &[u8],
    received_at_ms: i64,
) -> Result<(), SignatureError> {
    let timestamp = timestamp_header.ok_or(SignatureError::MissingTimestamp)?;
    let timestamp_s: i64 = timestamp
        .trim()
        .parse()
        .map_err(|_| SignatureError::InvalidTimestamp(timestamp.to_owned()))?;
    let age_ms = received_at_ms.saturating_sub(timestamp_s.saturating_mul(1000));
    if age_ms > FRESHNESS_WINDOW_MS {
        return Err(SignatureError::Stale {
            age_seconds: age_ms / 1000,
        });
    }
    if -age_ms > FRESHNESS_WINDOW_MS {
        return Err(SignatureError::FromTheFuture {
            ahead_seconds: -age_ms / 1000,
        });
    }

    let signature = signature_header.ok_or(SignatureError::MissingSignature)?;
    let digest = signature
        .trim()
        .strip_prefix("v0=")
        .and_then(|h| hex::decode(h).ok())
        .ok_or(SignatureError::MalformedSignature)?;
    let mut mac = keyed(secret_token);
    mac.update(format!("v0:{timestamp_s}:").as_bytes());
    mac.update(body);
    // verify_slice compares in constant time.
    mac.verify_slice(&digest)
        .map_err(|_| SignatureError::Mismatch)
}

fn keyed(secret_token: &str) -> HmacSha256 {
    // HMAC takes keys of any length; new_from_slice cannot fail for it.
    match HmacSha256::new_from_slice(secret_token.as_bytes()) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "uDrZP9bSQMmAbRAnrKsU7A";
    const BODY: &[u8] = br#"{"event":"webinar.ended","payload":{}}"#;
    const NOW_S: i64 = 1_700_000_000;

    fn check(ts: Option<&str>, sig: Option<&str>, received_s: i64) -> Result<(), SignatureError> {
        verify(SECRET, ts, sig, BODY, received_s * 1000)
    }

    #[test]
    fn a_correct_signature_is_accepted() {
        let sig = sign(SECRET, NOW_S, BODY);
        assert_eq!(check(Some("1700000000"), Some(&sig), NOW_S + 3), Ok(()));
    }

    #[test]
    fn sign_hashes_the_version_timestamp_and_raw_body() {
        // Zoom's message is `v0:{timestamp}:{body}`, hashed with the same HMAC as the token.
        let body = br#"{"a": 1}"#;
        let expected = encrypt_token(SECRET, r#"v0:1700000000:{"a": 1}"#);
        assert_eq!(sign(SECRET, NOW_S, body), format!("v0={expected}"));
    }

    #[test]
    fn r29_an_altered_body_is_refused() {
        let sig = sign(SECRET, NOW_S, b"{}");
        assert_eq!(
            check(Some("1700000000"), Some(&sig), NOW_S),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn r29_another_secret_is_refused() {
        let sig = sign("someone-else", NOW_S, BODY);
        assert_eq!(
            check(Some("1700000000"), Some(&sig), NOW_S),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn r29_missing_headers_are_refused() {
        let sig = sign(SECRET, NOW_S, BODY);
        assert_eq!(
            check(None, Some(&sig), NOW_S),
            Err(SignatureError::MissingTimestamp)
        );
        assert_eq!(
            check(Some("1700000000"), None, NOW_S),
            Err(SignatureError::MissingSignature)
        );
        assert_eq!(
            check(Some("1700000000"), Some("sha256=abc"), NOW_S),
            Err(SignatureError::MalformedSignature)
        );
        assert_eq!(
            check(Some("yesterday"), Some(&sig), NOW_S),
            Err(SignatureError::InvalidTimestamp("yesterday".into()))
        );
    }

    #[test]
    fn r29_stale_and_future_deliveries_are_refused_at_the_window_edge() {
        let sig = sign(SECRET, NOW_S, BODY);
        let window_s = FRESHNESS_WINDOW_MS / 1000;
        assert_eq!(
            check(Some("1700000000"), Some(&sig), NOW_S + window_s),
            Ok(())
        );
        assert_eq!(
            check(Some("1700000000"), Some(&sig), NOW_S + window_s + 1),
            Err(SignatureError::Stale {
                age_seconds: window_s + 1
            })
        );
        assert_eq!(
            check(Some("1700000000"), Some(&sig), NOW_S - window_s - 1),
            Err(SignatureError::FromTheFuture {
                ahead_seconds: window_s + 1
            })
        );
    }

    #[test]
    fn encrypted_token_matches_the_rfc_4231_hmac_sha256_vector() {
        // RFC 4231, test case 2.
        assert_eq!(
            encrypt_token("Jefe", "what do ya want for nothing?"),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
