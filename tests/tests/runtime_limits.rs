//! The runtime's per-call limits, on the real component: a call that runs
//! past its deadline or outgrows its memory fails alone, with an error that
//! says which, and the next call works.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use host_sim::fakes::zoom::{self, FakeZoom, ZoomApp};
use host_sim::outbound::Outbound;
use host_sim::runtime::{CallError, Installation, Limits, Runtime, RuntimeOptions};
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
    let runtime = runtime(Limits {
        deadline: Duration::from_millis(20),
        memory_bytes: 256 << 20,
        ..Limits::default()
    });
    let installation = installation(Outbound::deny_all());
    // Hashing 64 MiB takes the guest far longer than 20 ms.
    let err = runtime
        .handle_webhook(&installation, &large_delivery(64 << 20))
        .await
        .unwrap_err();
    assert!(
        matches!(err, CallError::Deadline(d) if d == Duration::from_millis(20)),
        "{err}"
    );
    assert!(err.to_string().contains("deadline"), "{err}");

    assert_the_next_call_works(&runtime, &installation).await;
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
