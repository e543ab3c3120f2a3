//! The fake CRM's marketing events with their attendance, and timeline
//! events.

use super::*;

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
