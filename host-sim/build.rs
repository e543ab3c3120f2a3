//! Builds the plugin component from this tree, so that `cargo run -p
//! host-sim` and `cargo test` always run the component of the same
//! checkout (the approach of wasmtime's test-programs).
//!
//! The plugin is built by a nested `cargo build` with its own target
//! directory: the outer cargo holds the lock on the workspace's.

use std::env;
use std::path::PathBuf;
use std::process::Command;

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
