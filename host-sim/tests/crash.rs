//! Crash safety (issue 9, R30): the simulator killed with SIGKILL at random
//! points of a large sync, then started again, ends in the CRM state of a
//! clean run: nothing lost, nothing doubled.
//!
//! The simulator runs as its own process (`host-sim sync-now`, then
//! `host-sim tick`) with its state in a directory; Zoom and the CRM are
//! fakes served by this test process (`connection.mode = "remote"`), so they
//! outlive every kill, as the real services outlive a crashed host. The
//! kills are placed by request count, not by time: the fakes kill the
//! simulator as the n-th request arrives — before it is applied, or after
//! it is applied and before its answer is sent (the harder case: the CRM
//! wrote, the host never heard). The host's log, at debug level, is
//! searched for the configured credentials.
//!
//! CI: 1,000 registrants and 4 kills. Longer:
//! `CRASH_REGISTRANTS=5000 CRASH_KILLS=12 cargo test -p host-sim --test crash`.

use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use host_sim::api;
use host_sim::clock::{Clock, parse_rfc3339};
use host_sim::compare::{differences, normalized_crm};
use host_sim::config::HostConfig;
use host_sim::fake_server::Fakes;
use host_sim::fakes::crm::{CrmRateLimits, FakeCrm};
use host_sim::fakes::zoom::{FakeZoom, ZoomApp, ZoomRateLimits};
use host_sim::outbound::{FakeRequest, FakeResponse, FakeService};
use host_sim::scenario::{self, Scenario};
use host_sim::sim::{Simulator, StateStore};
use serde_json::Value;

fn number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(default)
}

fn webinar_scenario() -> (Scenario, String) {
    scenario::recorded_webinar(number("CRASH_REGISTRANTS", 1000), 9)
}

/// When the fakes kill the simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Moment {
    /// The n-th request is never applied.
    Before,
    /// The n-th request is applied; its answer never arrives.
    After,
}

/// Kills the simulator's process at the n-th request the fakes receive.
#[derive(Default)]
struct Tripwire {
    requests: AtomicUsize,
    at: Mutex<Option<(usize, Moment)>>,
    pid: Mutex<Option<u32>>,
    kills: AtomicUsize,
}

impl Tripwire {
    /// Arms the wire for a new process: the `at`-th request it sends.
    fn arm(&self, pid: u32, at: Option<(usize, Moment)>) {
        self.requests.store(0, Ordering::SeqCst);
        *self.at.lock().unwrap() = at;
        *self.pid.lock().unwrap() = Some(pid);
    }

    fn disarm(&self) {
        *self.at.lock().unwrap() = None;
        *self.pid.lock().unwrap() = None;
    }

    /// Whether this request is the one to kill at, at `moment`.
    fn due(&self, n: usize, moment: Moment) -> bool {
        *self.at.lock().unwrap() == Some((n, moment))
    }

    fn kill(&self) {
        if let Some(pid) = self.pid.lock().unwrap().take() {
            // SAFETY: kill(2) with a pid this test spawned and has not yet
            // reaped, so it cannot name another process.
            let killed = unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            assert_eq!(killed, 0, "could not kill the simulator");
            self.kills.fetch_add(1, Ordering::SeqCst);
        }
    }
}

/// A fake behind the tripwire.
struct Wired {
    fake: Arc<dyn FakeService>,
    wire: Arc<Tripwire>,
}

impl FakeService for Wired {
    fn handle(&self, request: &FakeRequest) -> FakeResponse {
        let n = self.wire.requests.fetch_add(1, Ordering::SeqCst) + 1;
        if self.wire.due(n, Moment::Before) {
            self.wire.kill();
            return FakeResponse::empty(503);
        }
        let answer = self.fake.handle(request);
        if self.wire.due(n, Moment::After) {
            self.wire.kill();
        }
        answer
    }
}

/// The fake Zoom and CRM of the crash run, served on loopback.
struct RemoteFakes {
    crm: Arc<FakeCrm>,
    wire: Arc<Tripwire>,
    url: String,
}

async fn remote_fakes(scenario: &Scenario) -> RemoteFakes {
    let config = HostConfig::default();
    let start = scenario.start.as_deref().unwrap_or(scenario::DEFAULT_START);
    let clock = Clock::manual(parse_rfc3339(start).unwrap());
    let zoom = Arc::new(
        FakeZoom::new(
            ZoomApp {
                account_id: config.zoom.account_id.clone(),
                client_id: config.zoom.client_id.clone(),
                client_secret: config.zoom.client_secret.expose().to_owned(),
            },
            clock.clone(),
        )
        .with_rate_limits(ZoomRateLimits::OFF),
    );
    zoom.seed(scenario.zoom.clone());
    let crm = Arc::new(
        FakeCrm::new(config.crm.access_token.expose(), clock).with_rate_limits(CrmRateLimits::OFF),
    );
    crm.seed(&scenario.crm);
    let wire = Arc::new(Tripwire::default());
    let wired = |fake: Arc<dyn FakeService>| -> Arc<dyn FakeService> {
        Arc::new(Wired {
            fake,
            wire: wire.clone(),
        })
    };
    let mut fakes = Fakes::new();
    fakes.insert("zoom.us".into(), wired(zoom.clone()));
    fakes.insert("api.zoom.us".into(), wired(zoom));
    fakes.insert("api.hubapi.com".into(), wired(crm.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(host_sim::fake_server::serve(listener, Arc::new(fakes)));
    RemoteFakes { crm, wire, url }
}

fn remote_config(dir: &std::path::Path, fakes: &RemoteFakes) -> HostConfig {
    let mut config = HostConfig {
        state_dir: dir.to_owned(),
        ..HostConfig::default()
    };
    config.connection.mode = host_sim::config::ConnectionMode::Remote;
    config.connection.fakes_url = fakes.url.clone();
    config
}

/// How one run of the simulator's process ended.
struct Ended {
    killed: bool,
    stdout: String,
    stderr: String,
}

/// Runs `host-sim ARGS` on the state in `dir`, killed at `at` if it gets there.
async fn host_sim(
    dir: &std::path::Path,
    fakes: &RemoteFakes,
    args: &[&str],
    at: Option<(usize, Moment)>,
) -> Ended {
    let child = Command::new(env!("CARGO_BIN_EXE_host-sim"))
        .arg("--state-dir")
        .arg(dir)
        .args(args)
        .env("HOST_SIM_CONNECTION_MODE", "remote")
        .env("HOST_SIM_CONNECTION_FAKES_URL", &fakes.url)
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    fakes.wire.arm(child.id(), at);
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    fakes.wire.disarm();
    use std::os::unix::process::ExitStatusExt as _;
    let killed = output.status.signal() == Some(libc::SIGKILL);
    let ended = Ended {
        killed,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    };
    assert!(
        killed || output.status.success(),
        "host-sim {args:?} failed: {}",
        ended.stderr
    );
    ended
}

/// The CRM's records after the webinar synced in one process, no kills,
/// and how many records that sync wrote.
async fn clean_state(scenario: &Scenario, webinar: &str) -> (Value, u32) {
    let sim = scenario::prepare(scenario, HostConfig::default(), StateStore::Memory).unwrap();
    scenario::play(&sim, scenario, &mut |_| {}).await.unwrap();
    let report = api::sync_now(&sim, webinar).await.unwrap();
    (normalized_crm(&sim.crm.dump()), report.written)
}

/// A small deterministic generator for the kill points.
fn kill_points(seed: u64, count: usize, span: usize) -> Vec<(usize, Moment)> {
    let mut state = seed;
    (0..count)
        .map(|i| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let n = 2 + (state >> 33) as usize % span;
            let moment = if i % 2 == 0 {
                Moment::After
            } else {
                Moment::Before
            };
            (n, moment)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn r30_a_sync_killed_at_random_points_resumes_and_ends_in_the_clean_state() {
    let (scenario, webinar) = webinar_scenario();
    let (clean, written) = clean_state(&scenario, &webinar).await;
    let attendees = number("CRASH_REGISTRANTS", 1000) * 7 / 10;
    assert_eq!(clean["calls"], attendees);

    let fakes = remote_fakes(&scenario).await;
    let dir = tempfile::tempdir().unwrap();
    {
        // Install and settings, on the state the processes share.
        let config = remote_config(dir.path(), &fakes);
        let sim =
            Simulator::start(config.clone(), StateStore::Directory(config.state_dir)).unwrap();
        let outcome = scenario::play(&sim, &scenario, &mut |_| {}).await.unwrap();
        assert!(
            outcome.steps.iter().all(|s| !s.result.contains("fail")),
            "{:?}",
            outcome.steps
        );
    }

    // A full sync sends about 110 requests for 1,000 registrants; each
    // restart resumes where the ledger says, so later runs send fewer.
    let kills = kill_points(0x5eed, number("CRASH_KILLS", 4), 60);
    let mut logs = String::new();
    let mut runs = Vec::new();
    for (i, at) in kills.iter().enumerate() {
        // The first run is a person's "sync now"; after a crash, the
        // background tick finishes what the killed run left pending.
        let args: &[&str] = if i == 0 {
            &["sync-now", &webinar]
        } else {
            &["tick"]
        };
        let ended = host_sim(dir.path(), &fakes, args, Some(*at)).await;
        runs.push(format!("{args:?} at {at:?}: killed {}", ended.killed));
        logs.push_str(&ended.stderr);
        if i == 0 {
            assert!(ended.killed, "the first run was not killed: {runs:?}");
        }
    }
    // Ticks until nothing is pending; the killed runs left it pending.
    let mut finished = false;
    let mut last_written = 0;
    for _ in 0..5 {
        let ended = host_sim(dir.path(), &fakes, &["tick", "--json"], None).await;
        logs.push_str(&ended.stderr);
        let report: Value = serde_json::from_str(&ended.stdout).unwrap();
        runs.push(format!("tick: {report}"));
        last_written = report["written"].as_u64().unwrap();
        if report["pending"] == 0 && report["failed"] == 0 {
            finished = true;
            break;
        }
    }
    eprintln!("{}", runs.join("\n"));
    assert!(finished, "still pending after five ticks: {runs:?}");
    let killed = fakes.wire.kills.load(Ordering::SeqCst);
    assert!(killed >= 2, "only {killed} kill(s) landed: {runs:?}");
    // Resumed, not redone: the killed runs' checkpoints kept their work.
    assert!(
        last_written < u64::from(written) / 2,
        "the last run wrote {last_written} of {written} records: {runs:?}"
    );

    let crashed = normalized_crm(&fakes.crm.dump());
    let differences = differences(&crashed, &clean);
    assert!(
        differences.is_empty(),
        "{} difference(s) after {killed} kills:\n{}",
        differences.len(),
        differences.join("\n")
    );

    // Sandbox: the host's own log names no credential.
    let config = HostConfig::default();
    assert!(
        logs.contains("served by the remote fakes"),
        "not a debug log"
    );
    for secret in [
        config.zoom.client_secret.expose(),
        config.zoom.webhook_secret_token.expose(),
        config.crm.access_token.expose(),
        config.crm.client_secret.expose(),
    ] {
        assert!(!logs.contains(secret), "a credential in the host's log");
    }
}
