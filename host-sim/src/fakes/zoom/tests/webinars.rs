//! The fake Zoom's webinars and their registrants: settings, pages,
//! registration rules, cancellation, past instances.

use super::*;

#[test]
fn a_webinar_has_its_host_settings_and_join_url() {
    let (zoom, _) = zoom();
    let auth = token(&zoom);
    let webinar = body(&get(&zoom, &auth, "/webinars/81234567890"));
    assert_eq!(webinar["host_email"], "host@acme.example");
    assert_eq!(webinar["host_id"], zoom.account().users[0].id);
    assert_eq!(webinar["settings"]["approval_type"], 0);
    assert_eq!(webinar["type"], 5);
    assert_eq!(webinar["join_url"], "https://us06web.zoom.us/w/81234567890");
    let missing = get(&zoom, &auth, "/webinars/1");
    assert_eq!(
        (missing.status, body(&missing)["code"].as_u64()),
        (404, Some(3001))
    );
    let listed = body(&get(
        &zoom,
        &auth,
        "/users/host@acme.example/webinars?page_size=300",
    ));
    // R1: the webinar that ran has expired; only the upcoming one is listed.
    assert_eq!(listed["total_records"], 1);
    assert_eq!(listed["webinars"][0]["id"], 89999999999u64);
}

#[test]
fn registrants_page_by_300_with_tokens_that_expire() {
    let (zoom, clock) = zoom();
    let auth = token(&zoom);
    let first = body(&get(
        &zoom,
        &auth,
        "/webinars/81234567890/registrants?page_size=1000",
    ));
    assert_eq!(first["page_size"], 300, "page_size is capped at 300");
    assert_eq!(first["total_records"], 585, "approved only by default");
    assert_eq!(first["registrants"].as_array().unwrap().len(), 300);
    let next = first["next_page_token"].as_str().unwrap().to_owned();
    let second = body(&get(
        &zoom,
        &auth,
        &format!("/webinars/81234567890/registrants?page_size=300&next_page_token={next}"),
    ));
    assert_eq!(second["registrants"].as_array().unwrap().len(), 285);
    assert_eq!(second["next_page_token"], "");
    let pending = body(&get(
        &zoom,
        &auth,
        "/webinars/81234567890/registrants?status=pending&page_size=300",
    ));
    assert_eq!(pending["total_records"], 65);

    clock.advance(Duration::from_secs(15 * 60));
    let auth = token(&zoom);
    let expired = get(
        &zoom,
        &auth,
        &format!("/webinars/81234567890/registrants?page_size=300&next_page_token={next}"),
    );
    assert_eq!(
        (expired.status, body(&expired)["code"].as_u64()),
        (400, Some(300))
    );
}

/// `person` registered for the webinar `id`.
fn register(zoom: &FakeZoom, auth: &str, id: u64, person: serde_json::Value) -> FakeResponse {
    post(zoom, auth, &format!("/webinars/{id}/registrants"), person)
}

/// The answer's status and Zoom's error `code`.
fn status_and_code(answer: &FakeResponse) -> (u16, Option<u64>) {
    (answer.status, body(answer)["code"].as_u64())
}

/// The webinar 89999999999 asks required questions: a registration
/// without them is refused naming each; with approval needed (type 2)
/// registration is closed.
fn assert_required_questions_and_closed_registration(
    zoom: &FakeZoom,
    auth: &str,
    person: &serde_json::Value,
) {
    let questions = register(zoom, auth, 89999999999, person.clone());
    assert_eq!(questions.status, 400);
    let fields: Vec<_> = body(&questions)["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["phone", "Company size?"]);
    let listed = body(&get(
        zoom,
        auth,
        "/webinars/89999999999/registrants/questions",
    ));
    assert_eq!(listed["custom_questions"][0]["required"], true);

    zoom.update(|a| a.webinar_mut(89999999999).unwrap().approval_type = 2);
    let closed = register(zoom, auth, 89999999999, person.clone());
    assert_eq!(status_and_code(&closed), (400, Some(3000)));
}

/// Three registrations a day for the same person and webinar, one of
/// them made already; a new day takes three more.
fn assert_three_registrations_a_day(
    zoom: &FakeZoom,
    clock: &Clock,
    auth: &str,
    person: serde_json::Value,
) {
    for _ in 0..2 {
        assert_eq!(
            register(zoom, auth, 81234567890, person.clone()).status,
            201
        );
    }
    assert_eq!(
        register(zoom, auth, 81234567890, person.clone()).status,
        429
    );
    clock.advance(Duration::from_secs(86_400));
    let auth = token(zoom);
    assert_eq!(
        register(zoom, &auth, 81234567890, person).status,
        201,
        "a new day"
    );
}

#[test]
fn adding_a_registrant_follows_zoom_rules() {
    let (zoom, clock) = zoom();
    let auth = token(&zoom);
    // Registration closes when a webinar has run.
    let person = json!({ "email": "late@example.com", "first_name": "Late" });
    let ended = register(&zoom, &auth, 81234567890, person);
    assert_eq!(status_and_code(&ended), (400, Some(3000)));
    zoom.update(|a| a.webinar_mut(81234567890).unwrap().ran = None);
    let person = json!({ "email": "new@example.com", "first_name": "New", "last_name": "Person" });
    let added = register(&zoom, &auth, 81234567890, person.clone());
    assert_eq!(added.status, 201);
    let added = body(&added);
    assert!(
        added["join_url"]
            .as_str()
            .unwrap()
            .contains(added["registrant_id"].as_str().unwrap())
    );

    // The host and the account's users are not registered (3027).
    let host = json!({ "email": "HOST@acme.example", "first_name": "H" });
    let host = register(&zoom, &auth, 81234567890, host);
    assert_eq!(status_and_code(&host), (400, Some(3027)));
    let user = json!({ "email": "colleague@acme.example", "first_name": "C" });
    let user = register(&zoom, &auth, 81234567890, user);
    assert_eq!(body(&user)["code"], 3027);
    let unknown = register(&zoom, &auth, 1, person.clone());
    assert_eq!(status_and_code(&unknown), (404, Some(3001)));

    assert_required_questions_and_closed_registration(&zoom, &auth, &person);
    assert_three_registrations_a_day(&zoom, &clock, &auth, person);
}

#[test]
fn registrants_can_be_cancelled() {
    let (zoom, _) = zoom();
    let auth = token(&zoom);
    let cancel = zoom.handle(&request(
        "PUT",
        "https://api.zoom.us/v2/webinars/81234567890/registrants/status",
        Some(&auth),
        Some(json!({ "action": "cancel", "registrants": [{ "email": "person1@example.com" }] })),
    ));
    assert_eq!(cancel.status, 204);
    assert_eq!(
        zoom.account().webinars[0]
            .registrant_by_email("person1@example.com")
            .unwrap()
            .status,
        "cancelled"
    );
}

#[test]
fn past_instances_exist_only_for_webinars_that_ran() {
    let (zoom, _) = zoom();
    let auth = token(&zoom);
    let ran = body(&get(&zoom, &auth, "/past_webinars/81234567890/instances"));
    assert_eq!(ran["webinars"][0]["start_time"], START);
    let upcoming = body(&get(&zoom, &auth, "/past_webinars/89999999999/instances"));
    assert_eq!(upcoming["webinars"], json!([]));
}
