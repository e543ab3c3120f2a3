//! The `host-sim` binary, as a person runs it.

use std::path::Path;
use std::process::Command;

fn host_sim() -> Command {
    Command::new(env!("CARGO_BIN_EXE_host-sim"))
}

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/scenarios")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn scenario_run_prints_json_with_the_steps_and_api_calls() {
    let output = host_sim()
        .args(["scenario", "run", &example("clean-webinar.toml"), "--json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let outcome: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(outcome["steps"][0]["step"], "install");
    assert!(outcome["api_calls"]["crm"].as_u64().unwrap() > 0);
}

#[test]
fn scenario_run_on_a_bad_file_fails_with_one_line_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.toml");
    std::fs::write(&file, "[[steps]]\ndo = \"explode\"\n").unwrap();
    let output = host_sim()
        .args(["scenario", "run", &file.display().to_string()])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("bad.toml") && stderr.contains("explode"),
        "{stderr}"
    );
}

#[test]
fn demo_installs_and_answers_the_url_validation() {
    let dir = tempfile::tempdir().unwrap();
    let output = host_sim()
        .args(["--state-dir", &dir.path().display().to_string(), "demo"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("created          contact property zoom_webinar_total_attended"),
        "{stdout}"
    );
    assert!(stdout.contains("200 {\"encryptedToken\""), "{stdout}");
    assert!(
        stdout.contains("401 {\"error\":\"invalid_signature\""),
        "{stdout}"
    );
    assert!(dir.path().join("state.db").exists());
}

/// R19: after a scenario kept its state, `audit` lists every excluded email
/// with its reason, as text and as JSON.
#[test]
fn audit_prints_a_webinars_entries_with_the_records_and_reasons() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().display().to_string();
    let output = host_sim()
        .args(["--state-dir", &state, "scenario", "run"])
        .args([&example("exclusions-and-deletions.toml"), "--keep"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let text = host_sim()
        .args(["--state-dir", &state, "audit", "83000000002"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("a user of the CRM") && text.contains("rep@sales.example"),
        "{text}"
    );

    let json = host_sim()
        .args(["--state-dir", &state, "audit", "83000000002", "--json"])
        .output()
        .unwrap();
    let entries: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
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
