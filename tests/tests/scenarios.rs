//! Every example scenario under `tests/scenarios/` runs through the real
//! component, and its outcome (the CRM's records, the audit logs, the API
//! calls per service) is a snapshot (R28). As sync behaviour lands, these
//! snapshots show what changed in the mapped records.

use std::path::{Path, PathBuf};

use host_sim::config::HostConfig;
use host_sim::scenario::{self, GenerateOptions, Scenario, Step};

fn examples() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    files
}

#[test]
fn there_are_at_least_five_documented_examples() {
    let files = examples();
    assert!(files.len() >= 5, "{files:?}");
    let docs =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/scenarios.md"))
            .unwrap();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy();
        assert!(
            docs.contains(&*name),
            "docs/scenarios.md does not mention {name}"
        );
    }
}

#[tokio::test]
async fn every_example_runs_and_its_outcome_is_snapshotted() {
    for file in examples() {
        let scenario = Scenario::from_toml(&std::fs::read_to_string(&file).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let outcome = scenario::run(&scenario, HostConfig::default())
            .await
            .unwrap();
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        insta::assert_json_snapshot!(name, outcome);
    }
}

#[tokio::test]
async fn raw_deliveries_are_verified_as_zoom_signs_them() {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/deliveries-and-action.toml"),
    )
    .unwrap();
    let outcome = scenario::run(&Scenario::from_toml(&text).unwrap(), HostConfig::default())
        .await
        .unwrap();
    let statuses: Vec<&str> = outcome
        .steps
        .iter()
        .filter(|s| s.step.starts_with("zoom_webhook_raw"))
        .map(|s| &s.result[..3])
        .collect();
    assert_eq!(statuses, ["200", "401", "401"], "valid, forged, stale");
}

#[test]
fn a_scenario_file_with_an_unknown_key_is_refused_with_its_name() {
    let err = Scenario::from_toml("name = \"x\"\n[[steps]]\ndo = \"sync_now\"\nwebinar = \"1\"\n\n[settings]\nglobal_synk = true\n").unwrap_err();
    assert!(err.to_string().contains("global_synk"), "{err}");
    let err = Scenario::from_toml("[[steps]]\ndo = \"explode\"\n").unwrap_err();
    assert!(err.to_string().contains("explode"), "{err}");
}

#[test]
fn a_generated_scenario_round_trips_through_toml() {
    let generated = scenario::generate(GenerateOptions {
        webinars: 2,
        registrants: 50,
        attendees: 30,
        guests: 3,
        seed: 7,
    });
    assert_eq!(generated.zoom.webinars.len(), 2);
    assert_eq!(generated.zoom.webinars[0].registrants.len(), 50);
    assert_eq!(generated.zoom.webinars[0].participants.len(), 33);
    assert!(
        generated.zoom.webinars[0]
            .participants
            .iter()
            .any(|p| p.segments.len() > 1),
        "some rejoin"
    );
    assert!(matches!(generated.steps[0], Step::PlayWebinar { .. }));
    let text = generated.to_toml().unwrap();
    assert_eq!(Scenario::from_toml(&text).unwrap(), generated);
    assert_eq!(
        scenario::generate(GenerateOptions {
            webinars: 2,
            registrants: 50,
            attendees: 30,
            guests: 3,
            seed: 7
        }),
        generated,
        "seeded"
    );
}
