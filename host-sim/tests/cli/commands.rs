//! The commands on the state directory: sync, the workflow action, audit,
//! settings, install and properties, deliver; the global `--json` flag;
//! errors a person can act on.

use super::*;

#[test]
fn sync_commands_action_and_audit_answer_as_text_and_json() {
    let dir = copy_of_demo_state();
    let d = dir.path();
    // R20: the demo synced everything; sync now finds nothing to write.
    let report = json(run_in(d, &["sync-now", "82000000001", "--json"]));
    assert_eq!(report["written"], 0);
    assert_eq!(json(run_in(d, &["tick", "--json"]))["failed"], 0);
    let backfill = json(run_in(
        d,
        &["backfill", "--since", "2026-11-19T00:00:00Z", "--json"],
    ));
    assert_eq!(backfill["written"], 0, "{backfill}");
    let bad_date = failure(run_in(d, &["backfill", "--since", "yesterday"]));
    assert!(bad_date.contains("RFC 3339"), "{bad_date}");
    let bad_id = failure(run_in(d, &["sync-now", "820-0000"]));
    assert!(bad_id.contains("digits only"), "{bad_id}");
    // R20: a webinar Zoom does not know is an error, not "skipped 1".
    let unknown_webinar = failure(run_in(d, &["sync-now", "89999999999"]));
    assert!(
        unknown_webinar.contains("89999999999 was not found on the connected Zoom account"),
        "{unknown_webinar}"
    );

    // R21: the workflow action, as the CRM would receive its answer.
    let answer = json(run_in(
        d,
        &[
            "action",
            "add-contact-to-webinar",
            "--contact",
            "grace@hopper.example",
            "--webinar",
            "82000000004",
            "--json",
        ],
    ));
    insta::assert_json_snapshot!("action_success", answer);
    let refused = success(run_in(
        d,
        &[
            "action",
            "add-contact-to-webinar",
            "--contact",
            "grace@hopper.example",
            "--webinar",
            "820 0000 0004",
        ],
    ));
    assert!(
        refused.starts_with("failed (FAIL_CONTINUE): The webinar ID must be digits only"),
        "{refused}"
    );
    let unknown = failure(run_in(
        d,
        &[
            "action",
            "add-contact-to-webinar",
            "--contact",
            "nobody@example.org",
            "--webinar",
            "1",
        ],
    ));
    assert!(unknown.contains("host-sim crm contacts"), "{unknown}");

    let audit = json(run_in(d, &["audit", "82000000001", "--json"]));
    let kinds: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"emails-excluded") && kinds.contains(&"participants-not-synced"),
        "{kinds:?}"
    );
    let text = success(run_in(d, &["audit", "82000000001"]));
    assert!(text.contains("records: Guest 0"), "{text}");
}

#[test]
fn settings_are_read_and_changed_for_the_account_a_user_and_a_webinar() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    insta::assert_json_snapshot!(
        "settings_default",
        json(run_in(d, &["settings", "get", "--json"]))
    );
    let changed = json(run_in(
        d,
        &[
            "settings",
            "set",
            "global_sync=on",
            "webinar_sync=on",
            "recording_sync=all-users",
            "recording_exclusion_domains=agency.example",
            "--json",
        ],
    ));
    assert_eq!(changed["recording_sync"], "all-users");
    assert_eq!(
        changed["recording_exclusion_domains"],
        serde_json::json!(["agency.example"])
    );
    // The recording settings are what `settings get` shows next (R2, R4).
    assert_eq!(json(run_in(d, &["settings", "get", "--json"])), changed);

    let user = json(run_in(
        d,
        &[
            "settings",
            "set",
            "--user",
            "jo@acme.example",
            "sync_recordings=off",
            "--json",
        ],
    ));
    assert_eq!(user["sync_recordings"], false);
    assert_eq!(
        json(run_in(
            d,
            &["settings", "get", "--user", "jo@acme.example", "--json"]
        )),
        user
    );
    let webinar = success(run_in(
        d,
        &["settings", "set", "--webinar", "81234567890", "sync=off"],
    ));
    assert!(
        webinar.contains("sync_enabled                 false"),
        "{webinar}"
    );

    let unknown = failure(run_in(d, &["settings", "set", "colour=blue"]));
    assert!(unknown.contains("unknown setting \"colour\""), "{unknown}");
    // R1: webinar sync needs global sync.
    let refused = failure(run_in(d, &["settings", "set", "global_sync=off"]));
    assert!(refused.contains("global sync"), "{refused}");
}

#[test]
fn install_and_properties_describe_what_the_plugin_defines() {
    let dir = tempfile::tempdir().unwrap();
    insta::assert_json_snapshot!("install", json(run_in(dir.path(), &["install", "--json"])));
    let again = json(run_in(dir.path(), &["install", "--json"]));
    assert_eq!(
        again["created"],
        serde_json::json!([]),
        "install is idempotent"
    );
    insta::assert_json_snapshot!(
        "properties",
        json(run_in(dir.path(), &["properties", "--json"]))
    );
    let text = success(run_in(dir.path(), &["properties"]));
    assert!(text.contains("add-contact-to-zoom-webinar"), "{text}");
}

#[test]
fn deliver_signs_a_body_and_prints_the_plugins_answer() {
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("challenge.json");
    std::fs::write(
        &body,
        r#"{"event":"endpoint.url_validation","event_ts":1626230691572,"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"}}"#,
    )
    .unwrap();
    let answer = json(run_in(
        dir.path(),
        &["deliver", &body.display().to_string(), "--json"],
    ));
    assert_eq!(answer["status"], 200);
    assert_eq!(answer["body"]["plainToken"], "qgg8vlvZRS6UYooatFL8Aw");
    let missing = failure(run_in(dir.path(), &["deliver", "/nonexistent.json"]));
    assert!(
        missing.contains("cannot read /nonexistent.json"),
        "{missing}"
    );
    // A refusal is a non-zero exit with the plugin's reason, and the
    // answer is still printed (--json too): a script can tell them apart.
    let refused = |name: &str, body: &[u8]| {
        let file = dir.path().join(name);
        std::fs::write(&file, body).unwrap();
        let output = run_in(
            dir.path(),
            &["deliver", &file.display().to_string(), "--json"],
        );
        let printed: Value = serde_json::from_slice(&output.stdout).unwrap();
        (printed["status"].as_u64().unwrap(), failure(output))
    };
    let (status, why) = refused("malformed.json", b"{ not json");
    assert_eq!(status, 400);
    assert!(
        why.contains("the plugin refused the delivery (400)"),
        "{why}"
    );
    let (status, why) = refused("huge.json", &vec![b' '; 1_100_000]);
    assert_eq!(status, 413);
    assert!(why.contains("(413)"), "{why}");
}

#[test]
fn errors_are_one_line_with_what_to_do_and_a_non_zero_exit() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // `tick` with a configuration file holding `text`.
    let tick_with = |text: &str| {
        let config = d.join("host-sim.toml");
        std::fs::write(&config, text).unwrap();
        failure(
            host_sim()
                .arg("--config")
                .arg(&config)
                .arg("tick")
                .output()
                .unwrap(),
        )
    };
    let bad_key = tick_with("colour = \"blue\"\n");
    assert!(bad_key.contains("unknown field `colour`"), "{bad_key}");

    let no_component = tick_with("component = \"/nonexistent/plugin.wasm\"\n");
    assert!(
        no_component.contains("cannot read the component") && no_component.contains("cargo build"),
        "{no_component}"
    );

    let state = d.join("state");
    std::fs::create_dir_all(&state).unwrap();
    std::fs::write(state.join("fakes.json"), "{ not json").unwrap();
    let corrupt = failure(run_in(&state, &["tick"]));
    assert!(
        corrupt.contains("fakes.json is unreadable") && corrupt.contains("delete it"),
        "{corrupt}"
    );

    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = taken.local_addr().unwrap().to_string();
    let in_use = failure(run_in(&d.join("other"), &["serve", "--listen", &address]));
    assert!(
        in_use.contains("pick another port with --listen"),
        "{in_use}"
    );
}

/// `--json` is one global flag: before the command or after it, the same
/// output; a command with nothing to report as JSON (`admin-token`) takes
/// it too.
#[test]
fn json_is_one_flag_before_or_after_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let after = json(run_in(d, &["settings", "get", "--json"]));
    assert_eq!(json(run_in(d, &["--json", "settings", "get"])), after);
    assert_eq!(json(run_in(d, &["settings", "--json", "get"])), after);
    let report = json(run_in(d, &["--json", "tick"]));
    assert_eq!(report["failed"], 0, "{report}");
    let token = success(run_in(d, &["admin-token", "--json"]));
    assert!(token.starts_with("hsa_"), "{token}");
}
