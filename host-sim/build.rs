//! Builds the plugin component from this tree, so that `cargo run -p
//! host-sim` and `cargo test` always run the component of the same
//! checkout (the approach of wasmtime's test-programs).
//!
//! The plugin is built by a nested `cargo build` with its own target
//! directory: the outer cargo holds the lock on the workspace's. Before
//! that, the `wasm32-wasip2` standard library is checked for and, where
//! rustup can, added (`build/wasm_target.rs`).

use std::env;
use std::path::PathBuf;
use std::process::Command;

#[path = "build/wasm_target.rs"]
mod wasm_target;
use wasm_target::TargetStep;

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let root = manifest_dir
        .parent()
        .expect("host-sim sits in the workspace")
        .to_path_buf();
    let target_dir = env::var_os("PLUGIN_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target").join("plugin"));

    for watched in [
        "plugin/src",
        "plugin/Cargo.toml",
        "wit",
        "Cargo.lock",
        "Cargo.toml",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    println!("cargo:rerun-if-env-changed=PLUGIN_TARGET_DIR");

    ensure_wasm_target();

    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut build = Command::new(cargo);
    build
        .current_dir(&root)
        .args([
            "build",
            "--package",
            "zoom-webinars-plugin",
            "--target",
            "wasm32-wasip2",
            "--release",
        ])
        .arg("--target-dir")
        .arg(&target_dir);
    // The outer build's flags and wrappers (clippy, coverage) are for the host.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTC_WRAPPER",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_MAKEFLAGS",
    ] {
        build.env_remove(var);
    }
    let status = build
        .status()
        .expect("could not run cargo to build the plugin component");
    assert!(
        status.success(),
        "building the plugin component failed; run `cargo build -p zoom-webinars-plugin --target wasm32-wasip2 --release` to see why"
    );

    let component = target_dir
        .join("wasm32-wasip2")
        .join("release")
        .join("zoom_webinars_plugin.wasm");
    assert!(
        component.exists(),
        "the plugin build did not produce {}",
        component.display()
    );
    println!("cargo:rustc-env=PLUGIN_COMPONENT={}", component.display());
}

/// Adds the wasm32-wasip2 target to the active toolchain when it is
/// missing and rustup is there to add it; otherwise stops with the command
/// to run. A panic is how a build script stops; its message is one line.
fn ensure_wasm_target() {
    println!("cargo:rerun-if-env-changed=RUSTUP_TOOLCHAIN");
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    let Some(sysroot) = sysroot else {
        // Without a sysroot there is nothing to check; the nested build says why it fails.
        return;
    };
    let has_target = wasm_target::target_libdir(&sysroot).is_dir();
    let toolchain =
        wasm_target::toolchain_name(env::var("RUSTUP_TOOLCHAIN").ok().as_deref(), &sysroot);
    let rustup = rustup_on_path();
    match wasm_target::decide(has_target, rustup.is_some(), toolchain.as_deref()) {
        TargetStep::Present => {}
        TargetStep::Stop { message } => panic!("{message}"),
        TargetStep::Install { toolchain } => {
            println!(
                "cargo:warning={}",
                wasm_target::installing_message(&toolchain)
            );
            let status = Command::new(rustup.expect("decide saw rustup"))
                .args(["target", "add", wasm_target::TARGET, "--toolchain"])
                .arg(&toolchain)
                .status();
            let added = status.map(|s| s.success()).unwrap_or(false);
            if !added || !wasm_target::target_libdir(&sysroot).is_dir() {
                panic!("{}", wasm_target::install_failed_message(&toolchain));
            }
        }
    }
}

/// The rustup binary on the PATH, if any.
fn rustup_on_path() -> Option<PathBuf> {
    let path = env::var_os("PATH")?;
    env::split_paths(&path)
        .map(|dir| dir.join("rustup"))
        .find(|candidate| candidate.is_file())
}
