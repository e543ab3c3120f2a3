//! The pure core: every rule lives here, natively testable, no bindings.

pub mod audit;
pub mod definitions;
pub mod settings;
pub mod webhook;
pub mod zoom_signature;
