//! Answering webhook deliveries (R29).
//!
//! Every delivery gets an HTTP answer with a reason: a forged or stale one
//! is refused with 401, a malformed one with 400, one too large with 413.
//! A signed event the plugin does not sync (`meeting.started`, say) is
//! acknowledged with 200 and `"status": "ignored"`: a 5xx would only have
//! Zoom deliver again an event the plugin has no use for. A delivery the
//! plugin could not record (storage failed, or the secret is not yet
//! configured) is answered 503, which Zoom retries, so nothing is lost.

use serde::Deserialize;
use serde_json::json;

use super::intake::{self, Intake, NotAFact};
use super::zoom_signature::{self, SIGNATURE_HEADER, TIMESTAMP_HEADER};

/// The largest delivery body read. Zoom's and the CRM's webhooks are a few
/// KiB (a recording with many files, tens); anything bigger is refused with
/// 413 before it is hashed or parsed.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Which service sent a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Zoom,
    Crm,
}

/// One HTTP request as the host received it.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub source: Source,
    pub method: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub received_at_ms: i64,
}

impl Delivery {
    /// The first header named `name`, compared case-insensitively.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The HTTP answer to a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    /// A refusal: `error` is a stable code for machines, `reason` is for people.
    pub fn refusal(status: u16, error: &str, reason: &str) -> Self {
        Self::json(status, &json!({ "error": error, "reason": reason }))
    }
}

/// The secrets a Zoom delivery is checked with, as configured by the host.
#[derive(Debug, Clone, Copy)]
pub struct ZoomSecrets<'a> {
    /// `zoom.webhook-secret-token`; none when the operator has not set it.
    pub webhook_secret_token: Option<&'a str>,
}

/// The envelope every Zoom webhook body shares.
#[derive(Debug, Deserialize)]
struct ZoomEnvelope {
    event: String,
    #[serde(default)]
    event_ts: i64,
    #[serde(default)]
    payload: serde_json::Value,
}

/// What recording a verified fact did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    New,
    /// The same business key was recorded before (R30).
    Duplicate,
}

/// Verifies and answers a Zoom delivery. A verified event with a fact is
/// handed to `record` (which stores it for `tick`); its answer follows.
pub fn handle_zoom(
    delivery: &Delivery,
    secrets: ZoomSecrets<'_>,
    record: &mut dyn FnMut(Intake) -> Result<Recorded, String>,
) -> Answer {
    if !delivery.method.eq_ignore_ascii_case("POST") {
        return Answer::refusal(
            405,
            "method_not_allowed",
            &format!("Zoom delivers webhooks with POST, not {}", delivery.method),
        );
    }
    if let Some(refusal) = too_large(delivery) {
        return refusal;
    }
    let Some(secret) = secrets.webhook_secret_token.filter(|s| !s.is_empty()) else {
        // 503, not 401: the delivery may be genuine, and Zoom retries it once configured.
        return Answer::refusal(
            503,
            "not_configured",
            "the Zoom webhook secret token is not configured (zoom.webhook-secret-token): copy it from the Zoom app's Feature page",
        );
    };
    if let Err(e) = zoom_signature::verify(
        secret,
        delivery.header(TIMESTAMP_HEADER),
        delivery.header(SIGNATURE_HEADER),
        &delivery.body,
        delivery.received_at_ms,
    ) {
        return Answer::refusal(401, "invalid_signature", &e.to_string());
    }

    let envelope: ZoomEnvelope = match serde_json::from_slice(&delivery.body) {
        Ok(envelope) => envelope,
        Err(e) => {
            return Answer::refusal(
                400,
                "malformed_body",
                &format!(
                    "the body is not a Zoom webhook event (a JSON object with an \"event\" name): {e}"
                ),
            );
        }
    };

    if envelope.event == "endpoint.url_validation" {
        return answer_url_validation(secret, &envelope.payload);
    }
    match intake::parse(&envelope.event, envelope.event_ts, &envelope.payload) {
        Ok(intake) => {
            let webinar = intake.fact.webinar().to_owned();
            match record(intake) {
                Ok(Recorded::New) => Answer::json(
                    200,
                    &json!({ "status": "accepted", "event": envelope.event, "webinar": webinar }),
                ),
                Ok(Recorded::Duplicate) => Answer::json(
                    200,
                    &json!({ "status": "duplicate", "event": envelope.event, "webinar": webinar }),
                ),
                // Zoom retries 5xx: the event is not lost.
                Err(e) => Answer::refusal(
                    503,
                    "storage_unavailable",
                    &format!("the event could not be stored, Zoom will retry it: {e}"),
                ),
            }
        }
        // Acknowledged, so Zoom does not retry an event this plugin never uses.
        Err(NotAFact::Ignored(event)) => {
            Answer::json(200, &json!({ "status": "ignored", "event": event }))
        }
        Err(NotAFact::Malformed(reason)) => Answer::refusal(400, "malformed_event", &reason),
    }
}

/// Zoom's URL validation challenge: echo `plainToken` with its HMAC (R29).
fn answer_url_validation(secret: &str, payload: &serde_json::Value) -> Answer {
    match payload.get("plainToken").and_then(|t| t.as_str()) {
        Some(plain) if !plain.is_empty() => Answer::json(
            200,
            &json!({
                "plainToken": plain,
                "encryptedToken": zoom_signature::encrypt_token(secret, plain),
            }),
        ),
        _ => Answer::refusal(
            400,
            "malformed_body",
            "endpoint.url_validation without a payload.plainToken string",
        ),
    }
}

/// What the CRM's app webhooks tell the plugin about a contact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContactEvent {
    /// Deleted, or deleted for privacy: never re-created (R18).
    Deleted { contact_id: String, privacy: bool },
    /// Restored: the plugin may write to it again.
    Restored { contact_id: String },
}

/// The secrets a CRM delivery is checked with.
#[derive(Debug, Clone, Copy)]
pub struct CrmSecrets<'a> {
    /// `crm.client-secret`: the app's secret, which signs its webhooks.
    pub client_secret: Option<&'a str>,
    /// `host.public-url`: where the CRM sends webhooks, e.g.
    /// `https://host.example`; the signature covers the full URI.
    pub public_url: Option<&'a str>,
}

pub const CRM_SIGNATURE_HEADER: &str = "x-hubspot-signature-v3";
pub const CRM_TIMESTAMP_HEADER: &str = "x-hubspot-request-timestamp";

/// The CRM's v3 signature: base64(HMAC-SHA256(secret, method + uri + body + timestamp)).
pub fn crm_signature(
    secret: &str,
    method: &str,
    uri: &str,
    body: &[u8],
    timestamp: &str,
) -> String {
    use base64::Engine as _;
    use hmac::Mac as _;
    let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(method.as_bytes());
    mac.update(uri.as_bytes());
    mac.update(body);
    mac.update(timestamp.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// What every CRM delivery is checked for first: POST, its size, and the
/// secrets it is verified with; the secret and the full URI it was signed for.
pub fn crm_preamble<'a>(
    delivery: &Delivery,
    secrets: CrmSecrets<'a>,
) -> Result<(&'a str, String), Answer> {
    if !delivery.method.eq_ignore_ascii_case("POST") {
        return Err(Answer::refusal(
            405,
            "method_not_allowed",
            &format!("the CRM calls with POST, not {}", delivery.method),
        ));
    }
    if let Some(refusal) = too_large(delivery) {
        return Err(refusal);
    }
    let (Some(secret), Some(public_url)) = (
        secrets.client_secret.filter(|s| !s.is_empty()),
        secrets.public_url.filter(|s| !s.is_empty()),
    ) else {
        return Err(Answer::refusal(
            503,
            "not_configured",
            "CRM requests cannot be verified: set crm.client-secret (the app's client secret) and host.public-url (the URL the CRM calls)",
        ));
    };
    Ok((
        secret,
        format!("{}{}", public_url.trim_end_matches('/'), delivery.path),
    ))
}

/// The CRM's v3 signature over `uri`, and its timestamp within 5 minutes.
pub fn check_crm_v3(delivery: &Delivery, secret: &str, uri: &str) -> Result<(), Answer> {
    let (Some(timestamp), Some(signature)) = (
        delivery.header(CRM_TIMESTAMP_HEADER),
        delivery.header(CRM_SIGNATURE_HEADER),
    ) else {
        return Err(Answer::refusal(
            401,
            "invalid_signature",
            &format!(
                "the delivery has no {CRM_SIGNATURE_HEADER} and {CRM_TIMESTAMP_HEADER} headers"
            ),
        ));
    };
    match timestamp.trim().parse::<i64>() {
        Ok(at) if (delivery.received_at_ms - at).abs() <= zoom_signature::FRESHNESS_WINDOW_MS => {}
        _ => {
            return Err(Answer::refusal(
                401,
                "stale_delivery",
                &format!(
                    "{CRM_TIMESTAMP_HEADER} {timestamp:?} is not within 5 minutes of now: a replayed or delayed delivery"
                ),
            ));
        }
    }
    let expected = crm_signature(
        secret,
        &delivery.method.to_ascii_uppercase(),
        uri,
        &delivery.body,
        timestamp.trim(),
    );
    if !constant_time_eq(expected.as_bytes(), signature.trim().as_bytes()) {
        return Err(Answer::refusal(
            401,
            "invalid_signature",
            &format!(
                "the {CRM_SIGNATURE_HEADER} does not match the body signed for {uri} with crm.client-secret"
            ),
        ));
    }
    Ok(())
}

/// Verifies and answers a CRM delivery: contact deletions and restores go
/// to `record`; other subscription types are acknowledged and ignored.
pub fn handle_crm(
    delivery: &Delivery,
    secrets: CrmSecrets<'_>,
    record: &mut dyn FnMut(ContactEvent) -> Result<(), String>,
) -> Answer {
    let (secret, uri) = match crm_preamble(delivery, secrets) {
        Ok(checked) => checked,
        Err(refusal) => return refusal,
    };
    if let Err(refusal) = check_crm_v3(delivery, secret, &uri) {
        return refusal;
    }
    let events: Vec<serde_json::Value> = match serde_json::from_slice(&delivery.body) {
        Ok(serde_json::Value::Array(events)) => events,
        Ok(_) => {
            return Answer::refusal(
                400,
                "malformed_body",
                "the CRM sends a JSON array of events",
            );
        }
        Err(e) => {
            return Answer::refusal(400, "malformed_body", &format!("the body is not JSON: {e}"));
        }
    };
    let mut recorded = 0;
    for event in &events {
        let contact_id = match event.get("objectId") {
            Some(serde_json::Value::Number(n)) => n.to_string(),
            Some(serde_json::Value::String(s)) if !s.is_empty() => s.clone(),
            _ => {
                return Answer::refusal(400, "malformed_event", "an event without an objectId");
            }
        };
        let change = match event.get("subscriptionType").and_then(|t| t.as_str()) {
            Some("contact.deletion") => ContactEvent::Deleted {
                contact_id,
                privacy: false,
            },
            Some("contact.privacyDeletion") => ContactEvent::Deleted {
                contact_id,
                privacy: true,
            },
            Some("contact.restore") => ContactEvent::Restored { contact_id },
            _ => continue,
        };
        if let Err(e) = record(change) {
            return Answer::refusal(
                503,
                "storage_unavailable",
                &format!("the event could not be stored, the CRM will retry it: {e}"),
            );
        }
        recorded += 1;
    }
    Answer::json(200, &json!({ "status": "accepted", "events": recorded }))
}

/// 413 for a body over [`MAX_BODY_BYTES`].
fn too_large(delivery: &Delivery) -> Option<Answer> {
    (delivery.body.len() > MAX_BODY_BYTES).then(|| {
        Answer::refusal(
            413,
            "payload_too_large",
            &format!(
                "the body is {} bytes; webhook deliveries are at most {MAX_BODY_BYTES} bytes",
                delivery.body.len()
            ),
        )
    })
}

pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "uDrZP9bSQMmAbRAnrKsU7A";
    const NOW_MS: i64 = 1_626_230_692_000;
    /// Zoom's own sample, from shared/third_party/zoomnet/webhooks.
    const URL_VALIDATION: &str =
        include_str!("../../../tests/fixtures/zoom/endpoint.url_validation.json");

    fn signed(body: &str) -> Delivery {
        let ts = NOW_MS / 1000;
        Delivery {
            source: Source::Zoom,
            method: "POST".into(),
            path: "/webhooks/zoom".into(),
            headers: vec![
                ("X-Zm-Request-Timestamp".into(), ts.to_string()),
                (
                    "X-Zm-Signature".into(),
                    zoom_signature::sign(SECRET, ts, body.as_bytes()),
                ),
            ],
            body: body.as_bytes().to_vec(),
            received_at_ms: NOW_MS,
        }
    }

    fn secrets() -> ZoomSecrets<'static> {
        ZoomSecrets {
            webhook_secret_token: Some(SECRET),
        }
    }

    fn never(intake: Intake) -> Result<Recorded, String> {
        panic!("nothing should be recorded, got {intake:?}")
    }

    fn body_json(answer: &Answer) -> serde_json::Value {
        serde_json::from_slice(&answer.body).unwrap()
    }

    #[test]
    fn r29_url_validation_is_answered_with_the_encrypted_token() {
        let answer = handle_zoom(&signed(URL_VALIDATION), secrets(), &mut never);
        assert_eq!(answer.status, 200);
        assert_eq!(
            body_json(&answer),
            json!({
                "plainToken": "qgg8vlvZRS6UYooatFL8Aw",
                "encryptedToken": zoom_signature::encrypt_token(SECRET, "qgg8vlvZRS6UYooatFL8Aw"),
            })
        );
    }

    #[test]
    fn r29_unsigned_url_validation_is_refused() {
        let mut delivery = signed(URL_VALIDATION);
        delivery
            .headers
            .retain(|(n, _)| !n.eq_ignore_ascii_case(SIGNATURE_HEADER));
        let answer = handle_zoom(&delivery, secrets(), &mut never);
        assert_eq!(answer.status, 401);
        assert_eq!(body_json(&answer)["error"], "invalid_signature");
        assert!(
            body_json(&answer)["reason"]
                .as_str()
                .unwrap()
                .contains("x-zm-signature")
        );
    }

    #[test]
    fn malformed_json_after_a_valid_signature_is_a_400_with_the_parse_error() {
        let answer = handle_zoom(&signed("{\"event\": "), secrets(), &mut never);
        assert_eq!(answer.status, 400);
        assert!(
            body_json(&answer)["reason"]
                .as_str()
                .unwrap()
                .contains("EOF")
        );
    }

    #[test]
    fn validation_without_plain_token_is_a_400() {
        let answer = handle_zoom(
            &signed(r#"{"event":"endpoint.url_validation","payload":{}}"#),
            secrets(),
            &mut never,
        );
        assert_eq!(answer.status, 400);
    }

    #[test]
    fn missing_secret_is_a_retryable_503_naming_the_setting() {
        let answer = handle_zoom(
            &signed(URL_VALIDATION),
            ZoomSecrets {
                webhook_secret_token: None,
            },
            &mut never,
        );
        assert_eq!(answer.status, 503);
        assert!(
            body_json(&answer)["reason"]
                .as_str()
                .unwrap()
                .contains("zoom.webhook-secret-token")
        );
    }

    #[test]
    fn r30_events_are_recorded_once_and_unknown_ones_acknowledged() {
        let body = r#"{"event":"webinar.deleted","event_ts":1,"payload":{"object":{"id":81234567890,"uuid":"u=="}}}"#;
        let mut seen = Vec::new();
        let mut record = |intake: Intake| {
            let recorded = if seen.contains(&intake.key) {
                Recorded::Duplicate
            } else {
                Recorded::New
            };
            seen.push(intake.key);
            Ok(recorded)
        };
        let first = handle_zoom(&signed(body), secrets(), &mut record);
        let again = handle_zoom(&signed(body), secrets(), &mut record);
        assert_eq!((first.status, again.status), (200, 200));
        assert_eq!(body_json(&first)["status"], "accepted");
        assert_eq!(body_json(&again)["status"], "duplicate");
        let unknown = handle_zoom(
            &signed(r#"{"event":"meeting.started","payload":{}}"#),
            secrets(),
            &mut never,
        );
        assert_eq!(
            (unknown.status, body_json(&unknown)["status"].as_str()),
            (200, Some("ignored"))
        );
        let malformed = handle_zoom(
            &signed(r#"{"event":"webinar.ended","payload":{"object":{"id":"8123-4567"}}}"#),
            secrets(),
            &mut never,
        );
        assert_eq!(malformed.status, 400);
        let failing = handle_zoom(&signed(body), secrets(), &mut |_| Err("disk full".into()));
        assert_eq!(failing.status, 503, "Zoom retries 5xx: nothing is lost");
    }

    #[test]
    fn only_post_is_accepted() {
        let mut delivery = signed(URL_VALIDATION);
        delivery.method = "GET".into();
        assert_eq!(handle_zoom(&delivery, secrets(), &mut never).status, 405);
    }
}
