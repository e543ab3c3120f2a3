//! `host-sim serve` and `host-sim fakes` as servers on a free loopback port,
//! spoken to over raw HTTP/1.1.

use super::*;

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
    operator_routes_take_only_the_token(address, token);
    browsers_and_rebound_hosts_are_refused(address, token);

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

/// Every operator route: 401 without the token or with another, answered with it.
fn operator_routes_take_only_the_token(address: &str, token: &str) {
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
}

/// The workflow action wants HubSpot's signature; a page's requests carry
/// no token and get no CORS header; another `Host` is refused (421).
fn browsers_and_rebound_hosts_are_refused(address: &str, token: &str) {
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
}

/// Issue 22: `serve` prints the console's URL; it opens the sign-in page,
/// on the same Host check as every route. The pages themselves are driven
/// in Chromium by `tests/tests/e2e/console/`.
#[test]
fn serve_prints_the_consoles_url_and_it_shows_the_sign_in_page() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = Server::start(&dir.path().join("state"), &[]);
    let mut line = String::new();
    server.stdout.read_line(&mut line).unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no console URL in {line:?}"));
    assert_eq!(url, format!("http://{}/", server.address));
    let root = get(&server.address, "/");
    assert!(root.starts_with("HTTP/1.1 303"), "{root}");
    assert!(root.contains("location: /console/sign-in"), "{root}");
    let page = get(&server.address, "/console/sign-in");
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(
        page.contains("<label for=\"token\">Admin token</label>"),
        "{page}"
    );
    let rebound = http(
        &server.address,
        "GET /console/sign-in HTTP/1.1\r\nhost: evil.example\r\nconnection: close\r\n\r\n",
    );
    assert!(rebound.starts_with("HTTP/1.1 421"), "{rebound}");
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
