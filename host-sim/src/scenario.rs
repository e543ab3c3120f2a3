//! Scenarios: a file that seeds the fakes and drives the plugin through a
//! list of steps, and the runner that plays one against a fresh simulator
//! and reports what the CRM holds at the end. The format is documented in
//! `docs/scenarios.md`; examples live in `tests/scenarios/`.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::api;
use crate::bindings::{settings, webhooks};
use crate::clock::{Clock, parse_rfc3339};
use crate::config::HostConfig;
use crate::crm_view::{self, EventSummary};
use crate::fakes::FaultPlan;
use crate::fakes::crm::webhooks::ContactChange;
use crate::fakes::crm::{CrmRateLimits, CrmSeed, FakeCrm};
use crate::fakes::zoom::webhooks::{WebhookEvent, signature_headers};
use crate::fakes::zoom::{ZoomRateLimits, model::ZoomAccount};
use crate::sim::{SimError, SimOptions, Simulator, StateStore, header};

/// Where the clock starts when a scenario does not say.
pub const DEFAULT_START: &str = "2026-11-20T17:00:00Z";
/// The public address the simulator's CRM webhooks are delivered to.
pub const CRM_WEBHOOK_PATH: &str = "/webhooks/crm";

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// The simulated time at the first step (RFC 3339).
    pub start: Option<String>,
    /// Run `lifecycle.install` before the steps (default true).
    pub install: Option<bool>,
    /// The plugin's global settings, set before the steps.
    pub settings: Option<GlobalSettings>,
    pub user_settings: Vec<UserSettings>,
    pub zoom: ZoomAccount,
    pub crm: CrmSeed,
    /// The real services' rate limits on the fakes (default off).
    pub rate_limits: bool,
    pub faults: Faults,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Faults {
    pub zoom: FaultPlan,
    pub crm: FaultPlan,
}

/// A change to the plugin's global settings (R1-R5): only the settings it
/// names change, as with `host-sim settings set`; the others keep what the
/// plugin holds (on a fresh installation: everything off and empty).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GlobalSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub global_sync: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub webinar_sync: Option<bool>,
    /// "none", "all-users", or a list of Zoom user emails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording_sync: Option<RecordingSync>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_exclusion_domains: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recording_exclusion_domains: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_exclusion_domains: Option<Vec<String>>,
}

impl GlobalSettings {
    /// `current` with the settings this change names replaced.
    pub fn applied_to(&self, current: &settings::GlobalSettings) -> settings::GlobalSettings {
        let mut next = current.clone();
        if let Some(on) = self.global_sync {
            next.global_sync = on;
        }
        if let Some(on) = self.webinar_sync {
            next.webinar_sync = on;
        }
        if let Some(recording) = &self.recording_sync {
            next.recording_sync = recording.to_wit();
        }
        for (change, field) in [
            (
                &self.host_exclusion_domains,
                &mut next.host_exclusion_domains,
            ),
            (
                &self.recording_exclusion_domains,
                &mut next.recording_exclusion_domains,
            ),
            (
                &self.contact_exclusion_domains,
                &mut next.contact_exclusion_domains,
            ),
        ] {
            if let Some(domains) = change {
                field.clone_from(domains);
            }
        }
        next
    }
}

/// `"none"`, `"all-users"`, or the emails of the Zoom users whose recordings sync.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RecordingSync {
    Mode(String),
    SelectedUsers(Vec<String>),
}

impl RecordingSync {
    fn to_wit(&self) -> settings::RecordingSync {
        match self {
            RecordingSync::SelectedUsers(users) => {
                settings::RecordingSync::SelectedUsers(users.clone())
            }
            RecordingSync::Mode(mode) if mode == "all-users" => settings::RecordingSync::AllUsers,
            _ => settings::RecordingSync::None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserSettings {
    pub user: String,
    #[serde(default)]
    pub sync_new_webinars: bool,
    #[serde(default)]
    pub sync_recordings: bool,
}

/// How a raw Zoom delivery is signed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signing {
    #[default]
    Valid,
    /// Signed with another secret.
    Forged,
    /// No signature headers.
    Unsigned,
    /// Signed ten minutes before it arrives.
    Stale,
}

/// One step of a scenario. Unknown keys are refused by `check_steps`:
/// serde's `deny_unknown_fields` breaks the variants with flattened fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "snake_case")]
pub enum Step {
    /// A webhook the fake Zoom emits for what is in its account.
    ZoomWebhook {
        #[serde(flatten)]
        event: WebhookEvent,
        #[serde(default)]
        times: Option<u32>,
    },
    /// A Zoom delivery given as its raw JSON body.
    ZoomWebhookRaw {
        body: String,
        #[serde(default)]
        signing: Signing,
    },
    /// Every webhook of a webinar's life (see `FakeZoom::lifecycle`): in
    /// order, or shuffled with a seed, each delivered `times` times.
    PlayWebinar {
        webinar: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        shuffle_seed: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        times: Option<u32>,
    },
    /// The admin changes the global settings.
    Settings {
        #[serde(flatten)]
        settings: GlobalSettings,
    },
    /// The CRM deletes, privacy-deletes or restores a contact and tells the plugin.
    CrmWebhook {
        change: ContactChange,
        email: String,
    },
    SyncNow {
        webinar: String,
    },
    Backfill {
        #[serde(default)]
        since: Option<String>,
    },
    Tick,
    /// The workflow action "Add contact to Zoom webinar" for a CRM contact.
    AddContactToWebinar {
        /// The contact's email in the fake CRM (deleted contacts included).
        contact: String,
        /// A fixed webinar id, as typed into the action.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        webinar: Option<String>,
        /// Or the contact property the webinar id is taken from.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        property: Option<String>,
    },
    /// Changes the Zoom account: a webinar ends, a recording finishes processing.
    CompleteRecording {
        webinar: u64,
    },
    AdvanceClock {
        minutes: u64,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error("the scenario file is not valid: {0}")]
    Parse(String),
    #[error("step {index} ({step}): {message}")]
    Step {
        index: usize,
        step: String,
        message: String,
    },
    #[error(transparent)]
    Sim(#[from] SimError),
    #[error(
        "scenarios, the demo and the bench seed and read the in-process fakes: run them with connection.mode = \"fake\""
    )]
    NotOnFakes,
}

impl Scenario {
    pub fn from_toml(text: &str) -> Result<Self, ScenarioError> {
        let table: toml::Table = toml::from_str(text).map_err(|e| parse_error(text, &e))?;
        check_steps(&table)?;
        toml::from_str(text).map_err(|e| parse_error(text, &e))
    }

    pub fn to_toml(&self) -> Result<String, ScenarioError> {
        toml::to_string(self)
            .map_err(|e| ScenarioError::Parse(format!("cannot write the scenario as TOML: {e}")))
    }
}

/// One line: where, then what (TOML's own rendering draws the line).
fn parse_error(text: &str, e: &toml::de::Error) -> ScenarioError {
    let at = e.span().map_or(String::new(), |span| {
        let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
        format!("line {line}: ")
    });
    ScenarioError::Parse(format!("{at}{}", e.message().trim()))
}

/// Reads every step on its own, so that an error names the step, and
/// refuses the keys serde would let through. `deny_unknown_fields` cannot
/// be used on `Step` (it breaks the variants with `#[serde(flatten)]`
/// fields: the webhook event of `zoom_webhook`, the settings of
/// `settings`), and without this check `signin = "forged"` would deliver a
/// validly signed webhook. A key is unknown when the step, read and
/// written back, no longer has it.
fn check_steps(table: &toml::Table) -> Result<(), ScenarioError> {
    let Some(steps) = table.get("steps").and_then(toml::Value::as_array) else {
        return Ok(());
    };
    for (index, given) in steps.iter().enumerate() {
        let kind = given.get("do").and_then(toml::Value::as_str).unwrap_or("");
        let fail = |message: &str| {
            let named = if kind.is_empty() {
                String::new()
            } else {
                format!(" ({kind})")
            };
            ScenarioError::Parse(format!("step {}{named}: {}", index + 1, message.trim()))
        };
        let step: Step = given.clone().try_into().map_err(|e| fail(e.message()))?;
        let known = toml::Value::try_from(&step).map_err(|e| fail(&e.to_string()))?;
        let fields = given.as_table().into_iter().flat_map(|t| t.keys());
        if let Some(unknown) = fields
            .into_iter()
            .find(|key| known.get(key.as_str()).is_none())
        {
            return Err(fail(&format!(
                "unknown field `{unknown}` (docs/scenarios.md lists the fields of each step)"
            )));
        }
    }
    Ok(())
}

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

/// `sync_now webinar=812…`: the step's kind, then its fields.
fn step_label(step: &Step) -> String {
    let Ok(Value::Object(mut map)) = serde_json::to_value(step) else {
        return format!("{step:?}");
    };
    let kind = map
        .remove("do")
        .and_then(|d| d.as_str().map(str::to_owned))
        .unwrap_or_default();
    let fields = map
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| match v {
            // A raw body is summarised: its event and size, not its text.
            Value::String(body) if k == "body" => {
                let event = serde_json::from_str::<Value>(body)
                    .ok()
                    .and_then(|v| v["event"].as_str().map(str::to_owned));
                match event {
                    Some(event) => format!("event={event} ({} bytes)", body.len()),
                    None => format!("body=({} bytes, not a Zoom event)", body.len()),
                }
            }
            Value::String(s) => format!("{k}={s}"),
            other => format!("{k}={other}"),
        });
    std::iter::once(kind)
        .chain(fields)
        .collect::<Vec<_>>()
        .join(" ")
}

fn answer_text(answer: &webhooks::Answer) -> String {
    format!(
        "{} {}",
        answer.status,
        String::from_utf8_lossy(&answer.body)
    )
}

/// The audit kind as the CLI and snapshots name it (R19's categories).
pub fn audit_kind_name(kind: settings::AuditKind) -> &'static str {
    match kind {
        settings::AuditKind::SyncSettingOff => "sync-setting-off",
        settings::AuditKind::RecordingNotSynced => "recording-not-synced",
        settings::AuditKind::ParticipantsNotSynced => "participants-not-synced",
        settings::AuditKind::WebinarDataNotSynced => "webinar-data-not-synced",
        settings::AuditKind::EmailsExcluded => "emails-excluded",
        settings::AuditKind::Error => "error",
        settings::AuditKind::Synced => "synced",
    }
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

/// A simulator for `scenario`: its clock at the scenario's start, its rate
/// limits and faults, the fakes seeded from it (unless a kept state
/// directory already holds an account).
pub fn prepare(
    scenario: &Scenario,
    config: HostConfig,
    store: StateStore,
) -> Result<Simulator, ScenarioError> {
    let start = scenario.start.as_deref().unwrap_or(DEFAULT_START);
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
    let mut steps = Vec::new();
    if scenario.install.unwrap_or(true) {
        let result = match sim.runtime.install(&sim.installation).await {
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
        };
        steps.push(StepOutcome {
            step: "install".into(),
            result,
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

    let mut audit = BTreeMap::new();
    for webinar in &scenario.zoom.webinars {
        let id = webinar.id.to_string();
        let entries = audit_entries(sim, &id).await;
        audit.insert(id, entries);
    }
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
    Ok(Outcome {
        name: scenario.name.clone(),
        steps,
        marketing_events: crm_view::marketing_events(&crm, sim.clock.now_ms(), &audit),
        crm,
        audit,
        api_calls: sim.installation.outbound.log().counts_by_service(),
    })
}

/// A webinar's audit log as JSON (`kind`, `message`, `records`), oldest
/// first, or why it could not be read.
pub async fn audit_entries(sim: &Simulator, webinar: &str) -> Value {
    match sim.runtime.audit_log(&sim.installation, &webinar.to_owned(), 0, 1000).await {
        Ok(Ok(page)) => json!(page
            .entries
            .iter()
            .map(|e| json!({ "kind": audit_kind_name(e.kind), "message": e.message, "records": e.records }))
            .collect::<Vec<_>>()),
        Ok(Err(e)) => json!(format!("unavailable: {}", e.describe())),
        Err(e) => json!(format!("unavailable: {e}")),
    }
}

/// A scenario's change to the global settings, made through the plugin on
/// top of what it holds; what it answered.
async fn apply_settings(sim: &Simulator, change: &GlobalSettings) -> String {
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

async fn deliver(sim: &Simulator, delivery: &webhooks::Delivery) -> Result<String, String> {
    sim.deliver(delivery)
        .await
        .map(|a| answer_text(&a))
        .map_err(|e| e.to_string())
}

async fn run_step(
    sim: &Simulator,
    step: &Step,
    progress: &mut (dyn FnMut(Progress) + Send),
) -> Result<String, String> {
    let report = |r: Result<
        Result<crate::bindings::SyncReport, crate::bindings::PluginError>,
        crate::runtime::CallError,
    >| match r {
        Ok(Ok(report)) => format!(
            "written {}, skipped {}, failed {}, pending {}",
            report.written, report.skipped, report.failed, report.pending
        ),
        Ok(Err(e)) => format!("error: {}", e.describe()),
        Err(e) => format!("call failed: {e}"),
    };
    match step {
        Step::ZoomWebhook { event, times } => {
            let body = sim
                .zoom
                .webhook_body(event)
                .map_err(|e| e.to_string())?
                .to_string();
            let mut answers = Vec::new();
            for _ in 0..times.unwrap_or(1).max(1) {
                answers.push(deliver(sim, &sim.zoom_delivery(body.as_bytes())).await?);
            }
            Ok(answers.join(" | "))
        }
        Step::ZoomWebhookRaw { body, signing } => {
            let mut delivery = sim.zoom_delivery(body.as_bytes());
            let now_s = sim.clock.now_ms() / 1000;
            let resign = |secret: &str, at: i64| {
                signature_headers(secret, at, body.as_bytes())
                    .into_iter()
                    .map(|(n, v)| header(&n, &v))
                    .collect::<Vec<_>>()
            };
            match signing {
                Signing::Valid => {}
                Signing::Unsigned => delivery.headers.retain(|h| !h.name.starts_with("x-zm-")),
                Signing::Forged => {
                    delivery.headers.retain(|h| !h.name.starts_with("x-zm-"));
                    delivery
                        .headers
                        .extend(resign("not-the-secret-token", now_s));
                }
                Signing::Stale => {
                    delivery.headers.retain(|h| !h.name.starts_with("x-zm-"));
                    delivery.headers.extend(resign(
                        sim.config.zoom.webhook_secret_token.expose(),
                        now_s - 600,
                    ));
                }
            }
            deliver(sim, &delivery).await
        }
        Step::Settings { settings } => Ok(apply_settings(sim, settings).await),
        Step::PlayWebinar {
            webinar,
            shuffle_seed,
            times,
        } => {
            let mut events = Vec::new();
            for event in sim.zoom.lifecycle(*webinar).map_err(|e| e.to_string())? {
                for _ in 0..times.unwrap_or(1).max(1) {
                    events.push(event.clone());
                }
            }
            if let Some(seed) = shuffle_seed {
                shuffle(&mut events, *seed);
            }
            let mut statuses: BTreeMap<u16, usize> = BTreeMap::new();
            for (done, event) in events.iter().enumerate() {
                if done % 50 == 0 {
                    progress(Progress::Deliveries {
                        done,
                        total: events.len(),
                    });
                }
                let body = sim
                    .zoom
                    .webhook_body(event)
                    .map_err(|e| e.to_string())?
                    .to_string();
                let answer = sim
                    .deliver(&sim.zoom_delivery(body.as_bytes()))
                    .await
                    .map_err(|e| e.to_string())?;
                *statuses.entry(answer.status).or_insert(0) += 1;
            }
            let summary: Vec<String> = statuses.iter().map(|(s, n)| format!("{n}x {s}")).collect();
            Ok(format!(
                "{} deliveries: {}",
                events.len(),
                summary.join(", ")
            ))
        }
        Step::CrmWebhook { change, email } => {
            let body = sim
                .crm
                .change_contact(email, *change)
                .ok_or_else(|| format!("the CRM has no contact {email}"))?
                .to_string();
            let now = sim.clock.now_ms();
            let headers = FakeCrm::webhook_headers(
                sim.config.crm.client_secret.expose(),
                &format!("{}{CRM_WEBHOOK_PATH}", sim.config.public_url),
                body.as_bytes(),
                now,
            );
            let delivery = webhooks::Delivery {
                source: webhooks::WebhookSource::Crm,
                method: "POST".into(),
                path: CRM_WEBHOOK_PATH.into(),
                headers: headers.iter().map(|(n, v)| header(n, v)).collect(),
                body: body.into_bytes(),
                received_at: now,
            };
            deliver(sim, &delivery).await
        }
        Step::SyncNow { webinar } => Ok(report(
            sim.runtime.sync_now(&sim.installation, webinar).await,
        )),
        Step::Backfill { since } => {
            let since = match since {
                Some(text) => Some(
                    parse_rfc3339(text)
                        .ok_or_else(|| format!("since {text:?} is not an RFC 3339 time"))?,
                ),
                None => None,
            };
            Ok(report(sim.runtime.backfill(&sim.installation, since).await))
        }
        Step::Tick => Ok(report(sim.runtime.tick(&sim.installation).await)),
        Step::AddContactToWebinar {
            contact,
            webinar,
            property,
        } => {
            let contact_id = api::contact_id(sim, contact)
                .ok_or_else(|| format!("the CRM has no contact {contact}"))?;
            let input = match (webinar, property) {
                (Some(webinar), _) => api::WebinarInput::Fixed(webinar.clone()),
                (None, Some(property)) => api::WebinarInput::Property(property.clone()),
                (None, None) => api::WebinarInput::Missing,
            };
            let callback = format!("cb-{contact_id}-{}", webinar.as_deref().unwrap_or("-"));
            Ok(
                match api::add_contact_to_webinar(sim, &contact_id, input, &callback).await {
                    Ok(outcome) => outcome.text(),
                    Err(e) => format!("call failed: {e}"),
                },
            )
        }
        Step::CompleteRecording { webinar } => {
            let found = sim.zoom.update(|account| {
                account
                    .webinar_mut(*webinar)
                    .and_then(|w| w.recording.as_mut())
                    .map(|r| {
                        for file in &mut r.files {
                            file.status = "completed".into();
                        }
                    })
            });
            found
                .map(|()| "recording completed".to_owned())
                .ok_or_else(|| format!("webinar {webinar} has no recording"))
        }
        Step::AdvanceClock { minutes } => {
            sim.clock.advance(Duration::from_secs(minutes * 60));
            Ok(format!(
                "clock at {}",
                crate::clock::rfc3339(sim.clock.now_ms())
            ))
        }
    }
}

impl Outcome {
    /// A readable summary for people.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let line = |out: &mut String, text: String| {
            out.push_str(&text);
            out.push('\n');
        };
        line(&mut out, format!("Scenario: {}", self.name));
        line(&mut out, "\nSteps:".into());
        for (i, s) in self.steps.iter().enumerate() {
            line(
                &mut out,
                format!("  {:>2}. {}\n      -> {}", i + 1, s.step, s.result),
            );
        }
        let count = |key: &str| self.crm[key].as_array().map_or(0, Vec::len);
        line(&mut out, "\nCRM:".into());
        line(
            &mut out,
            format!(
                "  {} contact(s), {} participation(s), {} timeline event(s), {} call(s)",
                count("contacts"),
                count("participations"),
                count("timeline_events"),
                count("calls")
            ),
        );
        line(&mut out, "\nAudit logs:".into());
        for (webinar, entries) in &self.audit {
            match entries {
                Value::Array(list) => {
                    line(&mut out, format!("  {webinar}: {} entries", list.len()));
                    for e in list.iter().take(10) {
                        line(
                            &mut out,
                            format!(
                                "    [{}] {}",
                                e["kind"].as_str().unwrap_or(""),
                                e["message"].as_str().unwrap_or("")
                            ),
                        );
                    }
                }
                other => line(
                    &mut out,
                    format!("  {webinar}: {}", other.as_str().unwrap_or("")),
                ),
            }
        }
        line(&mut out, "\nAPI calls:".into());
        for (service, n) in &self.api_calls {
            line(&mut out, format!("  {service}: {n}"));
        }
        // What a marketer looks for last: the events' counts and the contacts' properties.
        line(&mut out, "\nMarketing events:".into());
        for e in &self.marketing_events {
            line(&mut out, format!("  {}", crm_view::event_line(e)));
        }
        if self.marketing_events.is_empty() {
            line(&mut out, "  none".into());
        }
        let contacts: Vec<_> = self.crm["contacts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(crm_view::contact)
            .collect();
        line(
            &mut out,
            format!(
                "\nContacts ({}) and their Zoom properties (R12):",
                contacts.len()
            ),
        );
        const SHOWN: usize = 20;
        for row in crm_view::contact_lines(&contacts[..contacts.len().min(SHOWN)]) {
            line(&mut out, format!("  {row}"));
        }
        if contacts.len() > SHOWN {
            line(
                &mut out,
                format!(
                    "  ... and {} more (--json has them all)",
                    contacts.len() - SHOWN
                ),
            );
        }
        out
    }
}

/// Fisher-Yates with SplitMix64: the same seed gives the same order.
fn shuffle<T>(items: &mut [T], seed: u64) {
    let mut state = seed;
    for i in (1..items.len()).rev() {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        let j = ((z ^ (z >> 31)) % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}

/// One webinar that ran, with `registrants` of whom 70 % attended and
/// three guests, recorded with its transcript, and no steps: a "sync now"
/// writes it all from Zoom's lists, in batches, calls included. The
/// fault, crash and bench runs sync it. Also returns the webinar's id.
pub fn recorded_webinar(registrants: usize, seed: u64) -> (Scenario, String) {
    let mut scenario = generate(GenerateOptions {
        webinars: 1,
        registrants,
        attendees: registrants * 7 / 10,
        guests: 3,
        seed,
    });
    scenario.steps.clear();
    record_every_webinar(&mut scenario);
    let webinar = scenario.zoom.webinars[0].id.to_string();
    (scenario, webinar)
}

/// Gives every webinar of `scenario` a cloud recording, ready, with its
/// transcript, and syncs every host's recordings: each attendee then gets
/// a call, which the CRM does not deduplicate (R11, R30).
pub fn record_every_webinar(scenario: &mut Scenario) {
    use crate::fakes::zoom::model::{Recording, RecordingFile};
    for webinar in &mut scenario.zoom.webinars {
        let file = |file_type: &str, content: &str| RecordingFile {
            id: String::new(),
            file_type: file_type.into(),
            status: "completed".into(),
            content: content.into(),
        };
        webinar.recording = Some(Recording {
            files: vec![
                file("MP4", ""),
                file(
                    "TRANSCRIPT",
                    &format!(
                        "WEBVTT\n\n1\n00:00:01.000 --> 00:00:04.000\nHannah Host: Welcome to {}.\n",
                        webinar.topic
                    ),
                ),
            ],
            deleted: false,
        });
    }
    scenario
        .settings
        .get_or_insert_with(GlobalSettings::default)
        .recording_sync = Some(RecordingSync::Mode("all-users".into()));
}

/// What `scenario generate` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerateOptions {
    pub webinars: usize,
    /// Registrants per webinar.
    pub registrants: usize,
    /// Registrants who attend, per webinar (at most `registrants`).
    pub attendees: usize,
    /// Guests who join without registering, per webinar.
    pub guests: usize,
    pub seed: u64,
}

/// A large, realistic scenario: one host, webinars that ran, registrants of
/// many companies, attendees with one to three segments (some
/// overlapping), guests; each webinar played and then synced.
pub fn generate(options: GenerateOptions) -> Scenario {
    use crate::fakes::zoom::model::{Participant, Ran, Registrant, User, Webinar};
    let mut state = options.seed;
    let mut next = move |bound: u64| {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        (z ^ (z >> 31)) % bound.max(1)
    };
    let host = "host@acme.example".to_owned();
    let mut webinars = Vec::new();
    let mut steps = Vec::new();
    for w in 0..options.webinars {
        let id = 81_000_000_000 + w as u64 * 1_111;
        let start = crate::clock::rfc3339(
            parse_rfc3339("2026-11-02T15:00:00Z").unwrap_or(0) + w as i64 * 86_400_000,
        );
        let start_ms = parse_rfc3339(&start).unwrap_or(0);
        let registrants: Vec<Registrant> = (0..options.registrants)
            .map(|i| Registrant {
                id: String::new(),
                email: format!("person{i}@company{}.example", i % 97),
                first_name: format!("Person{i}"),
                last_name: format!("Company{}", i % 97),
                status: "approved".into(),
                create_time: String::new(),
            })
            .collect();
        let mut participants: Vec<Participant> = registrants
            .iter()
            .take(options.attendees.min(options.registrants))
            .map(|r| {
                let segments = match next(10) {
                    0 => vec![(0, 25), (20, 45)],           // overlapping rejoin
                    1 => vec![(5, 15), (30, 60)],           // left and came back
                    2 => vec![(0, 10), (12, 20), (50, 60)], // three times
                    _ => {
                        let join = next(20) as u32;
                        vec![(join, (join + 10 + next(40) as u32).min(60))]
                    }
                };
                Participant {
                    name: r.first_name.clone(),
                    email: r.email.clone(),
                    registrant: Some(r.email.clone()),
                    segments,
                }
            })
            .collect();
        participants.extend((0..options.guests).map(|g| Participant {
            name: format!("Guest {g}"),
            email: format!("guest{g}@elsewhere.example"),
            registrant: None,
            segments: vec![(10, 40)],
        }));
        webinars.push(Webinar {
            id,
            uuid: String::new(),
            host: host.clone(),
            topic: format!("Generated webinar {}", w + 1),
            r#type: 5,
            start_time: start.clone(),
            duration: 60,
            timezone: "UTC".into(),
            approval_type: 0,
            required_fields: Vec::new(),
            required_questions: Vec::new(),
            registrants,
            participants,
            ran: Some(Ran {
                start_time: start,
                end_time: crate::clock::rfc3339(start_ms + 3_600_000),
            }),
            recording: None,
        });
        steps.push(Step::PlayWebinar {
            webinar: id,
            shuffle_seed: None,
            times: None,
        });
        steps.push(Step::SyncNow {
            webinar: id.to_string(),
        });
    }
    Scenario {
        name: format!(
            "generated: {} webinar(s), {} registrants and {} attendees each",
            options.webinars, options.registrants, options.attendees
        ),
        description: format!("Generated with seed {}.", options.seed),
        settings: Some(GlobalSettings {
            global_sync: Some(true),
            webinar_sync: Some(true),
            ..GlobalSettings::default()
        }),
        zoom: ZoomAccount {
            users: vec![User {
                id: String::new(),
                email: host,
                first_name: "Hannah".into(),
                last_name: "Host".into(),
            }],
            webinars,
            events: Vec::new(),
            scopes: None,
        },
        steps,
        ..Scenario::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A file with one step: `do = kind` and `fields`.
    fn one_step(kind: &str, fields: &str) -> Result<Scenario, ScenarioError> {
        Scenario::from_toml(&format!(
            "name = \"x\"\n[[steps]]\ndo = \"{kind}\"\n{fields}\n"
        ))
    }

    /// Every kind of step: its valid fields parse, and the same fields
    /// with a misspelt one are refused naming the step number, the kind
    /// and the key.
    #[test]
    fn every_kind_of_step_refuses_an_unknown_key_naming_the_step_and_the_key() {
        let kinds = [
            (
                "zoom_webhook",
                "event = \"webinar.ended\"\nwebinar = 1\ntimes = 2",
                "webnar = 1",
            ),
            (
                "zoom_webhook",
                "event = \"webinar.participant_joined\"\nwebinar = 1\nparticipant = \"Ada\"",
                "segmnt = 1",
            ),
            (
                "zoom_webhook_raw",
                "body = \"{}\"\nsigning = \"forged\"",
                "signin = \"forged\"",
            ),
            (
                "play_webinar",
                "webinar = 1\nshuffle_seed = 3\ntimes = 2",
                "shufle_seed = 3",
            ),
            (
                "settings",
                "global_sync = true",
                "contact_exclusion_domain = [\"a.example\"]",
            ),
            (
                "crm_webhook",
                "change = \"contact.deletion\"\nemail = \"a@b.example\"",
                "emial = \"a@b.example\"",
            ),
            ("sync_now", "webinar = \"1\"", "webnar = \"x\""),
            (
                "backfill",
                "since = \"2026-01-01T00:00:00Z\"",
                "snce = \"x\"",
            ),
            ("tick", "", "now = true"),
            (
                "add_contact_to_webinar",
                "contact = \"a@b.example\"\nwebinar = \"1\"",
                "webnar = \"1\"",
            ),
            ("complete_recording", "webinar = 1", "webinars = 1"),
            ("advance_clock", "minutes = 5", "hours = 3"),
        ];
        for (kind, valid, wrong) in kinds {
            one_step(kind, valid).unwrap_or_else(|e| panic!("{kind} {valid:?}: {e}"));
            let err = one_step(kind, &format!("{valid}\n{wrong}"))
                .unwrap_err()
                .to_string();
            let key = wrong.split(' ').next().unwrap();
            assert!(
                err.contains(&format!("step 1 ({kind})")) && err.contains(&format!("`{key}`")),
                "{kind} with {wrong:?}: {err}"
            );
            assert_eq!(err.lines().count(), 1, "{err}");
        }
    }

    #[test]
    fn the_step_number_is_the_failing_steps() {
        let err = Scenario::from_toml(
            "[[steps]]\ndo = \"tick\"\n[[steps]]\ndo = \"advance_clock\"\nminutes = 5\nhours = 3\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("the scenario file is not valid: step 2 (advance_clock)"),
            "{err}"
        );
        let err = Scenario::from_toml("[[steps]]\nwebinar = \"1\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("step 1") && err.contains("`do`"), "{err}");
    }

    #[test]
    fn a_settings_change_keeps_what_it_does_not_name() {
        let current = settings::GlobalSettings {
            global_sync: true,
            webinar_sync: true,
            recording_sync: settings::RecordingSync::AllUsers,
            host_exclusion_domains: vec!["hosts.example".into()],
            recording_exclusion_domains: vec!["recordings.example".into()],
            contact_exclusion_domains: vec!["acme.example".into()],
        };
        let Step::Settings { settings: change } = one_step("settings", "webinar_sync = false")
            .unwrap()
            .steps
            .remove(0)
        else {
            panic!("a settings step");
        };
        let next = change.applied_to(&current);
        assert_eq!(
            next,
            settings::GlobalSettings {
                webinar_sync: false,
                ..current.clone()
            }
        );
        let Step::Settings { settings: change } = one_step(
            "settings",
            "contact_exclusion_domains = []\nrecording_sync = [\"h@acme.example\"]",
        )
        .unwrap()
        .steps
        .remove(0) else {
            panic!("a settings step");
        };
        let next = change.applied_to(&current);
        assert!(next.contact_exclusion_domains.is_empty());
        assert_eq!(
            next.recording_sync,
            settings::RecordingSync::SelectedUsers(vec!["h@acme.example".into()])
        );
        assert_eq!(next.host_exclusion_domains, current.host_exclusion_domains);
    }

    #[test]
    fn a_raw_body_is_summarised_in_the_steps_label() {
        let body = format!(
            "{{\"event\":\"webinar.participant_joined\",\"payload\":{{\"pad\":\"{}\"}}}}",
            "x".repeat(500)
        );
        let step = Step::ZoomWebhookRaw {
            body: body.clone(),
            signing: Signing::Forged,
        };
        let label = step_label(&step);
        assert_eq!(
            label,
            format!(
                "zoom_webhook_raw event=webinar.participant_joined ({} bytes) signing=forged",
                body.len()
            )
        );
    }
}
