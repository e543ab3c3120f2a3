//! The Zoom webinar integration of a CRM, as a WASI 0.2 component.
//!
//! `core` is pure: it turns facts (a webhook delivery, settings, stored
//! state) into answers and plans, with no I/O, and is tested natively.
//! `edge` (wasm only) holds the WIT bindings and the adapters that connect
//! the core to the host's storage, config and HTTP.

pub mod core;
pub mod shell;

#[cfg(target_arch = "wasm32")]
mod edge;
