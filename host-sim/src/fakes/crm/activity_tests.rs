//! The fake CRM's activity events (R10, R13): timeline templates take only
//! the developer key and can be closed to the app; custom event
//! definitions and sends, idempotent on `uuid`.

use serde_json::json;

use super::tests::{crm, get, post};
use super::*;
use crate::fakes::testing::{json as body, request};

const TEMPLATES: &str = "/integrators/timeline/v3/1000001/event-templates";

fn template() -> Value {
    json!({
        "name": "Registered", "objectType": "contacts", "headerTemplate": "h", "detailTemplate": "d",
        "tokens": [{ "name": "webinar_id", "label": "Webinar", "type": "string" }],
    })
}

#[test]
fn r10_timeline_templates_refuse_the_portal_token_and_take_the_developer_key() {
    let (crm, _) = crm();
    // The app's access token, as a Bearer header: refused, at both paths.
    for path in [TEMPLATES, "/crm/v3/timeline/1000001/event-templates"] {
        let refused = post(&crm, path, template());
        assert_eq!(refused.status, 401, "{path}");
        assert!(
            body(&refused)["message"]
                .as_str()
                .unwrap()
                .contains("developer account's API key")
        );
    }
    // A wrong developer key is refused too.
    let wrong = crm.handle(&request(
        "GET",
        &format!("https://api.hubapi.com{TEMPLATES}?hapikey=guess"),
        None,
        None,
    ));
    assert_eq!(wrong.status, 401);
    let made = crm.handle(&request(
        "POST",
        &format!("https://api.hubapi.com{TEMPLATES}?hapikey={DEVELOPER_API_KEY}"),
        None,
        Some(template()),
    ));
    assert_eq!(made.status, 201);
    let listed = crm.handle(&request(
        "GET",
        &format!("https://api.hubapi.com{TEMPLATES}?hapikey={DEVELOPER_API_KEY}"),
        None,
        None,
    ));
    assert_eq!(body(&listed)["results"].as_array().unwrap().len(), 1);
}

#[test]
fn r10_timeline_access_switched_off_refuses_templates_and_events_with_403() {
    let (crm, _) = crm();
    crm.set_timeline_access(false);
    let templates = crm.handle(&request(
        "GET",
        &format!("https://api.hubapi.com{TEMPLATES}?hapikey={DEVELOPER_API_KEY}"),
        None,
        None,
    ));
    assert_eq!(templates.status, 403);
    let events = post(
        &crm,
        "/crm/v3/timeline/events/batch/create",
        json!({ "inputs": [] }),
    );
    assert_eq!(events.status, 403);
    assert_eq!(body(&events)["category"], "FORBIDDEN");
    crm.set_timeline_access(true);
    assert_eq!(
        post(
            &crm,
            "/crm/v3/timeline/events/batch/create",
            json!({ "inputs": [] })
        )
        .status,
        201
    );
}

fn definition(name: &str) -> Value {
    json!({
        "label": "Attended a Zoom webinar", "name": name, "primaryObject": "CONTACT",
        "propertyDefinitions": [
            { "name": "webinar_id", "label": "Webinar ID", "type": "string" },
            { "name": "attendance_percentage", "label": "Duration (%)", "type": "number" },
        ],
    })
}

const UUID: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";

#[test]
fn r10_custom_event_definitions_are_named_as_hubspot_names_them_and_listed() {
    let (crm, _) = crm();
    let made = post(
        &crm,
        "/events/v3/event-definitions",
        definition("zoom_webinar_attendance"),
    );
    assert_eq!(made.status, 201);
    assert_eq!(
        body(&made)["fullyQualifiedName"],
        format!("pe{}_zoom_webinar_attendance", events::PORTAL_ID)
    );
    // A second definition of the name: 409.
    let again = post(
        &crm,
        "/events/v3/event-definitions",
        definition("zoom_webinar_attendance"),
    );
    assert_eq!(again.status, 409);
    // Names: lowercase, digits and underscores.
    let bad = post(
        &crm,
        "/events/v3/event-definitions",
        definition("Zoom-Attendance"),
    );
    assert_eq!(bad.status, 400);
    let listed = get(&crm, "/events/v3/event-definitions");
    assert_eq!(body(&listed)["results"].as_array().unwrap().len(), 1);
    assert_eq!(
        body(&listed)["results"][0]["name"],
        "zoom_webinar_attendance"
    );
}

#[test]
fn r10_custom_event_sends_are_204_and_a_repeated_uuid_is_one_event() {
    let (crm, _) = crm();
    post(
        &crm,
        "/events/v3/event-definitions",
        definition("zoom_webinar_attendance"),
    );
    let ada = crm.contacts()[0].id.to_string();
    let name = format!("pe{}_zoom_webinar_attendance", events::PORTAL_ID);
    let input = |uuid: &str, percentage: &str| {
        json!({ "eventName": name, "objectId": ada, "uuid": uuid, "occurredAt": "2026-11-20T15:00:00Z",
                "properties": { "webinar_id": "81234567890", "attendance_percentage": percentage } })
    };
    let sent = post(
        &crm,
        "/events/v3/send/batch",
        json!({ "inputs": [input(UUID, "75")] }),
    );
    assert_eq!(sent.status, 204);
    assert!(sent.body.is_empty());
    // The same uuid again, singly and in a batch: still one event, the first.
    assert_eq!(post(&crm, "/events/v3/send", input(UUID, "10")).status, 204);
    assert_eq!(
        post(
            &crm,
            "/events/v3/send/batch",
            json!({ "inputs": [input(UUID, "10")] })
        )
        .status,
        204
    );
    let dump = crm.dump();
    let stored = dump["custom_events"].as_array().unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["properties"]["attendance_percentage"], "75");
    assert_eq!(stored[0]["objectId"], ada);
}

#[test]
fn r10_a_custom_event_send_with_one_bad_input_takes_none_of_the_batch() {
    let (crm, _) = crm();
    post(
        &crm,
        "/events/v3/event-definitions",
        definition("zoom_webinar_attendance"),
    );
    let ada = crm.contacts()[0].id.to_string();
    let name = format!("pe{}_zoom_webinar_attendance", events::PORTAL_ID);
    let good = json!({ "eventName": name, "objectId": ada, "uuid": UUID, "properties": { "webinar_id": "1" } });
    for (bad, why) in [
        (
            json!({ "eventName": name, "objectId": ada, "uuid": "zoom-attendance-1-ada", "properties": {} }),
            "UUID",
        ),
        (
            json!({ "eventName": name, "objectId": ada, "properties": { "undefined_one": "x" } }),
            "not defined",
        ),
        (
            json!({ "eventName": name, "objectId": ada, "properties": { "attendance_percentage": "most" } }),
            "cannot take",
        ),
        (
            json!({ "eventName": "pe1_unknown", "objectId": ada, "properties": {} }),
            "not defined in this portal",
        ),
        (json!({ "eventName": name, "properties": {} }), "identifier"),
    ] {
        let refused = post(
            &crm,
            "/events/v3/send/batch",
            json!({ "inputs": [good.clone(), bad] }),
        );
        assert_eq!(refused.status, 400, "{why}");
        let message = body(&refused)["message"].as_str().unwrap().to_owned();
        assert!(message.contains(why), "{message}");
        assert_eq!(body(&refused)["context"]["index"], json!(["1"]));
    }
    assert!(crm.dump()["custom_events"].as_array().unwrap().is_empty());
    let too_many: Vec<Value> = (0..=events::MAX_SEND_BATCH).map(|_| good.clone()).collect();
    assert_eq!(
        post(&crm, "/events/v3/send/batch", json!({ "inputs": too_many })).status,
        400
    );
}

#[test]
fn r10_custom_events_need_their_scopes() {
    let (crm, _) = crm();
    crm.seed(&CrmSeed {
        scopes: Some(
            scopes::ALL
                .iter()
                .filter(|s| **s != "analytics.behavioral_events.send")
                .map(|s| s.to_string())
                .collect(),
        ),
        ..CrmSeed::default()
    });
    assert_eq!(
        post(
            &crm,
            "/events/v3/event-definitions",
            definition("zoom_webinar_attendance")
        )
        .status,
        201
    );
    let refused = post(&crm, "/events/v3/send/batch", json!({ "inputs": [] }));
    assert_eq!(refused.status, 403);
    assert_eq!(body(&refused)["category"], "MISSING_SCOPES");
}
