//! `host-sim crm ...` against fakes in another process (issue 17): the
//! plugin syncs through `connection.mode = "remote"`, and `crm contacts`,
//! `events`, `search` and `dump` then print, byte for byte, what they print
//! in process for the same records. The fakes are served here by the
//! library's `fake_server` (as `host-sim fakes` serves them), so the test
//! holds their records and can lay them beside the plugin's state for the
//! in-process run.

use std::path::Path;
use std::process::Output;

use super::{failure, host_sim, success};
use std::sync::Arc;

use host_sim::config::HostConfig;
use host_sim::fakes::crm::FakeCrm;
use host_sim::fakes::zoom::FakeZoom;
use host_sim::scenario::Scenario;

/// Runs `host-sim --state-dir DIR ARGS` with `env`, and nothing of this
/// process's connection settings.
fn host_sim_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    host_sim()
        .env_remove("HOST_SIM_CONNECTION_MODE")
        .env_remove("HOST_SIM_CONNECTION_FAKES_URL")
        .envs(env.iter().copied())
        .arg("--state-dir")
        .arg(dir)
        .args(args)
        .output()
        .unwrap()
}

/// The fakes of `host-sim fakes --scenario clean-webinar.toml`, on a
/// loopback port served by `runtime`.
struct RemoteFakes {
    zoom: Arc<FakeZoom>,
    crm: Arc<FakeCrm>,
    url: String,
}

fn remote_fakes(runtime: &tokio::runtime::Runtime) -> RemoteFakes {
    let config = HostConfig::default();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/scenarios/clean-webinar.toml");
    let scenario = Scenario::from_toml(&std::fs::read_to_string(path).unwrap()).unwrap();
    let (fakes, zoom, crm) = host_sim::fake_server::standalone(&config, Some(&scenario));
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    runtime.spawn(host_sim::fake_server::serve(listener, Arc::new(fakes)));
    RemoteFakes { zoom, crm, url }
}

const COMMANDS: &[&[&str]] = &[
    &["crm", "contacts"],
    &["crm", "contacts", "--limit", "2", "--json"],
    &["crm", "events"],
    &[
        "crm",
        "search",
        "--event",
        "attendance",
        "--token",
        "attendance_percentage>=75",
    ],
    &["crm", "dump"],
];

#[test]
fn crm_commands_print_the_remote_fakes_records_as_they_print_in_process() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fakes = remote_fakes(&runtime);
    let remote = [
        ("HOST_SIM_CONNECTION_MODE", "remote"),
        ("HOST_SIM_CONNECTION_FAKES_URL", fakes.url.as_str()),
    ];
    let state = tempfile::tempdir().unwrap();
    let dir = state.path();
    // Install, switch the sync on (R1), sync the account's webinars.
    let installed = success(host_sim_with(dir, &["install"], &remote));
    assert!(
        installed
            .contains("created          workflow action definition add-contact-to-zoom-webinar"),
        "{installed}"
    );
    success(host_sim_with(
        dir,
        &["settings", "set", "global_sync=on", "webinar_sync=on"],
        &remote,
    ));
    let synced = success(host_sim_with(
        dir,
        &["backfill", "--since", "2026-11-01T00:00:00Z"],
        &remote,
    ));
    assert!(synced.contains("failed 0"), "{synced}");

    let remote_outputs: Vec<String> = COMMANDS
        .iter()
        .map(|args| success(host_sim_with(dir, args, &remote)))
        .collect();

    // In process: the same plugin state, and the remote fakes' records
    // where the in-process fakes keep theirs.
    let local = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), local.path().join(entry.file_name())).unwrap();
    }
    let saved = serde_json::json!({ "zoom": fakes.zoom.save(), "crm": fakes.crm.save() });
    std::fs::write(
        local.path().join(host_sim::sim::FAKES_FILE),
        saved.to_string(),
    )
    .unwrap();
    for (args, remote_output) in COMMANDS.iter().zip(&remote_outputs) {
        let in_process = success(host_sim_with(local.path(), args, &[]));
        assert_eq!(remote_output, &in_process, "{args:?}");
    }

    // And they show what was synced.
    assert!(
        remote_outputs[0].contains("ada@lovelace.example")
            && remote_outputs[0].ends_with("3 contact(s)\n"),
        "{}",
        remote_outputs[0]
    );
    assert!(
        remote_outputs[2].contains("registered     3  attended    2"),
        "{}",
        remote_outputs[2]
    );
    assert!(
        remote_outputs[3].contains("ada@lovelace.example")
            && !remote_outputs[3].contains("alan@turing.example"),
        "R13: only Ada stayed 75 % or more\n{}",
        remote_outputs[3]
    );
    let dump: serde_json::Value = serde_json::from_str(&remote_outputs[4]).unwrap();
    assert_eq!(dump, fakes.crm.dump());
    assert_eq!(dump["timeline_events"].as_array().unwrap().len(), 5);
    assert_eq!(
        dump["workflow_action_definitions"]["1000001"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[test]
fn crm_commands_in_remote_mode_need_the_fakes_and_their_access_token() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let fakes = remote_fakes(&runtime);
    let state = tempfile::tempdir().unwrap();
    let wrong_token = failure(host_sim_with(
        state.path(),
        &["crm", "contacts"],
        &[
            ("HOST_SIM_CONNECTION_MODE", "remote"),
            ("HOST_SIM_CONNECTION_FAKES_URL", fakes.url.as_str()),
            ("HOST_SIM_CRM_ACCESS_TOKEN", "not-the-fakes-token"),
        ],
    ));
    assert!(
        wrong_token.contains("refused crm.access_token"),
        "{wrong_token}"
    );

    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let unreachable = failure(host_sim_with(
        state.path(),
        &["crm", "events"],
        &[
            ("HOST_SIM_CONNECTION_MODE", "remote"),
            ("HOST_SIM_CONNECTION_FAKES_URL", url.as_str()),
        ],
    ));
    assert!(
        unreachable.contains("start them with `host-sim fakes"),
        "{unreachable}"
    );
}
