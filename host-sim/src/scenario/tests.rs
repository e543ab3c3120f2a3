//! The scenario file's checks, settings changes and step labels.

use super::steps::step_label;
use super::*;
use crate::bindings::settings;

/// A file with one step: `do = kind` and `fields`.
fn one_step(kind: &str, fields: &str) -> Result<Scenario, ScenarioError> {
    Scenario::from_toml(&format!(
        "name = \"x\"\n[[steps]]\ndo = \"{kind}\"\n{fields}\n"
    ))
}

/// Every kind of step: its valid fields parse, and the same fields
/// with a misspelt one are refused naming the step number, the kind
/// and the key.
#[test]
fn every_kind_of_step_refuses_an_unknown_key_naming_the_step_and_the_key() {
    let kinds = [
        (
            "zoom_webhook",
            "event = \"webinar.ended\"\nwebinar = 1\ntimes = 2",
            "webnar = 1",
        ),
        (
            "zoom_webhook",
            "event = \"webinar.participant_joined\"\nwebinar = 1\nparticipant = \"Ada\"",
            "segmnt = 1",
        ),
        (
            "zoom_webhook_raw",
            "body = \"{}\"\nsigning = \"forged\"",
            "signin = \"forged\"",
        ),
        (
            "play_webinar",
            "webinar = 1\nshuffle_seed = 3\ntimes = 2",
            "shufle_seed = 3",
        ),
        (
            "settings",
            "global_sync = true",
            "contact_exclusion_domain = [\"a.example\"]",
        ),
        (
            "crm_webhook",
            "change = \"contact.deletion\"\nemail = \"a@b.example\"",
            "emial = \"a@b.example\"",
        ),
        ("sync_now", "webinar = \"1\"", "webnar = \"x\""),
        (
            "backfill",
            "since = \"2026-01-01T00:00:00Z\"",
            "snce = \"x\"",
        ),
        ("tick", "", "now = true"),
        (
            "add_contact_to_webinar",
            "contact = \"a@b.example\"\nwebinar = \"1\"",
            "webnar = \"1\"",
        ),
        ("complete_recording", "webinar = 1", "webinars = 1"),
        ("advance_clock", "minutes = 5", "hours = 3"),
    ];
    for (kind, valid, wrong) in kinds {
        one_step(kind, valid).unwrap_or_else(|e| panic!("{kind} {valid:?}: {e}"));
        let err = one_step(kind, &format!("{valid}\n{wrong}"))
            .unwrap_err()
            .to_string();
        let key = wrong.split(' ').next().unwrap();
        assert!(
            err.contains(&format!("step 1 ({kind})")) && err.contains(&format!("`{key}`")),
            "{kind} with {wrong:?}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn the_step_number_is_the_failing_steps() {
    let err = Scenario::from_toml(
        "[[steps]]\ndo = \"tick\"\n[[steps]]\ndo = \"advance_clock\"\nminutes = 5\nhours = 3\n",
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("the scenario file is not valid: step 2 (advance_clock)"),
        "{err}"
    );
    let err = Scenario::from_toml("[[steps]]\nwebinar = \"1\"\n")
        .unwrap_err()
        .to_string();
    assert!(err.contains("step 1") && err.contains("`do`"), "{err}");
}

#[test]
fn a_settings_change_keeps_what_it_does_not_name() {
    let current = settings::GlobalSettings {
        global_sync: true,
        webinar_sync: true,
        recording_sync: settings::RecordingSync::AllUsers,
        host_exclusion_domains: vec!["hosts.example".into()],
        recording_exclusion_domains: vec!["recordings.example".into()],
        contact_exclusion_domains: vec!["acme.example".into()],
    };
    let Step::Settings { settings: change } = one_step("settings", "webinar_sync = false")
        .unwrap()
        .steps
        .remove(0)
    else {
        panic!("a settings step");
    };
    let next = change.applied_to(&current);
    assert_eq!(
        next,
        settings::GlobalSettings {
            webinar_sync: false,
            ..current.clone()
        }
    );
    let Step::Settings { settings: change } = one_step(
        "settings",
        "contact_exclusion_domains = []\nrecording_sync = [\"h@acme.example\"]",
    )
    .unwrap()
    .steps
    .remove(0) else {
        panic!("a settings step");
    };
    let next = change.applied_to(&current);
    assert!(next.contact_exclusion_domains.is_empty());
    assert_eq!(
        next.recording_sync,
        settings::RecordingSync::SelectedUsers(vec!["h@acme.example".into()])
    );
    assert_eq!(next.host_exclusion_domains, current.host_exclusion_domains);
}

#[test]
fn a_raw_body_is_summarised_in_the_steps_label() {
    let body = format!(
        "{{\"event\":\"webinar.participant_joined\",\"payload\":{{\"pad\":\"{}\"}}}}",
        "x".repeat(500)
    );
    let step = Step::ZoomWebhookRaw {
        body: body.clone(),
        signing: Signing::Forged,
    };
    let label = step_label(&step);
    assert_eq!(
        label,
        format!(
            "zoom_webhook_raw event=webinar.participant_joined ({} bytes) signing=forged",
            body.len()
        )
    );
}
