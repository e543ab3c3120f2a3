//! Zoom's webhook deliveries for what happens in the fake account, signed
//! as Zoom signs them, with Zoom's quirks: `object.id` is a number in
//! created/updated/deleted/registration/recording events and a string in
//! started/ended/participant events.

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::FakeZoom;
use super::model::{Webinar, ZoomAccount};
use crate::clock::{parse_rfc3339, rfc3339};

/// An event the emitter can produce, named as Zoom names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", deny_unknown_fields)]
pub enum WebhookEvent {
    #[serde(rename = "endpoint.url_validation")]
    UrlValidation { plain_token: String },
    #[serde(rename = "webinar.created")]
    WebinarCreated { webinar: u64 },
    #[serde(rename = "webinar.updated")]
    WebinarUpdated { webinar: u64 },
    #[serde(rename = "webinar.deleted")]
    WebinarDeleted { webinar: u64 },
    #[serde(rename = "webinar.started")]
    WebinarStarted { webinar: u64 },
    #[serde(rename = "webinar.ended")]
    WebinarEnded { webinar: u64 },
    /// `registrant` is the registrant's email.
    #[serde(rename = "webinar.registration_created")]
    RegistrationCreated { webinar: u64, registrant: String },
    #[serde(rename = "webinar.registration_approved")]
    RegistrationApproved { webinar: u64, registrant: String },
    #[serde(rename = "webinar.registration_denied")]
    RegistrationDenied { webinar: u64, registrant: String },
    #[serde(rename = "webinar.registration_cancelled")]
    RegistrationCancelled { webinar: u64, registrant: String },
    /// `participant` is the participant's name; `segment` which join (from 0).
    #[serde(rename = "webinar.participant_joined")]
    ParticipantJoined {
        webinar: u64,
        participant: String,
        #[serde(default)]
        segment: usize,
    },
    #[serde(rename = "webinar.participant_left")]
    ParticipantLeft {
        webinar: u64,
        participant: String,
        #[serde(default)]
        segment: usize,
    },
    #[serde(rename = "recording.completed")]
    RecordingCompleted { webinar: u64 },
    #[serde(rename = "recording.transcript_completed")]
    TranscriptCompleted { webinar: u64 },
    #[serde(rename = "recording.deleted")]
    RecordingDeleted { webinar: u64 },
    #[serde(rename = "recording.trashed")]
    RecordingTrashed { webinar: u64 },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EmitError {
    #[error("webinar {0} is not in the fake Zoom account")]
    NoWebinar(u64),
    #[error("webinar {webinar} has no registrant {email}")]
    NoRegistrant { webinar: u64, email: String },
    #[error("webinar {webinar} has no participant {name} with segment {segment}")]
    NoParticipant {
        webinar: u64,
        name: String,
        segment: usize,
    },
    #[error("webinar {0} has no recording")]
    NoRecording(u64),
}

/// The `x-zm-request-timestamp` and `x-zm-signature` headers for `body`.
pub fn signature_headers(
    secret_token: &str,
    timestamp_s: i64,
    body: &[u8],
) -> Vec<(String, String)> {
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret_token.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(format!("v0:{timestamp_s}:").as_bytes());
    mac.update(body);
    vec![
        ("x-zm-request-timestamp".into(), timestamp_s.to_string()),
        (
            "x-zm-signature".into(),
            format!("v0={}", hex::encode(mac.finalize().into_bytes())),
        ),
    ]
}

fn base_object(w: &Webinar, account: &ZoomAccount, id_as_string: bool) -> Value {
    let host_id = account
        .user_by_email(&w.host)
        .map(|u| u.id.clone())
        .unwrap_or_default();
    json!({
        "uuid": w.uuid,
        "id": if id_as_string { json!(w.id.to_string()) } else { json!(w.id) },
        "host_id": host_id,
        "topic": w.topic,
        "type": w.r#type,
        "start_time": w.start_time,
        "duration": w.duration,
        "timezone": w.timezone,
    })
}

fn envelope(event: &str, event_ts: i64, object: Value) -> Value {
    json!({
        "event": event,
        "event_ts": event_ts,
        "payload": { "account_id": "AAAAAABBBB", "object": object },
    })
}

impl FakeZoom {
    /// The body Zoom would deliver for `event`, as of the account now.
    pub fn webhook_body(&self, event: &WebhookEvent) -> Result<Value, EmitError> {
        // Borrowed under the lock, not cloned: a 1,000-registrant webinar
        // plays thousands of events.
        let state = self.lock();
        let account = &state.account;
        let now = self.clock.now_ms();
        let webinar = |id: u64| account.webinar(id).ok_or(EmitError::NoWebinar(id));
        let name = event_name(event);
        Ok(match event {
            WebhookEvent::UrlValidation { plain_token } => json!({
                "event": name, "event_ts": now, "payload": { "plainToken": plain_token },
            }),
            WebhookEvent::WebinarCreated { webinar: id }
            | WebhookEvent::WebinarUpdated { webinar: id }
            | WebhookEvent::WebinarDeleted { webinar: id } => {
                let w = webinar(*id)?;
                let mut object = base_object(w, account, false);
                object["join_url"] = json!(w.join_url());
                envelope(name, now, object)
            }
            WebhookEvent::WebinarStarted { webinar: id } => {
                envelope(name, now, base_object(webinar(*id)?, account, true))
            }
            WebhookEvent::WebinarEnded { webinar: id } => {
                let w = webinar(*id)?;
                let mut object = base_object(w, account, true);
                if let Some(ran) = &w.ran {
                    object["start_time"] = json!(ran.start_time);
                    object["end_time"] = json!(ran.end_time);
                }
                envelope(name, now, object)
            }
            WebhookEvent::RegistrationCreated {
                webinar: id,
                registrant,
            }
            | WebhookEvent::RegistrationApproved {
                webinar: id,
                registrant,
            }
            | WebhookEvent::RegistrationDenied {
                webinar: id,
                registrant,
            }
            | WebhookEvent::RegistrationCancelled {
                webinar: id,
                registrant,
            } => registration_body(event, now, webinar(*id)?, account, registrant)?,
            WebhookEvent::ParticipantJoined {
                webinar: id,
                participant,
                segment,
            }
            | WebhookEvent::ParticipantLeft {
                webinar: id,
                participant,
                segment,
            } => participant_body(event, now, webinar(*id)?, account, participant, *segment)?,
            WebhookEvent::RecordingCompleted { webinar: id }
            | WebhookEvent::TranscriptCompleted { webinar: id }
            | WebhookEvent::RecordingDeleted { webinar: id }
            | WebhookEvent::RecordingTrashed { webinar: id } => {
                recording_body(event, now, webinar(*id)?, account)?
            }
        })
    }

    /// A webinar's whole life as Zoom would deliver it: registrations, then
    /// joins and leaves in time order, the end, then recording and transcript.
    pub fn lifecycle(&self, webinar: u64) -> Result<Vec<WebhookEvent>, EmitError> {
        let account = self.account();
        let w = account
            .webinar(webinar)
            .ok_or(EmitError::NoWebinar(webinar))?;
        let mut events: Vec<WebhookEvent> = w
            .registrants
            .iter()
            .map(|r| WebhookEvent::RegistrationCreated {
                webinar,
                registrant: r.email.clone(),
            })
            .collect();
        events.extend(
            w.registrants
                .iter()
                .filter(|r| r.status == "cancelled")
                .map(|r| WebhookEvent::RegistrationCancelled {
                    webinar,
                    registrant: r.email.clone(),
                }),
        );
        if w.ran.is_some() {
            events.push(WebhookEvent::WebinarStarted { webinar });
            let mut moves: Vec<(u32, bool, WebhookEvent)> = Vec::new();
            for p in &w.participants {
                for (segment, (from, to)) in p.segments.iter().enumerate() {
                    let joined = WebhookEvent::ParticipantJoined {
                        webinar,
                        participant: p.name.clone(),
                        segment,
                    };
                    let left = WebhookEvent::ParticipantLeft {
                        webinar,
                        participant: p.name.clone(),
                        segment,
                    };
                    moves.push((*from, false, joined));
                    moves.push((*to, true, left));
                }
            }
            // Stable: at the same minute, joins come before leaves.
            moves.sort_by_key(|(minute, is_leave, _)| (*minute, *is_leave));
            events.extend(moves.into_iter().map(|(_, _, e)| e));
            events.push(WebhookEvent::WebinarEnded { webinar });
            let recording = w
                .recording
                .as_ref()
                .filter(|r| !r.deleted && r.files.iter().all(|f| f.status == "completed"));
            if let Some(recording) = recording {
                events.push(WebhookEvent::RecordingCompleted { webinar });
                if recording.files.iter().any(|f| f.file_type == "TRANSCRIPT") {
                    events.push(WebhookEvent::TranscriptCompleted { webinar });
                }
            }
        }
        Ok(events)
    }
}

/// A `webinar.registration_*` body: the webinar with the registrant whose
/// email is `email`.
fn registration_body(
    event: &WebhookEvent,
    now: i64,
    w: &Webinar,
    account: &ZoomAccount,
    email: &str,
) -> Result<Value, EmitError> {
    let r = w
        .registrant_by_email(email)
        .ok_or_else(|| EmitError::NoRegistrant {
            webinar: w.id,
            email: email.to_owned(),
        })?;
    let mut object = base_object(w, account, false);
    object["registrant"] = json!({
        "id": r.id, "first_name": r.first_name, "last_name": r.last_name, "email": r.email,
        "status": r.status, "join_url": w.registrant_join_url(&r.id), "custom_questions": [],
    });
    // Zoom sends registration_created when the person registers:
    // its time is the registrant's create_time, as the
    // registrants list says (a sync that read the list first
    // must agree with the webhook).
    let at = match event {
        WebhookEvent::RegistrationCreated { .. } => {
            crate::clock::parse_rfc3339(&r.create_time).unwrap_or(now)
        }
        _ => now,
    };
    Ok(envelope(event_name(event), at, object))
}

/// A `webinar.participant_joined` or `_left` body: the webinar with the
/// participant named `participant`, at the join or leave of its segment
/// `segment`.
fn participant_body(
    event: &WebhookEvent,
    now: i64,
    w: &Webinar,
    account: &ZoomAccount,
    participant: &str,
    segment: usize,
) -> Result<Value, EmitError> {
    let missing = || EmitError::NoParticipant {
        webinar: w.id,
        name: participant.to_owned(),
        segment,
    };
    let (index, p) = w
        .participants
        .iter()
        .enumerate()
        .find(|(_, p)| p.name == participant)
        .ok_or_else(missing)?;
    let (from, to) = *p.segments.get(segment).ok_or_else(missing)?;
    let start = w
        .ran
        .as_ref()
        .and_then(|r| parse_rfc3339(&r.start_time))
        .or_else(|| parse_rfc3339(&w.start_time))
        .unwrap_or(now);
    let registrant = p
        .registrant
        .as_deref()
        .and_then(|e| w.registrant_by_email(e));
    let mut person = json!({
        "user_id": format!("{}", 16_778_240 + index),
        "user_name": p.name,
        "id": format!("pu{:06}", index + 1),
        // Zoom hides guests' emails unless they registered (since 2022-03-01).
        "email": if registrant.is_some() { p.email.clone() } else { String::new() },
        "registrant_id": registrant.map(|r| r.id.clone()).unwrap_or_default(),
        "participant_user_id": format!("pu{:06}", index + 1),
        "participant_uuid": format!("puu{:06}", index + 1),
    });
    if matches!(event, WebhookEvent::ParticipantJoined { .. }) {
        person["join_time"] = json!(rfc3339(start + i64::from(from) * 60_000));
    } else {
        person["leave_time"] = json!(rfc3339(start + i64::from(to) * 60_000));
        person["leave_reason"] = json!(format!("{} left the webinar.", p.name));
    }
    let mut object = base_object(w, account, true);
    object["participant"] = person;
    Ok(envelope(event_name(event), now, object))
}

/// A `recording.*` body: the webinar's recording (only its transcript for
/// `recording.transcript_completed`), with a download token when its files
/// can be downloaded.
fn recording_body(
    event: &WebhookEvent,
    now: i64,
    w: &Webinar,
    account: &ZoomAccount,
) -> Result<Value, EmitError> {
    let recording = w.recording.as_ref().ok_or(EmitError::NoRecording(w.id))?;
    let mut object = super::recording_json(w, recording);
    object["host_email"] = json!(w.host);
    object["host_id"] = base_object(w, account, false)["host_id"].clone();
    if let (WebhookEvent::TranscriptCompleted { .. }, Some(files)) =
        (event, object["recording_files"].as_array_mut())
    {
        files.retain(|f| f["file_type"] == "TRANSCRIPT");
    }
    let mut body = envelope(event_name(event), now, object);
    if matches!(
        event,
        WebhookEvent::RecordingCompleted { .. } | WebhookEvent::TranscriptCompleted { .. }
    ) {
        body["download_token"] = json!(format!("dl-{}", w.id));
    }
    Ok(body)
}

pub fn event_name(event: &WebhookEvent) -> &'static str {
    match event {
        WebhookEvent::UrlValidation { .. } => "endpoint.url_validation",
        WebhookEvent::WebinarCreated { .. } => "webinar.created",
        WebhookEvent::WebinarUpdated { .. } => "webinar.updated",
        WebhookEvent::WebinarDeleted { .. } => "webinar.deleted",
        WebhookEvent::WebinarStarted { .. } => "webinar.started",
        WebhookEvent::WebinarEnded { .. } => "webinar.ended",
        WebhookEvent::RegistrationCreated { .. } => "webinar.registration_created",
        WebhookEvent::RegistrationApproved { .. } => "webinar.registration_approved",
        WebhookEvent::RegistrationDenied { .. } => "webinar.registration_denied",
        WebhookEvent::RegistrationCancelled { .. } => "webinar.registration_cancelled",
        WebhookEvent::ParticipantJoined { .. } => "webinar.participant_joined",
        WebhookEvent::ParticipantLeft { .. } => "webinar.participant_left",
        WebhookEvent::RecordingCompleted { .. } => "recording.completed",
        WebhookEvent::TranscriptCompleted { .. } => "recording.transcript_completed",
        WebhookEvent::RecordingDeleted { .. } => "recording.deleted",
        WebhookEvent::RecordingTrashed { .. } => "recording.trashed",
    }
}
