//! Playing a scenario through the simulator: a simulator prepared for it
//! (clock, rate limits, faults, seeded fakes), the setup (install, settings),
//! every step in order (what each kind does is in `steps.rs`), and what the
//! run leaves behind, the [`Outcome`].

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use super::model::{GlobalSettings, Scenario, ScenarioError};
use super::steps::{run_step, step_label};
use crate::api;
use crate::bindings::settings;
use crate::clock::{Clock, parse_rfc3339};
use crate::config::HostConfig;
use crate::crm_view::{self, EventSummary};
use crate::fakes::crm::CrmRateLimits;
use crate::fakes::zoom::ZoomRateLimits;
use crate::sim::{SimOptions, Simulator, StateStore};

/// What one step did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepOutcome {
    pub step: String,
    pub result: String,
}

/// What a run leaves behind: the CRM's records, the audit logs, the calls made.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    pub name: String,
    pub steps: Vec<StepOutcome>,
    /// Each marketing event's state and counts, as `crm events` shows them.
    pub marketing_events: Vec<EventSummary>,
    pub crm: Value,
    pub audit: BTreeMap<String, Value>,
    pub api_calls: BTreeMap<String, usize>,
}

/// How far a scenario has played, for a progress display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Step `index` (from 1) of `total` starts.
    Step {
        index: usize,
        total: usize,
        label: String,
    },
    /// Within a step: `done` of `total` deliveries made.
    Deliveries { done: usize, total: usize },
}

/// Plays `scenario` against a fresh simulator (state in memory).
pub async fn run(scenario: &Scenario, config: HostConfig) -> Result<Outcome, ScenarioError> {
    run_in(scenario, config, StateStore::Memory).await
}

/// Plays `scenario` with the plugin's state in `store`.
pub async fn run_in(
    scenario: &Scenario,
    config: HostConfig,
    store: StateStore,
) -> Result<Outcome, ScenarioError> {
    let sim = prepare(scenario, config, store)?;
    play(&sim, scenario, &mut |_| {}).await
}

/// A simulator for `scenario`: its clock at the scenario's start, its rate
/// limits and faults, the fakes seeded from it (unless a kept state
/// directory already holds an account).
pub fn prepare(
    scenario: &Scenario,
    config: HostConfig,
    store: StateStore,
) -> Result<Simulator, ScenarioError> {
    let start = scenario.start.as_deref().unwrap_or(super::DEFAULT_START);
    let start_ms = parse_rfc3339(start)
        .ok_or_else(|| ScenarioError::Parse(format!("start {start:?} is not an RFC 3339 time")))?;
    let options = SimOptions {
        clock: Clock::manual(start_ms),
        zoom_rate_limits: if scenario.rate_limits {
            ZoomRateLimits::PRO
        } else {
            ZoomRateLimits::OFF
        },
        crm_rate_limits: if scenario.rate_limits {
            CrmRateLimits::STARTER
        } else {
            CrmRateLimits::OFF
        },
        zoom_faults: scenario.faults.zoom.clone(),
        crm_faults: scenario.faults.crm.clone(),
    };
    if config.connection.mode != crate::config::ConnectionMode::Fake {
        return Err(ScenarioError::NotOnFakes);
    }
    let component = crate::sim::component(&config)?;
    let sim = Simulator::start_with(config, store, options, &component)?;
    if sim.zoom.account().webinars.is_empty() {
        sim.zoom.seed(scenario.zoom.clone());
        sim.crm.seed(&scenario.crm);
    }
    Ok(sim)
}

/// Plays `scenario`'s setup and steps on `sim`, reporting progress.
pub async fn play(
    sim: &Simulator,
    scenario: &Scenario,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<Outcome, ScenarioError> {
    let mut steps = setup(sim, scenario).await;
    for (index, step) in scenario.steps.iter().enumerate() {
        let label = step_label(step);
        progress(Progress::Step {
            index: index + 1,
            total: scenario.steps.len(),
            label: label.clone(),
        });
        let fail = |message: String| ScenarioError::Step {
            index: index + 1,
            step: label.clone(),
            message,
        };
        let result = run_step(sim, step, progress).await.map_err(fail)?;
        steps.push(StepOutcome {
            step: label,
            result,
        });
    }
    Ok(outcome(sim, scenario, steps).await)
}

/// What comes before the steps: install (unless the scenario says not to),
/// the global settings, each user's settings.
async fn setup(sim: &Simulator, scenario: &Scenario) -> Vec<StepOutcome> {
    let mut steps = Vec::new();
    if scenario.install.unwrap_or(true) {
        steps.push(StepOutcome {
            step: "install".into(),
            result: install(sim).await,
        });
    }
    if let Some(settings) = &scenario.settings {
        let result = apply_settings(sim, settings).await;
        steps.push(StepOutcome {
            step: "settings".into(),
            result,
        });
    }
    for user in &scenario.user_settings {
        let value = settings::UserSettings {
            user: user.user.clone(),
            sync_new_webinars: user.sync_new_webinars,
            sync_recordings: user.sync_recordings,
        };
        let result = match sim
            .runtime
            .set_user_settings(&sim.installation, &value)
            .await
        {
            Ok(Ok(())) => "user settings applied".to_owned(),
            Ok(Err(e)) => format!("user settings refused: {}", e.describe()),
            Err(e) => format!("user settings failed: {e}"),
        };
        steps.push(StepOutcome {
            step: format!("user_settings user={}", user.user),
            result,
        });
    }
    steps
}

/// `lifecycle.install`, as the setup's first line tells it.
async fn install(sim: &Simulator) -> String {
    match sim.runtime.install(&sim.installation).await {
        Ok(Ok(report)) => {
            let mut result = format!(
                "installed: {} created, {} already present",
                report.created.len(),
                report.already_present.len()
            );
            // R10: what install could not set up, and why.
            for missing in &report.not_set_up {
                result.push_str(&format!("; not set up: {missing}"));
            }
            result
        }
        Ok(Err(e)) => format!("install failed: {}", e.describe()),
        Err(e) => format!("install failed: {e}"),
    }
}

/// The run's [`Outcome`]: the steps' results, every webinar's audit log,
/// the CRM's records and the calls the plugin made.
async fn outcome(sim: &Simulator, scenario: &Scenario, steps: Vec<StepOutcome>) -> Outcome {
    let mut audit = BTreeMap::new();
    for webinar in &scenario.zoom.webinars {
        let id = webinar.id.to_string();
        let entries = audit_entries(sim, &id).await;
        audit.insert(id, entries);
    }
    let crm = crm_records(sim);
    Outcome {
        name: scenario.name.clone(),
        steps,
        marketing_events: crm_view::marketing_events(&crm, sim.clock.now_ms(), &audit),
        crm,
        audit,
        api_calls: sim.installation.outbound.log().counts_by_service(),
    }
}

/// The fake CRM's records, without what is the same in every run.
fn crm_records(sim: &Simulator) -> Value {
    let mut crm = sim.crm.dump();
    if let Some(map) = crm.as_object_mut() {
        // Install's definitions are the same in every run; the records are what a scenario shows.
        for setup in [
            "property_groups",
            "contact_properties",
            "event_templates",
            "event_definitions",
            "owners",
        ] {
            map.remove(setup);
        }
        // Custom events appear only where a scenario writes them (R10).
        if map
            .get("custom_events")
            .and_then(Value::as_array)
            .is_some_and(Vec::is_empty)
        {
            map.remove("custom_events");
        }
    }
    crm
}

/// A webinar's audit log as JSON (`kind`, `message`, `records`), oldest
/// first, or why it could not be read.
pub async fn audit_entries(sim: &Simulator, webinar: &str) -> Value {
    match sim.runtime.audit_log(&sim.installation, &webinar.to_owned(), 0, 1000).await {
        Ok(Ok(page)) => json!(page
            .entries
            .iter()
            .map(|e| json!({ "kind": api::audit_kind_name(e.kind), "message": e.message, "records": e.records }))
            .collect::<Vec<_>>()),
        Ok(Err(e)) => json!(format!("unavailable: {}", e.describe())),
        Err(e) => json!(format!("unavailable: {e}")),
    }
}

/// A scenario's change to the global settings, made through the plugin on
/// top of what it holds; what it answered.
pub(super) async fn apply_settings(sim: &Simulator, change: &GlobalSettings) -> String {
    let current = match sim.runtime.get_global_settings(&sim.installation).await {
        Ok(Ok(current)) => current,
        Ok(Err(e)) => return format!("settings unreadable: {}", e.describe()),
        Err(e) => return format!("settings failed: {e}"),
    };
    match sim
        .runtime
        .set_global_settings(&sim.installation, &change.applied_to(&current))
        .await
    {
        Ok(Ok(())) => "settings applied".to_owned(),
        Ok(Err(e)) => format!("settings refused: {}", e.describe()),
        Err(e) => format!("settings failed: {e}"),
    }
}
