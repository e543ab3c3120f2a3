//! The CRM's workflow-action requests (R21-R24, R29), as HubSpot sends them
//! to the action's `actionUrl`: verified, read, and answered.
//!
//! HubSpot signs a custom workflow action request with `X-HubSpot-Signature`
//! v2: hex(SHA-256(client secret + method + full URI + body)), named by
//! `X-HubSpot-Signature-Version: v2`; it may send the v3 signature as well
//! (`X-HubSpot-Signature-v3`, HMAC with a timestamp), which is then checked
//! instead, with its freshness. v2 carries no timestamp, so a replay of a
//! signed request cannot be told from the first one; the action is
//! idempotent for a contact already registered (R21), which bounds what a
//! replay can do. HubSpot retries a request answered 429 or 5xx, not one
//! whose 200 says it failed, so a failure worth retrying is a 503.
//!
//! A registration that must wait for Zoom answers `BLOCK`: HubSpot holds
//! the contact at this step until the app completes the execution with
//! `POST /automation/v4/actions/callbacks/{callbackId}/complete` or the
//! block expires (developers.hubspot.com/docs/api/automation/custom-workflow-actions,
//! "Blocking action executions"; the default expiry is one week, ours is
//! [`BLOCK_EXPIRATION`]).

use serde_json::{Value, json};

use super::webhook::{self, Answer, CRM_SIGNATURE_HEADER, Delivery};

/// The path HubSpot posts "Add contact to Zoom webinar" to.
pub const ACTION_PATH: &str = "/actions/add-contact-to-zoom-webinar";
pub const V2_SIGNATURE_HEADER: &str = "x-hubspot-signature";
pub const SIGNATURE_VERSION_HEADER: &str = "x-hubspot-signature-version";

/// What a verified request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionRequest {
    pub callback_id: String,
    /// The enrolled contact's id.
    pub contact_id: String,
    /// `inputFields.webinar_id`, as HubSpot resolved it (a fixed value or the
    /// contact property's value); none when the field is empty.
    pub webinar_id: Option<String>,
}

/// hex(SHA-256(secret + method + uri + body)): HubSpot's v2 signature.
pub fn v2_signature(secret: &str, method: &str, uri: &str, body: &[u8]) -> String {
    use sha2::Digest as _;
    let mut hash = sha2::Sha256::new();
    hash.update(secret.as_bytes());
    hash.update(method.as_bytes());
    hash.update(uri.as_bytes());
    hash.update(body);
    hex::encode(hash.finalize())
}

/// Verifies a delivery to the action's URL and reads it; the refusal to
/// answer otherwise.
pub fn verify(
    delivery: &Delivery,
    secrets: webhook::CrmSecrets<'_>,
) -> Result<ActionRequest, Answer> {
    let (secret, uri) = webhook::crm_preamble(delivery, secrets)?;
    if delivery.header(CRM_SIGNATURE_HEADER).is_some() {
        webhook::check_crm_v3(delivery, secret, &uri)?;
    } else {
        let version = delivery.header(SIGNATURE_VERSION_HEADER).map(str::trim);
        let Some(signature) = delivery
            .header(V2_SIGNATURE_HEADER)
            .filter(|_| version == Some("v2"))
        else {
            return Err(Answer::refusal(
                401,
                "invalid_signature",
                &format!(
                    "the request has neither {CRM_SIGNATURE_HEADER} nor a v2 {V2_SIGNATURE_HEADER} (with {SIGNATURE_VERSION_HEADER}: v2)"
                ),
            ));
        };
        let expected = v2_signature(
            secret,
            &delivery.method.to_ascii_uppercase(),
            &uri,
            &delivery.body,
        );
        if !webhook::constant_time_eq(
            expected.as_bytes(),
            signature.trim().to_ascii_lowercase().as_bytes(),
        ) {
            return Err(Answer::refusal(
                401,
                "invalid_signature",
                &format!(
                    "the {V2_SIGNATURE_HEADER} does not match the request signed for {uri} with crm.client-secret"
                ),
            ));
        }
    }
    read(&delivery.body)
}

/// The fields the action needs from HubSpot's request body.
fn read(body: &[u8]) -> Result<ActionRequest, Answer> {
    let malformed = |reason: &str| Answer::refusal(400, "malformed_body", reason);
    let request: Value = serde_json::from_slice(body)
        .map_err(|e| malformed(&format!("the body is not JSON: {e}")))?;
    let text = |value: &Value| match value {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let contact_id = text(&request["object"]["objectId"])
        .ok_or_else(|| malformed("object.objectId (the enrolled contact's id) is required"))?;
    if contact_id.len() > 32 || !contact_id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed(
            "object.objectId must be a CRM record id (digits)",
        ));
    }
    Ok(ActionRequest {
        callback_id: request["callbackId"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        contact_id,
        webinar_id: text(&request["inputFields"]["webinar_id"]),
    })
}

/// How the action ended, for HubSpot's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The output fields (registrant id, join URL).
    Registered(Vec<(String, String)>),
    /// Final for this contact: the workflow goes on, the history says why.
    Refused(String),
    /// Worth trying again later (the CRM or the plugin's storage
    /// unavailable): HubSpot sends the request again.
    Unavailable(String),
    /// Held until a callback completes it (Zoom unavailable): the plugin
    /// keeps the execution and retries it on its `tick`.
    Blocked,
}

/// How long HubSpot holds a blocked contact (ISO 8601), and the same in
/// milliseconds for the plugin's own schedule: a day covers a Zoom outage
/// and its rate limits' daily reset, and a marketer sees the result the
/// same day.
pub const BLOCK_EXPIRATION: &str = "P1D";
pub const BLOCK_EXPIRATION_MS: i64 = 24 * 60 * 60 * 1000;

/// The `outputFields` of a final outcome, as the answer and the callback
/// completion send them; none for one that is not final.
pub fn output_fields(outcome: &Outcome) -> Option<Value> {
    let mut fields = serde_json::Map::new();
    match outcome {
        Outcome::Registered(outputs) => {
            fields.extend(outputs.iter().map(|(k, v)| (k.clone(), json!(v))));
            fields.insert("hs_execution_state".into(), json!("SUCCESS"));
        }
        Outcome::Refused(reason) => {
            fields.insert("hs_execution_state".into(), json!("FAIL_CONTINUE"));
            fields.insert("errorMessage".into(), json!(reason));
        }
        Outcome::Blocked => {
            fields.insert("hs_execution_state".into(), json!("BLOCK"));
            fields.insert("hs_expiration_duration".into(), json!(BLOCK_EXPIRATION));
        }
        Outcome::Unavailable(_) => return None,
    }
    Some(Value::Object(fields))
}

/// A callback id as HubSpot writes them (`ap-102-4-…`): kept as a storage
/// key and put in a URL path, so bounded and plain.
pub fn valid_callback_id(id: &str) -> bool {
    (1..=128).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// HubSpot's answer: `outputFields` with `hs_execution_state` for a result;
/// a 503 for a failure HubSpot should retry.
pub fn answer(outcome: &Outcome) -> Answer {
    match (outcome, output_fields(outcome)) {
        (_, Some(fields)) => Answer::json(200, &json!({ "outputFields": fields })),
        (Outcome::Unavailable(reason), None) => Answer::refusal(503, "unavailable", reason),
        (_, None) => Answer::refusal(500, "internal", "no answer for this outcome"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::webhook::{CRM_TIMESTAMP_HEADER, Source};

    const SECRET: &str = "app-client-secret";
    const URL: &str = "https://host.example";
    const NOW_MS: i64 = 1_795_000_000_000;

    fn secrets() -> webhook::CrmSecrets<'static> {
        webhook::CrmSecrets {
            client_secret: Some(SECRET),
            public_url: Some(URL),
        }
    }

    fn delivery(body: &str, headers: Vec<(String, String)>) -> Delivery {
        Delivery {
            source: Source::Crm,
            method: "POST".into(),
            path: ACTION_PATH.into(),
            headers,
            body: body.as_bytes().to_vec(),
            received_at_ms: NOW_MS,
        }
    }

    const BODY: &str = r#"{"callbackId":"ap-102-4","origin":{"portalId":62515},"object":{"objectId":1001,"objectType":"CONTACT"},"inputFields":{"webinar_id":"82000000004"}}"#;

    /// Signed as HubSpot signs v2, computed here from the documented recipe.
    fn v2_headers(secret: &str, body: &str) -> Vec<(String, String)> {
        use sha2::Digest as _;
        let source = format!("{secret}POST{URL}{ACTION_PATH}{body}");
        vec![
            (
                "X-HubSpot-Signature".into(),
                hex::encode(sha2::Sha256::digest(source.as_bytes())),
            ),
            ("X-HubSpot-Signature-Version".into(), "v2".into()),
        ]
    }

    #[test]
    fn r29_a_v2_signed_request_is_read() {
        let request = verify(&delivery(BODY, v2_headers(SECRET, BODY)), secrets()).unwrap();
        assert_eq!(
            request,
            ActionRequest {
                callback_id: "ap-102-4".into(),
                contact_id: "1001".into(),
                webinar_id: Some("82000000004".into()),
            }
        );
    }

    #[test]
    fn r29_unsigned_forged_or_altered_requests_are_refused() {
        let refused = |d: Delivery| {
            let answer = verify(&d, secrets()).unwrap_err();
            assert_eq!(answer.status, 401, "{answer:?}");
        };
        refused(delivery(BODY, Vec::new()));
        refused(delivery(BODY, v2_headers("another-secret", BODY)));
        let altered = BODY.replace("1001", "1002");
        refused(delivery(&altered, v2_headers(SECRET, BODY)));
        // A v2 signature without its version header is not taken for one.
        let mut unversioned = v2_headers(SECRET, BODY);
        unversioned.pop();
        refused(delivery(BODY, unversioned));
    }

    #[test]
    fn r29_a_v3_signature_is_checked_with_its_freshness() {
        let at = NOW_MS.to_string();
        let v3 = |at: &str| {
            vec![
                (
                    CRM_SIGNATURE_HEADER.to_owned(),
                    webhook::crm_signature(
                        SECRET,
                        "POST",
                        &format!("{URL}{ACTION_PATH}"),
                        BODY.as_bytes(),
                        at,
                    ),
                ),
                (CRM_TIMESTAMP_HEADER.to_owned(), at.to_owned()),
            ]
        };
        assert!(verify(&delivery(BODY, v3(&at)), secrets()).is_ok());
        let stale = (NOW_MS - 10 * 60 * 1000).to_string();
        assert_eq!(
            verify(&delivery(BODY, v3(&stale)), secrets())
                .unwrap_err()
                .status,
            401
        );
    }

    #[test]
    fn a_request_without_a_contact_is_a_400() {
        for body in [
            r#"{"inputFields":{}}"#,
            r#"{"object":{"objectId":"../../x"}}"#,
            "not json",
        ] {
            let answer = verify(&delivery(body, v2_headers(SECRET, body)), secrets()).unwrap_err();
            assert_eq!(answer.status, 400, "{body}");
        }
    }

    #[test]
    fn r21_answers_are_hubspots_shapes_and_a_retry_is_a_503() {
        let ok = answer(&Outcome::Registered(vec![(
            "join_url".into(),
            "https://j".into(),
        )]));
        assert_eq!(ok.status, 200);
        let body: Value = serde_json::from_slice(&ok.body).unwrap();
        assert_eq!(body["outputFields"]["hs_execution_state"], "SUCCESS");
        let refused: Value =
            serde_json::from_slice(&answer(&Outcome::Refused("host".into())).body).unwrap();
        assert_eq!(
            refused["outputFields"]["hs_execution_state"],
            "FAIL_CONTINUE"
        );
        assert!(refused.get("retryable").is_none());
        assert_eq!(
            answer(&Outcome::Unavailable("zoom down".into())).status,
            503
        );
    }

    #[test]
    fn r21_a_registration_that_must_wait_blocks_the_contact_for_a_day() {
        let blocked = answer(&Outcome::Blocked);
        assert_eq!(blocked.status, 200);
        let body: Value = serde_json::from_slice(&blocked.body).unwrap();
        assert_eq!(body["outputFields"]["hs_execution_state"], "BLOCK");
        assert_eq!(body["outputFields"]["hs_expiration_duration"], "P1D");
    }

    #[test]
    fn callback_ids_are_bounded_and_plain() {
        assert!(valid_callback_id("ap-102-4-9a_b"));
        for id in ["", "../x", "a b", &"7".repeat(129)] {
            assert!(!valid_callback_id(id), "{id}");
        }
    }
}
