//! Shared set-up for the end-to-end tests: the real component, in the simulator.

#![allow(dead_code, reason = "each test binary uses its own part")]

use hmac::{Hmac, Mac};
use host_sim::bindings::webhooks;
use host_sim::config::HostConfig;
use host_sim::sim::{Simulator, StateStore};

pub const SECRET_TOKEN: &str = "e2e-webhook-secret";

pub fn config() -> HostConfig {
    let mut config = HostConfig::default();
    config.zoom.webhook_secret_token = host_sim::config::Secret::new(SECRET_TOKEN);
    config
}

pub fn simulator() -> Simulator {
    Simulator::start(config(), StateStore::Memory).expect("the simulator starts")
}

/// HMAC-SHA256 as hex, computed here rather than by the code under test.
pub fn hmac_hex(key: &str, message: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

/// A Zoom delivery with the given headers, received at `received_at_ms`.
pub fn delivery(
    body: &[u8],
    headers: &[(&str, String)],
    received_at_ms: i64,
) -> webhooks::Delivery {
    webhooks::Delivery {
        source: webhooks::WebhookSource::Zoom,
        method: "POST".into(),
        path: "/webhooks/zoom".into(),
        headers: headers
            .iter()
            .map(|(n, v)| host_sim::sim::header(n, v))
            .collect(),
        body: body.to_vec(),
        received_at: received_at_ms,
    }
}

/// A delivery signed as Zoom signs it, at `timestamp_s`, received `delay_ms` later.
pub fn signed(body: &[u8], timestamp_s: i64, delay_ms: i64) -> webhooks::Delivery {
    let mut message = format!("v0:{timestamp_s}:").into_bytes();
    message.extend_from_slice(body);
    delivery(
        body,
        &[
            ("x-zm-request-timestamp", timestamp_s.to_string()),
            (
                "x-zm-signature",
                format!("v0={}", hmac_hex(SECRET_TOKEN, &message)),
            ),
        ],
        timestamp_s * 1000 + delay_ms,
    )
}

pub fn json(body: &[u8]) -> serde_json::Value {
    serde_json::from_slice(body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)))
}

/// Zoom's own sample of the URL validation challenge.
pub const URL_VALIDATION: &[u8] =
    include_bytes!("../../fixtures/zoom/endpoint.url_validation.json");

/// The CRM's records with the CRM's own ids replaced by the contacts'
/// emails and sorted: two runs that created contacts in a different order
/// (deliveries reordered, a sync in between) compare equal when they wrote
/// the same things.
pub fn normalized_crm(crm: &serde_json::Value) -> serde_json::Value {
    use serde_json::{Value, json};
    let email_of: std::collections::HashMap<String, String> = crm["contacts"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c["id"].to_string().trim_matches('"').to_owned(),
                c["properties"]["email"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let by_email = |id: &Value| {
        let id = id.to_string().trim_matches('"').to_owned();
        json!(email_of.get(&id).cloned().unwrap_or(id))
    };
    let sorted = |mut list: Vec<Value>| {
        list.sort_by_key(|v| v.to_string());
        Value::Array(list)
    };
    let list = |name: &str| crm[name].as_array().cloned().unwrap_or_default();
    let contacts = list("contacts")
        .into_iter()
        .map(|mut c| {
            c["id"] = by_email(&c["id"]);
            c
        })
        .collect();
    let participations = list("participations")
        .into_iter()
        .map(|mut p| {
            p["contactId"] = by_email(&p["contactId"]);
            p
        })
        .collect();
    let timeline = list("timeline_events")
        .into_iter()
        .map(|mut t| {
            if let Some(object) = t.get("objectId").cloned() {
                t["objectId"] = by_email(&object);
            }
            t
        })
        .collect();
    json!({
        "contacts": sorted(contacts),
        "participations": sorted(participations),
        "timeline_events": sorted(timeline),
        // The event's own CRM id depends on when it was made.
        "marketing_events": sorted(
            list("marketing_events")
                .into_iter()
                .map(|mut e| {
                    if let Some(e) = e.as_object_mut() {
                        e.remove("objectId");
                    }
                    e
                })
                .collect()
        ),
        "calls": list("calls").len(),
    })
}

/// What differs between two [`normalized_crm`] states, record by record:
/// `-` only in `got`, `+` only in `expected`.
pub fn differences(got: &serde_json::Value, expected: &serde_json::Value) -> Vec<String> {
    let mut out = Vec::new();
    for (kind, want) in expected.as_object().into_iter().flatten() {
        let have = &got[kind];
        match (have.as_array(), want.as_array()) {
            (Some(have), Some(want)) => {
                for h in have.iter().filter(|h| !want.contains(h)) {
                    out.push(format!("- {kind}: {h}"));
                }
                for w in want.iter().filter(|w| !have.contains(w)) {
                    out.push(format!("+ {kind}: {w}"));
                }
            }
            _ if have != want => out.push(format!("{kind}: {have} != {want}")),
            _ => {}
        }
    }
    out
}
