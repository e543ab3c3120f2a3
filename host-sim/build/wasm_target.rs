//! Makes sure the active toolchain can build for `wasm32-wasip2` before the
//! plugin's nested build starts.
//!
//! rustup installs the targets of `rust-toolchain.toml` only when it
//! installs the toolchain itself: a machine that already had the pinned
//! toolchain has no `wasm32-wasip2` standard library, and the nested build
//! then fails deep in `core` with E0463. This module is shared by
//! `build.rs` and host-sim's unit tests (`src/lib.rs` includes it under `cfg(test)`), so the
//! decision and the messages are tested.

use std::path::{Path, PathBuf};

pub const TARGET: &str = "wasm32-wasip2";

/// What the build script does about the target.
#[derive(Debug, PartialEq, Eq)]
pub enum TargetStep {
    /// The standard library for the target is there.
    Present,
    /// Missing, and rustup can add it: run this and say so.
    Install { toolchain: String },
    /// Missing, and this build cannot add it: stop with this one line.
    Stop { message: String },
}

/// Where the target's standard library lives in a sysroot.
pub fn target_libdir(sysroot: &Path) -> PathBuf {
    sysroot.join("lib").join("rustlib").join(TARGET).join("lib")
}

/// The toolchain name rustup knows the active toolchain by: the
/// `RUSTUP_TOOLCHAIN` rustup's proxies set, else the sysroot's folder name
/// (rustup keeps each toolchain in `toolchains/<name>`).
pub fn toolchain_name(rustup_toolchain: Option<&str>, sysroot: &Path) -> Option<String> {
    rustup_toolchain
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .or_else(|| {
            sysroot
                .file_name()
                .and_then(|name| name.to_str())
                .map(str::to_owned)
        })
}

/// Decides what to do from what the build script found.
pub fn decide(has_target: bool, rustup_on_path: bool, toolchain: Option<&str>) -> TargetStep {
    if has_target {
        return TargetStep::Present;
    }
    match (rustup_on_path, toolchain) {
        (true, Some(toolchain)) => TargetStep::Install {
            toolchain: toolchain.to_owned(),
        },
        (_, toolchain) => TargetStep::Stop {
            message: missing_target_message(toolchain),
        },
    }
}

/// The one line that tells the user what to run when the build cannot.
pub fn missing_target_message(toolchain: Option<&str>) -> String {
    match toolchain {
        Some(toolchain) => format!(
            "the {TARGET} target is not installed for toolchain {toolchain} and rustup is not on the PATH: run `rustup target add {TARGET} --toolchain {toolchain}` (or install the target's standard library for this rustc), then build again"
        ),
        None => format!(
            "the {TARGET} target is not installed for this rustc: run `rustup target add {TARGET}` (or install the target's standard library for this rustc), then build again"
        ),
    }
}

/// The warning cargo shows while the build adds the target.
pub fn installing_message(toolchain: &str) -> String {
    format!(
        "the {TARGET} target was missing for toolchain {toolchain}: running `rustup target add {TARGET} --toolchain {toolchain}` (once; rustup adds rust-toolchain.toml's targets only when it installs the toolchain itself)"
    )
}

/// The line when rustup was run and failed.
pub fn install_failed_message(toolchain: &str) -> String {
    format!(
        "`rustup target add {TARGET} --toolchain {toolchain}` failed (see above): run it by hand, then build again"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sysroot_with_the_target_needs_nothing() {
        assert_eq!(decide(true, false, None), TargetStep::Present);
        assert_eq!(decide(true, true, Some("1.95.0")), TargetStep::Present);
    }

    #[test]
    fn a_missing_target_is_added_with_rustup_for_the_active_toolchain() {
        assert_eq!(
            decide(false, true, Some("1.95.0-x86_64-unknown-linux-gnu")),
            TargetStep::Install {
                toolchain: "1.95.0-x86_64-unknown-linux-gnu".into()
            }
        );
        let warning = installing_message("1.95.0-x86_64-unknown-linux-gnu");
        assert!(warning.contains(
            "rustup target add wasm32-wasip2 --toolchain 1.95.0-x86_64-unknown-linux-gnu"
        ));
        assert!(!warning.contains('\n'));
    }

    #[test]
    fn without_rustup_the_build_stops_naming_the_exact_command() {
        let TargetStep::Stop { message } = decide(false, false, Some("1.95.0")) else {
            panic!("expected a stop");
        };
        assert!(message.contains("`rustup target add wasm32-wasip2 --toolchain 1.95.0`"));
        assert!(!message.contains('\n'), "one line: {message}");
        let TargetStep::Stop { message } = decide(false, true, None) else {
            panic!("expected a stop");
        };
        assert!(message.contains("`rustup target add wasm32-wasip2`"));
        assert!(
            install_failed_message("1.95.0")
                .starts_with("`rustup target add wasm32-wasip2 --toolchain 1.95.0` failed")
        );
    }

    #[test]
    fn the_toolchain_is_rustups_name_else_the_sysroot_folder() {
        let sysroot = Path::new("/home/me/.rustup/toolchains/1.95.0-x86_64-unknown-linux-gnu");
        assert_eq!(
            toolchain_name(Some("1.95.0"), sysroot).as_deref(),
            Some("1.95.0")
        );
        assert_eq!(
            toolchain_name(None, sysroot).as_deref(),
            Some("1.95.0-x86_64-unknown-linux-gnu")
        );
        assert_eq!(
            toolchain_name(Some(""), sysroot).as_deref(),
            Some("1.95.0-x86_64-unknown-linux-gnu")
        );
        assert_eq!(
            target_libdir(sysroot),
            sysroot.join("lib/rustlib/wasm32-wasip2/lib")
        );
    }

    /// The detection on this machine's own toolchain: the check `build.rs`
    /// makes agrees with `rustc --print target-libdir`.
    #[test]
    fn the_detection_agrees_with_rustc_on_this_machine() {
        let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
        let print = |args: &[&str]| {
            let out = std::process::Command::new(&rustc)
                .args(args)
                .output()
                .unwrap();
            PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
        };
        let sysroot = print(&["--print", "sysroot"]);
        let libdir = print(&["--print", "target-libdir", "--target", TARGET]);
        assert_eq!(target_libdir(&sysroot), libdir);
    }
}
