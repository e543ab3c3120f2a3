//! `host-sim bench`: the numbers of issue 8, measured through the real
//! component on the fakes, as one table (and JSON). Build it optimised for
//! numbers worth keeping: `cargo run --release -p host-sim -- bench`.
//!
//! The timed measures are run `runs` times and reported as medians (with
//! the smallest and largest run); the rate-limited sync, a minute of
//! waiting on the CRM's windows, and the fuel count run once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::json;

use crate::api;
use crate::config::HostConfig;
use crate::outbound::{Disposition, Outbound};
use crate::runtime::{Installation, Runtime, RuntimeOptions};
use crate::scenario::{self, GenerateOptions};
use crate::sim::{Simulator, StateStore};
use crate::storage::Database;

mod curve;
pub use curve::curve;

#[derive(Debug, Clone, Copy)]
pub struct BenchOptions {
    pub registrants: usize,
    pub attendees: usize,
    pub deliveries: usize,
    pub calls: usize,
    /// Runs of the timed measures; the table shows their medians.
    pub runs: usize,
}

impl Default for BenchOptions {
    fn default() -> Self {
        Self {
            registrants: 10_000,
            attendees: 7_000,
            deliveries: 20_000,
            calls: 2_000,
            runs: 3,
        }
    }
}

/// What a figure is held to.
#[derive(Debug, Clone, Copy)]
enum Limit {
    Below(f64),
    AtMost(f64),
    AtLeast(f64),
}

impl Limit {
    fn holds(self, value: f64) -> bool {
        match self {
            Limit::Below(limit) => value < limit,
            Limit::AtMost(limit) => value <= limit,
            Limit::AtLeast(limit) => value >= limit,
        }
    }
}

/// One measured figure and the target it is held to.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub measure: String,
    /// The median of the runs.
    pub value: f64,
    pub unit: &'static str,
    /// The target, as text; empty when the figure is only reported.
    pub target: String,
    pub met: Option<bool>,
    /// The smallest and the largest run, and how many there were.
    pub min: f64,
    pub max: f64,
    pub runs: usize,
    #[serde(skip)]
    limit: Option<Limit>,
}

fn row(measure: &str, value: f64, unit: &'static str, target: Option<(&str, Limit)>) -> Row {
    Row {
        measure: measure.into(),
        value,
        unit,
        target: target.map_or(String::new(), |(t, _)| t.into()),
        met: target.map(|(_, limit)| limit.holds(value)),
        min: value,
        max: value,
        runs: 1,
        limit: target.map(|(_, limit)| limit),
    }
}

/// The runs' rows, measure by measure, as medians.
fn medians(runs: Vec<Vec<Row>>) -> Vec<Row> {
    let Some(first) = runs.first() else {
        return Vec::new();
    };
    (0..first.len())
        .map(|i| {
            let mut values: Vec<f64> = runs.iter().map(|rows| rows[i].value).collect();
            values.sort_by(f64::total_cmp);
            let n = values.len();
            let median = if n % 2 == 1 {
                values[n / 2]
            } else {
                (values[n / 2 - 1] + values[n / 2]) / 2.0
            };
            Row {
                value: median,
                met: first[i].limit.map(|limit| limit.holds(median)),
                min: values[0],
                max: values[n - 1],
                runs: n,
                ..first[i].clone()
            }
        })
        .collect()
}

fn sim_failed(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// A simulator holding one generated webinar's account, ready to sync.
async fn generated_webinar(
    options: BenchOptions,
    config: &HostConfig,
    rate_limits: bool,
) -> Result<(Simulator, String), String> {
    let mut generated = scenario::generate(GenerateOptions {
        webinars: 1,
        registrants: options.registrants,
        attendees: options.attendees,
        guests: 10,
        seed: 1,
    });
    let webinar = generated.zoom.webinars[0].id.to_string();
    generated.steps.clear();
    generated.rate_limits = rate_limits;
    let sim =
        scenario::prepare(&generated, config.clone(), StateStore::Memory).map_err(sim_failed)?;
    scenario::play(&sim, &generated, &mut |_| {})
        .await
        .map_err(sim_failed)?;
    Ok((sim, webinar))
}

/// What one sync did: its time, its calls, and the share of the fakes and storage.
struct Synced {
    wall: Duration,
    in_fakes: Duration,
    in_storage: Duration,
    crm_calls: usize,
    crm_refused_429: usize,
    zoom_calls: usize,
    written: u32,
    /// The batch floor: ceil(N / 100) per record kind written, plus the
    /// archived-contacts read and the upsert that find the contacts.
    floor: usize,
}

async fn sync(sim: &Simulator, webinar: &str) -> Result<Synced, String> {
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
    let report = api::sync_now(sim, webinar).await.map_err(sim_failed)?;
    #[cfg(feature = "profiling")]
    eprintln!("PROFILE-END");
    let wall = started.elapsed();
    if report.pending > 0 || report.failed > 0 {
        return Err(format!(
            "the sync did not finish: {} pending, {} failed: {:?}",
            report.pending, report.failed, report.notes
        ));
    }
    let records = sim.installation.outbound.log().records();
    let during = &records[requests_before..];
    let service = |name: &'static str| {
        during
            .iter()
            .filter(move |r| crate::outbound::service_of(&r.host) == name)
    };

    let crm = sim.crm.dump();
    let count = |name: &str, state: Option<&str>| {
        crm[name].as_array().map_or(0, |list| {
            list.iter()
                .filter(|r| state.is_none_or(|s| r["attendanceState"] == s))
                .count()
        })
    };
    let batches = |n: usize| n.div_ceil(100);
    let floor = 3 * batches(count("contacts", None))
        + batches(count("participations", Some("REGISTERED")))
        + batches(count("participations", Some("ATTENDED")))
        + batches(count("participations", Some("CANCELLED")))
        + batches(count("timeline_events", None))
        + 1;
    let refused = |r: &&crate::outbound::RequestRecord| r.disposition == Disposition::Faked(429);
    Ok(Synced {
        wall,
        in_fakes: during.iter().map(|r| r.elapsed).sum(),
        in_storage: sim.runtime.storage_time() - storage_before,
        crm_calls: service("crm").filter(|r| !refused(r)).count(),
        crm_refused_429: service("crm").filter(refused).count(),
        zoom_calls: service("zoom").count(),
        written: report.written,
        floor,
    })
}

/// The full sync of one generated webinar, rate limits off.
async fn full_sync(options: BenchOptions, config: &HostConfig) -> Result<Vec<Row>, String> {
    let (sim, webinar) = generated_webinar(options, config, false).await?;
    let synced = sync(&sim, &webinar).await?;
    let peak = sim.runtime.peak_memory_bytes() as f64 / (1024.0 * 1024.0);
    let ceiling = synced.floor + 5;
    Ok(vec![
        row(
            &format!(
                "full sync, {} registrants / {} attendees: wall time",
                options.registrants, options.attendees
            ),
            synced.wall.as_secs_f64(),
            "s",
            Some(("< 2 s", Limit::Below(2.0))),
        ),
        row(
            "full sync: of which in the fake Zoom and CRM",
            synced.in_fakes.as_secs_f64(),
            "s",
            None,
        ),
        row(
            "full sync: of which in the host's storage (SQLite)",
            synced.in_storage.as_secs_f64(),
            "s",
            None,
        ),
        row(
            "full sync: CRM calls",
            synced.crm_calls as f64,
            "calls",
            Some((
                &format!("<= floor {} + 5", synced.floor),
                Limit::AtMost(ceiling as f64),
            )),
        ),
        row(
            "full sync: Zoom calls",
            synced.zoom_calls as f64,
            "calls",
            None,
        ),
        row(
            "full sync: records written",
            f64::from(synced.written),
            "records",
            None,
        ),
        row(
            "full sync: peak guest memory",
            peak,
            "MiB",
            Some(("< 16 MiB", Limit::Below(16.0))),
        ),
    ])
}

/// The same sync with fuel counted: the guest's instructions.
async fn fuel(options: BenchOptions, config: &HostConfig) -> Result<Vec<Row>, String> {
    let mut config = config.clone();
    config.limits.fuel = true;
    let (sim, webinar) = generated_webinar(options, &config, false).await?;
    let before = sim.runtime.fuel_used().unwrap_or(0);
    let synced = sync(&sim, &webinar).await?;
    let used = sim.runtime.fuel_used().unwrap_or(0) - before;
    Ok(vec![
        row(
            "full sync: guest instructions (fuel)",
            used as f64 / 1e6,
            "million",
            None,
        ),
        row(
            "full sync: guest instructions per record written",
            used as f64 / f64::from(synced.written.max(1)),
            "instr.",
            None,
        ),
    ])
}

/// The full sync against the CRM's real limits (100 calls per 10 s): the
/// plugin waits the windows out (R32); the floor is the calls at that rate.
async fn rate_limited(options: BenchOptions, config: &HostConfig) -> Result<Vec<Row>, String> {
    let (sim, webinar) = generated_webinar(options, config, true).await?;
    // The scenario's clock stands still; the windows need real time.
    sim.clock.run();
    let synced = sync(&sim, &webinar).await?;
    let per_ten_seconds = f64::from(crate::fakes::crm::CrmRateLimits::STARTER.per_ten_seconds);
    let floor = synced.crm_calls as f64 / per_ten_seconds * 10.0;
    let wall = synced.wall.as_secs_f64();
    Ok(vec![
        row(
            "full sync, CRM limits on (100 per 10 s): wall time",
            wall,
            "s",
            Some((
                &format!("<= floor {floor:.1} s + 10 %"),
                Limit::AtMost(floor * 1.1),
            )),
        ),
        row(
            "full sync, CRM limits on: 429 answers waited out",
            synced.crm_refused_429 as f64,
            "answers",
            None,
        ),
    ])
}

/// `participant_joined` deliveries through the component, one at a time.
async fn webhooks(options: BenchOptions, config: &HostConfig) -> Result<Vec<Row>, String> {
    let sim = Simulator::start(config.clone(), StateStore::Memory).map_err(sim_failed)?;
    deliveries(&sim, "81234567890", options.deliveries, "").await
}

/// `count` deliveries of `participant_joined` for `webinar` to `sim`,
/// timed one by one; `label` names the state they met.
async fn deliveries(
    sim: &Simulator,
    webinar: &str,
    count: usize,
    label: &str,
) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    let mut latencies = Vec::with_capacity(count);
    let started = Instant::now();
    for i in 0..count {
        let at = crate::clock::rfc3339(sim.clock.now_ms());
        let body = json!({
            "event": "webinar.participant_joined",
            "event_ts": sim.clock.now_ms(),
            "payload": { "account_id": "AAAAAABBBB", "object": {
                "id": webinar, "uuid": "bench==", "host_id": "h",
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
    let per_second = count as f64 / total.as_secs_f64();
    rows.push(row(
        &format!("webhooks{label}: {count} participant_joined deliveries"),
        per_second,
        "events/s",
        Some((">= 2,000 events/s", Limit::AtLeast(2000.0))),
    ));
    rows.push(row(
        &format!("webhooks{label}: p50 latency"),
        percentile(0.50),
        "ms",
        None,
    ));
    let p99 = percentile(0.99);
    rows.push(row(
        &format!("webhooks{label}: p99 latency"),
        p99,
        "ms",
        Some(("< 5 ms", Limit::Below(5.0))),
    ));
    Ok(rows)
}

/// Instantiate + a trivial export, with and without the pooling allocator.
async fn call_overhead(options: BenchOptions, component: &[u8]) -> Result<Vec<Row>, String> {
    let mut rows = Vec::new();
    let installation = Installation {
        id: "bench".into(),
        storage: Database::in_memory()
            .map_err(sim_failed)?
            .namespace("bench"),
        config: Arc::new(HostConfig::default().plugin_config()),
        outbound: Arc::new(Outbound::deny_all()),
        clock: crate::clock::Clock::real(),
        syncs: Default::default(),
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
            pooling.then_some(("< 50 µs", Limit::Below(50.0))),
        ));
    }
    Ok(rows)
}

/// Every measurement, in the order of the table.
///
/// Only `component` is taken from `config` (to measure another build of
/// the plugin, e.g. an unstripped one for a profile); everything else is
/// the defaults.
pub async fn run(options: BenchOptions, config: &HostConfig) -> Result<Vec<Row>, String> {
    let config = HostConfig {
        component: config.component.clone(),
        ..HostConfig::default()
    };
    let component = crate::sim::component(&config).map_err(sim_failed)?;
    let mut runs = Vec::new();
    for _ in 0..options.runs.max(1) {
        let mut rows = full_sync(options, &config).await?;
        rows.extend(webhooks(options, &config).await?);
        rows.extend(call_overhead(options, &component).await?);
        runs.push(rows);
    }
    let mut rows = medians(runs);
    rows.extend(fuel(options, &config).await?);
    rows.extend(rate_limited(options, &config).await?);
    let kib = component.len() as f64 / 1024.0;
    rows.push(row(
        "component size (release)",
        kib,
        "KiB",
        Some(("< 512 KiB", Limit::Below(512.0))),
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
        let spread = if r.runs > 1 {
            format!("  median of {}: {:.2} .. {:.2}", r.runs, r.min, r.max)
        } else {
            String::new()
        };
        out.push_str(&format!(
            "{:<58} {:>12.2} {:<9} {:<22} {met:<3}{spread}\n",
            r.measure, r.value, r.unit, r.target
        ));
    }
    out
}
