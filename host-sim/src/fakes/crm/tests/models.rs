//! The fake CRM against HubSpot's models: properties refused as HubSpot
//! refuses them, the fields its models require, and query flags as
//! HubSpot's clients write them.

use super::*;

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
}

/// Calls' answers carry the fields HubSpot's models require, as
/// [`answers_carry_the_fields_hubspots_models_require`] checks the others'.
#[test]
fn call_answers_carry_the_fields_hubspots_models_require() {
    let (crm, _) = crm();
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
}

/// A boolean query parameter is read as HubSpot's Python client writes
/// it: `?archived=True`.
#[test]
fn a_query_flag_is_true_as_the_python_client_writes_a_bool() {
    let (crm, _) = crm();
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
