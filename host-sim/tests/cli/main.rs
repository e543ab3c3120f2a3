//! The `host-sim` binary, as a person runs it: every command, human and
//! `--json` output, and the errors a person can act on. The helpers that
//! run it are here; the tests are in one module per group of commands.

mod bench;
mod commands;
mod crm_remote;
mod demo;
mod docs;
mod scenario;
mod servers;

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
