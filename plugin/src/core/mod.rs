//! The pure core: every rule lives here, natively testable, no bindings.

pub mod action;
pub mod attendance;
pub mod audit;
pub mod contact_properties;
pub mod crm_action;
pub mod definitions;
pub mod exclusions;
pub mod intake;
pub mod ledger;
pub mod marketing_event;
pub mod plan;
pub mod recording;
pub mod recording_steps;
pub mod settings;
pub mod time;
pub mod webhook;
pub mod zoom_signature;
