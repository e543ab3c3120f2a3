//! The `host-sim` binary, as a person runs it: every command, human and
//! `--json` output, and the errors a person can act on.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::sync::OnceLock;

use serde_json::Value;

fn host_sim() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_host-sim"));
    // The tests' environment must not configure the simulator.
    command.env_remove("HOST_SIM_CONFIG");
    command
}

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/scenarios")
        .join(name)
        .display()
        .to_string()
}

/// Runs `host-sim --state-dir DIR ARGS`; the output, whatever the status.
fn run_in(dir: &Path, args: &[&str]) -> Output {
    host_sim()
        .arg("--state-dir")
        .arg(dir)
        .args(args)
        .output()
        .unwrap()
}

fn success(output: Output) -> String {
    assert!(
        output.status.success(),
        "stderr: {}\nstdout: {}",
        String::from_utf8_lossy(&output.stderr),
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn json(output: Output) -> Value {
    let text = success(output);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// A failure: non-zero exit, one line on stderr.
fn failure(output: Output) -> String {
    assert!(!output.status.success(), "{output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    stderr
}

/// The demo is run once (it plays about 3,400 deliveries); each test works
/// on a copy of the state it left. The statics are never dropped, so the
/// state lives in cargo's target tmpdir, cleared here, not in a temp dir
/// that every run would leave behind in /tmp.
fn demo() -> &'static (PathBuf, Value) {
    static DEMO: OnceLock<(PathBuf, Value)> = OnceLock::new();
    DEMO.get_or_init(|| {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("cli-demo-state");
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => panic!("{e}"),
            _ => std::fs::create_dir_all(&dir).unwrap(),
        }
        let summary = json(run_in(&dir, &["demo", "--json"]));
        (dir, summary)
    })
}

fn copy_of_demo_state() -> tempfile::TempDir {
    let (source, _) = demo();
    let copy = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(source).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), copy.path().join(entry.file_name())).unwrap();
    }
    copy
}

#[test]
fn demo_summarises_the_whole_integration_as_json() {
    let (_, summary) = demo();
    insta::assert_json_snapshot!("demo_summary", summary, { ".wall_time_ms" => "[ms]" });
    // The numbers the summary promises, asserted as well as snapshotted.
    assert_eq!(summary["deliveries"], 3361);
    let events = summary["marketing_events"].as_array().unwrap();
    let launch = events
        .iter()
        .find(|e| e["webinar"] == "82000000001")
        .unwrap();
    assert_eq!(
        (launch["registered"].as_u64(), launch["attended"].as_u64()),
        (Some(1001), Some(650))
    );
    assert_eq!(launch["cancelled"], 1);
    assert_eq!(summary["calls_with_transcript"], summary["calls"]);
    assert!(
        summary["audit"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a["webinar"] == "82000000003"
                && a["message"].as_str().unwrap().contains("Zoom Event")),
        "R14 shows in the highlights"
    );
}

#[test]
fn demo_prints_a_readable_summary_and_a_kept_replay_writes_nothing() {
    let dir = copy_of_demo_state();
    let text = success(run_in(dir.path(), &["demo", "--keep"]));
    for expected in [
        "Played 3361 signed Zoom webhook deliveries",
        "Contacts       1003 in the CRM: 1001 created by the plugin",
        "Product launch 2026      82000000001  registered  1001  attended  650  cancelled  1  (ended)",
        "Calls          650 with the recording, 650 of them with the transcript",
        "Audit log highlights",
        "Wall time",
    ] {
        assert!(text.contains(expected), "{expected:?} in\n{text}");
    }
    // The same deliveries again are duplicates: the ticks write nothing.
    let ticks: Vec<&str> = text.lines().filter(|l| l.contains("-> written")).collect();
    assert!(
        !ticks.is_empty() && ticks.iter().all(|l| l.contains("written 0,")),
        "{ticks:?}"
    );
}

#[test]
fn crm_commands_show_contacts_events_and_segments() {
    let dir = copy_of_demo_state();
    let events = json(run_in(dir.path(), &["crm", "events", "--json"]));
    insta::assert_json_snapshot!("crm_events", events);

    let contacts = json(run_in(
        dir.path(),
        &["crm", "contacts", "--limit", "3", "--json"],
    ));
    assert_eq!(contacts["total"], 1003);
    insta::assert_json_snapshot!("crm_contacts", contacts);

    // R13: attended the launch for at least 75 %, and two webinars in all.
    let segment = json(run_in(
        dir.path(),
        &[
            "crm",
            "search",
            "--where",
            "zoom_webinar_total_attended>=2",
            "--event",
            "attendance",
            "--token",
            "webinar_id=82000000001",
            "--token",
            "attendance_percentage>=75",
            "--limit",
            "1000",
            "--json",
        ],
    ));
    let selected = segment["contacts"].as_array().unwrap();
    assert!(!selected.is_empty());
    for c in selected {
        assert!(
            c["properties"]["zoom_webinar_total_attended"]
                .as_str()
                .unwrap()
                .parse::<u32>()
                .unwrap()
                >= 2
        );
    }
    let human = success(run_in(
        dir.path(),
        &["crm", "search", "--where", "zoom_webinar_total_attended>=2"],
    ));
    assert!(human.contains("contacts in all"), "{human}");
    let bad = failure(run_in(
        dir.path(),
        &["crm", "search", "--where", "nonsense"],
    ));
    assert!(bad.contains("NAME OP VALUE"), "{bad}");
}

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

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    let dir = copy_of_demo_state();
    let mut child = host_sim()
        .arg("--state-dir")
        .arg(dir.path())
        .args(["crm", "contacts", "--limit", "2000"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    // The reader is gone, as with `| head -1`.
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(first.starts_with("email"), "{first}");
    assert!(
        status.success() && !stderr.contains("panicked"),
        "{status:?} {stderr}"
    );
}

fn get(address: &str, path: &str) -> String {
    http(
        address,
        &format!("GET {path} HTTP/1.1\r\nhost: {address}\r\nconnection: close\r\n\r\n"),
    )
}

/// `method path` with the operator's `token` (none: no Authorization header).
fn operator(address: &str, method: &str, path: &str, token: Option<&str>, body: &str) -> String {
    let authorization = token.map_or(String::new(), |t| format!("authorization: Bearer {t}\r\n"));
    http(
        address,
        &format!(
            "{method} {path} HTTP/1.1\r\nhost: {address}\r\n{authorization}content-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

/// A running `host-sim serve`: the child, its output, its address and the
/// admin token it printed (generated on its first start).
struct Server {
    child: Child,
    stdout: BufReader<ChildStdout>,
    address: String,
    token: String,
}

impl Server {
    fn start(dir: &Path, env: &[(&str, &str)]) -> Server {
        let (child, mut stdout, address) = listening(dir, &["serve"], env);
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let token = line
            .rsplit(' ')
            .next()
            .filter(|t| t.starts_with("hsa_"))
            .unwrap_or_else(|| panic!("no admin token in {line:?}"))
            .trim()
            .to_owned();
        Server {
            child,
            stdout,
            address,
            token,
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts a server command on a free loopback port; the child, the rest
/// of its output, and the address its first line names.
fn listening(
    dir: &Path,
    args: &[&str],
    env: &[(&str, &str)],
) -> (Child, BufReader<ChildStdout>, String) {
    let mut command = host_sim();
    command
        .arg("--state-dir")
        .arg(dir)
        .args(args)
        .args(["--listen", "127.0.0.1:0"])
        .envs(env.iter().copied());
    listening_with(command)
}

/// Starts `command` (a server on a free port); the child, the rest of its
/// output, and the address its first line names.
fn listening_with(mut command: Command) -> (Child, BufReader<ChildStdout>, String) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut banner = String::new();
    stdout.read_line(&mut banner).unwrap();
    let address = banner
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split(|c: char| c == '/' || c.is_whitespace()).next())
        .unwrap_or_else(|| panic!("{banner}"))
        .to_owned();
    (child, stdout, address)
}

fn http(address: &str, request: &str) -> String {
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn serve_answers_webhooks_settings_and_health_and_stops_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(dir.path(), &[]);
    let address = server.address.clone();
    let health = get(&address, "/health");
    assert!(
        health.starts_with("HTTP/1.1 200") && health.contains("\"ok\""),
        "{health}"
    );
    let body = r#"{"event":"webinar.created"}"#;
    let forged = http(
        &address,
        &format!(
            "POST /webhooks/zoom HTTP/1.1\r\nhost: {address}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        ),
    );
    assert!(
        forged.starts_with("HTTP/1.1 401") && forged.contains("invalid_signature"),
        "{forged}"
    );
    let settings = operator(&address, "GET", "/settings", Some(&server.token), "");
    assert!(settings.contains("\"global_sync\": false"), "{settings}");
    let nowhere = operator(&address, "GET", "/nowhere", Some(&server.token), "");
    assert!(nowhere.starts_with("HTTP/1.1 404"), "{nowhere}");

    // Ctrl-C: requests in flight finish, the state is saved, exit 0.
    Command::new("kill")
        .args(["-INT", &server.child.id().to_string()])
        .status()
        .unwrap();
    let status = server.child.wait().unwrap();
    let mut rest = String::new();
    server.stdout.read_to_string(&mut rest).unwrap();
    assert!(status.success(), "{status:?}");
    assert!(rest.contains("stopped; state saved"), "{rest}");
    assert!(dir.path().join("fakes.json").exists());
}

/// Issue 19, R29: every route refuses a caller without its credential.
#[test]
fn serve_refuses_every_caller_without_its_credential() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(&dir.path().join("state"), &[]);
    let (address, token) = (server.address.clone(), server.token.clone());
    let (address, token) = (address.as_str(), token.as_str());
    let operator_routes = [
        ("GET", "/settings", ""),
        ("PUT", "/settings", r#"{"global_sync": false}"#),
        ("GET", "/settings/users/host@acme.example", ""),
        (
            "PUT",
            "/settings/users/host@acme.example",
            r#"{"sync_recordings": true}"#,
        ),
        ("GET", "/settings/webinars/82000000001", ""),
        (
            "PUT",
            "/settings/webinars/82000000001",
            r#"{"sync_enabled": false}"#,
        ),
        ("GET", "/webinars/82000000001/audit", ""),
        ("POST", "/webinars/82000000001/sync-now", ""),
        ("POST", "/tick", ""),
        ("POST", "/backfill", ""),
    ];
    for (method, path, body) in operator_routes {
        let none = operator(address, method, path, None, body);
        assert!(
            none.starts_with("HTTP/1.1 401") && none.contains("host-sim admin-token"),
            "{method} {path} without a token: {none}"
        );
        let forged = operator(address, method, path, Some("hsa_not-the-token"), body);
        assert!(
            forged.starts_with("HTTP/1.1 401"),
            "{method} {path} forged: {forged}"
        );
        let answered = operator(address, method, path, Some(token), body);
        assert!(
            !answered.starts_with("HTTP/1.1 401") && !answered.starts_with("HTTP/1.1 421"),
            "{method} {path} with the token: {answered}"
        );
    }
    // The workflow action is HubSpot's: its signature, not the operator's
    // token (the plugin verifies it; tests/tests/e2e/workflow_action.rs).
    let action = r#"{"object":{"objectId":1},"inputFields":{"webinar_id":"82000000004"}}"#;
    for token in [None, Some(token)] {
        let unsigned = operator(
            address,
            "POST",
            "/actions/add-contact-to-zoom-webinar",
            token,
            action,
        );
        assert!(
            unsigned.starts_with("HTTP/1.1 401") && unsigned.contains("invalid_signature"),
            "{unsigned}"
        );
    }
    // A page's cross-origin `text/plain` POST (no preflight) carries no token.
    let cross_site = http(
        address,
        &format!(
            "POST /settings HTTP/1.1\r\nhost: {address}\r\norigin: https://evil.example\r\ncontent-type: text/plain\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{{}}"
        ),
    );
    assert!(cross_site.starts_with("HTTP/1.1 401"), "{cross_site}");
    // A preflight is never allowed: no CORS header, whatever is asked.
    let preflight = http(
        address,
        &format!(
            "OPTIONS /settings HTTP/1.1\r\nhost: {address}\r\norigin: https://evil.example\r\naccess-control-request-method: PUT\r\nconnection: close\r\n\r\n"
        ),
    );
    assert!(
        !preflight
            .to_ascii_lowercase()
            .contains("access-control-allow"),
        "{preflight}"
    );
    // DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends its own Host.
    for host in ["evil.example", "evil.example:80", ""] {
        let rebound = http(
            address,
            &format!(
                "GET /settings HTTP/1.1\r\nhost: {host}\r\nauthorization: Bearer {token}\r\nconnection: close\r\n\r\n"
            ),
        );
        assert!(
            rebound.starts_with("HTTP/1.1 421"),
            "Host {host:?}: {rebound}"
        );
    }
    let webhook = http(
        address,
        "POST /webhooks/zoom HTTP/1.1\r\nhost: evil.example\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}",
    );
    assert!(webhook.starts_with("HTTP/1.1 421"), "{webhook}");

    // The CLI shows the same token; the state is this user's alone.
    let printed = success(run_in(&dir.path().join("state"), &["admin-token"]));
    assert_eq!(printed.trim(), token);
    let mode = |name: &str| {
        std::fs::metadata(dir.path().join("state").join(name))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode(""), 0o700);
    for file in ["state.db", "admin-token"] {
        assert_eq!(mode(file), 0o600, "{file}");
    }
    drop(server);
    let rotated = success(run_in(
        &dir.path().join("state"),
        &["admin-token", "--rotate"],
    ));
    assert_ne!(rotated.trim(), token);
    run_in(&dir.path().join("state"), &["install"]);
    assert_eq!(mode("fakes.json"), 0o600);
}

/// Issue 19: idle and slow connections cannot starve the server. Under a
/// limit of 256 file descriptors, 1,000 idle connections and a few that
/// send their headers a byte at a time leave `/health` and a signed
/// webhook answered within Zoom's 3 s; slow connections are closed.
#[test]
fn serve_answers_within_3_s_through_an_idle_flood_under_a_low_fd_limit() {
    let dir = tempfile::tempdir().unwrap();
    let mut under_limit = Command::new("sh");
    under_limit
        .arg("-c")
        .arg("ulimit -n 256 && exec \"$0\" --state-dir \"$1\" serve --listen 127.0.0.1:0")
        .arg(env!("CARGO_BIN_EXE_host-sim"))
        .arg(dir.path())
        .env_remove("HOST_SIM_CONFIG");
    let (mut child, _stdout, address) = listening_with(under_limit);

    // Slowloris: headers begun and never finished.
    let mut slow: Vec<std::net::TcpStream> = (0..5)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(&address).unwrap();
            s.write_all(b"GET /health HTTP/1.1\r\nhost: ").unwrap();
            s
        })
        .collect();
    // The idle flood: more connections than the server has descriptors.
    let idle: Vec<std::net::TcpStream> = (0..1000)
        .filter_map(|_| std::net::TcpStream::connect(&address).ok())
        .collect();
    assert!(idle.len() >= 900, "{} idle connections made", idle.len());

    let started = std::time::Instant::now();
    let health = get(&address, "/health");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let body = br#"{"event":"endpoint.url_validation","event_ts":1626230691572,"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"}}"#;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let signed: String =
        host_sim::fakes::zoom::webhooks::signature_headers("sim-webhook-secret-token", now, body)
            .into_iter()
            .map(|(n, v)| format!("{n}: {v}\r\n"))
            .collect();
    let webhook = http(
        &address,
        &format!(
            "POST /webhooks/zoom HTTP/1.1\r\nhost: {address}\r\n{signed}content-length: {}\r\nconnection: close\r\n\r\n{}",
            body.len(),
            String::from_utf8_lossy(body)
        ),
    );
    assert!(
        webhook.starts_with("HTTP/1.1 200") && webhook.contains("encryptedToken"),
        "{webhook}"
    );
    let elapsed = started.elapsed();
    assert!(
        elapsed < std::time::Duration::from_secs(3),
        "answered in {elapsed:?}"
    );

    // A slow connection is closed by the server (end of stream, or a reset
    // when it was closed before its bytes were read), not left open.
    for s in &mut slow {
        s.set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .unwrap();
        let mut rest = Vec::new();
        match s.read_to_end(&mut rest) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            Err(e) => panic!("a slowloris connection stayed open: {e}"),
        }
    }
    drop(idle);
    assert!(
        child.try_wait().unwrap().is_none(),
        "the server is still running"
    );
    let _ = child.kill();
    let _ = child.wait();
}

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

#[test]
fn fakes_serve_zoom_and_the_crm_for_curl() {
    let dir = tempfile::tempdir().unwrap();
    // The banner's reader is kept: a closed stdout ends the program.
    let (mut child, _banner, address) = listening(
        dir.path(),
        &["fakes", "--scenario", &example("clean-webinar.toml")],
        &[],
    );
    let owners = http(
        &address,
        "GET /api.hubapi.com/crm/v3/owners HTTP/1.1\r\nhost: x\r\nauthorization: Bearer sim-crm-access-token\r\nconnection: close\r\n\r\n",
    );
    assert!(
        owners.starts_with("HTTP/1.1 200") && owners.contains("\"results\""),
        "{owners}"
    );
    let unauthorised = get(&address, "/api.zoom.us/v2/users");
    assert!(unauthorised.starts_with("HTTP/1.1 401"), "{unauthorised}");
    child.kill().unwrap();
    child.wait().unwrap();
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

/// R31 through the harness of issue 8: a small run's table holds every
/// measure, and the CRM calls stay within the batch floor + 5.
#[test]
fn bench_measures_every_figure_and_the_crm_calls_stay_near_the_batch_floor() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bench.json");
    let args = [
        "bench",
        "--registrants",
        "250",
        "--attendees",
        "150",
        "--deliveries",
        "40",
        "--calls",
        "10",
        "--runs",
        "2",
        "--json",
        "--out",
    ];
    let rows = json(host_sim().args(args).arg(&file).output().unwrap());
    let written: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(rows, written);
    let measures: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["measure"].as_str().unwrap())
        .collect();
    for expected in [
        "wall time",
        "CRM calls",
        "Zoom calls",
        "peak guest memory",
        "guest instructions (fuel)",
        "CRM limits on (100 per 10 s): wall time",
        "429 answers",
        "deliveries",
        "p99",
        "pooling",
        "component size",
    ] {
        assert!(
            measures.iter().any(|m| m.contains(expected)),
            "{expected} in {measures:?}"
        );
    }
    let crm = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["measure"] == "full sync: CRM calls")
        .unwrap();
    assert_eq!(crm["met"], true, "{crm}");
    // The timed measures are medians of the runs asked for.
    assert_eq!(crm["runs"], 2, "{crm}");
    let fuel = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["measure"] == "full sync: guest instructions (fuel)")
        .unwrap();
    assert!(fuel["value"].as_f64().unwrap() > 1.0, "{fuel}");
}

/// The CLI reference in docs/cli.md is the binary's own help; regenerate
/// it with `UPDATE_CLI_DOCS=1 cargo test -p host-sim --test cli`.
#[test]
fn the_cli_reference_is_the_binarys_help() {
    let help = |args: &[&str]| success(host_sim().args(args).arg("--help").output().unwrap());
    let mut reference = String::from(
        "# host-sim command reference\n\nGenerated from `host-sim --help` by `host-sim/tests/cli.rs`; do not edit by hand.\n",
    );
    let commands: &[&[&str]] = &[
        &[],
        &["demo"],
        &["serve"],
        &["install"],
        &["properties"],
        &["settings", "get"],
        &["settings", "set"],
        &["audit"],
        &["sync-now"],
        &["backfill"],
        &["tick"],
        &["action", "add-contact-to-webinar"],
        &["crm", "contacts"],
        &["crm", "events"],
        &["crm", "search"],
        &["crm", "dump"],
        &["deliver"],
        &["fakes"],
        &["scenario", "run"],
        &["scenario", "generate"],
        &["bench"],
    ];
    for args in commands {
        let title = if args.is_empty() {
            "host-sim".to_owned()
        } else {
            format!("host-sim {}", args.join(" "))
        };
        reference.push_str(&format!("\n## `{title}`\n\n```text\n{}```\n", help(args)));
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/cli.md");
    if std::env::var_os("UPDATE_CLI_DOCS").is_some() {
        std::fs::write(&path, &reference).unwrap();
    }
    let written = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        written == reference,
        "docs/cli.md is out of date: run `UPDATE_CLI_DOCS=1 cargo test -p host-sim --test cli`"
    );
}

/// Issue 9, load: `serve` under many connections of signed deliveries
/// answers every one and keeps every event (the short version of
/// `host-sim load`, which defaults to 200 connections for 60 s).
#[test]
fn load_answers_every_delivery_and_loses_none() {
    let report = json(
        host_sim()
            .args(["load", "--connections", "20", "--seconds", "2", "--json"])
            .output()
            .unwrap(),
    );
    let sent = report["sent"].as_u64().unwrap();
    assert!(sent > 20, "{report}");
    assert_eq!(report["errors"], 0, "{report}");
    assert_eq!(report["statuses"]["200"].as_u64(), Some(sent), "{report}");
    assert_eq!(report["stored"].as_u64(), Some(sent), "{report}");
    assert!(report["p99_ms"].as_f64().unwrap() > 0.0, "{report}");
}
