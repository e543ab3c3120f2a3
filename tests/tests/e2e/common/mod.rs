//! Shared set-up for the end-to-end tests: the real component, in the simulator.

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

/// `scenario` played on a fresh simulator with its state in memory, which
/// stays for what a test does next: the simulator and what the scenario did.
pub async fn played(
    scenario: &host_sim::scenario::Scenario,
) -> (Simulator, host_sim::scenario::Outcome) {
    let sim = host_sim::scenario::prepare(scenario, HostConfig::default(), StateStore::Memory)
        .expect("the simulator starts");
    let outcome = host_sim::scenario::play(&sim, scenario, &mut |_| {})
        .await
        .expect("the scenario plays");
    (sim, outcome)
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
    include_bytes!("../../../fixtures/zoom/endpoint.url_validation.json");
