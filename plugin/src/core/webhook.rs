//! Answering webhook deliveries (R29).
//!
//! Every delivery gets an HTTP answer with a reason: a forged or stale one
//! is refused with 401, a malformed one with 400. Zoom retries only answers
//! of 500 and above, so an event we cannot handle yet is answered 501: it is
//! retried later instead of acknowledged and lost.

use serde::Deserialize;
use serde_json::json;

use super::zoom_signature::{self, SIGNATURE_HEADER, TIMESTAMP_HEADER};

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
    fn json(status: u16, body: &serde_json::Value) -> Self {
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
    payload: serde_json::Value,
}

/// Verifies and answers a Zoom delivery.
pub fn handle_zoom(delivery: &Delivery, secrets: ZoomSecrets<'_>) -> Answer {
    if !delivery.method.eq_ignore_ascii_case("POST") {
        return Answer::refusal(
            405,
            "method_not_allowed",
            &format!("Zoom delivers webhooks with POST, not {}", delivery.method),
        );
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

    match envelope.event.as_str() {
        "endpoint.url_validation" => answer_url_validation(secret, &envelope.payload),
        other => Answer::refusal(
            501,
            "not_implemented",
            &format!(
                "handling of Zoom event {other:?} is not implemented yet; Zoom will retry the delivery"
            ),
        ),
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

/// Answers a CRM delivery. Contact deletion and restore handling comes with the sync.
pub fn handle_crm(_delivery: &Delivery) -> Answer {
    Answer::refusal(
        501,
        "not_implemented",
        "handling of CRM webhooks is not implemented yet; the CRM will retry the delivery",
    )
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

    fn body_json(answer: &Answer) -> serde_json::Value {
        serde_json::from_slice(&answer.body).unwrap()
    }

    #[test]
    fn r29_url_validation_is_answered_with_the_encrypted_token() {
        let answer = handle_zoom(&signed(URL_VALIDATION), secrets());
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
        let answer = handle_zoom(&delivery, secrets());
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
        let answer = handle_zoom(&signed("{\"event\": "), secrets());
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
    fn events_not_handled_yet_are_retryable_not_acknowledged() {
        let answer = handle_zoom(
            &signed(r#"{"event":"webinar.ended","payload":{}}"#),
            secrets(),
        );
        assert!(
            answer.status >= 500,
            "Zoom only retries 5xx; a 2xx would lose the event"
        );
    }

    #[test]
    fn only_post_is_accepted() {
        let mut delivery = signed(URL_VALIDATION);
        delivery.method = "GET".into();
        assert_eq!(handle_zoom(&delivery, secrets()).status, 405);
    }
}
