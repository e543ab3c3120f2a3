//! The plugin's exports as JSON and as calls on a [`Simulator`], shared by
//! the CLI (`--json`) and `host-sim serve`: one shape for each, in one
//! place.

use serde_json::{Value, json};

use crate::bindings::{PluginError, SyncReport, settings, workflow_actions};
use crate::runtime::CallError;
use crate::scenario::audit_kind_name;
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

/// The outcome of one workflow action execution.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionOutcome {
    Success(Vec<(String, String)>),
    Failure {
        reason: String,
        /// `FAIL_CONTINUE` or `BLOCK`, as the CRM names them.
        state: &'static str,
        retryable: bool,
    },
}

impl ActionOutcome {
    /// The CRM's custom-action answer: `outputFields` with `hs_execution_state`.
    pub fn crm_json(&self) -> Value {
        match self {
            ActionOutcome::Success(outputs) => {
                let mut fields: serde_json::Map<String, Value> =
                    outputs.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
                fields.insert("hs_execution_state".into(), json!("SUCCESS"));
                json!({ "outputFields": fields })
            }
            ActionOutcome::Failure {
                reason,
                state,
                retryable,
            } => json!({
                "outputFields": { "hs_execution_state": state, "errorMessage": reason },
                "retryable": retryable,
            }),
        }
    }

    pub fn text(&self) -> String {
        match self {
            ActionOutcome::Success(outputs) => {
                let outputs: Vec<String> =
                    outputs.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("success: {}", outputs.join(", "))
            }
            ActionOutcome::Failure {
                reason,
                state,
                retryable,
            } => {
                let retry = if *retryable { ", retryable" } else { "" };
                format!("failed ({state}{retry}): {reason}")
            }
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

/// Runs "Add contact to Zoom webinar" for a CRM contact id.
pub async fn add_contact_to_webinar(
    sim: &Simulator,
    contact_id: &str,
    webinar: WebinarInput,
    callback_id: &str,
) -> Result<ActionOutcome, ApiError> {
    let input = |value| {
        vec![workflow_actions::Input {
            name: "webinar_id".into(),
            value,
        }]
    };
    let execution = workflow_actions::Execution {
        action_id: "add-contact-to-zoom-webinar".into(),
        callback_id: callback_id.into(),
        object: workflow_actions::EnrolledObject {
            object_type: workflow_actions::ObjectType::Contact,
            object_id: contact_id.into(),
        },
        inputs: match webinar {
            WebinarInput::Fixed(v) => input(workflow_actions::InputValue::Fixed(v)),
            WebinarInput::Property(p) => input(workflow_actions::InputValue::ObjectProperty(p)),
            WebinarInput::Missing => Vec::new(),
        },
    };
    Ok(
        match sim
            .runtime
            .execute_action(&sim.installation, &execution)
            .await?
        {
            Ok(outputs) => {
                ActionOutcome::Success(outputs.into_iter().map(|o| (o.name, o.value)).collect())
            }
            Err(failure) => ActionOutcome::Failure {
                reason: failure.reason,
                state: match failure.state {
                    workflow_actions::FailureState::FailContinue => "FAIL_CONTINUE",
                    workflow_actions::FailureState::Block => "BLOCK",
                },
                retryable: failure.retryable,
            },
        },
    )
}

/// The fake CRM's contact id for an email (deleted contacts included).
pub fn contact_id(sim: &Simulator, email: &str) -> Option<String> {
    sim.crm
        .contacts()
        .into_iter()
        .find(|c| c.email().eq_ignore_ascii_case(email))
        .map(|c| c.id.to_string())
}
