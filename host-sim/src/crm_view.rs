//! What the fake CRM holds, summarised for people: each marketing event
//! with its state and participation counts, and contacts with the four
//! properties of R12. `crm events`, `scenario run` and the demo all show
//! them through this module, so they say the same thing.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use anyhow::{Context as _, anyhow, bail};
use http_body_util::{BodyExt, Empty};

use crate::clock::parse_rfc3339;
use crate::config::{ConnectionMode, HostConfig};
use crate::fakes::INSPECT_PREFIX;
use crate::fakes::crm::API_HOST;
use crate::sim::Simulator;

/// The CRM's records as `FakeCrm::dump` gives them: the in-process fake's,
/// or the remote fakes' (`connection.fakes_url`).
pub async fn crm_records(sim: &Simulator) -> anyhow::Result<Value> {
    match sim.config.connection.mode {
        ConnectionMode::Fake => Ok(sim.crm.dump()),
        ConnectionMode::Remote => remote_dump(&sim.config).await,
        ConnectionMode::Real => bail!(
            "the CRM's records are in the real CRM (connection.mode is \"real\"): look at them there; `host-sim crm` shows the fakes' (mode \"fake\" or \"remote\")"
        ),
    }
}

/// `GET {fakes_url}/_sim/api.hubapi.com/dump` with the CRM's access token.
async fn remote_dump(config: &HostConfig) -> anyhow::Result<Value> {
    let url = &config.connection.fakes_url;
    let uri: http::Uri = url
        .parse()
        .map_err(|e| anyhow!("connection.fakes_url {url:?} is not a URL: {e}"))?;
    let authority = match (uri.scheme_str(), uri.authority()) {
        (Some("http"), Some(authority)) => authority.to_string(),
        _ => bail!(
            "connection.fakes_url {url:?} must be http://HOST:PORT, where `host-sim fakes` listens"
        ),
    };
    let unreachable = |e: &dyn std::fmt::Display| {
        anyhow!(
            "the fakes at {url} did not answer ({e}): start them with `host-sim fakes --listen {authority}`, or set connection.fakes_url"
        )
    };
    let stream = tokio::net::TcpStream::connect(&authority)
        .await
        .map_err(|e| unreachable(&e))?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(wasmtime_wasi_http::io::TokioIo::new(stream))
            .await
            .map_err(|e| unreachable(&e))?;
    tokio::spawn(connection);
    let request = http::Request::get(format!("/{INSPECT_PREFIX}/{API_HOST}/dump"))
        .header(http::header::HOST, &authority)
        .header(
            http::header::AUTHORIZATION,
            format!("Bearer {}", config.crm.access_token.expose()),
        )
        .body(Empty::<bytes::Bytes>::new())
        .context("the request to the fakes")?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| unreachable(&e))?;
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| unreachable(&e))?
        .to_bytes();
    match status {
        200 => serde_json::from_slice(&body)
            .map_err(|e| anyhow!("the fakes at {url} answered a dump that is not JSON: {e}")),
        401 => bail!(
            "the fakes at {url} refused crm.access_token: give this process the access token the fakes were started with"
        ),
        other => bail!(
            "the fakes at {url} answered {other} for the CRM's records: is a `host-sim fakes` of this version listening there?"
        ),
    }
}

/// One marketing event with its participation counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventSummary {
    pub webinar: String,
    pub name: String,
    pub organizer: String,
    /// The scheduled start (RFC 3339).
    pub start: String,
    pub state: EventState,
    pub registered: usize,
    pub attended: usize,
    pub cancelled: usize,
    /// Attendees Zoom gave no email for (R19c), so not in the counts.
    pub attendees_without_email: usize,
}

/// Where a marketing event stands, from the CRM's record and the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventState {
    Cancelled,
    /// The plugin marked it completed: the webinar ran.
    Ended,
    /// Its scheduled end has passed, and it was not marked completed (the
    /// webinar has not been seen to run, or its sync is still to come).
    Past,
    Upcoming,
}

impl EventState {
    pub fn name(self) -> &'static str {
        match self {
            EventState::Cancelled => "cancelled",
            EventState::Ended => "ended",
            EventState::Past => "past",
            EventState::Upcoming => "upcoming",
        }
    }
}

/// The four properties of one contact (R12).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContactSummary {
    pub email: String,
    pub average_attendance_percentage: String,
    pub total_registrations: String,
    pub total_attended: String,
    pub last_registered_webinar: String,
    pub deleted: bool,
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// The marketing events of a CRM dump at `now_ms`; `audit` holds each
/// webinar's audit entries as `scenario::audit_entries` gives them.
pub fn marketing_events(
    crm: &Value,
    now_ms: i64,
    audit: &BTreeMap<String, Value>,
) -> Vec<EventSummary> {
    let participations = crm["participations"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    crm["marketing_events"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let webinar = text(&e["externalEventId"]);
            let count = |state: &str| {
                participations
                    .iter()
                    .filter(|p| {
                        text(&p["externalEventId"]) == webinar && p["attendanceState"] == state
                    })
                    .count()
            };
            let ends_at = e["endDateTime"].as_str().and_then(parse_rfc3339);
            let state = if e["eventCancelled"] == true {
                EventState::Cancelled
            } else if e["eventCompleted"] == true {
                EventState::Ended
            } else if ends_at.is_some_and(|end| end <= now_ms) {
                EventState::Past
            } else {
                EventState::Upcoming
            };
            EventSummary {
                name: text(&e["eventName"]),
                organizer: text(&e["eventOrganizer"]),
                start: text(&e["startDateTime"]),
                state,
                registered: count("REGISTERED"),
                attended: count("ATTENDED"),
                cancelled: count("CANCELLED"),
                attendees_without_email: audit.get(&webinar).map_or(0, attendees_without_email),
                webinar,
            }
        })
        .collect()
}

/// How many participants the audit log says were not synced for want of
/// an email (R19c entries, one record each).
fn attendees_without_email(entries: &Value) -> usize {
    entries
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["kind"] == "participants-not-synced")
        .map(|e| e["records"].as_array().map_or(0, Vec::len))
        .sum()
}

/// One contact of a CRM dump, with its four properties.
pub fn contact(c: &Value) -> ContactSummary {
    let property = |name: &str| text(&c["properties"][name]);
    ContactSummary {
        email: property("email"),
        average_attendance_percentage: property("zoom_webinar_average_attendance_percentage"),
        total_registrations: property("zoom_webinar_total_registrations"),
        total_attended: property("zoom_webinar_total_attended"),
        last_registered_webinar: property("zoom_webinar_last_registered_url"),
        deleted: c["archived"] == true,
    }
}

/// A marketing event on one line: name, id, counts, state, and the
/// attendees that are not in the counts.
pub fn event_line(e: &EventSummary) -> String {
    let unsynced = match e.attendees_without_email {
        0 => String::new(),
        n => format!("  ({n} attendee(s) not counted: Zoom gave no email for them)"),
    };
    format!(
        "{:<24} {:<12} registered {:>5}  attended {:>4}  cancelled {:>2}  ({}){unsynced}",
        e.name,
        e.webinar,
        e.registered,
        e.attended,
        e.cancelled,
        e.state.name()
    )
}

/// The contacts table's heading and rows.
pub fn contact_lines(contacts: &[ContactSummary]) -> Vec<String> {
    let mut lines = vec![format!(
        "{:<34} {:>9} {:>13} {:>9}  last registered webinar",
        "email", "avg att %", "registrations", "attended"
    )];
    lines.extend(contacts.iter().map(|c| {
        format!(
            "{:<34} {:>9} {:>13} {:>9}  {}{}",
            c.email,
            c.average_attendance_percentage,
            c.total_registrations,
            c.total_attended,
            c.last_registered_webinar,
            if c.deleted { "  (deleted)" } else { "" }
        )
    }));
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn crm(completed: bool, end: &str) -> Value {
        json!({
            "marketing_events": [{
                "externalEventId": "81", "eventName": "Launch",
                "endDateTime": end, "eventCancelled": false, "eventCompleted": completed,
            }],
            "participations": [
                { "externalEventId": "81", "attendanceState": "REGISTERED" },
                { "externalEventId": "81", "attendanceState": "ATTENDED" },
                { "externalEventId": "82", "attendanceState": "ATTENDED" },
            ],
        })
    }

    const NOW: i64 = 1_795_000_000_000; // 2026-11-18T...

    #[test]
    fn an_event_whose_scheduled_end_passed_is_not_upcoming() {
        let none = BTreeMap::new();
        let past = marketing_events(&crm(false, "2026-01-01T00:00:00Z"), NOW, &none);
        assert_eq!(past[0].state, EventState::Past);
        let next = marketing_events(&crm(false, "2027-01-01T00:00:00Z"), NOW, &none);
        assert_eq!(next[0].state, EventState::Upcoming);
        let ended = marketing_events(&crm(true, "2026-01-01T00:00:00Z"), NOW, &none);
        assert_eq!(ended[0].state, EventState::Ended);
        assert_eq!((ended[0].registered, ended[0].attended), (1, 1));
    }

    #[test]
    fn r19_attendees_without_an_email_are_said_beside_the_counts() {
        let audit = BTreeMap::from([(
            "81".to_owned(),
            json!([
                { "kind": "participants-not-synced", "records": ["Guest 1", "Guest 2"] },
                { "kind": "emails-excluded", "records": ["x@acme.example"] },
            ]),
        )]);
        let events = marketing_events(&crm(true, "2026-01-01T00:00:00Z"), NOW, &audit);
        assert_eq!(events[0].attendees_without_email, 2);
        let line = event_line(&events[0]);
        assert!(
            line.ends_with("(ended)  (2 attendee(s) not counted: Zoom gave no email for them)"),
            "{line}"
        );
    }
}
