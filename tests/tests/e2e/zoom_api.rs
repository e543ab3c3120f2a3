//! The Zoom API as it really is, through the component: what the plugin
//! must ask for, read and wait for (R8, R14, R32).

use host_sim::config::HostConfig;
use host_sim::scenario::{self, Outcome, Scenario};

async fn run(toml: &str) -> Outcome {
    let scenario = Scenario::from_toml(toml).unwrap();
    scenario::run(&scenario, HostConfig::default())
        .await
        .unwrap()
}

fn participations<'a>(outcome: &'a Outcome, state: &str) -> Vec<&'a str> {
    let mut emails: Vec<&str> = outcome.crm["participations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["attendanceState"] == state)
        .map(|p| p["email"].as_str().unwrap_or_default())
        .collect();
    emails.sort();
    emails
}

fn contact_emails(outcome: &Outcome) -> Vec<&str> {
    let mut emails: Vec<&str> = outcome.crm["contacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["properties"]["email"].as_str())
        .collect();
    emails.sort();
    emails
}

/// Ada registered with her own address and joined signed in to her
/// employer's Zoom account: the report's row has the other email, and
/// only the registrant id says it is her.
const JOINED_WITH_ANOTHER_EMAIL: &str = r#"
name = "Joined with another email"
start = "2026-11-20T17:00:00Z"

[settings]
global_sync = true
webinar_sync = true

[[zoom.users]]
email = "jchill@acme.example"
first_name = "Jill"

[[zoom.webinars]]
id = 81234567890
host = "jchill@acme.example"
topic = "Pipeline reviews that work"
start_time = "2026-11-20T15:00:00Z"
duration = 60
ran = { start_time = "2026-11-20T15:00:00Z", end_time = "2026-11-20T16:00:00Z" }
registrants = [
    { email = "ada@lovelace.example", first_name = "Ada", last_name = "Lovelace" },
    { email = "alan@turing.example", first_name = "Alan", last_name = "Turing" },
]
participants = [
    { name = "Ada Lovelace", email = "ada@analytical-engines.example", registrant = "ada@lovelace.example", segments = [[0, 60]] },
    { name = "Alan Turing", email = "alan@turing.example", registrant = "alan@turing.example", segments = [[5, 35]] },
]

[[steps]]
do = "sync_now"
webinar = "81234567890"
"#;

/// R8: attendance is joined to the registration by registrant id, which
/// the report gives only with `include_fields=registrant_id`; the email is
/// the fallback.
#[tokio::test]
async fn r8_attendance_joins_the_registration_by_registrant_id_not_the_joining_email() {
    let outcome = run(JOINED_WITH_ANOTHER_EMAIL).await;
    assert_eq!(
        participations(&outcome, "ATTENDED"),
        ["ada@lovelace.example", "alan@turing.example"],
        "{:#}",
        outcome.crm["participations"]
    );
    assert_eq!(
        contact_emails(&outcome),
        ["ada@lovelace.example", "alan@turing.example"],
        "the email Ada joined with is not a second contact"
    );
}

/// The webinar of [`JOINED_WITH_ANOTHER_EMAIL`], a session of a Zoom Event
/// listed after `before` other events.
fn event_webinar_after(before: usize) -> String {
    let mut toml = JOINED_WITH_ANOTHER_EMAIL.replace(
        "[[steps]]",
        "[[zoom.events]]\nid = \"summit-2026\"\nname = \"Annual summit\"\nwebinar_ids = [81234567890]\n\n[[steps]]",
    );
    let others: String = (0..before)
        .map(|i| {
            format!(
                "[[zoom.events]]\nid = \"meetup-{i}\"\nname = \"Meetup {i}\"\nwebinar_ids = []\n\n"
            )
        })
        .collect();
    let at = toml.find("[[zoom.events]]").unwrap();
    toml.insert_str(at, &others);
    toml
}

/// R14: a webinar that is a session of a Zoom Event is never synced, found
/// by the sessions' `webinar_id` on whichever page of events lists it (the
/// plugin reads pages of 300).
#[tokio::test]
async fn r14_a_zoom_events_webinar_on_the_second_page_of_events_is_not_synced() {
    let outcome = run(&event_webinar_after(300)).await;
    assert_eq!(
        contact_emails(&outcome),
        Vec::<&str>::new(),
        "{:#}",
        outcome.crm
    );
    assert!(outcome.crm["participations"].as_array().unwrap().is_empty());
    let audit: Vec<&str> = outcome.audit["81234567890"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["message"].as_str())
        .collect();
    assert!(
        audit.iter().any(|m| m.contains("part of a Zoom Event")),
        "{audit:?}"
    );
}

/// The statuses of the participants report's requests, in order.
fn report_requests(sim: &host_sim::sim::Simulator) -> Vec<u16> {
    sim.installation
        .outbound
        .log()
        .records()
        .into_iter()
        .filter(|r| {
            r.path
                .starts_with("/v2/report/webinars/81234567890/participants")
        })
        .map(|r| match r.disposition {
            host_sim::outbound::Disposition::Faked(status) => status,
            _ => 0,
        })
        .collect()
}

/// R32: a 429 with `Retry-After: 7` waits 7 s on the simulator's clock,
/// once, instead of a second at a time: the retry comes when the clock
/// (which the guest and the fakes share) has moved 7 s, not before.
#[tokio::test]
async fn r32_a_429_with_retry_after_7_waits_7_seconds_on_the_simulators_clock() {
    use std::time::Duration;
    let mut scenario = Scenario::from_toml(JOINED_WITH_ANOTHER_EMAIL).unwrap();
    scenario.steps.clear();
    let (sim, _) = crate::common::played(&scenario).await;
    // Another app of the account spent the report's limit for 7 s.
    sim.zoom.throttle(
        "/v2/report/webinars/81234567890/participants",
        Duration::from_secs(7),
    );
    let started = sim.clock.now_ms();
    let webinar = "81234567890".to_owned();
    let sync = sim.runtime.sync_now(&sim.installation, &webinar);
    let clock = async {
        while report_requests(&sim).is_empty() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Sixty steps of the plugin's pause (20 ms each, counted by its
        // monotonic clock's reads, not by sleeping here): a plugin pausing
        // a second would have asked again (and been refused again) by now.
        let steps = sim.clock.monotonic_reads();
        while sim.clock.monotonic_reads() < steps + 60 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let before_the_clock_moved = report_requests(&sim);
        sim.clock.advance(Duration::from_secs(7));
        before_the_clock_moved
    };
    let (report, before_the_clock_moved) = tokio::join!(sync, clock);
    let report = report.unwrap().unwrap();
    assert_eq!(
        before_the_clock_moved,
        [429],
        "no retry before 7 s on the clock"
    );
    assert_eq!(
        report_requests(&sim),
        [429, 200],
        "one retry, after the wait"
    );
    assert_eq!(sim.clock.now_ms() - started, 7_000);
    assert_eq!((report.failed, report.pending), (0, 0), "{report:?}");
    let attended: Vec<String> = sim.crm.dump()["participations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["attendanceState"] == "ATTENDED")
        .map(|p| p["email"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(attended.len(), 2);
}

/// R32: Zoom's daily limit (a 429 with `X-RateLimit-Type: Daily-limit` and
/// `Retry-After` at the next 00:00 UTC) is not retried: the webinar waits
/// until then, its audit log says so, and the next day's tick syncs it.
#[tokio::test]
async fn r32_zooms_daily_limit_leaves_the_webinar_waiting_until_it_lifts() {
    use std::time::Duration;
    let mut scenario = Scenario::from_toml(JOINED_WITH_ANOTHER_EMAIL).unwrap();
    scenario.steps.clear();
    let (sim, _) = crate::common::played(&scenario).await;
    // The account's heavy requests of the day are spent but one.
    sim.zoom.set_daily_heavy_limit(1);
    let webinar = "81234567890".to_owned();
    let failed = sim
        .runtime
        .sync_now(&sim.installation, &webinar)
        .await
        .unwrap();
    assert!(failed.is_err(), "{failed:?}");
    assert_eq!(report_requests(&sim), [429], "asked once, not again");
    let audit = sim
        .runtime
        .audit_log(&sim.installation, &webinar, 0, 100)
        .await
        .unwrap()
        .unwrap();
    let last = &audit.entries.last().unwrap().message;
    assert!(
        last.contains("will be retried at 2026-11-21T00:00:00Z")
            && last.contains("Zoom's daily limit of 1 Heavy requests for the account was reached"),
        "{last}"
    );

    // Ticks before midnight leave it waiting, without asking Zoom.
    sim.clock.advance(Duration::from_secs(3 * 3600));
    let tick = sim.runtime.tick(&sim.installation).await.unwrap().unwrap();
    assert_eq!(tick.pending, 1, "{tick:?}");
    assert_eq!(report_requests(&sim), [429]);

    // After midnight UTC the limit has lifted: the tick syncs it.
    sim.clock.advance(Duration::from_secs(4 * 3600));
    sim.zoom.set_daily_heavy_limit(30_000);
    let tick = sim.runtime.tick(&sim.installation).await.unwrap().unwrap();
    assert_eq!((tick.pending, tick.failed), (0, 0), "{tick:?}");
    assert_eq!(report_requests(&sim), [429, 200]);
}

/// A row of the `## Zoom` table of docs/api-conformance.md: the method,
/// the host and the path's segments (`{…}` matches any one segment).
struct Row {
    method: String,
    host: String,
    segments: Vec<String>,
}

impl Row {
    fn matches(&self, method: &str, host: &str, path: &str) -> bool {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        self.method == method
            && self.host == host
            && segments.len() == self.segments.len()
            && self
                .segments
                .iter()
                .zip(&segments)
                .all(|(t, s)| (t.starts_with('{') && !s.is_empty()) || t == s)
    }
}

fn zoom_rows() -> Vec<Row> {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/api-conformance.md"),
    )
    .unwrap();
    let section = doc.split("\n## Zoom").nth(1).expect("a `## Zoom` section");
    let section = section.split("\n## ").next().unwrap_or_default();
    section
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let method = *cells.get(1)?;
            if !["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&method) {
                return None;
            }
            let path = cells.get(2)?;
            let (host, path) = match path.strip_prefix('/') {
                Some(path) => ("api.zoom.us", path),
                None => path.split_once('/')?,
            };
            Some(Row {
                method: method.to_owned(),
                host: host.to_owned(),
                segments: path.split('/').map(str::to_owned).collect(),
            })
        })
        .collect()
}

/// docs/api-conformance.md, `## Zoom`: every request the plugin made to
/// Zoom in the example scenarios (webhooks, ticks, sync now, backfill,
/// recordings, the workflow action, Zoom Events) has its row, and every
/// row was made.
#[tokio::test]
async fn the_zoom_conformance_table_lists_every_request_the_plugin_makes() {
    let rows = zoom_rows();
    assert!(rows.len() >= 10, "{} rows", rows.len());
    let mut used = vec![false; rows.len()];
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    for file in files {
        let scenario = Scenario::from_toml(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let (sim, _) = crate::common::played(&scenario).await;
        for record in sim.installation.outbound.log().records() {
            if host_sim::outbound::service_of(&record.host) != "zoom" {
                continue;
            }
            let row = rows
                .iter()
                .position(|row| row.matches(&record.method, &record.host, &record.path));
            match row {
                Some(i) => used[i] = true,
                None => panic!(
                    "{}: {} {}{} has no row in docs/api-conformance.md's Zoom table",
                    file.display(),
                    record.method,
                    record.host,
                    record.path
                ),
            }
        }
    }
    let unused: Vec<String> = rows
        .iter()
        .zip(&used)
        .filter(|(_, used)| !**used)
        .map(|(row, _)| format!("{} {}/{}", row.method, row.host, row.segments.join("/")))
        .collect();
    assert!(unused.is_empty(), "rows no scenario made: {unused:?}");
}

/// Two hosts: jchill's webinar ran before the plugin heard of it (no
/// webhook, no sync now); ann has no webinar licence.
async fn two_hosts_one_past_webinar() -> host_sim::sim::Simulator {
    let toml = JOINED_WITH_ANOTHER_EMAIL.replace(
        "[[zoom.webinars]]",
        "[[zoom.users]]\nemail = \"ann@acme.example\"\nfirst_name = \"Ann\"\n\n[[zoom.webinars]]",
    );
    let mut scenario = Scenario::from_toml(&toml).unwrap();
    scenario.steps.clear();
    let (sim, _) = crate::common::played(&scenario).await;
    sim.zoom.remove_webinar_plan("ann@acme.example");
    sim
}

fn attended(sim: &host_sim::sim::Simulator) -> usize {
    sim.crm.dump()["participations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["attendanceState"] == "ATTENDED")
        .count()
}

/// R1 (issue 18): `GET /users/{userId}/webinars` lists upcoming webinars
/// only, so a backfill finds the past one through the Dashboard (`GET
/// /metrics/webinars?type=past`) and syncs it; a user whose webinars Zoom
/// will not list (no webinar licence, 400 code 200) is skipped, the run
/// says so, and the backfill goes on.
#[tokio::test]
async fn r1_backfill_syncs_a_past_webinar_it_never_heard_of_and_survives_a_user_it_cannot_list() {
    let sim = two_hosts_one_past_webinar().await;
    let report = sim
        .runtime
        .backfill(&sim.installation, None)
        .await
        .unwrap()
        .unwrap();
    assert!(
        report.notes.iter().any(|n| n.starts_with(
            "Zoom user ann@acme.example was skipped: Zoom refused to list the user's webinars (400 code 200: Webinar plan is missing."
        )),
        "{report:?}"
    );
    assert_eq!((report.failed, report.pending), (0, 0), "{report:?}");
    assert_eq!(attended(&sim), 2, "jchill's past webinar was backfilled");
    let asked: Vec<String> = sim
        .installation
        .outbound
        .log()
        .records()
        .iter()
        .filter(|r| r.path == "/v2/metrics/webinars")
        .map(|r| r.path.clone())
        .collect();
    assert_eq!(asked.len(), 6, "six months, a month a request");
}

/// R1: the backfill's `since` is when a webinar ended: one that ended
/// before is not looked at.
#[tokio::test]
async fn r1_a_backfill_since_after_the_past_webinar_leaves_it() {
    let sim = two_hosts_one_past_webinar().await;
    let since = host_sim::clock::parse_rfc3339("2026-11-20T16:30:00Z");
    let report = sim
        .runtime
        .backfill(&sim.installation, since)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(report.written, 0, "{report:?}");
    assert_eq!(attended(&sim), 0);
}

/// R1: an account whose plan has no Dashboard (below Business) still
/// backfills what it can, and the report says in a marketer's words what
/// was not looked up and what to do.
#[tokio::test]
async fn r1_a_plan_without_the_dashboard_backfills_the_rest_and_says_so() {
    let sim = two_hosts_one_past_webinar().await;
    sim.zoom.remove_dashboard();
    let report = sim
        .runtime
        .backfill(&sim.installation, None)
        .await
        .unwrap()
        .unwrap();
    assert!(
        report.notes.iter().any(|n| n.starts_with(
            "Past webinars were not looked up: Zoom's Dashboard, which lists them, needs a Business plan or higher"
        ) && n.contains("sync a past one with sync now and its id")),
        "{report:?}"
    );
    assert_eq!((report.failed, report.pending), (0, 0), "{report:?}");
    assert_eq!(attended(&sim), 0, "the past webinar is not found");
}
