//! The plugin's exports as JSON and as calls on a [`Simulator`], shared by
//! the CLI (`--json`) and `host-sim serve`: one shape for each, in one
//! place.

use serde_json::{Value, json};

use crate::bindings::{PluginError, SyncReport, settings, webhooks};
use crate::fakes::crm::workflows::{ActionInput, Execution, ExecutionState};
use crate::runtime::CallError;
use crate::sim::Simulator;

/// Why a call did not give an answer: the plugin refused, or the host failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Plugin(String),
    #[error("the plugin could not be run: {0}")]
    Call(#[from] CallError),
    #[error("{0}")]
    BadInput(String),
}

fn plugin<T>(result: Result<Result<T, PluginError>, CallError>) -> Result<T, ApiError> {
    result?.map_err(|e| ApiError::Plugin(e.describe()))
}

pub fn report_json(report: &SyncReport) -> Value {
    json!({
        "written": report.written,
        "skipped": report.skipped,
        "failed": report.failed,
        "pending": report.pending,
        "notes": report.notes,
    })
}

pub fn report_text(report: &SyncReport) -> String {
    let mut text = format!(
        "written {}, skipped {}, failed {}, pending {}",
        report.written, report.skipped, report.failed, report.pending
    );
    for note in &report.notes {
        text.push_str(&format!("\n  {note}"));
    }
    text
}

fn recording_sync_json(r: &settings::RecordingSync) -> Value {
    match r {
        settings::RecordingSync::None => json!("none"),
        settings::RecordingSync::AllUsers => json!("all-users"),
        settings::RecordingSync::SelectedUsers(users) => json!(users),
    }
}

/// `"none"`, `"all-users"`, or a list (or comma-separated text) of user emails.
pub fn recording_sync_from(value: &Value) -> Result<settings::RecordingSync, String> {
    match value {
        Value::String(s) if s == "none" => Ok(settings::RecordingSync::None),
        Value::String(s) if s == "all-users" => Ok(settings::RecordingSync::AllUsers),
        Value::String(s) => Ok(settings::RecordingSync::SelectedUsers(
            s.split(',').map(|u| u.trim().to_owned()).collect(),
        )),
        Value::Array(users) => Ok(settings::RecordingSync::SelectedUsers(
            users
                .iter()
                .map(|u| u.as_str().map(str::to_owned).ok_or("users are emails"))
                .collect::<Result<_, _>>()?,
        )),
        other => Err(format!(
            "recording_sync must be \"none\", \"all-users\" or a list of user emails, not {other}"
        )),
    }
}

pub fn global_json(s: &settings::GlobalSettings) -> Value {
    json!({
        "global_sync": s.global_sync,
        "webinar_sync": s.webinar_sync,
        "recording_sync": recording_sync_json(&s.recording_sync),
        "host_exclusion_domains": s.host_exclusion_domains,
        "recording_exclusion_domains": s.recording_exclusion_domains,
        "contact_exclusion_domains": s.contact_exclusion_domains,
    })
}

/// `current` with the fields `change` names replaced; unknown fields are refused.
pub fn global_with(
    current: &settings::GlobalSettings,
    change: &Value,
) -> Result<settings::GlobalSettings, String> {
    let Some(fields) = change.as_object() else {
        return Err("the settings must be a JSON object".into());
    };
    let mut next = current.clone();
    let flag = |v: &Value, name: &str| v.as_bool().ok_or(format!("{name} must be true or false"));
    let domains = |v: &Value, name: &str| -> Result<Vec<String>, String> {
        match v {
            Value::Array(list) => list
                .iter()
                .map(|d| d.as_str().map(str::to_owned))
                .collect::<Option<_>>()
                .ok_or(format!("{name} must be a list of domains")),
            Value::String(s) => Ok(s
                .split(',')
                .map(|d| d.trim().to_owned())
                .filter(|d| !d.is_empty())
                .collect()),
            _ => Err(format!("{name} must be a list of domains")),
        }
    };
    for (name, value) in fields {
        match name.as_str() {
            "global_sync" => next.global_sync = flag(value, name)?,
            "webinar_sync" => next.webinar_sync = flag(value, name)?,
            "recording_sync" => next.recording_sync = recording_sync_from(value)?,
            "host_exclusion_domains" => next.host_exclusion_domains = domains(value, name)?,
            "recording_exclusion_domains" => {
                next.recording_exclusion_domains = domains(value, name)?
            }
            "contact_exclusion_domains" => next.contact_exclusion_domains = domains(value, name)?,
            other => {
                return Err(format!(
                    "unknown setting {other:?}: the global settings are global_sync, webinar_sync, recording_sync, host_exclusion_domains, recording_exclusion_domains, contact_exclusion_domains"
                ));
            }
        }
    }
    Ok(next)
}

pub fn user_json(s: &settings::UserSettings) -> Value {
    json!({
        "user": s.user,
        "sync_new_webinars": s.sync_new_webinars,
        "sync_recordings": s.sync_recordings,
    })
}

pub fn webinar_settings_json(s: &settings::WebinarSettings) -> Value {
    json!({ "webinar": s.webinar, "sync_enabled": s.sync_enabled })
}

/// The audit kind as the CLI, `serve` and snapshots name it (R19's
/// categories). It lives here, with the other JSON shapes of the plugin's
/// exports, so that `scenario` uses `api` and never the reverse.
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

pub fn audit_json(e: &settings::AuditEntry) -> Value {
    json!({
        "sequence": e.sequence,
        "at": crate::clock::rfc3339(e.at),
        "kind": audit_kind_name(e.kind),
        "message": e.message,
        "records": e.records,
    })
}

/// A webinar's whole audit log.
pub async fn audit_log(
    sim: &Simulator,
    webinar: &str,
) -> Result<Vec<settings::AuditEntry>, ApiError> {
    let mut entries = Vec::new();
    let mut start = 0;
    loop {
        let page = plugin(
            sim.runtime
                .audit_log(&sim.installation, &webinar.to_owned(), start, 500)
                .await,
        )?;
        entries.extend(page.entries);
        match page.next {
            Some(next) => start = next,
            None => return Ok(entries),
        }
    }
}

pub async fn sync_now(sim: &Simulator, webinar: &str) -> Result<SyncReport, ApiError> {
    plugin(
        sim.runtime
            .sync_now(&sim.installation, &webinar.to_owned())
            .await,
    )
}

pub async fn tick(sim: &Simulator) -> Result<SyncReport, ApiError> {
    plugin(sim.runtime.tick(&sim.installation).await)
}

pub async fn backfill(sim: &Simulator, since: Option<&str>) -> Result<SyncReport, ApiError> {
    let since = match since {
        Some(text) => Some(crate::clock::parse_rfc3339(text).ok_or_else(|| {
            ApiError::BadInput(format!(
                "since {text:?} is not a date: write it as RFC 3339, e.g. 2026-11-01T00:00:00Z"
            ))
        })?),
        None => None,
    };
    plugin(sim.runtime.backfill(&sim.installation, since).await)
}

pub async fn global_settings(sim: &Simulator) -> Result<settings::GlobalSettings, ApiError> {
    plugin(sim.runtime.get_global_settings(&sim.installation).await)
}

pub async fn set_global_settings(
    sim: &Simulator,
    value: &settings::GlobalSettings,
) -> Result<(), ApiError> {
    plugin(
        sim.runtime
            .set_global_settings(&sim.installation, value)
            .await,
    )
}

pub async fn user_settings(
    sim: &Simulator,
    user: &str,
) -> Result<settings::UserSettings, ApiError> {
    plugin(
        sim.runtime
            .get_user_settings(&sim.installation, &user.to_owned())
            .await,
    )
}

pub async fn set_user_settings(
    sim: &Simulator,
    value: &settings::UserSettings,
) -> Result<(), ApiError> {
    plugin(
        sim.runtime
            .set_user_settings(&sim.installation, value)
            .await,
    )
}

pub async fn webinar_settings(
    sim: &Simulator,
    webinar: &str,
) -> Result<settings::WebinarSettings, ApiError> {
    plugin(
        sim.runtime
            .get_webinar_settings(&sim.installation, &webinar.to_owned())
            .await,
    )
}

pub async fn set_webinar_settings(
    sim: &Simulator,
    value: &settings::WebinarSettings,
) -> Result<(), ApiError> {
    plugin(
        sim.runtime
            .set_webinar_settings(&sim.installation, value)
            .await,
    )
}

/// One execution of the workflow action as HubSpot's engine holds it after
/// the plugin's answer, and that answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionOutcome {
    pub execution: Execution,
    /// The plugin's answer to the action's URL: its status and JSON body.
    pub status: u16,
    pub answer: Value,
}

impl ActionOutcome {
    /// The plugin's answer, as HubSpot received it.
    pub fn crm_json(&self) -> Value {
        self.answer.clone()
    }

    pub fn text(&self) -> String {
        let field = |fields: &std::collections::BTreeMap<String, Value>, name: &str| {
            fields
                .get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let message = || {
            self.answer
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        match &self.execution.state {
            ExecutionState::Success { output_fields } => {
                let outputs: Vec<String> = output_fields
                    .iter()
                    .filter(|(k, _)| !k.starts_with("hs_"))
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                    .collect();
                let by = if self.execution.completed_by_callback {
                    " (completed by the plugin's callback)"
                } else {
                    ""
                };
                format!("success{by}: {}", outputs.join(", "))
            }
            ExecutionState::FailContinue { output_fields } => {
                format!(
                    "failed (FAIL_CONTINUE): {}",
                    field(output_fields, "errorMessage")
                )
            }
            ExecutionState::Blocked { expires_at_ms } => format!(
                "blocked until the plugin's callback (expires {})",
                crate::clock::rfc3339(*expires_at_ms)
            ),
            ExecutionState::Retrying { status } => {
                format!("answered {status}, HubSpot sends it again: {}", message())
            }
            ExecutionState::Failed { status } => format!("refused ({status}): {}", message()),
        }
    }
}

/// How the action gets its webinar id (R21).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebinarInput {
    Fixed(String),
    Property(String),
    Missing,
}

/// Runs "Add contact to Zoom webinar" for a CRM contact id as HubSpot's
/// workflow engine does: the fake CRM signs the execution's request, the
/// plugin's action URL (`webhooks.handle`) answers it, and the fake keeps
/// the execution's state (a blocked one is completed later by the plugin's
/// callback, on a `tick`).
pub async fn add_contact_to_webinar(
    sim: &Simulator,
    contact_id: &str,
    webinar: WebinarInput,
    callback_id: &str,
) -> Result<ActionOutcome, ApiError> {
    let id: u64 = contact_id
        .parse()
        .map_err(|_| ApiError::BadInput(format!("{contact_id:?} is not a CRM contact id")))?;
    let input = match webinar {
        WebinarInput::Fixed(v) => ActionInput::Fixed(v),
        WebinarInput::Property(p) => ActionInput::Property(p),
        WebinarInput::Missing => ActionInput::Missing,
    };
    // The CRM's workflow engine runs the definition install registered
    // (R21): its actionUrl, signed for that URL.
    let signed = sim
        .crm
        .action_request(
            &sim.config.crm.app_id,
            callback_id,
            id,
            &input,
            sim.config.crm.client_secret.expose(),
        )
        .map_err(ApiError::BadInput)?;
    // Delivered to this host at the URL's path; a definition pointing
    // elsewhere is signed for elsewhere, and the plugin says so.
    let path = signed
        .action_url
        .parse::<http::Uri>()
        .ok()
        .map_or_else(|| ACTION_PATH.to_owned(), |u| u.path().to_owned());
    let delivery = webhooks::Delivery {
        source: webhooks::WebhookSource::Crm,
        method: "POST".into(),
        path,
        headers: signed
            .headers
            .iter()
            .map(|(name, value)| crate::sim::header(name, value))
            .collect(),
        body: signed.body,
        received_at: sim.clock.now_ms(),
    };
    let answer = sim.deliver(&delivery).await?;
    let execution = sim
        .crm
        .action_answered(callback_id, answer.status, &answer.body)
        .ok_or_else(|| ApiError::BadInput(format!("no execution {callback_id}")))?;
    Ok(ActionOutcome {
        execution,
        status: answer.status,
        answer: serde_json::from_slice(&answer.body).unwrap_or(Value::Null),
    })
}

/// The action's URL path on the host (HubSpot's `actionUrl` is the public URL plus this).
pub const ACTION_PATH: &str = "/actions/add-contact-to-zoom-webinar";

/// The fake CRM's contact id for an email (deleted contacts included).
pub fn contact_id(sim: &Simulator, email: &str) -> Option<String> {
    sim.crm
        .contacts()
        .into_iter()
        .find(|c| c.email().eq_ignore_ascii_case(email))
        .map(|c| c.id.to_string())
}
