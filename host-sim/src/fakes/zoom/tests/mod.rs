//! The fake Zoom's behaviours, errors included: the account every test
//! starts from and the requests they send, with the tests one module per
//! topic (`error_tests.rs` beside this folder has Zoom's error answers).

mod limits;
mod oauth;
mod recordings;
mod reports;
mod users_and_events;
mod webhooks;
mod webinars;

use std::time::Duration;

use base64::Engine as _;
use serde_json::json;

use super::model::*;
use super::webhooks::{WebhookEvent, signature_headers};
use super::*;
use crate::fakes::testing::{json as body, request};
use crate::outbound::FakeService;

const START: &str = "2026-11-20T15:00:00Z";

pub(super) fn zoom() -> (FakeZoom, Clock) {
    let clock = Clock::manual(parse_rfc3339("2026-11-20T17:00:00Z").unwrap());
    let zoom = FakeZoom::new(
        ZoomApp {
            account_id: "acct".into(),
            client_id: "id".into(),
            client_secret: "secret".into(),
        },
        clock.clone(),
    );
    zoom.seed(account());
    (zoom, clock)
}

fn account() -> ZoomAccount {
    let registrant = |i: usize| Registrant {
        id: String::new(),
        email: format!("person{i}@example.com"),
        first_name: format!("Person{i}"),
        last_name: "Example".into(),
        status: if i % 10 == 9 { "pending" } else { "approved" }.into(),
        create_time: String::new(),
    };
    ZoomAccount {
        users: vec![
            User { id: String::new(), email: "host@acme.example".into(), first_name: "Hannah".into(), last_name: "Host".into() },
            User { id: String::new(), email: "colleague@acme.example".into(), first_name: "Carl".into(), last_name: "Colleague".into() },
        ],
        webinars: vec![
            Webinar {
                id: 81234567890,
                uuid: String::new(),
                host: "host@acme.example".into(),
                topic: "Pipeline reviews that work".into(),
                r#type: 5,
                start_time: START.into(),
                duration: 60,
                timezone: "UTC".into(),
                approval_type: 0,
                required_fields: vec![],
                required_questions: vec![],
                registrants: (0..650).map(registrant).collect(),
                participants: vec![
                    Participant { name: "Person0".into(), email: "person0@example.com".into(), registrant: Some("person0@example.com".into()), segments: vec![(0, 30), (40, 60)] },
                    Participant { name: "Guest".into(), email: "guest@example.com".into(), registrant: None, segments: vec![(5, 20)] },
                ],
                ran: Some(Ran { start_time: START.into(), end_time: "2026-11-20T16:00:00Z".into() }),
                recording: Some(Recording {
                    files: vec![
                        RecordingFile { id: String::new(), file_type: "MP4".into(), status: "completed".into(), content: String::new() },
                        RecordingFile { id: String::new(), file_type: "TRANSCRIPT".into(), status: "completed".into(), content: "WEBVTT\n\n1\n00:00:01.000 --> 00:00:04.000\nHannah Host: Welcome!\n".into() },
                    ],
                    deleted: false,
                }),
            },
            Webinar {
                id: 89999999999,
                uuid: String::new(),
                host: "host@acme.example".into(),
                topic: "Questions required".into(),
                r#type: 5,
                start_time: "2026-12-01T15:00:00Z".into(),
                duration: 45,
                timezone: "UTC".into(),
                approval_type: 0,
                required_fields: vec!["phone".into()],
                required_questions: vec!["Company size?".into()],
                registrants: vec![],
                participants: vec![],
                ran: None,
                recording: None,
            },
        ],
        events: vec![ZoomEvent { id: "ev1".into(), name: "Summit".into(), webinar_ids: vec![89999999999] }],
        scopes: None,
    }
}

pub(super) fn token(zoom: &FakeZoom) -> String {
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("id:secret")
    );
    let answer = zoom.handle(&request(
        "POST",
        "https://zoom.us/oauth/token?grant_type=account_credentials&account_id=acct",
        Some(&basic),
        None,
    ));
    assert_eq!(answer.status, 200);
    format!("Bearer {}", body(&answer)["access_token"].as_str().unwrap())
}

pub(super) fn get(zoom: &FakeZoom, auth: &str, path: &str) -> FakeResponse {
    zoom.handle(&request(
        "GET",
        &format!("https://api.zoom.us/v2{path}"),
        Some(auth),
        None,
    ))
}

fn post(zoom: &FakeZoom, auth: &str, path: &str, b: serde_json::Value) -> FakeResponse {
    zoom.handle(&request(
        "POST",
        &format!("https://api.zoom.us/v2{path}"),
        Some(auth),
        Some(b),
    ))
}
