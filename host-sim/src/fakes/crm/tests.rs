//! The fake CRM's behaviours, errors included.

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

#[test]
fn a_wrong_token_is_a_401_in_hubspot_shape() {
    let (crm, _) = crm();
    let answer = crm.handle(&request(
        "GET",
        "https://api.hubapi.com/crm/v3/owners",
        Some("Bearer wrong"),
        None,
    ));
    assert_eq!(answer.status, 401);
    let b = body(&answer);
    assert_eq!(
        (b["status"].as_str(), b["category"].as_str()),
        (Some("error"), Some("INVALID_AUTHENTICATION"))
    );
    assert!(b["correlationId"].is_string());
}

#[test]
fn properties_refuse_duplicates_bad_type_pairs_and_unknown_groups() {
    let (crm, _) = crm();
    let group = json!({ "name": "g", "label": "G" });
    assert_eq!(
        post(&crm, "/crm/v3/properties/contacts/groups", group.clone()).status,
        201
    );
    assert_eq!(
        post(&crm, "/crm/v3/properties/contacts/groups", group).status,
        409
    );
    let property = json!({ "name": "p", "label": "P", "type": "number", "fieldType": "number", "groupName": "g" });
    assert_eq!(
        post(&crm, "/crm/v3/properties/contacts", property.clone()).status,
        201
    );
    let again = post(&crm, "/crm/v3/properties/contacts", property);
    assert_eq!(
        (again.status, body(&again)["category"].as_str()),
        (409, Some("OBJECT_ALREADY_EXISTS"))
    );
    let bad_pair = post(
        &crm,
        "/crm/v3/properties/contacts",
        json!({ "name": "q", "label": "Q", "type": "number", "fieldType": "text", "groupName": "g" }),
    );
    assert!(
        body(&bad_pair)["message"]
            .as_str()
            .unwrap()
            .contains("field type text")
    );
    let no_group = post(
        &crm,
        "/crm/v3/properties/contacts",
        json!({ "name": "q", "label": "Q", "type": "number", "fieldType": "number", "groupName": "none" }),
    );
    assert_eq!(no_group.status, 400);
}

#[test]
fn upsert_creates_updates_and_reports_per_item_errors() {
    let (crm, _) = crm();
    let answer = post(
        &crm,
        "/crm/v3/objects/contacts/batch/upsert",
        json!({ "inputs": [
            upsert_input("new@example.com", "New"),
            upsert_input("ada@example.com", "Ada Updated"),
            upsert_input("not-an-email", "Bad"),
        ]}),
    );
    assert_eq!(answer.status, 207, "multi-status with one failure");
    let b = body(&answer);
    assert_eq!(b["numErrors"], 1);
    assert_eq!(b["errors"][0]["context"]["ids"][0], "not-an-email");
    // Found by email: results are not in input order.
    let result = |email: &str| {
        b["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["properties"]["email"] == email)
            .cloned()
            .unwrap()
    };
    assert_eq!(result("new@example.com")["new"], true);
    assert_eq!(result("ada@example.com")["new"], false);
    assert_eq!(
        result("ada@example.com")["properties"]["firstname"],
        "Ada Updated"
    );

    let too_many: Vec<Value> = (0..101)
        .map(|i| upsert_input(&format!("p{i}@example.com"), "P"))
        .collect();
    let answer = post(
        &crm,
        "/crm/v3/objects/contacts/batch/upsert",
        json!({ "inputs": too_many }),
    );
    assert_eq!(
        (answer.status, body(&answer)["category"].as_str()),
        (400, Some("VALIDATION_ERROR"))
    );
    assert_eq!(crm.contacts().len(), 3, "a refused batch writes nothing");
}

#[test]
fn upsert_by_a_secondary_email_updates_the_contact_that_owns_it() {
    let (crm, _) = crm();
    let answer = post(
        &crm,
        "/crm/v3/objects/contacts/batch/upsert",
        json!({ "inputs": [upsert_input("ada@work.example", "Overwritten")] }),
    );
    assert_eq!(answer.status, 200);
    let ada = crm
        .contacts()
        .into_iter()
        .find(|c| c.email() == "ada@example.com")
        .unwrap();
    assert_eq!(ada.properties["firstname"], "Overwritten");
    assert_eq!(crm.contacts().len(), 2);
}

#[test]
fn batch_read_by_email_finds_active_or_archived_contacts() {
    let (crm, _) = crm();
    let read = |archived: bool| {
        let path = format!("/crm/v3/objects/contacts/batch/read?archived={archived}");
        body(&post(
            &crm,
            &path,
            json!({ "idProperty": "email", "inputs": [{ "id": "ada@example.com" }, { "id": "gone@example.com" }], "properties": ["hs_additional_emails"] }),
        ))
    };
    let active = read(false);
    assert_eq!(
        active["results"][0]["properties"]["hs_additional_emails"],
        "ada@work.example"
    );
    assert_eq!(
        active["errors"][0]["context"]["ids"],
        json!(["gone@example.com"])
    );
    let archived = read(true);
    assert_eq!(
        archived["results"][0]["properties"]["email"],
        "gone@example.com"
    );
    assert_eq!(archived["results"][0]["archived"], true);
}

#[test]
fn delete_archives_and_a_restore_brings_back_with_webhooks() {
    let (crm, _) = crm();
    let ada = crm.contacts()[0].id;
    let deleted = crm.handle(&request(
        "DELETE",
        &format!("https://api.hubapi.com/crm/v3/objects/contacts/{ada}"),
        Some(AUTH),
        None,
    ));
    assert_eq!(deleted.status, 204);
    assert!(crm.contacts()[0].archived);
    let restored = crm
        .change_contact("ada@example.com", ContactChange::Restore)
        .unwrap();
    assert_eq!(restored[0]["subscriptionType"], "contact.restore");
    assert_eq!(restored[0]["objectId"], ada);
    assert!(!crm.contacts()[0].archived);
    let privacy = crm
        .change_contact("ada@example.com", ContactChange::PrivacyDeletion)
        .unwrap();
    assert_eq!(privacy[0]["subscriptionType"], "contact.privacyDeletion");
    assert!(
        crm.contacts().iter().all(|c| c.id != ada),
        "a privacy deletion removes the record"
    );
}

#[test]
fn webhook_signatures_are_hubspot_v3() {
    use base64::Engine as _;
    let signature = signature_v3(
        "secret",
        "POST",
        "https://host.example/webhooks/crm",
        b"[]",
        1_700_000_000_000,
    );
    let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(b"secret").unwrap();
    hmac::Mac::update(
        &mut mac,
        b"POSThttps://host.example/webhooks/crm[]1700000000000",
    );
    assert_eq!(
        signature,
        base64::engine::general_purpose::STANDARD.encode(hmac::Mac::finalize(mac).into_bytes())
    );
}

#[test]
fn search_filters_sorts_pages_and_caps() {
    let (crm, clock) = crm();
    let inputs: Vec<Value> = (0..30)
        .map(|i| json!({ "id": format!("p{i:02}@example.com"), "idProperty": "email", "properties": { "firstname": "P", "zoom_webinar_total_attended": i.to_string() } }))
        .collect();
    assert_eq!(
        post(
            &crm,
            "/crm/v3/objects/contacts/batch/upsert",
            json!({ "inputs": inputs })
        )
        .status,
        200
    );
    let search = |b: Value| body(&post(&crm, "/crm/v3/objects/contacts/search", b));
    let attended_25 = json!({
        "filterGroups": [{ "filters": [{ "propertyName": "zoom_webinar_total_attended", "operator": "GTE", "value": "25" }] }],
    });
    // Search lags writes (API-NOTES): the new contacts are not found yet.
    assert_eq!(search(attended_25.clone())["total"], 0);
    clock.advance(Duration::from_millis(9_999));
    assert_eq!(search(attended_25.clone())["total"], 0);
    clock.advance(Duration::from_millis(1));
    assert_eq!(search(attended_25)["total"], 5);
    let found = search(json!({
        "filterGroups": [{ "filters": [{ "propertyName": "zoom_webinar_total_attended", "operator": "GTE", "value": "25" }] }],
        "sorts": [{ "propertyName": "zoom_webinar_total_attended", "direction": "DESCENDING" }],
        "properties": ["zoom_webinar_total_attended"], "limit": 2,
    }));
    assert_eq!(found["total"], 5);
    assert_eq!(
        found["results"][0]["properties"]["zoom_webinar_total_attended"],
        "29"
    );
    assert_eq!(found["paging"]["next"]["after"], "2");
    let token = search(
        json!({ "filterGroups": [{ "filters": [{ "propertyName": "hs_additional_emails", "operator": "CONTAINS_TOKEN", "value": "ada@work.example" }] }] }),
    );
    assert_eq!(
        token["results"][0]["properties"]["email"],
        "ada@example.com"
    );
    let either = search(json!({ "filterGroups": [
        { "filters": [{ "propertyName": "email", "operator": "EQ", "value": "p01@example.com" }] },
        { "filters": [{ "propertyName": "email", "operator": "IN", "values": ["p02@example.com", "p03@example.com"] }] },
    ]}));
    assert_eq!(either["total"], 3, "filter groups are ORed");
    let too_big = post(
        &crm,
        "/crm/v3/objects/contacts/search",
        json!({ "limit": 201 }),
    );
    assert_eq!(too_big.status, 400);
    let past_cap = post(
        &crm,
        "/crm/v3/objects/contacts/search",
        json!({ "limit": 200, "after": "9900" }),
    );
    assert!(
        body(&past_cap)["message"]
            .as_str()
            .unwrap()
            .contains("10000")
    );
}

#[test]
fn owners_are_paginated() {
    let (crm, _) = crm();
    let first = body(&get(&crm, "/crm/v3/owners?limit=2"));
    assert_eq!(first["results"].as_array().unwrap().len(), 2);
    let after = first["paging"]["next"]["after"].as_str().unwrap();
    let second = body(&get(&crm, &format!("/crm/v3/owners?limit=2&after={after}")));
    assert_eq!(second["results"][0]["email"], "rep2@acme.example");
    assert!(second.get("paging").is_none());
}

fn event() -> Value {
    json!({
        "externalEventId": "81234567890", "externalAccountId": "zoom-acct", "eventName": "Pipeline reviews",
        "eventOrganizer": "Hannah Host", "eventUrl": "https://us06web.zoom.us/w/81234567890",
        "startDateTime": "2026-11-20T15:00:00Z", "endDateTime": "2026-11-20T16:00:00Z",
    })
}

#[test]
fn marketing_events_record_attendance_idempotently_and_create_contacts() {
    let (crm, _) = crm();
    assert_eq!(
        post(&crm, "/marketing/v3/marketing-events/events", event()).status,
        200
    );
    assert_eq!(
        post(&crm, "/marketing/v3/marketing-events/events", event()).status,
        409
    );
    let upserted = body(&post(
        &crm,
        "/marketing/v3/marketing-events/events/upsert",
        json!({ "inputs": [event()] }),
    ));
    assert_eq!(upserted["results"][0]["eventName"], "Pipeline reviews");

    let attend = json!({ "inputs": [
        { "email": "ada@example.com", "interactionDateTime": "1795186800000", "properties": { "joinedAt": "1795186800000", "leftAt": "1795188600000" } },
        { "email": "walkin@example.com", "interactionDateTime": "1795186900000" },
    ]});
    let path = "/marketing/v3/marketing-events/attendance/81234567890/attend/email-create?externalAccountId=zoom-acct";
    assert_eq!(post(&crm, path, attend.clone()).status, 200);
    assert_eq!(post(&crm, path, attend).status, 200, "a replay");
    let breakdown = body(&get(
        &crm,
        "/marketing/v3/marketing-events/participations/zoom-acct/81234567890/breakdown",
    ));
    assert_eq!(
        breakdown["total"], 2,
        "idempotent on contact + interaction time"
    );
    assert_eq!(
        breakdown["results"][0]["properties"]["attendanceState"],
        "ATTENDED"
    );
    assert!(
        crm.contacts()
            .iter()
            .any(|c| c.email() == "walkin@example.com"),
        "email-create makes the contact"
    );

    let unknown = post(
        &crm,
        "/marketing/v3/marketing-events/attendance/1/register/email-create?externalAccountId=zoom-acct",
        json!({ "inputs": [] }),
    );
    assert_eq!(unknown.status, 404);
    let completed = body(&post(
        &crm,
        "/marketing/v3/marketing-events/events/81234567890/complete?externalAccountId=zoom-acct",
        json!({}),
    ));
    assert_eq!(completed["eventCompleted"], true);
    let cancelled = crm.handle(&request(
        "PATCH",
        "https://api.hubapi.com/marketing/v3/marketing-events/events/81234567890?externalAccountId=zoom-acct",
        Some(AUTH),
        Some(json!({ "eventCancelled": true })),
    ));
    assert_eq!(body(&cancelled)["eventCancelled"], true);
}

#[test]
fn timeline_events_need_a_template_a_contact_and_are_idempotent_on_id() {
    let (crm, _) = crm();
    let template = post(
        &crm,
        &format!("/integrators/timeline/v3/1000001/event-templates?hapikey={DEVELOPER_API_KEY}"),
        json!({
            "name": "Registered", "objectType": "contacts", "headerTemplate": "h", "detailTemplate": "d",
            "tokens": [{ "name": "webinar_id", "label": "Webinar", "type": "string" }],
        }),
    );
    let template_id = body(&template)["id"].as_str().unwrap().to_owned();
    let input = |id: &str, email: &str, token: &str| json!({ "eventTemplateId": template_id, "email": email, "id": id, "tokens": { token: "81234567890" } });
    let answer = post(
        &crm,
        "/crm/v3/timeline/events/batch/create",
        json!({ "inputs": [input("e1", "ada@example.com", "webinar_id")] }),
    );
    assert_eq!(answer.status, 201);
    let again = post(
        &crm,
        "/crm/v3/timeline/events/batch/create",
        json!({ "inputs": [
            input("e1", "ada@example.com", "webinar_id"),
            input("e2", "nobody@example.com", "webinar_id"),
            input("e3", "ada@example.com", "undeclared"),
        ]}),
    );
    assert_eq!(again.status, 207);
    let mut categories: Vec<_> = body(&again)["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["category"].as_str().unwrap().to_owned())
        .collect();
    categories.sort();
    assert_eq!(
        categories,
        ["CONFLICT", "OBJECT_NOT_FOUND", "VALIDATION_ERROR"]
    );
    assert_eq!(crm.dump()["timeline_events"].as_array().unwrap().len(), 1);
}

#[test]
fn calls_need_https_recordings_and_existing_contacts() {
    let (crm, _) = crm();
    let ada = crm.contacts()[0].id.to_string();
    let call = |url: &str, contact: &str| {
        json!({
            "properties": { "hs_timestamp": "2026-11-20T15:00:00Z", "hs_call_title": "Webinar recording", "hs_call_recording_url": url, "hs_call_body": "Hannah Host: Welcome!" },
            "associations": [{ "to": { "id": contact }, "types": [{ "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 194 }] }],
        })
    };
    let created = post(
        &crm,
        "/crm/v3/objects/calls",
        call("https://zoom.us/rec/share/1", &ada),
    );
    assert_eq!(created.status, 201);
    assert_eq!(body(&created)["associations"]["contacts"][0], ada);
    assert_eq!(
        post(&crm, "/crm/v3/objects/calls", call("http://insecure", &ada)).status,
        400
    );
    assert_eq!(
        post(
            &crm,
            "/crm/v3/objects/calls",
            call("https://zoom.us/rec/share/1", "999999")
        )
        .status,
        400
    );
}

#[test]
fn calls_hold_only_defined_custom_properties_and_are_found_by_them() {
    let (crm, clock) = crm();
    let ada = crm.contacts()[0].id.to_string();
    let call = |key: &str| {
        json!({
            "properties": { "hs_timestamp": "2026-11-20T15:00:00Z", "zoom_webinar_call_key": key },
            "associations": [{ "to": { "id": ada }, "types": [{ "associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 194 }] }],
        })
    };
    // As in the CRM: a property the account does not define is refused.
    let refused = post(&crm, "/crm/v3/objects/calls", call("w:1"));
    assert_eq!(refused.status, 400);
    assert!(
        body(&refused)["message"]
            .as_str()
            .unwrap()
            .contains("Property \"zoom_webinar_call_key\" does not exist"),
        "{}",
        body(&refused)
    );
    let group = json!({ "name": "zoom_webinars", "label": "Zoom webinars" });
    assert_eq!(
        post(&crm, "/crm/v3/properties/calls/groups", group.clone()).status,
        201
    );
    assert_eq!(
        post(&crm, "/crm/v3/properties/calls/groups", group).status,
        409
    );
    let property = json!({ "name": "zoom_webinar_call_key", "label": "Key", "type": "string", "fieldType": "text", "groupName": "zoom_webinars" });
    assert_eq!(post(&crm, "/crm/v3/properties/calls", property).status, 201);
    // The calls' properties are their own: contacts do not have it.
    assert!(
        body(&get(&crm, "/crm/v3/properties/contacts"))["results"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let mut ids = Vec::new();
    for key in ["w:1", "w:2", "w:3"] {
        let made = post(&crm, "/crm/v3/objects/calls", call(key));
        assert_eq!(made.status, 201);
        ids.push(body(&made)["id"].as_str().unwrap().to_owned());
    }
    // Read from the records, the calls are there at once: through the
    // contact's associations, then a batch read of their properties.
    let associated = body(&post(
        &crm,
        "/crm/v4/associations/contacts/calls/batch/read",
        json!({ "inputs": [{ "id": ada }, { "id": "999" }] }),
    ));
    assert_eq!(associated["results"][0]["from"]["id"], ada.as_str());
    let to: Vec<String> = associated["results"][0]["to"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["toObjectId"].to_string())
        .collect();
    assert_eq!(to, ids);
    assert_eq!(associated["errors"][0]["context"]["fromObjectId"][0], "999");
    let inputs: Vec<Value> = ids.iter().map(|id| json!({ "id": id })).collect();
    let read = body(&post(
        &crm,
        "/crm/v3/objects/calls/batch/read",
        json!({ "inputs": inputs, "properties": ["zoom_webinar_call_key"], "propertiesWithHistory": [] }),
    ));
    let mut keys: Vec<&str> = read["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["properties"]["zoom_webinar_call_key"].as_str().unwrap())
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["w:1", "w:2", "w:3"]);
    // Search sees them only once the index caught up (API-NOTES, "Search
    // lags writes"): never the way to confirm a write just made.
    let keys_in = |keys: &[&str]| {
        json!({
            "filterGroups": [{ "filters": [{ "propertyName": "zoom_webinar_call_key", "operator": "IN", "values": keys }] }],
        })
    };
    let early = body(&post(
        &crm,
        "/crm/v3/objects/calls/search",
        keys_in(&["w:1"]),
    ));
    assert_eq!(early["total"], 0);
    clock.advance(Duration::from_secs(10));
    let search = |keys: &[&str], limit: u64, after: Option<&str>| {
        let mut query = json!({
            "filterGroups": [{ "filters": [{ "propertyName": "zoom_webinar_call_key", "operator": "IN", "values": keys }] }],
            "properties": ["zoom_webinar_call_key"],
            "limit": limit,
        });
        if let Some(after) = after {
            query["after"] = json!(after);
        }
        body(&post(&crm, "/crm/v3/objects/calls/search", query))
    };
    let page = search(&["w:1", "w:3", "w:9"], 1, None);
    assert_eq!(page["total"], 2);
    assert_eq!(
        page["results"][0]["properties"]["zoom_webinar_call_key"],
        "w:1"
    );
    let next = page["paging"]["next"]["after"].as_str().unwrap().to_owned();
    let page = search(&["w:1", "w:3", "w:9"], 1, Some(&next));
    assert_eq!(
        page["results"][0]["properties"]["zoom_webinar_call_key"],
        "w:3"
    );
    assert!(page.get("paging").is_none());
    assert_eq!(search(&["w:1"], 201, None)["category"], "VALIDATION_ERROR");
}

#[test]
fn requests_past_the_ten_second_limit_get_429_with_the_policy() {
    let clock = Clock::manual(0);
    let crm = FakeCrm::new("t", clock.clone()).with_rate_limits(CrmRateLimits::STARTER);
    for _ in 0..100 {
        assert_eq!(get(&crm, "/crm/v3/owners").status, 200);
    }
    let limited = get(&crm, "/crm/v3/owners");
    assert_eq!(limited.status, 429);
    assert_eq!(body(&limited)["policyName"], "TEN_SECONDLY_ROLLING");
    clock.advance(Duration::from_secs(10));
    assert_eq!(get(&crm, "/crm/v3/owners").status, 200);
    for _ in 0..5 {
        assert_eq!(
            post(&crm, "/crm/v3/objects/contacts/search", json!({})).status,
            200
        );
    }
    let searching = post(&crm, "/crm/v3/objects/contacts/search", json!({}));
    assert_eq!(
        (searching.status, body(&searching)["policyName"].as_str()),
        (429, Some("SECONDLY"))
    );
}

#[test]
fn injected_faults_are_bad_gateways_or_timeouts() {
    let crm = FakeCrm::new("t", Clock::manual(0)).with_faults(FaultPlan {
        error_rate: 1.0,
        ..FaultPlan::default()
    });
    let answer = get(&crm, "/crm/v3/owners");
    assert_eq!(
        (answer.status, body(&answer)["status"].as_str()),
        (502, Some("error"))
    );
    let crm = FakeCrm::new("t", Clock::manual(0)).with_faults(FaultPlan {
        timeout_rate: 1.0,
        ..FaultPlan::default()
    });
    assert!(get(&crm, "/crm/v3/owners").timed_out);
}

#[test]
fn a_contact_is_read_by_id_or_email_and_secondary_emails_stay_unique() {
    let (crm, _) = crm();
    let ada = crm.contacts()[0].id;
    let by_id = body(&get(
        &crm,
        &format!("/crm/v3/objects/contacts/{ada}?properties=hs_additional_emails"),
    ));
    assert_eq!(
        by_id["properties"]["hs_additional_emails"],
        "ada@work.example"
    );
    let by_email = body(&get(
        &crm,
        "/crm/v3/objects/contacts/ada@example.com?idProperty=email",
    ));
    assert_eq!(by_email["id"], ada.to_string());
    assert_eq!(get(&crm, "/crm/v3/objects/contacts/999999").status, 404);

    post(
        &crm,
        "/crm/v3/objects/contacts/batch/upsert",
        json!({ "inputs": [upsert_input("bob@example.com", "Bob")] }),
    );
    let bob = crm
        .contacts()
        .iter()
        .find(|c| c.email() == "bob@example.com")
        .unwrap()
        .id
        .to_string();
    let taken = post(
        &crm,
        "/crm/v3/objects/contacts/batch/update",
        json!({ "inputs": [{ "id": bob, "properties": { "hs_additional_emails": "ada@work.example" } }] }),
    );
    assert_eq!(
        (taken.status, body(&taken)["errors"][0]["category"].as_str()),
        (207, Some("CONFLICT"))
    );
    let free = post(
        &crm,
        "/crm/v3/objects/contacts/batch/update",
        json!({ "inputs": [{ "id": bob, "properties": { "hs_additional_emails": "bob@home.example" } }] }),
    );
    assert_eq!(free.status, 200);
}

/// HubSpot does not promise that a batch's results follow its inputs
/// (hubspot-api-nodejs issue 190): the fake answers in another order,
/// seeded (the same answer every run), and echoes each input's
/// `objectWriteTraceId` so a client can match results by identity.
#[test]
fn batch_answers_come_in_another_order_than_the_inputs_seeded_and_echo_trace_ids() {
    let emails: Vec<String> = (0..30).map(|i| format!("p{i:02}@example.com")).collect();
    let inputs: Vec<Value> = emails
        .iter()
        .map(|e| json!({ "id": e, "idProperty": "email", "objectWriteTraceId": e, "properties": {} }))
        .collect();
    let order = |crm: &FakeCrm| -> Vec<String> {
        let answer = body(&post(
            crm,
            "/crm/v3/objects/contacts/batch/upsert",
            json!({ "inputs": inputs }),
        ));
        answer["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                assert_eq!(r["objectWriteTraceId"], r["properties"]["email"], "{r}");
                r["objectWriteTraceId"].as_str().unwrap().to_owned()
            })
            .collect()
    };
    let (first, _) = crm();
    let shuffled = order(&first);
    assert_ne!(shuffled, emails, "not in input order");
    let mut sorted = shuffled.clone();
    sorted.sort();
    assert_eq!(sorted, emails, "every input answered once");
    let (again, _) = crm();
    assert_eq!(order(&again), shuffled, "seeded: the same order every run");

    let (in_order, _) = crm();
    in_order.set_batch_order(BatchOrder::AsSent);
    assert_eq!(order(&in_order), emails, "the switch for comparisons");

    // Every batch endpoint is shuffled, errors included.
    let read = body(&post(
        &first,
        "/crm/v3/objects/contacts/batch/read",
        json!({ "idProperty": "email", "inputs": emails.iter().map(|e| json!({ "id": e })).collect::<Vec<_>>() }),
    ));
    let read: Vec<&str> = read["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["properties"]["email"].as_str().unwrap())
        .collect();
    assert_ne!(read, emails);
}

/// The answers carry the fields HubSpot's models require (checked with
/// HubSpot's Python client, `hubspot-api-client`, validation on: see
/// `tests/contract/hubspot_client.py`).
#[test]
fn answers_carry_the_fields_hubspots_models_require() {
    let (crm, _) = crm();
    // PublicOwner: createdAt, updatedAt, type, archived, id.
    let owners = body(&get(&crm, "/crm/v3/owners?limit=500"));
    for field in ["createdAt", "updatedAt", "type", "archived", "id"] {
        assert!(!owners["results"][0][field].is_null(), "owner {field}");
    }
    // Property: options, description.
    post(
        &crm,
        "/crm/v3/properties/contacts/groups",
        json!({ "name": "g", "label": "G" }),
    );
    let property = body(&post(
        &crm,
        "/crm/v3/properties/contacts",
        json!({ "name": "p", "label": "P", "type": "number", "fieldType": "number", "groupName": "g" }),
    ));
    assert_eq!(property["options"], json!([]));
    assert_eq!(property["description"], "");

    // The marketing-events batch upsert: status, startedAt, completedAt;
    // each result's id, createdAt, updatedAt.
    let upserted = body(&post(
        &crm,
        "/marketing/v3/marketing-events/events/upsert",
        json!({ "inputs": [event()] }),
    ));
    for field in ["status", "startedAt", "completedAt"] {
        assert!(upserted[field].is_string(), "upsert {field}: {upserted}");
    }
    for field in [
        "id",
        "createdAt",
        "updatedAt",
        "eventName",
        "eventOrganizer",
    ] {
        assert!(upserted["results"][0][field].is_string(), "event {field}");
    }
    // Attendance: SubscriberEmailResponse is { vid (a number), email }.
    let attended = body(&post(
        &crm,
        "/marketing/v3/marketing-events/attendance/81234567890/attend/email-create?externalAccountId=zoom-acct",
        json!({ "inputs": [
            { "email": "ada@example.com", "interactionDateTime": 1795186800000_i64 },
            { "email": "not-an-email", "interactionDateTime": 1795186800000_i64 },
        ]}),
    ));
    assert!(attended["results"][0]["vid"].is_u64(), "{attended}");
    assert_eq!(attended["results"][0]["email"], "ada@example.com");
    // StandardError: status, category, message, context, links, errors.
    let error = &attended["errors"][0];
    for field in ["status", "category", "message"] {
        assert!(error[field].is_string(), "error {field}: {error}");
    }
    assert_eq!(error["context"]["emails"], json!(["not-an-email"]));
    assert!(
        error["links"].is_object() && error["errors"].is_array(),
        "{error}"
    );

    // Calls: SimplePublicObject's updatedAt.
    let ada = crm
        .contacts()
        .into_iter()
        .find(|c| c.email() == "ada@example.com")
        .unwrap();
    let made = body(&post(
        &crm,
        "/crm/v3/objects/calls/batch/create",
        json!({ "inputs": [{ "properties": { "hs_timestamp": "2026-11-20T15:00:00Z" }, "objectWriteTraceId": "t1",
            "associations": [{ "to": { "id": ada.id.to_string() }, "types": [] }] }] }),
    ));
    assert!(made["results"][0]["updatedAt"].is_string(), "{made}");
    assert_eq!(made["results"][0]["objectWriteTraceId"], "t1");
    let id = made["results"][0]["id"].clone();
    let found = body(&post(
        &crm,
        "/crm/v3/objects/calls/batch/read",
        json!({ "inputs": [{ "id": id }], "properties": [], "propertiesWithHistory": [] }),
    ));
    let call = &found["results"][0];
    for field in ["id", "createdAt", "updatedAt"] {
        assert!(call[field].is_string(), "call {field}: {found}");
    }
    for field in ["status", "startedAt", "completedAt"] {
        assert!(found[field].is_string(), "batch {field}: {found}");
    }

    // `?archived=True`, as the Python client writes a bool.
    let read = |archived: &str| {
        body(&post(
            &crm,
            &format!("/crm/v3/objects/contacts/batch/read?archived={archived}"),
            json!({ "idProperty": "email", "inputs": [{ "id": "gone@example.com" }] }),
        ))["results"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!((read("true"), read("True"), read("false")), (1, 1, 0));
}
