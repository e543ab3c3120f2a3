//! The runtime's per-call limits, on the real component: a call that runs
//! past its deadline or outgrows its memory fails alone, with an error that
//! says which, and the next call works.

use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use host_sim::api;
use host_sim::config::HostConfig;
use host_sim::fakes::zoom::{self, FakeZoom, ZoomApp};
use host_sim::outbound::{Disposition, Outbound};
use host_sim::runtime::{CallError, Installation, Limits, Runtime, RuntimeOptions};
use host_sim::scenario::{self, GenerateOptions, Step};
use host_sim::sim::{Simulator, StateStore};
use host_sim::storage::Database;

/// A guest memory that the large webinar below outgrows (its sync peaks at
/// 5.8 MiB) and the small one does not (1.1 MiB).
const MEMORY_MIB: usize = 3;

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

/// R30, R32: a webinar too large for the guest's memory stops the plugin at
/// every try. The other webinars are synced all the same, the marketer reads
/// in its audit log that its syncs stop, and it is tried less and less often.
#[tokio::test(flavor = "multi_thread")]
async fn a_webinar_that_stops_the_plugin_every_time_does_not_hold_up_the_others() {
    let mut generated = scenario::generate(GenerateOptions {
        webinars: 2,
        registrants: 4_000,
        attendees: 0,
        guests: 0,
        seed: 1,
    });
    // The first webinar (first in key order too) is too large; the second,
    // small, is pending by its webhooks.
    let large = generated.zoom.webinars[0].id.to_string();
    let small = &mut generated.zoom.webinars[1];
    small.registrants.truncate(5);
    let small_id = small.id;
    generated.steps = vec![Step::PlayWebinar {
        webinar: small_id,
        shuffle_seed: None,
        times: None,
    }];
    let mut config = HostConfig::default();
    config.limits.memory_mib = MEMORY_MIB;
    let sim = scenario::prepare(&generated, config, StateStore::Memory).unwrap();
    scenario::play(&sim, &generated, &mut |_| {}).await.unwrap();
    let pending = |sim: &Simulator| -> Vec<String> {
        let page = sim
            .installation
            .storage
            .list_keys("pending/", None, 10)
            .unwrap();
        page.keys
    };
    assert_eq!(pending(&sim), [format!("pending/{small_id}")]);

    // "Sync now" of the large one runs out of memory, and leaves it pending.
    let stopped = api::sync_now(&sim, &large).await.unwrap_err();
    assert!(stopped.to_string().contains("memory limit"), "{stopped}");
    // The tick takes the small one first: the large one's run did not end.
    let stopped = api::tick(&sim).await.unwrap_err();
    assert!(stopped.to_string().contains("memory limit"), "{stopped}");
    assert_eq!(pending(&sim), [format!("pending/{large}")]);
    assert_eq!(sim.crm.dump()["contacts"].as_array().unwrap().len(), 5);

    // Each try tells the marketer; from the third, the next waits.
    let told = |entries: &[host_sim::bindings::settings::AuditEntry]| -> Vec<String> {
        entries
            .iter()
            .filter(|e| e.message.contains("stopped before it finished"))
            .map(|e| e.message.clone())
            .collect()
    };
    assert_eq!(told(&api::audit_log(&sim, &large).await.unwrap()).len(), 1);
    assert!(api::tick(&sim).await.is_err());
    let notes = told(&api::audit_log(&sim, &large).await.unwrap());
    assert_eq!(notes.len(), 2);
    assert!(
        notes[1].contains("(attempt 3); if this one stops too, the next waits 30 s"),
        "{notes:?}"
    );
    // Within the back-off the tick leaves it be, and succeeds.
    let report = api::tick(&sim).await.unwrap();
    assert_eq!(report.pending, 1);
    sim.clock.advance(Duration::from_secs(31));
    assert!(api::tick(&sim).await.is_err());
    let notes = told(&api::audit_log(&sim, &large).await.unwrap());
    assert!(
        notes[2].contains("(attempt 4); if this one stops too, the next waits 60 s"),
        "{notes:?}"
    );
}
