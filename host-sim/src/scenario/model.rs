//! A scenario file's format: the TOML types (documented in
//! `docs/scenarios.md`) and the checks that make a mistyped file fail with
//! one line naming the step and the key.

use serde::{Deserialize, Serialize};

use crate::bindings::settings;
use crate::fakes::FaultPlan;
use crate::fakes::crm::CrmSeed;
use crate::fakes::crm::webhooks::ContactChange;
use crate::fakes::zoom::model::ZoomAccount;
use crate::fakes::zoom::webhooks::WebhookEvent;
use crate::sim::SimError;

/// Where the clock starts when a scenario does not say.
pub const DEFAULT_START: &str = "2026-11-20T17:00:00Z";

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
