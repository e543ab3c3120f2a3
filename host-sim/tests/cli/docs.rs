//! docs/cli.md, the binary's own help.

use super::*;

/// The CLI reference in docs/cli.md is the binary's own help; regenerate
/// it with `UPDATE_CLI_DOCS=1 cargo test -p host-sim --test cli`.
#[test]
fn the_cli_reference_is_the_binarys_help() {
    let help = |args: &[&str]| success(host_sim().args(args).arg("--help").output().unwrap());
    let mut reference = String::from(
        "# host-sim command reference\n\nGenerated from `host-sim --help` by `host-sim/tests/cli/docs.rs`; do not edit by hand.\n",
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
