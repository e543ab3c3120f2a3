//! The fake CRM against HubSpot's official Python client (issue 17):
//! `tests/contract/hubspot_client.py` sends every CRM request the plugin
//! makes to the fake on a loopback port and checks each request body and
//! answer against `hubspot-api-client`'s models, validation on (the client
//! is generated from HubSpot's OpenAPI specs; a missing required field
//! fails).
//!
//! Needs Python 3 with `venv`; the client is installed from PyPI into a
//! venv under cargo's target tmpdir on the first run (pinned below).
//! `HUBSPOT_CLIENT_PYTHON=/path/to/python` uses a Python that already has
//! it. Skipped, saying so, only when there is no Python at all.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use host_sim::clock::Clock;
use host_sim::fakes::crm::{self, CrmRateLimits, CrmSeed, FakeCrm, SeedContact, SeedUser};

/// The client version the models were read from.
const CLIENT: &str = "hubspot-api-client==12.0.0";
const TOKEN: &str = "contract-token";

fn python() -> Option<PathBuf> {
    ["python3", "python"].into_iter().find_map(|name| {
        Command::new(name)
            .arg("--version")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|_| PathBuf::from(name))
    })
}

/// A Python with the client: `HUBSPOT_CLIENT_PYTHON`, or a venv made once.
fn client_python(python: &Path) -> PathBuf {
    if let Some(given) = std::env::var_os("HUBSPOT_CLIENT_PYTHON") {
        return PathBuf::from(given);
    }
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hubspot-client-venv");
    let venv_python = venv.join("bin/python");
    let has_client = |p: &Path| {
        Command::new(p)
            .args(["-c", "import hubspot.crm.contacts"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if venv_python.exists() && has_client(&venv_python) {
        return venv_python;
    }
    let made = Command::new(python)
        .args(["-m", "venv"])
        .arg(&venv)
        .output()
        .expect("python runs");
    assert!(
        made.status.success(),
        "`{} -m venv` failed (install python3-venv, or set HUBSPOT_CLIENT_PYTHON to a Python with {CLIENT}): {}",
        python.display(),
        String::from_utf8_lossy(&made.stderr)
    );
    let installed = Command::new(&venv_python)
        .args(["-m", "pip", "install", "--quiet", CLIENT])
        .output()
        .expect("the venv's python runs");
    assert!(
        installed.status.success(),
        "pip install {CLIENT} failed (PyPI unreachable? set HUBSPOT_CLIENT_PYTHON to a Python that has it): {}",
        String::from_utf8_lossy(&installed.stderr)
    );
    venv_python
}

fn seeded_crm() -> FakeCrm {
    let crm =
        FakeCrm::new(TOKEN, Clock::manual(1_795_186_800_000)).with_rate_limits(CrmRateLimits::OFF);
    let contact = |email: &str, additional: &[&str], archived: bool| SeedContact {
        email: email.into(),
        firstname: "Ada".into(),
        lastname: "L".into(),
        additional_emails: additional.iter().map(|e| (*e).to_owned()).collect(),
        archived,
        properties: Default::default(),
    };
    crm.seed(&CrmSeed {
        users: vec![SeedUser {
            email: "rep@acme.example".into(),
            first_name: "Rep".into(),
            last_name: "One".into(),
        }],
        contacts: vec![
            contact("ada@example.com", &["ada@work.example"], false),
            contact("gone@example.com", &[], true),
        ],
        scopes: None,
        timeline_access: None,
    });
    crm
}

#[tokio::test(flavor = "multi_thread")]
async fn the_fake_crm_answers_every_plugin_request_as_hubspots_python_client_validates_it() {
    let Some(python) = python() else {
        eprintln!(
            "SKIPPED crm_contract: no python3 on PATH; the HubSpot client contract test needs Python 3"
        );
        return;
    };
    let client_python = tokio::task::spawn_blocking(move || client_python(&python))
        .await
        .unwrap();

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut fakes = host_sim::fake_server::Fakes::new();
    fakes.insert(crm::API_HOST.into(), Arc::new(seeded_crm()));
    let server = tokio::spawn(host_sim::fake_server::serve(listener, Arc::new(fakes)));

    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("contract/hubspot_client.py");
    let output = tokio::task::spawn_blocking(move || {
        Command::new(client_python)
            .arg(script)
            .args(["--base", &format!("http://127.0.0.1:{port}/api.hubapi.com")])
            .args(["--token", TOKEN, "--app-id", "1000001"])
            .output()
            .expect("the contract script runs")
    })
    .await
    .unwrap();
    server.abort();
    let stdout = String::from_utf8_lossy(&output.stdout);
    eprintln!("{stdout}");
    assert!(
        output.status.success(),
        "the fake CRM broke HubSpot's client contract:\n{}\n{stdout}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("requests checked"), "{stdout}");
}
