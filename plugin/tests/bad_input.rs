//! Bad input (issue 9; R29): the webhook entry points and the parsers of
//! Zoom's payloads never panic, and every refusal says why.
//!
//! A property-based fuzz run (proptest) seeded with Zoom's real-shaped
//! samples (tests/fixtures/zoomnet, MIT): bodies mutated at the JSON level
//! (a value's type changed, a field removed, values nested hundreds deep)
//! and at the byte level (flipped, cut, invalid UTF-8), signed correctly
//! so that they reach the parsers; and forged, stale and oversized
//! deliveries. CI runs `BAD_INPUT_CASES` cases per property (512 by
//! default); the long run is
//! `BAD_INPUT_CASES=100000 cargo test --release -p zoom-webinars-plugin --test bad_input`.

use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::Value;
use zoom_webinars_plugin::core::intake::{self, Intake};
use zoom_webinars_plugin::core::webhook::{
    self, Answer, CrmSecrets, Delivery, MAX_BODY_BYTES, Recorded, Source, ZoomSecrets,
};
use zoom_webinars_plugin::core::zoom_signature;
use zoom_webinars_plugin::shell::zoom::wire;

const SECRET: &str = "fuzz-webhook-secret";
const CLIENT_SECRET: &str = "fuzz-client-secret";
const PUBLIC_URL: &str = "https://host.example";
const NOW_MS: i64 = 1_800_000_000_000;

/// Zoom's webhook samples and API answers, as shipped with the tests.
fn samples() -> Vec<Value> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/zoomnet");
    let mut out = Vec::new();
    for dir in ["webhooks", "endpoints"] {
        let mut paths: Vec<_> = std::fs::read_dir(format!("{root}/{dir}"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        paths.sort();
        for path in paths {
            let text = std::fs::read_to_string(&path).unwrap();
            out.push(serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}")));
        }
    }
    out
}

fn cases() -> u32 {
    std::env::var("BAD_INPUT_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(512)
}

/// Every value's JSON pointer, the root included.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                pointers(
                    v,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                pointers(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
    out.push(at);
}

#[derive(Debug, Clone)]
enum Mutation {
    /// Replace the value: a number where a string was, null, a list...
    Replace(Value),
    /// Remove it from its object or list.
    Remove,
    /// Wrap it in `depth` lists.
    Nest(usize),
}

fn replacement() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        ".{0,40}".prop_map(Value::String),
        Just(Value::Array(Vec::new())),
        Just(serde_json::json!({})),
        Just(Value::String("2026-13-45T99:99:99Z".into())),
        Just(Value::String("not-an-email@".into())),
        Just(Value::from(u64::MAX)),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        4 => replacement().prop_map(Mutation::Replace),
        2 => Just(Mutation::Remove),
        1 => (1..400usize).prop_map(Mutation::Nest),
    ]
}

fn apply(value: &mut Value, pointer: &str, mutation: &Mutation) {
    match mutation {
        Mutation::Replace(with) => {
            if let Some(slot) = value.pointer_mut(pointer) {
                *slot = with.clone();
            }
        }
        Mutation::Nest(depth) => {
            if let Some(slot) = value.pointer_mut(pointer) {
                let mut nested = slot.take();
                for _ in 0..*depth {
                    nested = Value::Array(vec![nested]);
                }
                *slot = nested;
            }
        }
        Mutation::Remove => {
            let Some((parent, last)) = pointer.rsplit_once('/') else {
                return;
            };
            let key = last.replace("~1", "/").replace("~0", "~");
            match value.pointer_mut(parent) {
                Some(Value::Object(map)) => {
                    map.remove(&key);
                }
                Some(Value::Array(items)) => {
                    if let Ok(i) = key.parse::<usize>()
                        && i < items.len()
                    {
                        items.remove(i);
                    }
                }
                _ => {}
            }
        }
    }
}

/// A sample with up to three mutations, as JSON text.
fn mutated_sample() -> impl Strategy<Value = String> {
    let samples = samples();
    (
        0..samples.len(),
        proptest::collection::vec((any::<prop::sample::Index>(), mutation()), 0..=3),
    )
        .prop_map(move |(i, mutations)| {
            let mut value = samples[i].clone();
            for (at, mutation) in mutations {
                let mut all = Vec::new();
                pointers(&value, String::new(), &mut all);
                let pointer = at.get(&all).clone();
                apply(&mut value, &pointer, &mutation);
            }
            value.to_string()
        })
}

/// Bytes changed: some flipped, the end cut off, invalid UTF-8 put in.
fn mangled(body: String) -> impl Strategy<Value = Vec<u8>> {
    let len = body.len();
    (
        proptest::collection::vec((0..len.max(1), any::<u8>()), 0..6),
        0..=len,
        any::<bool>(),
    )
        .prop_map(move |(flips, cut, invalid)| {
            let mut bytes = body.clone().into_bytes();
            for (at, byte) in flips {
                if at < bytes.len() {
                    bytes[at] = byte;
                }
            }
            bytes.truncate(cut.max(1));
            if invalid {
                bytes.extend_from_slice(&[0xff, 0xfe, 0xc3]);
            }
            bytes
        })
}

fn zoom_delivery(body: &[u8], signed_at_ms: i64) -> Delivery {
    let ts = signed_at_ms / 1000;
    Delivery {
        source: Source::Zoom,
        method: "POST".into(),
        path: "/webhooks/zoom".into(),
        headers: vec![
            ("x-zm-request-timestamp".into(), ts.to_string()),
            (
                "x-zm-signature".into(),
                zoom_signature::sign(SECRET, ts, body),
            ),
        ],
        body: body.to_vec(),
        received_at_ms: NOW_MS,
    }
}

fn crm_delivery(body: &[u8]) -> Delivery {
    let timestamp = NOW_MS.to_string();
    let signature = webhook::crm_signature(
        CLIENT_SECRET,
        "POST",
        &format!("{PUBLIC_URL}/webhooks/crm"),
        body,
        &timestamp,
    );
    Delivery {
        source: Source::Crm,
        method: "POST".into(),
        path: "/webhooks/crm".into(),
        headers: vec![
            ("x-hubspot-request-timestamp".into(), timestamp),
            ("x-hubspot-signature-v3".into(), signature),
        ],
        body: body.to_vec(),
        received_at_ms: NOW_MS,
    }
}

fn zoom(delivery: &Delivery) -> Answer {
    let secrets = ZoomSecrets {
        webhook_secret_token: Some(SECRET),
    };
    webhook::handle_zoom(delivery, secrets, &mut |_: Intake| Ok(Recorded::New))
}

fn crm(delivery: &Delivery) -> Answer {
    let secrets = CrmSecrets {
        client_secret: Some(CLIENT_SECRET),
        public_url: Some(PUBLIC_URL),
    };
    webhook::handle_crm(delivery, secrets, &mut |_| Ok(()))
}

/// Accepted, or refused with a status a sender understands and a reason.
fn answered(answer: &Answer) -> Result<(), TestCaseError> {
    prop_assert!(
        matches!(answer.status, 200 | 400 | 401 | 405 | 413 | 501 | 503),
        "status {}",
        answer.status
    );
    if answer.status != 200 {
        let body: Value = serde_json::from_slice(&answer.body)
            .map_err(|e| TestCaseError::fail(format!("a refusal that is not JSON: {e}")))?;
        let reason = body["reason"].as_str().unwrap_or_default();
        prop_assert!(
            !reason.trim().is_empty(),
            "a refusal without a reason: {body}"
        );
        prop_assert!(
            body["error"].as_str().is_some_and(|e| !e.is_empty()),
            "{body}"
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(Config { cases: cases(), ..Config::default() })]

    #[test]
    fn r29_mutated_zoom_events_are_answered_with_a_reason(body in mutated_sample()) {
        answered(&zoom(&zoom_delivery(body.as_bytes(), NOW_MS)))?;
    }

    #[test]
    fn r29_mangled_bytes_are_answered_with_a_reason(
        body in mutated_sample().prop_flat_map(mangled)
    ) {
        answered(&zoom(&zoom_delivery(&body, NOW_MS)))?;
        answered(&crm(&crm_delivery(&body)))?;
    }

    #[test]
    fn r29_mutated_crm_events_are_answered_with_a_reason(
        object_id in prop_oneof![any::<i64>().prop_map(Value::from), ".{0,12}".prop_map(Value::String), Just(Value::Null)],
        kind in prop_oneof![
            Just("contact.deletion".to_owned()),
            Just("contact.restore".to_owned()),
            Just("contact.privacyDeletion".to_owned()),
            ".{0,20}",
        ],
        as_list in any::<bool>(),
    ) {
        let event = serde_json::json!({
            "eventId": 1, "subscriptionId": 2, "portalId": 3, "occurredAt": NOW_MS,
            "subscriptionType": kind, "objectId": object_id, "attemptNumber": 0,
        });
        let body = if as_list { Value::Array(vec![event]) } else { event };
        answered(&crm(&crm_delivery(body.to_string().as_bytes())))?;
    }

    /// A delivery signed with another secret, or at another time than it
    /// says, never reaches the parsers.
    #[test]
    fn r29_forged_and_replayed_deliveries_are_refused(
        body in mutated_sample(),
        skew_s in prop_oneof![-100_000i64..-301, 301i64..100_000],
    ) {
        let mut forged = zoom_delivery(body.as_bytes(), NOW_MS);
        forged.headers[1].1 = zoom_signature::sign("another-secret", NOW_MS / 1000, body.as_bytes());
        let answer = zoom(&forged);
        prop_assert_eq!(answer.status, 401);
        answered(&answer)?;

        let replayed = zoom_delivery(body.as_bytes(), NOW_MS + skew_s * 1000);
        let answer = zoom(&replayed);
        prop_assert_eq!(answer.status, 401);
        answered(&answer)?;
    }

    /// The parsers of Zoom's objects take any JSON.
    #[test]
    fn zoom_payload_parsers_take_any_json(body in mutated_sample()) {
        let value: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        let event = value["event"].as_str().unwrap_or("webinar.registration_created");
        let _ = intake::parse(event, value["event_ts"].as_i64().unwrap_or(0), &value["payload"]);
        let _ = serde_json::from_value::<wire::Recording>(value["payload"]["object"].clone());
        let _ = serde_json::from_value::<wire::Recording>(value);
    }
}

#[test]
fn r29_an_oversized_body_is_refused_before_it_is_read() {
    let body = vec![b' '; MAX_BODY_BYTES + 1];
    let answer = zoom(&zoom_delivery(&body, NOW_MS));
    assert_eq!(answer.status, 413);
    let answer = crm(&crm_delivery(&body));
    assert_eq!(answer.status, 413);
    let reason: Value = serde_json::from_slice(&answer.body).unwrap();
    assert!(
        reason["reason"].as_str().unwrap().contains("at most"),
        "{reason}"
    );
}

#[test]
fn r29_deeply_nested_json_is_a_clear_400_not_a_stack_overflow() {
    for body in [
        format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
        format!(
            r#"{{"event":"webinar.registration_created","payload":{}{}}}"#,
            "[".repeat(100_000),
            "]".repeat(100_000)
        ),
    ] {
        let answer = zoom(&zoom_delivery(body.as_bytes(), NOW_MS));
        assert_eq!(answer.status, 400);
        let reason: Value = serde_json::from_slice(&answer.body).unwrap();
        assert!(!reason["reason"].as_str().unwrap().is_empty(), "{reason}");
    }
}

#[test]
fn r29_an_object_id_as_a_number_or_a_string_is_the_same_webinar() {
    let sample = |id: Value| {
        let mut event: Value = serde_json::from_str(include_str!(
            "../../tests/fixtures/zoomnet/webhooks/webinar.registration_created.json"
        ))
        .unwrap();
        event["payload"]["object"]["id"] = id;
        let body = event.to_string();
        let answer = zoom(&zoom_delivery(body.as_bytes(), NOW_MS));
        assert_eq!(
            answer.status,
            200,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
        serde_json::from_slice::<Value>(&answer.body).unwrap()["webinar"].clone()
    };
    assert_eq!(
        sample(Value::from(1234567890u64)),
        sample(Value::from("1234567890"))
    );
}
