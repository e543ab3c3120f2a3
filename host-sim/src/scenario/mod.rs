//! Scenarios: a file that seeds the fakes and drives the plugin through a
//! list of steps, and the runner that plays one against a fresh simulator
//! and reports what the CRM holds at the end. The format is documented in
//! `docs/scenarios.md`; examples live in `tests/scenarios/`.
//!
//! - `model`: the file's format (the TOML types) and its checks;
//! - `run`: playing a scenario through the simulator, and its [`Outcome`];
//! - `steps`: what each kind of step does;
//! - `generate`: scenarios made rather than written (`scenario generate`,
//!   the recorded webinar of the fault, crash and bench runs);
//! - `render`: the outcome as text (its JSON is its serde form).
//!
//! Scenarios use `api` (the plugin's calls as the CLI makes them); `api`
//! never uses scenarios.

mod generate;
mod model;
mod render;
mod run;
mod steps;
#[cfg(test)]
mod tests;

pub use generate::{GenerateOptions, generate, record_every_webinar, recorded_webinar};
pub use model::{
    DEFAULT_START, Faults, GlobalSettings, RecordingSync, Scenario, ScenarioError, Signing, Step,
    UserSettings,
};
pub use run::{Outcome, Progress, StepOutcome, audit_entries, play, prepare, run, run_in};
pub use steps::CRM_WEBHOOK_PATH;
