//! The fake CRM's behaviours, errors included: the CRM every test starts
//! from and the requests they send, with the tests one module per topic.

mod calls;
mod contacts;
mod engagements;
mod gate;
mod models;

use std::time::Duration;

use serde_json::{Value, json};

use super::webhooks::{ContactChange, signature_v3};
use super::*;
use crate::fakes::testing::{json as body, request};

const AUTH: &str = "Bearer t";

pub(super) fn crm() -> (FakeCrm, Clock) {
    let clock = Clock::manual(1_795_186_800_000);
    let crm = FakeCrm::new("t", clock.clone()).with_rate_limits(CrmRateLimits::OFF);
    crm.seed(&CrmSeed {
        users: (0..3)
            .map(|i| SeedUser {
                email: format!("rep{i}@acme.example"),
                first_name: "Rep".into(),
                last_name: i.to_string(),
            })
            .collect(),
        contacts: vec![
            SeedContact {
                email: "ada@example.com".into(),
                firstname: "Ada".into(),
                lastname: "L".into(),
                additional_emails: vec!["ada@work.example".into()],
                archived: false,
                properties: Default::default(),
            },
            SeedContact {
                email: "gone@example.com".into(),
                firstname: "Gone".into(),
                lastname: "G".into(),
                additional_emails: vec![],
                archived: true,
                properties: Default::default(),
            },
        ],
        scopes: None,
        timeline_access: None,
    });
    (crm, clock)
}

pub(super) fn post(crm: &FakeCrm, path: &str, b: Value) -> FakeResponse {
    crm.handle(&request(
        "POST",
        &format!("https://api.hubapi.com{path}"),
        Some(AUTH),
        Some(b),
    ))
}

pub(super) fn get(crm: &FakeCrm, path: &str) -> FakeResponse {
    crm.handle(&request(
        "GET",
        &format!("https://api.hubapi.com{path}"),
        Some(AUTH),
        None,
    ))
}

fn upsert_input(email: &str, firstname: &str) -> Value {
    json!({ "id": email, "idProperty": "email", "properties": { "firstname": firstname, "lastname": "X" } })
}

fn event() -> Value {
    json!({
        "externalEventId": "81234567890", "externalAccountId": "zoom-acct", "eventName": "Pipeline reviews",
        "eventOrganizer": "Hannah Host", "eventUrl": "https://us06web.zoom.us/w/81234567890",
        "startDateTime": "2026-11-20T15:00:00Z", "endDateTime": "2026-11-20T16:00:00Z",
    })
}
