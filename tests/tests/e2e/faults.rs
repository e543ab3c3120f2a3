//! Service faults (issue 9; R29, R32): Zoom and the CRM answering a fifth
//! of their requests with a 5xx, a timeout or a 429 — the CRM's timeouts
//! after it applied the write, so a retry must not write twice — still
//! end, after retries, in the state of a clean run; and a CRM that stays
//! down leaves pending work that completes when it is back.
//!
//! CI runs a 1,000-registrant webinar; the 10,000-registrant run is
//! `FAULTS_REGISTRANTS=10000 cargo test --release -p e2e-tests --test e2e faults::`.

use std::time::Duration;

use host_sim::api;
use host_sim::compare::{differences, normalized_crm};
use host_sim::config::HostConfig;
use host_sim::fakes::FaultPlan;
use host_sim::outbound::Disposition;
use host_sim::scenario::{self, Scenario};
use host_sim::sim::{Simulator, StateStore};
use serde_json::Value;

fn registrants() -> usize {
    std::env::var("FAULTS_REGISTRANTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1000)
}

fn webinar_scenario(faults: Option<FaultPlan>) -> (Scenario, String) {
    let (mut scenario, webinar) = scenario::recorded_webinar(registrants(), 3);
    if let Some(plan) = faults {
        scenario.faults.zoom = FaultPlan {
            seed: 1,
            ..plan.clone()
        };
        scenario.faults.crm = FaultPlan { seed: 2, ..plan };
    }
    (scenario, webinar)
}

async fn simulator(scenario: &Scenario) -> Simulator {
    let sim = scenario::prepare(scenario, HostConfig::default(), StateStore::Memory).unwrap();
    // Install and settings are not under test: they run before the faults
    // matter (they are retried like everything else, but a refused install
    // would end the test early).
    for _ in 0..20 {
        let outcome = scenario::play(&sim, scenario, &mut |_| {}).await.unwrap();
        if outcome
            .steps
            .iter()
            .all(|s| !s.result.contains("failed") && !s.result.contains("refused"))
        {
            break;
        }
    }
    sim
}

/// "Sync now", then ticks (the clock moved past each back-off) until
/// nothing is pending; the ticks it took.
async fn sync_until_done(sim: &Simulator, webinar: &str) -> usize {
    let _ = api::sync_now(sim, webinar).await;
    for ticks in 1..=60 {
        sim.clock.advance(Duration::from_secs(3600));
        if let Ok(report) = api::tick(sim).await
            && report.pending == 0
            && report.failed == 0
            && !sim
                .installation
                .storage
                .list_keys("pending/", None, 10)
                .unwrap()
                .keys
                .iter()
                .any(|k| k.ends_with(webinar))
        {
            return ticks;
        }
    }
    panic!("the sync did not finish within 60 ticks");
}

/// The CRM's records after the webinar synced without faults.
async fn clean_state() -> Value {
    let (scenario, webinar) = webinar_scenario(None);
    let sim = simulator(&scenario).await;
    sync_until_done(&sim, &webinar).await;
    normalized_crm(&sim.crm.dump())
}

fn fault_plan() -> FaultPlan {
    FaultPlan {
        error_rate: 0.10,
        timeout_rate: 0.05,
        timeout_ms: 20,
        rate_limit_rate: 0.05,
        ..FaultPlan::default()
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn r32_a_fifth_of_requests_failing_ends_in_the_clean_state() {
    let clean = clean_state().await;
    // Guests without a registration have no email in the report: not contacts.
    assert_eq!(clean["contacts"].as_array().unwrap().len(), registrants());
    // R11: one call per attendee; the faulty run must not make more.
    assert_eq!(clean["calls"], registrants() * 7 / 10);

    let (scenario, webinar) = webinar_scenario(Some(fault_plan()));
    let sim = simulator(&scenario).await;
    sync_until_done(&sim, &webinar).await;
    let faulty: Value = normalized_crm(&sim.crm.dump());
    let differences = differences(&faulty, &clean);
    assert!(differences.is_empty(), "{}", differences.join("\n"));

    // The faults happened, and the ones that stopped a run are in the
    // webinar's audit log with when it is retried.
    let dispositions: Vec<Disposition> =
        sim.requests().into_iter().map(|r| r.disposition).collect();
    let count = |d: &Disposition| dispositions.iter().filter(|x| *x == d).count();
    eprintln!(
        "{} requests: {} timed out, {} 429, {} 5xx",
        dispositions.len(),
        count(&Disposition::TimedOut),
        count(&Disposition::Faked(429)),
        dispositions
            .iter()
            .filter(|d| matches!(d, Disposition::Faked(500..=599)))
            .count()
    );
    assert!(count(&Disposition::TimedOut) > 0, "no timeouts injected");
    assert!(count(&Disposition::Faked(429)) > 0, "no 429s injected");
    assert!(
        dispositions
            .iter()
            .filter(|d| matches!(d, Disposition::Faked(500..=599)))
            .count()
            > 0,
        "no 5xx injected"
    );
    let audit = api::audit_log(&sim, &webinar).await.unwrap();
    assert!(
        audit
            .iter()
            .any(|e| e.message.contains("will be retried") || e.message.contains("was retried")),
        "{:?}",
        audit.iter().map(|e| &e.message).collect::<Vec<_>>()
    );

    // Sandbox: no credential in what the faults made the plugin say — the
    // audit log, the errors of its calls, the requests' paths.
    let config = HostConfig::default();
    let secrets = [
        config.zoom.client_secret.expose(),
        config.zoom.webhook_secret_token.expose(),
        config.crm.access_token.expose(),
        config.crm.client_secret.expose(),
    ];
    let mut said: Vec<String> = audit
        .iter()
        .flat_map(|e| std::iter::once(e.message.clone()).chain(e.records.clone()))
        .collect();
    said.extend(
        sim.requests()
            .into_iter()
            .map(|r| format!("{} {:?}", r.path, r.disposition)),
    );
    sim.crm.set_faults(FaultPlan {
        error_rate: 1.0,
        ..FaultPlan::default()
    });
    said.push(format!("{:?}", api::sync_now(&sim, &webinar).await));
    for secret in secrets {
        assert!(!secret.is_empty());
        for text in &said {
            assert!(!text.contains(secret), "a credential in {text:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn r32_a_crm_that_stays_down_leaves_pending_work_that_completes_when_it_returns() {
    let clean = clean_state().await;

    let (scenario, webinar) = webinar_scenario(None);
    let sim = simulator(&scenario).await;
    // Down: every CRM request answered 502, for three ticks.
    sim.crm.set_faults(FaultPlan {
        error_rate: 1.0,
        ..FaultPlan::default()
    });
    assert!(api::sync_now(&sim, &webinar).await.is_err());
    for _ in 0..3 {
        sim.clock.advance(Duration::from_secs(3600));
        let _ = api::tick(&sim).await;
    }
    let pending = sim
        .installation
        .storage
        .get(&format!("pending/{webinar}"))
        .unwrap();
    assert!(pending.is_some(), "the work is kept while the CRM is down");
    assert!(
        normalized_crm(&sim.crm.dump())["participations"]
            .as_array()
            .unwrap()
            .is_empty()
    );

    // Back: the next ticks finish the same writes as a clean run.
    sim.crm.set_faults(FaultPlan::default());
    sync_until_done(&sim, &webinar).await;
    assert_eq!(normalized_crm(&sim.crm.dump()), clean);
}
