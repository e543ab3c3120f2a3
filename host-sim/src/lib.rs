//! The host simulator: a wasmtime host that runs the Zoom webinar plugin
//! component with durable storage, an outbound HTTP policy and in-process
//! fakes of Zoom and the CRM.
//!
//! One module per capability: `runtime` (engine, instances, limits),
//! `storage` (the storage import on SQLite), `outbound` (the HTTP policy),
//! `fakes` (Zoom, CRM), `config` (the operator's configuration), `sim`
//! (all of it wired together, as the CLI and the tests use it), `compare`
//! (two runs' CRM states), `scenario` (scripted runs), `demo` (the main
//! command), `serve` (the HTTP front door), `console` (its operator's pages), `segment` (filtering the CRM's
//! contacts, R13), `api` (the plugin's exports as calls and JSON, shared by
//! the CLI and `serve`), `cli` (the `host-sim` commands), `clock` (the
//! simulated time and the host's one RFC 3339 reader and writer), `query`
//! (the host's one query-string and form reader).

pub mod api;
pub mod bench;
pub mod bindings;
pub mod cli;
pub mod clock;
pub mod compare;
pub mod config;
pub mod console;
pub mod crm_view;
pub mod demo;
pub mod exchange;
pub mod fake_server;
pub mod fakes;
pub mod load;
pub mod operator;
pub mod outbound;
pub mod query;
pub mod runtime;
pub mod scenario;
pub mod sealing;
pub mod segment;
pub mod serve;
pub mod sim;
pub mod storage;

/// The build script's wasm32-wasip2 check, compiled here for its tests.
#[cfg(test)]
#[path = "../build/wasm_target.rs"]
mod wasm_target;

/// The plugin component built from this tree by `build.rs`.
pub const PLUGIN_COMPONENT: &[u8] = include_bytes!(env!("PLUGIN_COMPONENT"));
