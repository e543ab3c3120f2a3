//! The end-to-end tests: the real component, run in the host simulator.
//!
//! One test binary, a module per capability: each binary links wasmtime
//! (~80 MB), so eleven of them cost CI a gigabyte of disk and eleven links.
//! Run one part with `cargo test -p e2e-tests --test e2e <module>::`.

mod common;

mod activity_events;
mod api_conformance;
mod chaos;
mod console;
mod contract;
mod contract_versions;
mod crm_batches;
mod crm_contract;
mod fake_server;
mod faults;
mod install_and_outbound;
mod recordings;
mod runtime_limits;
mod scenarios;
mod settings;
mod webhook_verification;
mod workflow_action;
mod zoom_api;
mod zoom_errors;
