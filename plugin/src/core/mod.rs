//! The pure core: every rule lives here, natively testable, no bindings.

pub mod definitions;
pub mod webhook;
pub mod zoom_signature;
