//! Activity events (R10: registered, attended, recording available) on the
//! contact, through one of HubSpot's two ways of writing them, or none:
//!
//! - `timeline`: timeline event templates and events. Open only to app
//!   partners whose public app already defines templates; the templates
//!   are the developer account's, managed with its API key (`hapikey`),
//!   never with the portal's token (API-NOTES, "Timeline events are closed
//!   to new apps").
//! - `custom-events`: custom events (Enterprise tiers), what a new app can
//!   use: an event definition per kind, then occurrences sent with a
//!   `uuid` made from the event's stable id, so a repeat is one event.
//! - `off`.
//!
//! The choice is the `crm.activity-events` configuration key. Install sets
//! the backend up and stores what it set up, or why it could not; the
//! sync then writes through it, or skips activity events and says so once
//! per webinar. The ledger's bits per event are the same whichever backend
//! writes (`core::ledger::timeline_bit`).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{BatchAnswer, Created, CrmClient, Resend, app_id, id_string};
use crate::core::definitions::{self, PropertyType, TimelineEventType};
use crate::core::plan::TimelineEvent;
use crate::core::time::rfc3339;
use crate::shell::http::{Method, Request, Response};
use crate::shell::ports::{Activity, Refused};

mod install;
use crate::shell::{Config, PluginError, Store, keys, load, save, schema};
pub use install::{Installed, custom_event_name, install};

/// Which API activity events go through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Backend {
    Timeline,
    CustomEvents,
    Off,
}

impl Backend {
    /// `crm.activity-events`; unset is `custom-events`, the one a new app
    /// (a private app of an Enterprise portal) can use.
    pub fn configured(config: &dyn Config) -> Result<Self, PluginError> {
        let value = config
            .get(keys::CRM_ACTIVITY_EVENTS)
            .map_err(|e| {
                PluginError::Configuration(format!(
                    "could not read {}: {e}",
                    keys::CRM_ACTIVITY_EVENTS
                ))
            })?
            .unwrap_or_default();
        match value.trim() {
            "" | "custom-events" => Ok(Self::CustomEvents),
            "timeline" => Ok(Self::Timeline),
            "off" => Ok(Self::Off),
            other => Err(PluginError::Configuration(format!(
                "{} is {other:?}: use timeline, custom-events or off",
                keys::CRM_ACTIVITY_EVENTS
            ))),
        }
    }
}

/// What install set up for activity events, kept for the sync.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setup {
    pub backend: Backend,
    /// Per event type (`definitions` id): the timeline template id, or the
    /// custom event's fully qualified name (`pe{portalId}_{name}`).
    #[serde(default)]
    pub ids: BTreeMap<String, String>,
    /// Why activity events are not written, in a marketer's words; none
    /// when the backend is set up.
    #[serde(default)]
    pub not_written: Option<String>,
}

impl Setup {
    /// The stored setup; an install from before backends existed used the
    /// timeline and kept only the template ids.
    pub fn load(store: &dyn Store) -> Result<Self, PluginError> {
        if let Some(setup) = load::<Setup>(store, schema::ACTIVITY_SETUP)? {
            return Ok(setup);
        }
        let mut ids = BTreeMap::new();
        for event in definitions::timeline_event_types() {
            if let Some(id) = store.get(&schema::event_template(event.id))? {
                ids.insert(
                    event.id.to_owned(),
                    String::from_utf8_lossy(&id).into_owned(),
                );
            }
        }
        if ids.is_empty() {
            return Err(PluginError::NotInstalled(
                "the activity events (timeline) are not set up: run install".into(),
            ));
        }
        Ok(Self {
            backend: Backend::Timeline,
            ids,
            not_written: None,
        })
    }

    /// The audit entry a webinar gets once when activity events are not
    /// written (R10, R19d).
    pub fn not_written_note(&self) -> Option<String> {
        self.not_written.as_ref().map(|reason| {
            format!(
                "Activity events (registered, attended, recording available) are not written to contact timelines: {reason}. Attendance is on the marketing event."
            )
        })
    }
}

/// A stable UUID for an event id: the same event is always the same
/// occurrence, so a repeated send is one event in the CRM (HubSpot keeps
/// the first occurrence of a `uuid` and rejects the others). The first 16
/// bytes of SHA-256 of the id, marked as a name-based UUID (version 5's
/// bits: the hash is not SHA-1, but only the format matters to HubSpot).
pub fn occurrence_uuid(event_id: &str) -> String {
    use sha2::Digest as _;
    let digest = sha2::Sha256::digest(format!("zoom-webinars:{event_id}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    bytes[6] = (bytes[6] & 0x0f) | 0x50;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// `text` percent-encoded for a query value (RFC 3986 unreserved kept).
pub(super) fn query_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

impl CrmClient<'_> {
    /// A request with the developer account's API key as `hapikey` and no
    /// access token: timeline templates and workflow action definitions
    /// take only that. `path` may carry a query of its own.
    pub(super) fn developer_send(
        &self,
        method: Method,
        path: &str,
        key: &str,
        body: Option<Value>,
    ) -> Result<Response, PluginError> {
        let joiner = if path.contains('?') { '&' } else { '?' };
        let mut request = Request::new(
            method,
            format!(
                "{}{path}{joiner}hapikey={}",
                super::API_BASE,
                query_encode(key)
            ),
        );
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.http
            .send(request)
            .map_err(|e| PluginError::CrmUnavailable(format!("could not reach the CRM: {e}")))
    }

    /// A request with the access token whose 401 and 403 come back as
    /// answers (install reads them as "not set up", not as a failure).
    fn bearer_send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Response, PluginError> {
        let mut request = Request::new(method, format!("{}{path}", super::API_BASE))
            .header("authorization", format!("Bearer {}", self.access_token));
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.http
            .send(request)
            .map_err(|e| PluginError::CrmUnavailable(format!("could not reach the CRM: {e}")))
    }

    /// Sends occurrences in one batch. A 400 refuses the whole batch and
    /// names the input at fault (`context.index`): that one is refused,
    /// the rest sent again; a 400 that names none refuses them all.
    fn send_occurrences(
        &self,
        mut open: Vec<(String, Value)>,
    ) -> Result<BTreeMap<String, String>, PluginError> {
        let mut refused = BTreeMap::new();
        while !open.is_empty() {
            let inputs: Vec<Value> = open.iter().map(|(_, input)| input.clone()).collect();
            let response = self.call_with(
                Method::Post,
                "/events/v3/send/batch",
                Some(json!({ "inputs": inputs })),
                // Idempotent by uuid: a lost answer is sent again.
                Resend::Always,
            )?;
            if response.is_success() {
                return Ok(refused);
            }
            if response.status != 400 {
                return Err(PluginError::CrmUnavailable(format!(
                    "sending custom events failed with {}: {}",
                    response.status,
                    response.error_message()
                )));
            }
            let error = response.json().unwrap_or_default();
            let message = response.error_message();
            let at: BTreeSet<usize> = BatchAnswer::error_subjects(&json!({
                "context": { "index": error.pointer("/context/index").cloned().unwrap_or_default() }
            }))
            .iter()
            .filter_map(|i| i.parse().ok())
            .filter(|i| *i < open.len())
            .collect();
            if at.is_empty() {
                refused.extend(open.drain(..).map(|(id, _)| (id, message.clone())));
                return Ok(refused);
            }
            let mut index = 0;
            open.retain(|(id, _)| {
                let keep = !at.contains(&index);
                if !keep {
                    refused.insert(id.clone(), message.clone());
                }
                index += 1;
                keep
            });
        }
        Ok(refused)
    }
}

#[cfg(test)]
mod tests;

impl Activity for CrmClient<'_> {
    /// Writes one batch (at most 100) of activity events, each with its
    /// contact id, through the set-up backend. Returns the events the CRM
    /// refused, by id, with its reason; one written before is not refused
    /// (timeline: `CONFLICT` on its id; custom events: its `uuid`).
    fn write_activity(
        &self,
        setup: &Setup,
        chunk: &[(&TimelineEvent, String)],
    ) -> Result<Refused, PluginError> {
        let id_of = |t: &TimelineEvent| {
            setup.ids.get(t.event_type).cloned().ok_or_else(|| {
                PluginError::NotInstalled(format!(
                    "the activity event {} is not set up in the CRM: run install",
                    t.event_type
                ))
            })
        };
        match setup.backend {
            Backend::Off => Ok(Refused::default()),
            Backend::Timeline => {
                let mut inputs = Vec::with_capacity(chunk.len());
                for (t, contact) in chunk {
                    inputs.push(json!({
                        "eventTemplateId": id_of(t)?,
                        "id": t.id,
                        "objectId": contact,
                        "tokens": t.tokens,
                        "timestamp": rfc3339(t.timestamp_ms),
                    }));
                }
                let answer = self.batch(
                    "/crm/v3/timeline/events/batch/create",
                    json!({}),
                    inputs,
                    "creating timeline events",
                )?;
                // CONFLICT: written before (by an earlier, interrupted run).
                Ok(Refused(answer.failed_where(
                    chunk.iter().map(|(t, _)| t.id.as_str()),
                    |error| error.get("category").and_then(Value::as_str) != Some("CONFLICT"),
                )))
            }
            Backend::CustomEvents => {
                let mut open: Vec<(String, Value)> = Vec::with_capacity(chunk.len());
                for (t, contact) in chunk {
                    let properties: serde_json::Map<String, Value> = t
                        .tokens
                        .iter()
                        .map(|(name, value)| (name.to_owned(), Value::String(value.to_owned())))
                        .collect();
                    open.push((
                        t.id.clone(),
                        json!({
                            "eventName": id_of(t)?,
                            "objectId": contact,
                            "occurredAt": rfc3339(t.timestamp_ms),
                            "uuid": occurrence_uuid(&t.id),
                            "properties": properties,
                        }),
                    ));
                }
                self.send_occurrences(open).map(Refused)
            }
        }
    }
}
