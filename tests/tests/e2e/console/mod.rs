//! The operator's console (issue 22) in a real browser, headless Chromium:
//! sign in with the admin token, change settings and see the plugin hold
//! them (R1-R6), "Sync now" a webinar and see its counts change (R20),
//! read and filter its audit log (R19), build a segment (R13). Each page
//! is photographed into `target/console-screenshots/` for a reviewer.
//! Beside it, the console's door without a browser: no session, no CSRF
//! token, another site's form.

mod browser;

use std::sync::Arc;
use std::time::Duration;

use host_sim::api;
use host_sim::config::Secret;
use host_sim::scenario::Scenario;
use host_sim::serve::{ServeOptions, serve};
use host_sim::sim::Simulator;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use browser::Browser;

const TOKEN: &str = "hsa_console-test-token";

/// Sync starts off; one webinar is a Zoom Event's session (R14), one is
/// hosted from an excluded domain (R3), one waits to be synced; an
/// employee attends it (R5 once `acme.example` is excluded).
const SCENARIO: &str = r#"
name = "console"
description = "The console's webinars: sync off, a Zoom Event session, an excluded host."

[settings]
global_sync = false
webinar_sync = false
host_exclusion_domains = ["agency.example"]

[[zoom.users]]
email = "jchill@acme.example"
first_name = "Jill"
last_name = "Chill"

[[zoom.users]]
email = "partner@agency.example"

[[zoom.webinars]]
id = 84000000003
host = "jchill@acme.example"
topic = "Annual summit: keynote"
start_time = "2026-11-20T15:00:00Z"
duration = 30
ran = { start_time = "2026-11-20T15:00:00Z", end_time = "2026-11-20T15:30:00Z" }
registrants = [{ email = "ada@lovelace.example", first_name = "Ada", last_name = "Lovelace" }]

[[zoom.webinars]]
id = 84000000004
host = "jchill@acme.example"
topic = "Office hours"
start_time = "2026-11-20T16:00:00Z"
duration = 30
ran = { start_time = "2026-11-20T16:00:00Z", end_time = "2026-11-20T16:30:00Z" }
registrants = [
  { email = "alan@turing.example", first_name = "Alan", last_name = "Turing" },
  { email = "grace@hopper.example", first_name = "Grace", last_name = "Hopper" },
  { email = "sam@acme.example", first_name = "Sam", last_name = "Staff" },
]
participants = [
  { name = "Alan Turing", email = "alan@turing.example", registrant = "alan@turing.example", segments = [[0, 30]] },
  { name = "Sam Staff", email = "sam@acme.example", registrant = "sam@acme.example", segments = [[0, 30]] },
]

[[zoom.webinars]]
id = 84000000005
host = "partner@agency.example"
topic = "Partner briefing"
start_time = "2026-11-20T17:00:00Z"
duration = 30
ran = { start_time = "2026-11-20T17:00:00Z", end_time = "2026-11-20T17:30:00Z" }
registrants = [{ email = "linus@kernel.example", first_name = "Linus", last_name = "T" }]

[[zoom.events]]
id = "summit-2026"
name = "Annual summit"
webinar_ids = [84000000003]

[[steps]]
do = "play_webinar"
webinar = 84000000003

[[steps]]
do = "play_webinar"
webinar = 84000000004

[[steps]]
do = "play_webinar"
webinar = 84000000005

[[steps]]
do = "advance_clock"
minutes = 60
"#;

const OFFICE_HOURS: &str = "84000000004";

/// `serve` on a free loopback port over the scenario's simulator, with
/// the background tick out of the way (a test's "Sync now" is what syncs).
async fn server() -> (Arc<Simulator>, String, tokio::sync::oneshot::Sender<()>) {
    let scenario = Scenario::from_toml(SCENARIO).expect("the console's scenario");
    let (sim, _) = crate::common::played(&scenario).await;
    let sim = Arc::new(sim);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let mut options = ServeOptions::new(&sim.config, Secret::new(TOKEN), address);
    options.tick_every = Duration::from_secs(3600);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, sim.clone(), options, async {
        let _ = stopped.await;
    }));
    (sim, format!("http://{address}"), stop)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r1_r6_r13_r19_r20_the_console_in_chromium() {
    let (sim, base, _stop) = server().await;
    let b = Browser::start(1280, 1100).await;

    // Signing in: the console is the operator's.
    b.goto(&format!("{base}/")).await;
    assert!(
        b.url().await.ends_with("/console/sign-in"),
        "{}",
        b.url().await
    );
    b.type_into("#token", "not-the-token").await;
    b.submit("form button[type=submit]").await;
    assert!(
        b.text("#token-error")
            .await
            .contains("not this server's admin token")
    );
    b.screenshot("console-sign-in").await;
    b.type_into("#token", TOKEN).await;
    b.submit("form button[type=submit]").await;
    assert!(
        b.url().await.ends_with("/console/webinars"),
        "{}",
        b.url().await
    );

    webinars_before_sync(&b).await;
    change_settings(&b, &sim, &base).await;
    sync_now(&b, &base).await;
    recordings_of_selected_users(&b, &sim, &base).await;
    audit_log(&b, &base).await;
    segment(&b, &base).await;

    // Readable at phone width: the tables become labelled blocks.
    b.client.set_window_size(390, 1400).await.unwrap();
    b.goto(&format!("{base}/console/webinars")).await;
    b.screenshot("console-webinars-phone").await;

    // Signing out ends the session.
    b.submit("form[action='/console/sign-out'] button").await;
    b.goto(&format!("{base}/console/settings")).await;
    assert!(b.url().await.ends_with("/console/sign-in"));
    b.close().await;
}

/// Every state at once: sync off (R1), a Zoom Event (R14), excluded (R3).
async fn webinars_before_sync(b: &Browser) {
    let state = |id: &str| format!("#webinar-{id} .badge");
    assert_eq!(b.text(&state(OFFICE_HOURS)).await, "sync off");
    assert_eq!(b.text(&state("84000000003")).await, "Zoom Event");
    assert_eq!(b.text(&state("84000000005")).await, "excluded");
    assert_eq!(
        b.text(&format!("#webinar-{OFFICE_HOURS} .registered"))
            .await,
        "0"
    );
    b.screenshot("console-webinars-before").await;
}

async fn change_settings(b: &Browser, sim: &Simulator, base: &str) {
    b.goto(&format!("{base}/console/settings")).await;
    // R1: webinar sync without global sync is refused, with the plugin's
    // reason next to the field, and nothing is stored.
    b.set_checked("#webinar_sync", true).await;
    b.submit("#save-global").await;
    let refusal = b.text("#webinar_sync-error").await;
    assert!(refusal.contains("global sync"), "{refusal}");
    assert_eq!(
        b.client
            .find(fantoccini::Locator::Css("#webinar_sync"))
            .await
            .unwrap()
            .attr("aria-invalid")
            .await
            .unwrap()
            .as_deref(),
        Some("true")
    );
    b.screenshot("console-settings-refused").await;
    assert!(!api::global_settings(sim).await.unwrap().webinar_sync);

    // R1, R2, R5: both switches, recordings for everyone, employees excluded.
    b.set_checked("#global_sync", true).await;
    b.set_checked("#webinar_sync", true).await;
    b.click("#rec-all").await;
    b.type_into("#contact_exclusion_domains", "acme.example")
        .await;
    b.type_into("#recording_exclusion_domains", "agency.example")
        .await;
    b.submit("#save-global").await;
    let saved = b.text("#flash").await;
    assert!(saved.contains("Global sync (R1): off → on"), "{saved}");
    assert!(
        saved.contains("Contact exclusions (R5): added acme.example"),
        "{saved}"
    );
    let global = api::global_settings(sim).await.unwrap();
    assert!(global.global_sync && global.webinar_sync, "{global:?}");
    assert_eq!(global.contact_exclusion_domains, ["acme.example"]);
    assert_eq!(global.recording_exclusion_domains, ["agency.example"]);
    assert_eq!(global.host_exclusion_domains, ["agency.example"]);
    assert_eq!(
        global.recording_sync,
        host_sim::bindings::settings::RecordingSync::AllUsers
    );
    b.screenshot("console-settings-saved").await;

    // R6b: a user's recordings off; R6c: the webinar switched on.
    b.set_checked("#user-1-rec", false).await;
    b.submit("#user-1 button").await;
    assert!(b.text("#flash").await.contains("(R6b) on → off"));
    let user = api::user_settings(sim, "jchill@acme.example")
        .await
        .unwrap();
    assert!(user.sync_new_webinars && !user.sync_recordings, "{user:?}");
    // R6a: the partner's new webinars stop syncing by default.
    b.set_checked("#user-2-new", false).await;
    b.submit("#user-2 button").await;
    assert!(b.text("#flash").await.contains("(R6a) on → off"));
    let partner = api::user_settings(sim, "partner@agency.example")
        .await
        .unwrap();
    assert!(!partner.sync_new_webinars, "{partner:?}");
    b.select(&format!("#sync-{OFFICE_HOURS}"), "on").await;
    b.submit(&format!("#webinar-{OFFICE_HOURS} button")).await;
    assert!(
        b.text("#flash")
            .await
            .contains("follows the host's default → on")
    );
    let switch = api::webinar_settings(sim, OFFICE_HOURS).await.unwrap();
    assert_eq!(switch.sync_enabled, Some(true));
}

/// R20: "Sync now" runs in the background; its page shows the result, and
/// the webinar's counts change.
async fn sync_now(b: &Browser, base: &str) {
    b.goto(&format!("{base}/console/webinars")).await;
    assert_eq!(
        b.text(&format!("#webinar-{OFFICE_HOURS} .badge")).await,
        "pending"
    );
    b.submit(&format!("#webinar-{OFFICE_HOURS} button")).await;
    assert!(
        b.url().await.contains("/console/jobs/"),
        "{}",
        b.url().await
    );
    b.wait_for_attr("#job", "data-running", "false").await;
    let status = b.text("#job-status").await;
    assert!(
        status.contains("done") && status.contains("written"),
        "{status}"
    );
    b.screenshot("console-sync-now").await;

    b.goto(&format!("{base}/console/webinars")).await;
    let cell = |class: &str| format!("#webinar-{OFFICE_HOURS} .{class}");
    assert_eq!(
        b.text(&format!("#webinar-{OFFICE_HOURS} .badge")).await,
        "synced"
    );
    // Sam is an employee (R5): two registrations, one attendee count.
    assert_eq!(b.text(&cell("registered")).await, "2");
    assert_eq!(b.text(&cell("attended")).await, "1");
    b.screenshot("console-webinars").await;

    // R1: a backfill is long work: a job of its own, watched on its page.
    b.type_into("#since", "11/01/2026").await;
    b.submit("#backfill button").await;
    b.wait_for_attr("#job", "data-running", "false").await;
    let status = b.text("#job-status").await;
    assert!(status.contains("done"), "{status}");
    assert!(b.text("main h1").await.contains("since 2026-11-01"));
}

/// R2 with selected users: the account's users offered as checkboxes.
async fn recordings_of_selected_users(b: &Browser, sim: &Simulator, base: &str) {
    b.goto(&format!("{base}/console/settings")).await;
    b.click("#rec-selected").await;
    b.set_checked("#rec-user-1", true).await;
    b.submit("#save-global").await;
    let saved = b.text("#flash").await;
    assert!(
        saved.contains("all users → selected users (jchill@acme.example)"),
        "{saved}"
    );
    assert_eq!(
        api::global_settings(sim).await.unwrap().recording_sync,
        host_sim::bindings::settings::RecordingSync::SelectedUsers(vec![
            "jchill@acme.example".into()
        ])
    );
}

/// R19: newest first, filtered by kind, with the records and the excluded emails.
async fn audit_log(b: &Browser, base: &str) {
    b.goto(&format!("{base}/console/webinars/{OFFICE_HOURS}"))
        .await;
    let kinds = all_attrs(b, ".entry", "data-kind").await;
    assert!(kinds.len() >= 3, "{kinds:?}");
    assert!(
        kinds.contains(&"synced".to_owned()) && kinds.contains(&"sync-setting-off".to_owned()),
        "{kinds:?}"
    );
    // Newest first: the sync-off entries came before the sync.
    let first_off = kinds.iter().position(|k| k == "sync-setting-off").unwrap();
    let first_synced = kinds.iter().position(|k| k == "synced").unwrap();
    assert!(first_synced < first_off, "{kinds:?}");
    let excluded = b.text("#excluded").await;
    assert!(excluded.contains("sam@acme.example"), "{excluded}");
    b.screenshot("console-audit").await;

    b.select("#kind", "emails-excluded").await;
    b.submit("#filter button").await;
    let kinds = all_attrs(b, ".entry", "data-kind").await;
    assert!(
        !kinds.is_empty() && kinds.iter().all(|k| k == "emails-excluded"),
        "{kinds:?}"
    );
    assert!(b.text(".entry .records").await.contains("sam@acme.example"));
    assert!(b.text("#shown").await.contains("of kind emails-excluded"));
    b.screenshot("console-audit-filtered").await;
}

async fn all_attrs(b: &Browser, css: &str, attribute: &str) -> Vec<String> {
    let mut values = Vec::new();
    for element in b
        .client
        .find_all(fantoccini::Locator::Css(css))
        .await
        .unwrap()
    {
        values.push(element.attr(attribute).await.unwrap().unwrap_or_default());
    }
    values
}

/// R12, R13: the CRM's contacts and events, and a segment of attendees.
async fn segment(b: &Browser, base: &str) {
    b.goto(&format!("{base}/console/crm")).await;
    assert!(b.text("#events").await.contains("Office hours"));
    b.screenshot("console-crm").await;

    b.goto(&format!("{base}/console/crm/segment")).await;
    b.select("#pname0", "zoom_webinar_total_attended").await;
    b.select("#pop0", ">=").await;
    b.type_into("#pvalue0", "1").await;
    b.select("#event", "attendance").await;
    b.select("#tname0", "attendance_percentage").await;
    b.select("#top0", ">=").await;
    b.type_into("#tvalue0", "50").await;
    b.submit("#find").await;
    assert_eq!(b.text("#match-count").await, "1 contact(s) match.");
    let table = b.text(".contacts").await;
    assert!(
        table.contains("alan@turing.example") && !table.contains("grace@hopper.example"),
        "{table}"
    );
    b.screenshot("console-segment").await;
}

/// The console's door spoken to over raw HTTP/1.1, without a browser.
struct Door {
    host: String,
}

impl Door {
    /// One request; the whole answer as text.
    async fn send(&self, request: String) -> String {
        let mut stream = tokio::net::TcpStream::connect(&self.host).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        String::from_utf8_lossy(&answer).into_owned()
    }

    async fn get(&self, path: &str, headers: &str) -> String {
        let host = &self.host;
        self.send(format!(
            "GET {path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n{headers}\r\n"
        ))
        .await
    }

    /// A form posted (`headers`: extra lines, each ending in CRLF).
    async fn post(&self, path: &str, headers: &str, body: &str) -> String {
        let host = &self.host;
        self.send(format!(
            "POST {path} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/x-www-form-urlencoded\r\ncontent-length: {}\r\nconnection: close\r\n{headers}\r\n{body}",
            body.len()
        ))
        .await
    }

    /// Signs in with the token: the session's `Cookie` header line.
    async fn sign_in(&self) -> String {
        let answer = self
            .post("/console/sign-in", "", &format!("token={TOKEN}"))
            .await;
        assert!(answer.starts_with("HTTP/1.1 303"), "{answer}");
        // A session cookie no script and no other site's page sees.
        let cookie = header(&answer, "set-cookie").expect("a session cookie");
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        format!("cookie: {}\r\n", cookie.split(';').next().unwrap())
    }
}

fn header<'a>(answer: &'a str, name: &str) -> Option<&'a str> {
    answer
        .split("\r\n\r\n")
        .next()?
        .lines()
        .find_map(|l| {
            l.split_once(": ")
                .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        })
        .map(|(_, v)| v)
}

/// The CSRF token in a page's forms.
fn csrf_of(page: &str) -> String {
    page.split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("a CSRF token in the form")
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_needs_a_session_and_its_csrf_token_and_refuses_other_sites() {
    let (sim, base, _stop) = server().await;
    let door = Door {
        host: base.trim_start_matches("http://").to_owned(),
    };
    // No session: pages send to the sign-in; a wrong token is refused.
    let answer = door.get("/console/settings", "").await;
    assert!(answer.starts_with("HTTP/1.1 303"), "{answer}");
    assert_eq!(header(&answer, "location"), Some("/console/sign-in"));
    let answer = door.post("/console/sign-in", "", "token=wrong").await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(header(&answer, "set-cookie").is_none());

    let cookie = door.sign_in().await;
    // A page: its policies, and the CSRF token in its forms.
    let page = door.get("/console/settings", &cookie).await;
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert_eq!(header(&page, "x-frame-options"), Some("DENY"));
    let policy = header(&page, "content-security-policy").unwrap();
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    let csrf = csrf_of(&page);

    // With the cookie but without the token, or with another: refused.
    let change = "global_sync=on&webinar_sync=on";
    let forged = format!("{change}&csrf=0{}", &csrf[1..]);
    for body in [change, forged.as_str()] {
        let answer = door.post("/console/settings", &cookie, body).await;
        assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    }
    // Another site's form, even with the token: refused by its Origin.
    let evil = format!("{cookie}origin: http://evil.example\r\n");
    let with_token = format!("{change}&csrf={csrf}");
    let answer = door.post("/console/settings", &evil, &with_token).await;
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert!(!api::global_settings(&sim).await.unwrap().global_sync);

    // Only GET and forms: a PUT with the session changes nothing.
    let host = &door.host;
    let put = door
        .send(format!(
            "PUT /console/settings HTTP/1.1\r\nhost: {host}\r\n{cookie}content-length: 0\r\nconnection: close\r\n\r\n"
        ))
        .await;
    assert!(put.starts_with("HTTP/1.1 405"), "{put}");

    // The session is not the JSON routes' credential: they keep the bearer token.
    let answer = door.get("/settings", &cookie).await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    let bearer = format!("authorization: Bearer {TOKEN}\r\n");
    assert!(
        door.get("/settings", &bearer)
            .await
            .starts_with("HTTP/1.1 200")
    );

    // The cookie and the token together change it; sign-out ends the session.
    let answer = door.post("/console/settings", &cookie, &with_token).await;
    assert!(answer.starts_with("HTTP/1.1 303"), "{answer}");
    assert!(api::global_settings(&sim).await.unwrap().global_sync);
    let answer = door
        .post("/console/sign-out", &cookie, &format!("csrf={csrf}"))
        .await;
    assert!(
        header(&answer, "set-cookie").unwrap().contains("Max-Age=0"),
        "{answer}"
    );
    let answer = door.get("/console/settings", &cookie).await;
    assert!(answer.starts_with("HTTP/1.1 303"), "{answer}");
}
