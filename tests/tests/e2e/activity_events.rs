//! Activity events (R10) through each backend, in the real component:
//! the timeline for an app that has it, custom events for one that does
//! not, or none; and segmentation by their attributes (R13) whichever
//! backend wrote them.

use std::path::Path;

use host_sim::config::HostConfig;
use host_sim::scenario::{self, Outcome, Scenario};
use host_sim::segment::{self, EventKind, Filter};
use serde_json::Value;

fn example(name: &str) -> Scenario {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name);
    Scenario::from_toml(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn count(outcome: &Outcome, key: &str) -> usize {
    outcome.crm[key].as_array().map_or(0, Vec::len)
}

/// The activity events of a run, by kind.
fn kinds(outcome: &Outcome) -> Vec<EventKind> {
    let mut kinds: Vec<EventKind> = segment::activity_events(&outcome.crm)
        .filter_map(|e| EventKind::of(e).map(|(k, _)| k))
        .collect();
    kinds.sort_by_key(|k| format!("{k:?}"));
    kinds
}

fn not_written_entries(outcome: &Outcome) -> Vec<String> {
    outcome
        .audit
        .values()
        .flat_map(|entries| entries.as_array().cloned().unwrap_or_default())
        .filter_map(|e| e["message"].as_str().map(str::to_owned))
        .filter(|m| m.starts_with("Activity events (registered, attended, recording available) are not written to contact timelines"))
        .collect()
}

#[tokio::test]
async fn r10_install_succeeds_and_says_what_it_could_not_set_up_when_timeline_access_is_refused() {
    let mut scenario = example("recording-and-transcript.toml");
    scenario.crm.timeline_access = Some(false);
    let outcome = scenario::run(&scenario, HostConfig::default())
        .await
        .unwrap();

    let install = &outcome.steps[0];
    assert_eq!(install.step, "install");
    assert!(
        install.result.starts_with("installed: "),
        "{}",
        install.result
    );
    assert!(
        install.result.contains("not set up: activity events (registered, attended, recording available) on contact timelines: the CRM app has no timeline access"),
        "{}",
        install.result
    );
    // Everything else is written: contacts, the marketing event and its
    // attendance, the properties and the calls.
    assert!(count(&outcome, "contacts") > 0);
    assert!(count(&outcome, "participations") > 0);
    assert!(count(&outcome, "calls") > 0, "{:#}", outcome.crm["calls"]);
    assert!(!outcome.marketing_events.is_empty());
    assert!(
        outcome.crm["contacts"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["properties"]["zoom_webinar_total_attended"] == "1")
    );
    assert_eq!(count(&outcome, "timeline_events"), 0);
    // One audit entry for the webinar, in a marketer's words, though the
    // scenario syncs it more than once and has many records.
    let notes = not_written_entries(&outcome);
    assert_eq!(notes.len(), 1, "{:#?}", outcome.audit);
    assert!(
        notes[0].ends_with("Attendance is on the marketing event."),
        "{}",
        notes[0]
    );
}

#[tokio::test]
async fn r10_r13_custom_events_write_each_activity_once_and_segment_as_timeline_events_do() {
    let scenario = example("clean-webinar.toml");
    let timeline = scenario::run(&scenario, HostConfig::default())
        .await
        .unwrap();
    let mut config = HostConfig::default();
    config.crm.activity_events = "custom-events".into();
    let custom = scenario::run(&scenario, config).await.unwrap();

    assert!(
        // The contacts' group and four properties, the calls' group and key,
        // three custom event definitions, the
        // workflow action's definition (R21).
        custom.steps[0].result.starts_with("installed: 11 created"),
        "{}",
        custom.steps[0].result
    );
    assert_eq!(count(&custom, "timeline_events"), 0);
    // The same events, once each, though the scenario syncs twice more.
    assert!(count(&custom, "custom_events") > 0);
    assert_eq!(kinds(&custom), kinds(&timeline));
    assert!(not_written_entries(&custom).is_empty());
    for event in custom.crm["custom_events"].as_array().unwrap() {
        assert!(event["eventName"].as_str().unwrap().starts_with("pe"));
        assert!(event["properties"]["webinar_id"].as_str() == Some("81234567890"));
    }

    // R13: the same filter selects the same contacts from either backend.
    let attended = Filter {
        event: Some(EventKind::Attendance),
        tokens: vec!["webinar_id=81234567890".parse().unwrap()],
        ..Filter::default()
    };
    let emails = |outcome: &Outcome| -> Vec<String> {
        let mut emails: Vec<String> = segment::select(&outcome.crm, &attended)
            .iter()
            .map(|c: &&Value| c["properties"]["email"].as_str().unwrap().to_owned())
            .collect();
        emails.sort();
        emails
    };
    assert_eq!(emails(&custom).len(), 2, "two attended");
    assert_eq!(emails(&custom), emails(&timeline));
}

#[tokio::test]
async fn r10_activity_events_off_are_not_written_and_the_audit_log_says_so_once() {
    let mut config = HostConfig::default();
    config.crm.activity_events = "off".into();
    let outcome = scenario::run(&example("clean-webinar.toml"), config)
        .await
        .unwrap();
    assert!(
        outcome.steps[0]
            .result
            .contains("crm.activity-events = off"),
        "{}",
        outcome.steps[0].result
    );
    assert_eq!(
        count(&outcome, "timeline_events") + count(&outcome, "custom_events"),
        0
    );
    assert!(count(&outcome, "participations") > 0);
    assert_eq!(not_written_entries(&outcome).len(), 1);
}
