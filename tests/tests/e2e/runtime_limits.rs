//! The runtime's per-call limits, on the real component: a call that runs
//! past its deadline or outgrows its memory fails alone, with an error that
//! says which, and the next call works.

use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use host_sim::fakes::zoom::{self, FakeZoom, ZoomApp};
use host_sim::outbound::{Disposition, Outbound};
use host_sim::runtime::{CallError, Installation, Limits, Runtime, RuntimeOptions};
use host_sim::scenario::{self, GenerateOptions};
use host_sim::sim::StateStore;
use host_sim::storage::Database;

fn runtime(limits: Limits) -> Runtime {
    Runtime::new(
        host_sim::PLUGIN_COMPONENT,
        RuntimeOptions {
            limits,
            ..RuntimeOptions::default()
        },
    )
    .unwrap()
}

fn installation(outbound: Outbound) -> Installation {
    Installation {
        id: "limits".into(),
        storage: Database::in_memory().unwrap().namespace("limits"),
        config: Arc::new(config().plugin_config()),
        outbound: Arc::new(outbound),
        clock: host_sim::clock::Clock::real(),
        syncs: Default::default(),
    }
}

/// A correctly signed delivery of `size` bytes: the guest hashes all of it.
fn large_delivery(size: usize) -> host_sim::bindings::webhooks::Delivery {
    let mut body =
        br#"{"event":"endpoint.url_validation","payload":{"plainToken":"x"},"padding":""#.to_vec();
    body.resize(size, b'a');
    body.extend_from_slice(b"\"}");
    let now_s = host_sim::sim::now_ms() / 1000;
    signed(&body, now_s, 0)
}

async fn assert_the_next_call_works(runtime: &Runtime, installation: &Installation) {
    let now_s = host_sim::sim::now_ms() / 1000;
    let answer = runtime
        .handle_webhook(installation, &signed(URL_VALIDATION, now_s, 0))
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
}

#[tokio::test]
async fn a_guest_busy_past_its_deadline_is_stopped_and_the_next_call_works() {
    // Syncing 2,000 registrants takes the guest far longer than 20 ms.
    let mut scenario = scenario::generate(GenerateOptions {
        webinars: 1,
        registrants: 2000,
        attendees: 1400,
        guests: 0,
        seed: 1,
    });
    scenario.steps.clear();
    let webinar = scenario.zoom.webinars[0].id.to_string();
    let mut config = config();
    config.limits.sync_deadline_ms = 20;
    let sim = scenario::prepare(&scenario, config, StateStore::Memory).unwrap();
    scenario::play(&sim, &scenario, &mut |_| {}).await.unwrap();
    let err = sim
        .runtime
        .sync_now(&sim.installation, &webinar)
        .await
        .unwrap_err();
    assert!(
        matches!(err, CallError::Deadline(d) if d == Duration::from_millis(20)),
        "{err}"
    );
    assert!(err.to_string().contains("deadline"), "{err}");

    assert_the_next_call_works(&sim.runtime, &sim.installation).await;
}

/// A guest that sends more requests than its cap gets the rest refused,
/// and the refusal never leaves the process.
#[tokio::test]
async fn a_guest_past_its_outbound_request_cap_is_refused_the_rest() {
    let mut scenario = scenario::generate(GenerateOptions {
        webinars: 1,
        registrants: 300,
        attendees: 200,
        guests: 0,
        seed: 1,
    });
    scenario.steps.clear();
    // Install alone sends more than five; the sync is what is under test.
    scenario.install = Some(false);
    let webinar = scenario.zoom.webinars[0].id.to_string();
    let mut config = config();
    config.limits.max_outbound_requests = 5;
    let sim = scenario::prepare(&scenario, config, StateStore::Memory).unwrap();
    scenario::play(&sim, &scenario, &mut |_| {}).await.unwrap();
    let before = sim.requests().len();
    let outcome = host_sim::api::sync_now(&sim, &webinar).await;
    assert!(outcome.is_err(), "{outcome:?}");
    let during = &sim.requests()[before..];
    let sent = during
        .iter()
        .filter(|r| !matches!(r.disposition, Disposition::Denied(_)))
        .count();
    assert_eq!(sent, 5, "{during:?}");
    assert!(during.iter().any(|r| matches!(
        &r.disposition,
        Disposition::Denied(reason) if reason.contains("max_outbound_requests")
    )));
    // The sync is pending, not lost: it resumes on a later tick.
    assert!(
        sim.installation
            .storage
            .get(&format!("pending/{webinar}"))
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn a_guest_waiting_on_a_hung_service_is_stopped_at_its_deadline() {
    let runtime = runtime(Limits {
        deadline: Duration::from_millis(300),
        ..Limits::default()
    });
    let config = config();
    let fake = Arc::new(FakeZoom::new(
        ZoomApp {
            account_id: config.zoom.account_id.clone(),
            client_id: config.zoom.client_id.clone(),
            client_secret: config.zoom.client_secret.expose().into(),
        },
        host_sim::clock::Clock::real(),
    ));
    // Zoom's OAuth endpoint answers only after an hour; install asks it first.
    let hung = Outbound::deny_all()
        .allow(zoom::OAUTH_HOST)
        .fake(zoom::OAUTH_HOST, fake)
        .delay(zoom::OAUTH_HOST, Duration::from_secs(3600));
    let installation = installation(hung);
    let err = runtime.install(&installation).await.unwrap_err();
    assert!(matches!(err, CallError::Deadline(_)), "{err}");

    let properties = runtime.contact_properties(&installation).await.unwrap();
    assert_eq!(properties.len(), 4);
}

#[tokio::test]
async fn the_memory_limit_holds_and_the_next_call_works() {
    let runtime = runtime(Limits {
        deadline: Duration::from_secs(10),
        memory_bytes: 16 << 20,
        ..Limits::default()
    });
    let installation = installation(Outbound::deny_all());
    // The delivery alone is twice the guest's memory limit.
    let err = runtime
        .handle_webhook(&installation, &large_delivery(32 << 20))
        .await
        .unwrap_err();
    assert!(
        matches!(err, CallError::MemoryLimit(limit) if limit == 16 << 20),
        "{err}"
    );
    assert!(err.to_string().contains("16 MiB"), "{err}");

    assert_the_next_call_works(&runtime, &installation).await;
}

#[tokio::test]
async fn without_the_pooling_allocator_the_limits_hold_too() {
    let limits = Limits {
        deadline: Duration::from_secs(10),
        memory_bytes: 16 << 20,
        ..Limits::default()
    };
    let runtime = Runtime::new(
        host_sim::PLUGIN_COMPONENT,
        RuntimeOptions {
            limits,
            pooling: false,
            ..RuntimeOptions::default()
        },
    )
    .unwrap();
    let installation = installation(Outbound::deny_all());
    let err = runtime
        .handle_webhook(&installation, &large_delivery(32 << 20))
        .await
        .unwrap_err();
    assert!(matches!(err, CallError::MemoryLimit(_)), "{err}");
    let group = runtime.contact_property_group(&installation).await.unwrap();
    assert_eq!(group.name, "zoom_webinars");
}
