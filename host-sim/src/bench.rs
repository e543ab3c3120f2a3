//! `host-sim bench`: the numbers of issue 8, measured through the real
//! component on the fakes, as one table (and JSON). Build it optimised for
//! numbers worth keeping: `cargo run --release -p host-sim -- bench`.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::json;

use crate::api;
use crate::config::HostConfig;
use crate::outbound::Outbound;
use crate::runtime::{Installation, Runtime, RuntimeOptions};
use crate::scenario::{self, GenerateOptions};
use crate::sim::StateStore;
use crate::storage::Database;

#[derive(Debug, Clone, Copy)]
pub struct BenchOptions {
    pub registrants: usize,
    pub attendees: usize,
    pub deliveries: usize,
    pub calls: usize,
}

impl Default for BenchOptions {
    fn default() -> Self {
        Self {
            registrants: 10_000,
            attendees: 7_000,
            deliveries: 20_000,
            calls: 2_000,
        }
    }
}

/// One measured figure and the target it is held to.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub measure: String,
    pub value: f64,
    pub unit: &'static str,
    /// The target, as text; empty when the figure is only reported.
    pub target: String,
    pub met: Option<bool>,
}

fn row(measure: &str, value: f64, unit: &'static str, target: Option<(&str, bool)>) -> Row {
    Row {
        measure: measure.into(),
        value,
        unit,
        target: target.map_or(String::new(), |(t, _)| t.into()),
        met: target.map(|(_, met)| met),
    }
}

fn sim_failed(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// The full sync of one generated webinar, rate limits off.
async fn full_sync(
    options: BenchOptions,
    config: &HostConfig,
    rows: &mut Vec<Row>,
) -> Result<(), String> {
    let mut generated = scenario::generate(GenerateOptions {
        webinars: 1,
        registrants: options.registrants,
        attendees: options.attendees,
        guests: 10,
        seed: 1,
    });
    let webinar = generated.zoom.webinars[0].id.to_string();
    generated.steps.clear();
    let sim =
        scenario::prepare(&generated, config.clone(), StateStore::Memory).map_err(sim_failed)?;
    scenario::play(&sim, &generated, &mut |_| {})
        .await
        .map_err(sim_failed)?;
    let before = sim.installation.outbound.log().counts_by_service();
    let requests_before = sim.installation.outbound.log().records().len();
    let storage_before = sim.runtime.storage_time();
    sim.runtime.reset_peak_memory();
    // With the `profiling` feature, scripts/profile-full-sync attaches
    // perf to exactly this window: the markers and a pause to attach.
    #[cfg(feature = "profiling")]
    {
        eprintln!("PROFILE-START");
        std::thread::sleep(Duration::from_millis(1500));
    }
    let started = Instant::now();
    let report = api::sync_now(&sim, &webinar).await.map_err(sim_failed)?;
    #[cfg(feature = "profiling")]
    eprintln!("PROFILE-END");
    let wall = started.elapsed();
    let after = sim.installation.outbound.log().counts_by_service();
    let in_fakes: Duration = sim.installation.outbound.log().records()[requests_before..]
        .iter()
        .map(|r| r.elapsed)
        .sum();
    let calls = |service: &str| {
        after.get(service).copied().unwrap_or(0) - before.get(service).copied().unwrap_or(0)
    };

    // The batch floor: ceil(N / 100) per record kind written, plus the
    // archived-contacts read and the upsert that find the contacts.
    let crm = sim.crm.dump();
    let count = |name: &str, state: Option<&str>| {
        crm[name].as_array().map_or(0, |list| {
            list.iter()
                .filter(|r| state.is_none_or(|s| r["attendanceState"] == s))
                .count()
        })
    };
    let batches = |n: usize| n.div_ceil(100);
    let contacts = count("contacts", None);
    let floor = 3 * batches(contacts)
        + batches(count("participations", Some("REGISTERED")))
        + batches(count("participations", Some("ATTENDED")))
        + batches(count("participations", Some("CANCELLED")))
        + batches(count("timeline_events", None))
        + 1;
    let crm_calls = calls("crm");
    rows.push(row(
        &format!(
            "full sync, {} registrants / {} attendees: wall time",
            options.registrants, options.attendees
        ),
        wall.as_secs_f64(),
        "s",
        Some(("< 2 s", wall < Duration::from_secs(2))),
    ));
    rows.push(row(
        "full sync: of which in the fake Zoom and CRM",
        in_fakes.as_secs_f64(),
        "s",
        None,
    ));
    rows.push(row(
        "full sync: of which in the host's storage (SQLite)",
        (sim.runtime.storage_time() - storage_before).as_secs_f64(),
        "s",
        None,
    ));
    rows.push(row(
        "full sync: CRM calls",
        crm_calls as f64,
        "calls",
        Some((&format!("<= floor {floor} + 5"), crm_calls <= floor + 5)),
    ));
    rows.push(row(
        "full sync: Zoom calls",
        calls("zoom") as f64,
        "calls",
        None,
    ));
    rows.push(row(
        "full sync: records written",
        f64::from(report.written),
        "records",
        None,
    ));
    let peak = sim.runtime.peak_memory_bytes() as f64 / (1024.0 * 1024.0);
    rows.push(row(
        "full sync: peak guest memory",
        peak,
        "MiB",
        Some(("< 16 MiB", peak < 16.0)),
    ));
    Ok(())
}

/// `participant_joined` deliveries through the component, one at a time.
async fn webhooks(
    options: BenchOptions,
    config: &HostConfig,
    rows: &mut Vec<Row>,
) -> Result<(), String> {
    let sim =
        crate::sim::Simulator::start(config.clone(), StateStore::Memory).map_err(sim_failed)?;
    let mut latencies = Vec::with_capacity(options.deliveries);
    let started = Instant::now();
    for i in 0..options.deliveries {
        let at = crate::clock::rfc3339(sim.clock.now_ms());
        let body = json!({
            "event": "webinar.participant_joined",
            "event_ts": sim.clock.now_ms(),
            "payload": { "account_id": "AAAAAABBBB", "object": {
                "id": "81234567890", "uuid": "bench==", "host_id": "h",
                "participant": {
                    "user_id": format!("{i}"), "user_name": format!("Person {i}"),
                    "id": format!("p{i}"), "participant_uuid": format!("pu{i}"),
                    "email": format!("person{i}@bench.example"), "join_time": at,
                    "registrant_id": format!("r{i}"),
                },
            } },
        })
        .to_string();
        let delivery = sim.zoom_delivery(body.as_bytes());
        let one = Instant::now();
        let answer = sim.deliver(&delivery).await.map_err(sim_failed)?;
        latencies.push(one.elapsed());
        if answer.status != 200 {
            return Err(format!(
                "delivery {i} answered {}: {}",
                answer.status,
                String::from_utf8_lossy(&answer.body)
            ));
        }
    }
    let total = started.elapsed();
    latencies.sort();
    let percentile = |p: f64| {
        let index = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[index].as_secs_f64() * 1000.0
    };
    let per_second = options.deliveries as f64 / total.as_secs_f64();
    rows.push(row(
        &format!(
            "webhooks: {} participant_joined deliveries",
            options.deliveries
        ),
        per_second,
        "events/s",
        Some((">= 2,000 events/s", per_second >= 2000.0)),
    ));
    rows.push(row("webhooks: p50 latency", percentile(0.50), "ms", None));
    let p99 = percentile(0.99);
    rows.push(row(
        "webhooks: p99 latency",
        p99,
        "ms",
        Some(("< 5 ms", p99 < 5.0)),
    ));
    Ok(())
}

/// Instantiate + a trivial export, with and without the pooling allocator.
async fn call_overhead(
    options: BenchOptions,
    component: &[u8],
    rows: &mut Vec<Row>,
) -> Result<(), String> {
    let installation = Installation {
        id: "bench".into(),
        storage: Database::in_memory()
            .map_err(sim_failed)?
            .namespace("bench"),
        config: Arc::new(HostConfig::default().plugin_config()),
        outbound: Arc::new(Outbound::deny_all()),
        clock: crate::clock::Clock::real(),
    };
    for pooling in [true, false] {
        let runtime = Runtime::new(
            component,
            RuntimeOptions {
                pooling,
                ..RuntimeOptions::default()
            },
        )
        .map_err(sim_failed)?;
        // Warm up: the first instances fault their pages in.
        for _ in 0..20 {
            runtime
                .contact_property_group(&installation)
                .await
                .map_err(sim_failed)?;
        }
        let started = Instant::now();
        for _ in 0..options.calls {
            runtime
                .contact_property_group(&installation)
                .await
                .map_err(sim_failed)?;
        }
        let micros = started.elapsed().as_secs_f64() * 1e6 / options.calls as f64;
        let name = if pooling { "pooling" } else { "on-demand" };
        rows.push(row(
            &format!("per-call overhead ({name} allocator)"),
            micros,
            "µs",
            pooling.then_some(("< 50 µs", micros < 50.0)),
        ));
    }
    Ok(())
}

/// Every measurement, in the order of the table.
///
/// Only `component` is taken from `config` (to measure another build of
/// the plugin, e.g. an unstripped one for a profile); everything else is
/// the defaults, rate limits off.
pub async fn run(options: BenchOptions, config: &HostConfig) -> Result<Vec<Row>, String> {
    let config = HostConfig {
        component: config.component.clone(),
        ..HostConfig::default()
    };
    let component = crate::sim::component(&config).map_err(sim_failed)?;
    let mut rows = Vec::new();
    full_sync(options, &config, &mut rows).await?;
    webhooks(options, &config, &mut rows).await?;
    call_overhead(options, &component, &mut rows).await?;
    let kib = component.len() as f64 / 1024.0;
    rows.push(row(
        "component size (release)",
        kib,
        "KiB",
        Some(("< 512 KiB", kib < 512.0)),
    ));
    Ok(rows)
}

/// The table for people.
pub fn render(rows: &[Row]) -> String {
    let mut out = format!(
        "{:<58} {:>12} {:<9} {:<22} {}\n",
        "measure", "value", "unit", "target", "met"
    );
    for r in rows {
        let met = match r.met {
            Some(true) => "yes",
            Some(false) => "NO",
            None => "",
        };
        out.push_str(&format!(
            "{:<58} {:>12.2} {:<9} {:<22} {met}\n",
            r.measure, r.value, r.unit, r.target
        ));
    }
    out
}
