//! `host-sim scenario run|generate`, and `audit` after a kept scenario.

use super::*;

#[test]
fn scenario_run_prints_json_with_the_steps_and_api_calls() {
    let outcome = json(
        host_sim()
            .args(["scenario", "run", &example("clean-webinar.toml"), "--json"])
            .output()
            .unwrap(),
    );
    assert_eq!(outcome["steps"][0]["step"], "install");
    assert!(outcome["api_calls"]["crm"].as_u64().unwrap() > 0);
}

#[test]
fn scenario_run_on_a_bad_file_fails_with_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "[[steps]]\ndo = \"explode\"\n").unwrap();
    let stderr = failure(
        host_sim()
            .args(["scenario", "run", &file.display().to_string()])
            .output()
            .unwrap(),
    );
    assert!(
        stderr.contains("bad.toml") && stderr.contains("explode"),
        "{stderr}"
    );
}

#[test]
fn scenario_generate_prints_a_scenario_as_toml_or_json() {
    let args = [
        "scenario",
        "generate",
        "--registrants",
        "5",
        "--attendees",
        "3",
        "--guests",
        "1",
    ];
    let text = success(host_sim().args(args).output().unwrap());
    assert!(
        text.contains("[[zoom.webinars]]") && text.contains("do = \"play_webinar\""),
        "{text}"
    );
    let generated = json(host_sim().args(args).arg("--json").output().unwrap());
    assert_eq!(
        generated["zoom"]["webinars"][0]["registrants"]
            .as_array()
            .unwrap()
            .len(),
        5
    );
}

/// R19: after a scenario kept its state, `audit` lists every excluded email
/// with its reason, as text and as JSON.
#[test]
fn audit_prints_a_webinars_entries_with_the_records_and_reasons() {
    let dir = tempfile::tempdir().unwrap();
    success(run_in(
        dir.path(),
        &[
            "scenario",
            "run",
            &example("exclusions-and-deletions.toml"),
            "--keep",
        ],
    ));
    let text = success(run_in(dir.path(), &["audit", "83000000002"]));
    assert!(
        text.contains("a user of the CRM") && text.contains("rep@sales.example"),
        "{text}"
    );
    let entries = json(run_in(dir.path(), &["audit", "83000000002", "--json"]));
    let secondary = entries
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["message"].as_str().unwrap().contains("secondary email"))
        .expect("the secondary email is listed");
    assert_eq!(secondary["kind"], "emails-excluded");
    assert_eq!(
        secondary["records"],
        serde_json::json!(["grace@work.example"])
    );
}
