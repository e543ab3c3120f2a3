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
//! CI: 1,000 registrants, 2 episodes of 2 kills. Longer:
//! `CRASH_REGISTRANTS=5000 CRASH_EPISODES=8 cargo test -p host-sim --test crash`.

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
        }
    }
}

/// A fake behind the tripwire.
struct Wired {
    fake: Arc<dyn FakeService>,
    wire: Arc<Tripwire>,
}

impl FakeService for Wired {
    fn also_serves(&self) -> &'static [&'static str] {
        self.fake.also_serves()
    }

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

/// A sync in one process, no kills.
struct Clean {
    /// The CRM's records after it.
    state: Value,
    /// The records it wrote.
    written: u32,
    /// The requests it sent.
    requests: usize,
}

async fn clean_run(scenario: &Scenario, webinar: &str) -> Clean {
    let sim = scenario::prepare(scenario, HostConfig::default(), StateStore::Memory).unwrap();
    scenario::play(&sim, scenario, &mut |_| {}).await.unwrap();
    let before = sim.requests().len();
    let report = api::sync_now(&sim, webinar).await.unwrap();
    Clean {
        state: normalized_crm(&sim.crm.dump()),
        written: report.written,
        requests: sim.requests().len() - before,
    }
}

/// The kill points: SplitMix64, seeded.
struct Points(u64);

impl Points {
    /// A request number from 1 to `span`.
    fn within(&mut self, span: usize) -> usize {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        1 + ((z ^ (z >> 31)) % span.max(1) as u64) as usize
    }
}

/// What one crash episode did.
struct Episode {
    runs: Vec<String>,
    /// Records the run that finished wrote.
    last_written: u64,
    logs: String,
}

/// A fresh CRM and state; `host-sim sync-now` killed at request `first`,
/// then `host-sim tick` killed at request `second` (a restarted run sends
/// at least the requests the killed one did not get to, so it lands), then
/// ticks until nothing is pending. Returns the CRM's records and the runs.
async fn episode(
    scenario: &Scenario,
    webinar: &str,
    first: (usize, Moment),
    second: (usize, Moment),
) -> (Value, Episode) {
    let fakes = remote_fakes(scenario).await;
    let dir = tempfile::tempdir().unwrap();
    {
        // Install and settings, on the state the processes share.
        let config = remote_config(dir.path(), &fakes);
        let sim =
            Simulator::start(config.clone(), StateStore::Directory(config.state_dir)).unwrap();
        let outcome = scenario::play(&sim, scenario, &mut |_| {}).await.unwrap();
        assert!(
            outcome.steps.iter().all(|s| !s.result.contains("fail")),
            "{:?}",
            outcome.steps
        );
    }
    let mut done = Episode {
        runs: Vec::new(),
        last_written: 0,
        logs: String::new(),
    };
    // A person's "sync now"; after a crash, the background tick finishes
    // what the killed run left pending.
    for (args, at) in [(&["sync-now", webinar][..], first), (&["tick"][..], second)] {
        let ended = host_sim(dir.path(), &fakes, args, Some(at)).await;
        done.runs.push(format!("{args:?} killed at {at:?}"));
        done.logs.push_str(&ended.stderr);
        assert!(ended.killed, "not killed: {:?}", done.runs);
    }
    for _ in 0..5 {
        let ended = host_sim(dir.path(), &fakes, &["tick", "--json"], None).await;
        done.logs.push_str(&ended.stderr);
        let report: Value = serde_json::from_str(&ended.stdout).unwrap();
        done.runs.push(format!("tick: {report}"));
        done.last_written = report["written"].as_u64().unwrap();
        if report["pending"] == 0 && report["failed"] == 0 {
            return (normalized_crm(&fakes.crm.dump()), done);
        }
    }
    panic!("still pending after five ticks: {:?}", done.runs);
}

#[tokio::test(flavor = "multi_thread")]
async fn r30_a_sync_killed_at_random_points_resumes_and_ends_in_the_clean_state() {
    let (scenario, webinar) = webinar_scenario();
    let Clean {
        state: clean,
        written,
        requests,
    } = clean_run(&scenario, &webinar).await;
    let attendees = number("CRASH_REGISTRANTS", 1000) * 7 / 10;
    assert_eq!(clean["calls"], attendees);

    // Each episode kills twice, anywhere in a full sync (95 requests for
    // 1,000 registrants) and then anywhere in what was left, before or
    // after the request is applied.
    let mut points = Points(2);
    let mut logs = String::new();
    let mut resumed = 0;
    let episodes = number("CRASH_EPISODES", 2);
    for i in 0..episodes {
        // The first episode's sync is killed in its last quarter, after a
        // checkpoint for sure (the ledger is saved every 20 write batches):
        // two kills drawn anywhere may both land before the first one, and
        // then nothing tells resumed from redone. The others land anywhere.
        let first = match i {
            0 => requests - requests / 4 + points.within(requests / 4) - 1,
            _ => points.within(requests),
        };
        let second = points.within(requests - first);
        let moments = if i % 2 == 0 {
            (Moment::After, Moment::Before)
        } else {
            (Moment::Before, Moment::After)
        };
        let (state, episode) =
            episode(&scenario, &webinar, (first, moments.0), (second, moments.1)).await;
        eprintln!("episode {i}: {}", episode.runs.join("; "));
        let differences = differences(&state, &clean);
        assert!(
            differences.is_empty(),
            "{} difference(s) after {:?}:\n{}",
            differences.len(),
            episode.runs,
            differences.join("\n")
        );
        if episode.last_written < u64::from(written) {
            resumed += 1;
        }
        logs.push_str(&episode.logs);
    }
    // Resumed, not redone: the killed runs' checkpoints kept their work.
    assert!(resumed > 0, "every last run rewrote all {written} records");

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
