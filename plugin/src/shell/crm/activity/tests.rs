//! The activity events' backends (R10) against scripted CRM answers.

use std::cell::RefCell;

use super::*;
use crate::core::plan::Tokens;
use crate::shell::http::{HttpClient, TransportError};
use crate::shell::memory::MemoryStore;

/// A CRM that answers each request with `answer` and keeps what it got.
struct Scripted<F: Fn(&Request, usize) -> (u16, Value)> {
    answer: F,
    sent: RefCell<Vec<Request>>,
}

impl<F: Fn(&Request, usize) -> (u16, Value)> Scripted<F> {
    fn new(answer: F) -> Self {
        Self {
            answer,
            sent: RefCell::new(Vec::new()),
        }
    }

    fn bodies(&self, path: &str) -> Vec<Value> {
        self.sent
            .borrow()
            .iter()
            .filter(|r| r.url.contains(path) && !r.body.is_empty())
            .map(|r| serde_json::from_slice(&r.body).unwrap_or_default())
            .collect()
    }
}

impl<F: Fn(&Request, usize) -> (u16, Value)> HttpClient for Scripted<F> {
    fn send(&self, request: Request) -> Result<Response, TransportError> {
        let n = self.sent.borrow().len();
        let (status, body) = (self.answer)(&request, n);
        self.sent.borrow_mut().push(request);
        Ok(Response {
            status,
            body: if body.is_null() {
                Vec::new()
            } else {
                body.to_string().into_bytes()
            },
        })
    }

    fn pause(&self, _ms: u64) {}
}

struct Keys(&'static str);
impl Config for Keys {
    fn get(&self, key: &str) -> Result<Option<String>, String> {
        Ok(match key {
            keys::CRM_ACTIVITY_EVENTS if self.0.is_empty() => None,
            keys::CRM_ACTIVITY_EVENTS => Some(self.0.to_owned()),
            _ => Some("token".to_owned()),
        })
    }
}

#[test]
fn r10_the_backend_is_custom_events_unless_configured_otherwise() {
    assert_eq!(
        Backend::configured(&Keys("")).unwrap(),
        Backend::CustomEvents
    );
    assert_eq!(
        Backend::configured(&Keys("timeline")).unwrap(),
        Backend::Timeline
    );
    assert_eq!(Backend::configured(&Keys("off")).unwrap(), Backend::Off);
    let error = Backend::configured(&Keys("timelines")).unwrap_err();
    assert!(
        error.to_string().contains("timeline, custom-events or off"),
        "{error}"
    );
}

#[test]
fn r10_occurrence_uuids_are_uuids_stable_per_event_id() {
    let a = occurrence_uuid("zoom-attendance-82000000001-ada@x.example");
    assert_eq!(
        a,
        occurrence_uuid("zoom-attendance-82000000001-ada@x.example")
    );
    assert_ne!(
        a,
        occurrence_uuid("zoom-attendance-82000000001-alan@x.example")
    );
    let groups: Vec<usize> = a.split('-').map(str::len).collect();
    assert_eq!(groups, [8, 4, 4, 4, 12]);
    assert_eq!(&a[14..15], "5");
}

/// A portal whose definitions are those made so far (by this test's CRM).
fn custom_events_crm(
    existing: &'static [&'static str],
) -> impl Fn(&Request, usize) -> (u16, Value) {
    move |request, _| {
        if request.method == Method::Get {
            let results: Vec<Value> = existing
                .iter()
                .map(|n| json!({ "name": n, "fullyQualifiedName": format!("pe7_{n}") }))
                .collect();
            return (200, json!({ "results": results }));
        }
        let body: Value = serde_json::from_slice(&request.body).unwrap();
        let name = body["name"].as_str().unwrap();
        (
            201,
            json!({ "name": name, "fullyQualifiedName": format!("pe7_{name}") }),
        )
    }
}

#[test]
fn r10_install_defines_the_three_custom_events_once() {
    let http = Scripted::new(custom_events_crm(&[]));
    let crm = CrmClient::connect(&http, &Keys("custom-events")).unwrap();
    let store = MemoryStore::default();
    let installed = install(&crm, &Keys("custom-events"), &store).unwrap();
    assert!(installed.not_set_up.is_empty());
    let made: Vec<&str> = installed.outcomes.iter().map(|(w, _)| w.as_str()).collect();
    assert_eq!(
        made,
        [
            "custom event definition zoom_webinar_registration",
            "custom event definition zoom_webinar_attendance",
            "custom event definition zoom_webinar_recording_available",
        ]
    );
    let definition = &http.bodies("/events/v3/event-definitions")[1];
    assert_eq!(definition["primaryObject"], "CONTACT");
    assert_eq!(definition["propertyDefinitions"][2]["type"], "datetime");
    let setup = Setup::load(&store).unwrap();
    assert_eq!(setup.backend, Backend::CustomEvents);
    assert_eq!(
        setup.ids["webinar-attendance"],
        "pe7_zoom_webinar_attendance"
    );

    // A second install finds them by name and defines nothing.
    let again = Scripted::new(custom_events_crm(&[
        "zoom_webinar_registration",
        "zoom_webinar_attendance",
        "zoom_webinar_recording_available",
    ]));
    let crm = CrmClient::connect(&again, &Keys("custom-events")).unwrap();
    let installed = install(&crm, &Keys("custom-events"), &store).unwrap();
    assert!(
        installed
            .outcomes
            .iter()
            .all(|(_, o)| matches!(o, Created::AlreadyExists(_)))
    );
    assert!(again.sent.borrow().iter().all(|r| r.method == Method::Get));
}

#[test]
fn r10_custom_events_without_their_scope_leave_install_working_and_say_why() {
    let http = Scripted::new(|_, _| {
        (
            403,
            json!({ "status": "error", "message": "missing scopes", "category": "MISSING_SCOPES",
                    "errors": [{ "message": "x", "context": { "requiredScopes": ["behavioral_events.event_definitions.read_write"] } }] }),
        )
    });
    let crm = CrmClient::connect(&http, &Keys("custom-events")).unwrap();
    let store = MemoryStore::default();
    let installed = install(&crm, &Keys("custom-events"), &store).unwrap();
    assert_eq!(installed.not_set_up.len(), 1);
    let note = Setup::load(&store).unwrap().not_written_note().unwrap();
    assert!(
        note.contains("behavioral_events.event_definitions.read_write"),
        "{note}"
    );
}

#[test]
fn r10_off_sets_nothing_up_and_the_sync_is_told_why() {
    let http = Scripted::new(|_, _| panic!("no CRM call when activity events are off"));
    let crm = CrmClient::connect(&http, &Keys("off")).unwrap();
    let store = MemoryStore::default();
    let installed = install(&crm, &Keys("off"), &store).unwrap();
    assert!(installed.not_set_up[0].contains("crm.activity-events = off"));
    assert!(Setup::load(&store).unwrap().not_written.is_some());
}

fn event(id: &str) -> TimelineEvent {
    TimelineEvent {
        id: id.to_owned(),
        event_type: definitions::ATTENDANCE_EVENT,
        email: "ada@x.example".into(),
        timestamp_ms: 1_795_186_800_000,
        tokens: Tokens::from([
            ("webinar_id", "82000000001".to_owned()),
            ("attendance_percentage", "75".to_owned()),
        ]),
    }
}

fn custom_setup() -> Setup {
    Setup {
        backend: Backend::CustomEvents,
        ids: BTreeMap::from([(
            definitions::ATTENDANCE_EVENT.to_owned(),
            "pe7_zoom_webinar_attendance".to_owned(),
        )]),
        not_written: None,
    }
}

#[test]
fn r10_custom_events_are_sent_in_one_batch_with_their_stable_uuid() {
    let http = Scripted::new(|_, _| (204, Value::Null));
    let crm = CrmClient::connect(&http, &Keys("custom-events")).unwrap();
    let (a, b) = (event("zoom-attendance-1-a"), event("zoom-attendance-1-b"));
    let refused = crm
        .write_activity(&custom_setup(), &[(&a, "11".into()), (&b, "12".into())])
        .unwrap();
    assert!(refused.is_empty());
    let sent = http.bodies("/events/v3/send/batch");
    assert_eq!(sent.len(), 1);
    let input = &sent[0]["inputs"][0];
    assert_eq!(input["eventName"], "pe7_zoom_webinar_attendance");
    assert_eq!(input["objectId"], "11");
    assert_eq!(input["uuid"], occurrence_uuid("zoom-attendance-1-a"));
    // Every property value is a string (the client's model: dict[str, str]).
    assert_eq!(input["properties"]["attendance_percentage"], "75");
}

#[test]
fn r10_a_refused_custom_event_is_left_out_and_the_rest_sent_again() {
    // The first send names input 1; the second takes the rest.
    let http = Scripted::new(|_, n| match n {
        0 => (
            400,
            json!({ "status": "error", "message": "Property x is not defined", "category": "VALIDATION_ERROR",
                    "context": { "index": ["1"] } }),
        ),
        _ => (204, Value::Null),
    });
    let crm = CrmClient::connect(&http, &Keys("custom-events")).unwrap();
    let events = [event("e-a"), event("e-b"), event("e-c")];
    let chunk: Vec<(&TimelineEvent, String)> = events.iter().map(|e| (e, "11".into())).collect();
    let refused = crm.write_activity(&custom_setup(), &chunk).unwrap();
    assert_eq!(refused.0.keys().collect::<Vec<_>>(), ["e-b"]);
    assert_eq!(refused.0["e-b"], "Property x is not defined");
    let sent = http.bodies("/events/v3/send/batch");
    assert_eq!(sent[1]["inputs"].as_array().unwrap().len(), 2);
}
