//! Where every command's output goes: stdout, one write per text.

use std::io::Write;

use serde_json::Value;

/// Prints to stdout; a closed pipe (`| head`) ends the program quietly.
pub fn out(text: &str) {
    let mut stdout = std::io::stdout().lock();
    // One write: a reader that stops after the first line never sees half.
    let written = stdout.write_all(format!("{text}\n").as_bytes());
    if written.is_err_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe) {
        std::process::exit(0);
    }
}

/// `--json`'s output: pretty, as people read it in a terminal too.
pub fn print_json(value: &Value) {
    out(&pretty(value));
}

pub fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_default()
}
