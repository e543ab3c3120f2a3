//! `host-sim demo`: the whole integration in one command. A Zoom account
//! with a launch webinar of about 1,000 registrants (rejoins, guests
//! without email, employees, an account user, a secondary email, a CRM
//! user, a cancellation, a recording with its transcript), a smaller
//! webinar with many of the same people, a Zoom Event session and an
//! upcoming webinar; every webinar's life played as signed webhooks, the
//! ticks that sync it, the workflow action, and a "sync now" repair that
//! finds nothing to repair. The summary reads what the fake CRM holds.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::crm_view::{self, ContactSummary, EventSummary};
use crate::fakes::zoom::model::{Ran, Recording, RecordingFile, Registrant, Webinar};
use crate::scenario::{GenerateOptions, Outcome, Scenario, Step, generate};

pub const LAUNCH: u64 = 82_000_000_001;
pub const ONBOARDING: u64 = 82_000_000_002;
pub const SUMMIT_SESSION: u64 = 82_000_000_003;
pub const ROADMAP: u64 = 82_000_000_004;

const TRANSCRIPT: &str = "WEBVTT

1
00:00:02.000 --> 00:00:06.000
Jill Chill: Welcome to the launch, everyone. Today we ship three things.

2
00:00:06.500 --> 00:00:11.000
Jill Chill: First, segments that update themselves after every webinar.

3
00:01:40.000 --> 00:01:44.000
Person0: Does the attendance percentage count rejoins once?

4
00:01:45.000 --> 00:01:52.000
Jill Chill: Yes: overlapping segments are merged, so time is never counted twice.
";

/// A generated webinar, renamed and moved in time.
fn generated(
    options: GenerateOptions,
    id: u64,
    topic: &str,
    host: &str,
    start: &str,
    minutes: u32,
) -> Webinar {
    let mut webinar = generate(options).zoom.webinars.remove(0);
    let start_ms = crate::clock::parse_rfc3339(start).unwrap_or(0);
    webinar.id = id;
    webinar.topic = topic.into();
    webinar.host = host.into();
    webinar.start_time = start.into();
    webinar.duration = minutes;
    webinar.ran = Some(Ran {
        start_time: start.into(),
        end_time: crate::clock::rfc3339(start_ms + i64::from(minutes) * 60_000),
    });
    webinar
}

fn registrant(email: &str, first: &str, last: &str, status: &str) -> Registrant {
    Registrant {
        id: String::new(),
        email: email.into(),
        first_name: first.into(),
        last_name: last.into(),
        status: status.into(),
        create_time: String::new(),
    }
}

/// The demo: the embedded account plus the two generated webinars, and the steps.
pub fn scenario() -> Scenario {
    let mut scenario = Scenario::from_toml(include_str!("demo.toml"))
        .unwrap_or_else(|e| panic!("the embedded demo scenario is invalid: {e}"));
    let mut launch = generated(
        GenerateOptions {
            webinars: 1,
            registrants: 1000,
            attendees: 650,
            guests: 8,
            seed: 2026,
        },
        LAUNCH,
        "Product launch 2026",
        "jchill@acme.example",
        "2026-11-18T16:00:00Z",
        60,
    );
    // The people the sync must leave out, each for its reason (R5, R8, R16, R17).
    launch.registrants.extend([
        registrant("carl@acme.example", "Carl", "Colleague", "approved"),
        registrant("partner@agency.example", "Pat", "Partner", "approved"),
        registrant("grace@navy.example", "Grace", "Hopper", "approved"),
        registrant("rep@sales.example", "Rita", "Rep", "approved"),
        registrant("cass@example.org", "Cass", "Cancelled", "cancelled"),
    ]);
    launch.recording = Some(Recording {
        files: vec![
            RecordingFile {
                id: String::new(),
                file_type: "MP4".into(),
                status: "completed".into(),
                content: String::new(),
            },
            RecordingFile {
                id: String::new(),
                file_type: "TRANSCRIPT".into(),
                status: "completed".into(),
                content: TRANSCRIPT.into(),
            },
        ],
        deleted: false,
    });
    let onboarding = generated(
        GenerateOptions {
            webinars: 1,
            registrants: 150,
            attendees: 110,
            guests: 3,
            seed: 7,
        },
        ONBOARDING,
        "Customer onboarding",
        "sam.host@acme.example",
        "2026-11-19T17:00:00Z",
        45,
    );
    scenario.zoom.webinars.splice(0..0, [launch, onboarding]);
    let play = |webinar| Step::PlayWebinar {
        webinar,
        shuffle_seed: None,
        times: None,
    };
    scenario.steps = vec![
        play(LAUNCH),
        play(ONBOARDING),
        play(SUMMIT_SESSION),
        Step::Tick,
        Step::AddContactToWebinar {
            contact: "barbara@liskov.example".into(),
            webinar: Some(ROADMAP.to_string()),
            property: None,
        },
        Step::Tick,
        Step::SyncNow {
            webinar: LAUNCH.to_string(),
        },
    ];
    scenario
}

/// An audit entry worth showing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditHighlight {
    pub webinar: String,
    pub kind: String,
    pub message: String,
    pub records: usize,
}

/// What `host-sim demo` prints, also as JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub deliveries: usize,
    pub contacts_in_crm: usize,
    pub contacts_created: usize,
    pub contacts_updated: usize,
    pub marketing_events: Vec<EventSummary>,
    pub timeline_events: BTreeMap<String, usize>,
    pub calls: usize,
    pub calls_with_transcript: usize,
    pub contacts: Vec<ContactSummary>,
    pub steps: Vec<(String, String)>,
    pub audit: Vec<AuditHighlight>,
    pub api_calls: BTreeMap<String, usize>,
    pub wall_time_ms: u128,
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A contact's property as text, empty when it has none.
fn property(contact: &Value, name: &str) -> String {
    text(&contact["properties"][name])
}

/// The plugin wrote to the contact: it has a registration count.
fn touched(contact: &Value) -> bool {
    !property(contact, "zoom_webinar_total_registrations").is_empty()
}

/// R10: activity events by kind, whichever backend wrote them.
fn activity_counts(crm: &Value) -> BTreeMap<String, usize> {
    let mut timeline_events = BTreeMap::new();
    for event in crate::segment::activity_events(crm) {
        use crate::segment::EventKind;
        let kind = match EventKind::of(event).map(|(kind, _)| kind) {
            Some(EventKind::Registration) => "registered",
            Some(EventKind::Attendance) => "attended",
            Some(EventKind::Recording) => "recording available",
            None => "other",
        };
        *timeline_events.entry(kind.to_owned()).or_insert(0) += 1;
    }
    timeline_events
}

/// The contacts with the most webinars, and the existing contact the workflow registered.
fn shown_contacts(contacts: &[Value]) -> Vec<ContactSummary> {
    let mut ranked: Vec<&Value> = contacts.iter().filter(|c| touched(c)).collect();
    ranked.sort_by_key(|c| {
        (
            std::cmp::Reverse(property(c, "zoom_webinar_total_attended")),
            std::cmp::Reverse(property(c, "zoom_webinar_total_registrations")),
            property(c, "email"),
        )
    });
    let mut shown: Vec<&Value> = ranked.into_iter().take(3).collect();
    shown.extend(
        contacts
            .iter()
            .filter(|c| property(c, "email") == "barbara@liskov.example"),
    );
    shown.into_iter().map(crm_view::contact).collect()
}

/// The audit entries other than `synced`, of every webinar.
fn audit_highlights(outcome: &Outcome) -> Vec<AuditHighlight> {
    outcome
        .audit
        .iter()
        .flat_map(|(webinar, entries)| {
            entries
                .as_array()
                .into_iter()
                .flatten()
                .filter(|e| e["kind"] != "synced")
                .map(move |e| AuditHighlight {
                    webinar: webinar.clone(),
                    kind: text(&e["kind"]),
                    message: text(&e["message"]),
                    records: e["records"].as_array().map_or(0, Vec::len),
                })
        })
        .collect()
}

/// Reads the demo's outcome: what the CRM holds and what the audit logs say.
pub fn summarize(scenario: &Scenario, outcome: &Outcome, wall: Duration) -> Summary {
    let crm = &outcome.crm;
    let list = |name: &str| crm[name].as_array().cloned().unwrap_or_default();
    let contacts = list("contacts");
    let seeded = scenario.crm.contacts.len();
    let calls = list("calls");
    let deliveries = outcome
        .steps
        .iter()
        .filter_map(|s| s.result.split_once(" deliveries"))
        .filter_map(|(n, _)| n.parse::<usize>().ok())
        .sum();
    Summary {
        deliveries,
        contacts_in_crm: contacts.len(),
        contacts_created: contacts.len().saturating_sub(seeded),
        contacts_updated: contacts.iter().take(seeded).filter(|c| touched(c)).count(),
        marketing_events: outcome.marketing_events.clone(),
        timeline_events: activity_counts(crm),
        calls: calls.len(),
        calls_with_transcript: calls
            .iter()
            .filter(|c| text(&c["properties"]["hs_call_body"]).contains("Transcript:"))
            .count(),
        contacts: shown_contacts(&contacts),
        steps: outcome
            .steps
            .iter()
            .filter(|s| !s.step.starts_with("play_webinar"))
            .map(|s| (s.step.clone(), s.result.clone()))
            .collect(),
        audit: audit_highlights(outcome),
        api_calls: outcome.api_calls.clone(),
        wall_time_ms: wall.as_millis(),
    }
}

/// The summary for people.
pub fn render(summary: &Summary, state_dir: &str) -> String {
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    line("Zoom webinars -> CRM, on the simulator's fake Zoom and CRM".into());
    line(format!(
        "Played {} signed Zoom webhook deliveries for 3 webinars, then the ticks that sync them.\n",
        summary.deliveries
    ));
    line(format!(
        "Contacts       {} in the CRM: {} created by the plugin, {} existing updated",
        summary.contacts_in_crm, summary.contacts_created, summary.contacts_updated
    ));
    line("Marketing events".into());
    for e in &summary.marketing_events {
        line(format!("  {}", crm_view::event_line(e)));
    }
    let timeline: Vec<String> = summary
        .timeline_events
        .iter()
        .map(|(k, n)| format!("{n} {k}"))
        .collect();
    line(format!("Timeline       {}", timeline.join(", ")));
    line(format!(
        "Calls          {} with the recording, {} of them with the transcript",
        summary.calls, summary.calls_with_transcript
    ));
    line("\nContact properties (R12), a few contacts".into());
    for row in crm_view::contact_lines(&summary.contacts) {
        line(format!("  {row}"));
    }
    line("\nWhat else happened".into());
    for (step, result) in &summary.steps {
        line(format!("  {step}\n    -> {result}"));
    }
    line("\nAudit log highlights (host-sim audit WEBINAR shows all)".into());
    for a in &summary.audit {
        let records = if a.records > 0 {
            format!(" [{} record(s)]", a.records)
        } else {
            String::new()
        };
        line(format!(
            "  {} {:<22} {}{records}",
            a.webinar, a.kind, a.message
        ));
    }
    let calls: Vec<String> = summary
        .api_calls
        .iter()
        .map(|(s, n)| format!("{s} {n}"))
        .collect();
    line(format!(
        "\nAPI calls      {}  (reads in pages of 300, writes in batches of 100)",
        calls.join(", ")
    ));
    line(format!(
        "Wall time      {:.1} s; state kept in {state_dir}",
        summary.wall_time_ms as f64 / 1000.0
    ));
    line(format!(
        "\nNext: host-sim audit {LAUNCH} | host-sim crm search --where 'zoom_webinar_total_attended>=2'"
    ));
    // Issue 22: the same state, as pages.
    line(
        "The console: `host-sim serve`, then open the URL it prints and sign in with the admin token it prints (or `host-sim admin-token`)".to_owned(),
    );
    out
}
