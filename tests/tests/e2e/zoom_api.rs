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
