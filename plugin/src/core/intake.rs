//! Zoom webhook events as facts (R29, R30). A verified delivery becomes one
//! [`Fact`] with a business key; the shell stores it under that key, so a
//! duplicated or retried delivery lands on the same key and changes nothing.
//! [`assemble`] turns a webinar's stored facts back into registrants and
//! attendance segments, whatever order they arrived in.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::plan::{ParticipantRow, Registrant};
use super::time::parse_rfc3339;

/// What one Zoom event says about one webinar.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "fact", rename_all = "snake_case")]
pub enum Fact {
    /// Created or updated: the webinar exists and should be looked at.
    Scheduled {
        webinar: String,
    },
    Deleted {
        webinar: String,
    },
    Ended {
        webinar: String,
        start_ms: Option<i64>,
        end_ms: Option<i64>,
    },
    Registration {
        webinar: String,
        registrant: Registrant,
        /// When Zoom sent the event; the latest status of a registrant wins.
        at_ms: i64,
    },
    Joined {
        webinar: String,
        person: Person,
        at_ms: i64,
    },
    Left {
        webinar: String,
        person: Person,
        at_ms: i64,
    },
    /// `recording.completed`, `recording.transcript_completed`,
    /// `recording.deleted` or `recording.trashed` (R11).
    Recording {
        webinar: String,
        change: RecordingChange,
        at_ms: i64,
    },
}

/// What a recording event says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecordingChange {
    Completed,
    TranscriptCompleted,
    /// Deleted, or moved to the trash.
    Deleted,
}

/// When each recording event last arrived for a webinar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordingFacts {
    pub completed_ms: Option<i64>,
    pub transcript_ms: Option<i64>,
    pub deleted_ms: Option<i64>,
}

impl RecordingFacts {
    pub fn any(&self) -> bool {
        self.completed_ms.is_some() || self.transcript_ms.is_some() || self.deleted_ms.is_some()
    }

    /// Deleted or trashed after it last completed.
    pub fn deleted(&self) -> bool {
        let completed = self.completed_ms.max(self.transcript_ms);
        self.deleted_ms.is_some_and(|d| Some(d) >= completed)
    }
}

/// A participant as the join/leave events name them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    /// Zoom's id of this participant in this webinar (`participant_uuid`, else `id`, else `user_id`).
    pub key: String,
    pub name: String,
    pub email: String,
    pub registrant_id: String,
}

impl Fact {
    pub fn webinar(&self) -> &str {
        match self {
            Fact::Scheduled { webinar }
            | Fact::Deleted { webinar }
            | Fact::Ended { webinar, .. }
            | Fact::Registration { webinar, .. }
            | Fact::Joined { webinar, .. }
            | Fact::Left { webinar, .. }
            | Fact::Recording { webinar, .. } => webinar,
        }
    }
}

/// A parsed event: the fact and the business key it is deduplicated on.
#[derive(Debug, Clone, PartialEq)]
pub struct Intake {
    pub fact: Fact,
    pub key: String,
}

/// Why an event was not turned into a fact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotAFact {
    /// An event this plugin does not use: acknowledged and ignored.
    Ignored(String),
    /// A known event without the fields it needs: refused with the reason.
    Malformed(String),
}

fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        // Zoom sends `object.id` as a number in some events and a string in others.
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn field(object: &Value, name: &str) -> String {
    object.get(name).and_then(text).unwrap_or_default()
}

/// The webinar id of an event's object: digits only (at most 20, as
/// `settings::webinar_id` takes: Zoom's ids are 9 to 11), as a string. It
/// goes into Zoom's URL paths and storage keys.
fn webinar_id(object: &Value) -> Result<String, NotAFact> {
    let id = object.get("id").and_then(text).unwrap_or_default();
    if super::settings::webinar_id(&id).is_err() {
        return Err(NotAFact::Malformed(format!(
            "payload.object.id must be the webinar's numeric id, got {:?}",
            object.get("id").unwrap_or(&Value::Null)
        )));
    }
    Ok(id)
}

fn time(object: &Value, name: &str) -> Result<i64, NotAFact> {
    let raw = field(object, name);
    parse_rfc3339(&raw)
        .ok_or_else(|| NotAFact::Malformed(format!("{name} must be an RFC 3339 time, got {raw:?}")))
}

/// The longest string a Zoom event field may hold: ids, emails (254 at
/// most), names and URLs are far shorter. A longer one is refused before
/// it can reach a storage key or a CRM record.
pub const MAX_FIELD_CHARS: usize = 2048;

/// The first string in `value` longer than [`MAX_FIELD_CHARS`], by its path.
fn overlong(value: &Value, path: &str) -> Option<(String, usize)> {
    match value {
        Value::String(s) if s.len() > MAX_FIELD_CHARS => Some((path.to_owned(), s.len())),
        Value::Object(map) => map
            .iter()
            .find_map(|(k, v)| overlong(v, &format!("{path}.{k}"))),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, v)| overlong(v, &format!("{path}[{i}]"))),
        _ => None,
    }
}

/// The fact in a Zoom event body (the envelope already parsed as JSON).
pub fn parse(event: &str, event_ts: i64, payload: &Value) -> Result<Intake, NotAFact> {
    if let Some((path, len)) = overlong(payload, "payload") {
        return Err(NotAFact::Malformed(format!(
            "{path} is {len} bytes long; Zoom's fields are at most {MAX_FIELD_CHARS}"
        )));
    }
    let object = payload.get("object").unwrap_or(&Value::Null);
    match event {
        "webinar.created" | "webinar.updated" => {
            let webinar = webinar_id(object)?;
            let key = format!("{event}|{}|{event_ts}", field(object, "uuid"));
            intake(Fact::Scheduled { webinar }, key)
        }
        "webinar.deleted" => {
            let webinar = webinar_id(object)?;
            let key = format!("{event}|{}", field(object, "uuid"));
            intake(Fact::Deleted { webinar }, key)
        }
        "webinar.ended" => {
            let webinar = webinar_id(object)?;
            let key = format!("{event}|{}", field(object, "uuid"));
            let start_ms = parse_rfc3339(&field(object, "start_time"));
            let end_ms = parse_rfc3339(&field(object, "end_time"));
            intake(
                Fact::Ended {
                    webinar,
                    start_ms,
                    end_ms,
                },
                key,
            )
        }
        "webinar.registration_created"
        | "webinar.registration_approved"
        | "webinar.registration_denied"
        | "webinar.registration_cancelled" => registration(event, event_ts, object),
        "webinar.participant_joined" | "webinar.participant_left" => participant(event, object),
        "recording.completed"
        | "recording.transcript_completed"
        | "recording.deleted"
        | "recording.trashed" => recording(event, event_ts, object),
        other => Err(NotAFact::Ignored(other.to_owned())),
    }
}

/// A fact as found, with the business key a duplicate delivery shares.
fn intake(fact: Fact, key: String) -> Result<Intake, NotAFact> {
    Ok(Intake { fact, key })
}

/// A registration's change of state (R7, R8).
fn registration(event: &str, event_ts: i64, object: &Value) -> Result<Intake, NotAFact> {
    let webinar = webinar_id(object)?;
    let r = object.get("registrant").unwrap_or(&Value::Null);
    let id = field(r, "id");
    let email = field(r, "email");
    if id.is_empty() && email.is_empty() {
        return Err(NotAFact::Malformed(format!(
            "{event} without payload.object.registrant.id or email"
        )));
    }
    let status = match event {
        "webinar.registration_approved" => "approved".to_owned(),
        "webinar.registration_denied" => "denied".to_owned(),
        "webinar.registration_cancelled" => "cancelled".to_owned(),
        // Created: approved or pending, as the registrant's status says.
        _ => match field(r, "status").as_str() {
            "pending" => "pending".to_owned(),
            _ => "approved".to_owned(),
        },
    };
    let key = format!(
        "{event}|{}|{}|{event_ts}",
        field(object, "uuid"),
        if id.is_empty() { &email } else { &id }
    );
    intake(
        Fact::Registration {
            webinar,
            registrant: Registrant {
                id,
                email,
                first_name: field(r, "first_name"),
                last_name: field(r, "last_name"),
                status,
                registered_ms: event_ts,
            },
            at_ms: event_ts,
        },
        key,
    )
}

/// A join or a leave (R8), at the time Zoom gives.
fn participant(event: &str, object: &Value) -> Result<Intake, NotAFact> {
    let webinar = webinar_id(object)?;
    let p = object.get("participant").unwrap_or(&Value::Null);
    let key_of = ["participant_uuid", "id", "user_id"]
        .iter()
        .map(|n| field(p, n))
        .find(|k| !k.is_empty())
        .unwrap_or_default();
    if key_of.is_empty() {
        return Err(NotAFact::Malformed(format!(
            "{event} without payload.object.participant.participant_uuid, id or user_id"
        )));
    }
    let person = Person {
        key: key_of,
        name: field(p, "user_name"),
        email: field(p, "email"),
        registrant_id: field(p, "registrant_id"),
    };
    let joined = event == "webinar.participant_joined";
    let at_ms = time(p, if joined { "join_time" } else { "leave_time" })?;
    let key = format!("{event}|{}|{}|{at_ms}", field(object, "uuid"), person.key);
    let fact = if joined {
        Fact::Joined {
            webinar,
            person,
            at_ms,
        }
    } else {
        Fact::Left {
            webinar,
            person,
            at_ms,
        }
    };
    intake(fact, key)
}

/// A webinar's recording changed (R11).
fn recording(event: &str, event_ts: i64, object: &Value) -> Result<Intake, NotAFact> {
    // Meetings record too; only webinars (types 5, 6, 9) are this plugin's.
    if let Some(kind) = object.get("type").and_then(Value::as_u64)
        && !matches!(kind, 5 | 6 | 9)
    {
        return Err(NotAFact::Ignored(format!("{event} of a meeting")));
    }
    let webinar = webinar_id(object)?;
    let change = match event {
        "recording.completed" => RecordingChange::Completed,
        "recording.transcript_completed" => RecordingChange::TranscriptCompleted,
        _ => RecordingChange::Deleted,
    };
    let key = format!("{event}|{}|{event_ts}", field(object, "uuid"));
    intake(
        Fact::Recording {
            webinar,
            change,
            at_ms: event_ts,
        },
        key,
    )
}

/// A webinar's facts put together.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Assembled {
    /// The latest state of each registrant, by registrant id (or email).
    pub registrants: Vec<Registrant>,
    /// One row per completed join/leave segment.
    pub rows: Vec<ParticipantRow>,
    pub ended: Option<(Option<i64>, Option<i64>)>,
    pub deleted: bool,
    pub recording: RecordingFacts,
}

/// Where a status comes in a registration's life.
fn status_rank(status: &str) -> u8 {
    match status {
        "pending" => 0,
        "approved" => 1,
        _ => 2, // denied, cancelled
    }
}

/// Puts facts together in any order (R30): registrants by their latest
/// event; each join paired with the first leave after it.
pub fn assemble(facts: &[Fact]) -> Assembled {
    let mut out = Assembled::default();
    let mut registrants: BTreeMap<String, (i64, Registrant)> = BTreeMap::new();
    let mut moves: BTreeMap<String, (Person, Vec<(i64, bool)>)> = BTreeMap::new();
    for fact in facts {
        match fact {
            Fact::Scheduled { .. } => {}
            Fact::Deleted { .. } => out.deleted = true,
            Fact::Ended {
                start_ms, end_ms, ..
            } => out.ended = Some((*start_ms, *end_ms)),
            Fact::Registration {
                registrant, at_ms, ..
            } => {
                let entry = registrants
                    .entry(registrant.key())
                    .or_insert_with(|| (*at_ms, registrant.clone()));
                // The first event is when they registered; the latest says the
                // status. Events of the same millisecond follow a registration's
                // life: a cancellation cannot come before its creation.
                let first_ms = entry.1.registered_ms.min(registrant.registered_ms);
                if (*at_ms, status_rank(&registrant.status))
                    >= (entry.0, status_rank(&entry.1.status))
                {
                    *entry = (*at_ms, registrant.clone());
                }
                entry.1.registered_ms = first_ms;
            }
            Fact::Recording { change, at_ms, .. } => {
                let slot = match change {
                    RecordingChange::Completed => &mut out.recording.completed_ms,
                    RecordingChange::TranscriptCompleted => &mut out.recording.transcript_ms,
                    RecordingChange::Deleted => &mut out.recording.deleted_ms,
                };
                *slot = (*slot).max(Some(*at_ms));
            }
            Fact::Joined { person, at_ms, .. } | Fact::Left { person, at_ms, .. } => {
                let entry = moves
                    .entry(person.key.clone())
                    .or_insert_with(|| (person.clone(), Vec::new()));
                if entry.0.email.is_empty() {
                    entry.0.email = person.email.clone();
                }
                if entry.0.registrant_id.is_empty() {
                    entry.0.registrant_id = person.registrant_id.clone();
                }
                entry.1.push((*at_ms, matches!(fact, Fact::Left { .. })));
            }
        }
    }
    out.registrants = registrants.into_values().map(|(_, r)| r).collect();
    for (person, mut times) in moves.into_values() {
        times.sort();
        times.dedup();
        let mut open: Option<i64> = None;
        for (at, is_leave) in times {
            match (is_leave, open) {
                (false, None) => open = Some(at),
                (false, Some(_)) => {} // a second join while in: the first one counts
                (true, Some(joined)) => {
                    out.rows.push(ParticipantRow {
                        name: person.name.clone(),
                        email: person.email.clone(),
                        registrant_id: person.registrant_id.clone(),
                        joined_ms: joined,
                        left_ms: at,
                    });
                    open = None;
                }
                (true, None) => {} // a leave without its join: the report fills it in
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;
