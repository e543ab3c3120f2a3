//! The fake Zoom's behaviours, errors included.

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

#[test]
fn oauth_checks_basic_auth_grant_and_account() {
    let (zoom, _) = zoom();
    let wrong = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("id:nope")
    );
    let answer = zoom.handle(&request(
        "POST",
        "https://zoom.us/oauth/token?grant_type=account_credentials&account_id=acct",
        Some(&wrong),
        None,
    ));
    assert_eq!(
        (answer.status, body(&answer)["error"].as_str()),
        (400, Some("invalid_client"))
    );
    let right = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("id:secret")
    );
    let answer = zoom.handle(&request(
        "POST",
        "https://zoom.us/oauth/token?grant_type=account_credentials&account_id=other",
        Some(&right),
        None,
    ));
    assert_eq!(answer.status, 400);
    let answer = zoom.handle(&request(
        "POST",
        "https://zoom.us/oauth/token?grant_type=account_credentials&account_id=acct",
        Some(&right),
        None,
    ));
    assert_eq!(
        (
            body(&answer)["token_type"].as_str(),
            body(&answer)["expires_in"].as_u64()
        ),
        (Some("bearer"), Some(3600))
    );
}

#[test]
fn tokens_expire_and_bad_tokens_get_code_124() {
    let (zoom, clock) = zoom();
    let auth = token(&zoom);
    assert_eq!(get(&zoom, &auth, "/users").status, 200);
    for bad in ["Bearer nope", ""] {
        let answer = get(&zoom, bad, "/users");
        assert_eq!(
            (answer.status, body(&answer)["code"].as_u64()),
            (401, Some(124))
        );
    }
    clock.advance(Duration::from_secs(3601));
    assert_eq!(
        get(&zoom, &auth, "/users").status,
        401,
        "expired after an hour"
    );
}

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

#[test]
fn adding_a_registrant_follows_zoom_rules() {
    let (zoom, clock) = zoom();
    let auth = token(&zoom);
    // Registration closes when a webinar has run.
    let person = json!({ "email": "late@example.com", "first_name": "Late" });
    let ended = post(&zoom, &auth, "/webinars/81234567890/registrants", person);
    assert_eq!(
        (ended.status, body(&ended)["code"].as_u64()),
        (400, Some(3000))
    );
    zoom.update(|a| a.webinar_mut(81234567890).unwrap().ran = None);
    let person = json!({ "email": "new@example.com", "first_name": "New", "last_name": "Person" });
    let added = post(
        &zoom,
        &auth,
        "/webinars/81234567890/registrants",
        person.clone(),
    );
    assert_eq!(added.status, 201);
    let added = body(&added);
    assert!(
        added["join_url"]
            .as_str()
            .unwrap()
            .contains(added["registrant_id"].as_str().unwrap())
    );

    let host = post(
        &zoom,
        &auth,
        "/webinars/81234567890/registrants",
        json!({ "email": "HOST@acme.example", "first_name": "H" }),
    );
    assert_eq!(
        (host.status, body(&host)["code"].as_u64()),
        (400, Some(3027))
    );
    let user = post(
        &zoom,
        &auth,
        "/webinars/81234567890/registrants",
        json!({ "email": "colleague@acme.example", "first_name": "C" }),
    );
    assert_eq!(body(&user)["code"], 3027);
    let unknown = post(&zoom, &auth, "/webinars/1/registrants", person.clone());
    assert_eq!(
        (unknown.status, body(&unknown)["code"].as_u64()),
        (404, Some(3001))
    );
    let questions = post(
        &zoom,
        &auth,
        "/webinars/89999999999/registrants",
        person.clone(),
    );
    assert_eq!(questions.status, 400);
    let fields: Vec<_> = body(&questions)["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(fields, ["phone", "Company size?"]);
    let listed = body(&get(
        &zoom,
        &auth,
        "/webinars/89999999999/registrants/questions",
    ));
    assert_eq!(listed["custom_questions"][0]["required"], true);

    zoom.update(|a| a.webinar_mut(89999999999).unwrap().approval_type = 2);
    let closed = post(
        &zoom,
        &auth,
        "/webinars/89999999999/registrants",
        person.clone(),
    );
    assert_eq!(
        (closed.status, body(&closed)["code"].as_u64()),
        (400, Some(3000))
    );

    // Three a day for the same person and webinar: the first call above was one.
    for _ in 0..2 {
        assert_eq!(
            post(
                &zoom,
                &auth,
                "/webinars/81234567890/registrants",
                person.clone()
            )
            .status,
            201
        );
    }
    assert_eq!(
        post(
            &zoom,
            &auth,
            "/webinars/81234567890/registrants",
            person.clone()
        )
        .status,
        429
    );
    clock.advance(Duration::from_secs(86_400));
    let auth = token(&zoom);
    assert_eq!(
        post(&zoom, &auth, "/webinars/81234567890/registrants", person).status,
        201,
        "a new day"
    );
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
fn the_participants_report_has_a_row_per_segment_and_hides_guests_emails() {
    let (zoom, _) = zoom();
    let auth = token(&zoom);
    let report = body(&get(
        &zoom,
        &auth,
        "/report/webinars/81234567890/participants?page_size=300&include_fields=registrant_id",
    ));
    let rows = report["participants"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["user_email"], "person0@example.com");
    assert_eq!(
        rows[0]["registrant_id"],
        zoom.account().webinars[0].registrants[0].id
    );
    assert_eq!(
        (rows[1]["join_time"].as_str(), rows[1]["duration"].as_i64()),
        (Some("2026-11-20T15:40:00Z"), Some(1200))
    );
    assert_eq!(rows[2]["user_email"], "", "a guest who did not register");
    assert_eq!(rows[2]["registrant_id"], "");
}

/// R8: Zoom adds `registrant_id` to the report's rows only when asked.
#[test]
fn r8_the_participants_report_has_registrant_ids_only_with_include_fields() {
    let (zoom, _) = zoom();
    let auth = token(&zoom);
    let report = body(&get(
        &zoom,
        &auth,
        "/report/webinars/81234567890/participants?page_size=300",
    ));
    let rows = report["participants"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter().all(|r| r.get("registrant_id").is_none()),
        "{rows:?}"
    );
    assert_eq!(rows[0]["user_email"], "person0@example.com");
}

/// R11: a download answers 302 to a signed URL on the storage host, which
/// serves the file to the URL alone: no token, not after it expires.
#[test]
fn r11_a_download_redirects_to_a_signed_storage_url_that_takes_no_token() {
    let (zoom, clock) = zoom();
    let auth = token(&zoom);
    let recording = body(&get(&zoom, &auth, "/meetings/81234567890/recordings"));
    let url = recording["recording_files"][1]["download_url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        zoom.handle(&request("GET", &url, None, None)).status,
        401,
        "the download needs the account's token"
    );
    let redirect = zoom.handle(&request("GET", &url, Some(&auth), None));
    assert_eq!(redirect.status, 302);
    let location = redirect
        .headers
        .iter()
        .find(|(n, _)| n == "location")
        .map(|(_, v)| v.clone())
        .unwrap();
    assert!(
        location.starts_with("https://ssrweb.zoom.us/file/"),
        "{location}"
    );
    assert_eq!(zoom.also_serves(), [STORAGE_HOST]);

    let file = zoom.handle(&request("GET", &location, None, None));
    assert_eq!(file.status, 200);
    assert!(String::from_utf8_lossy(&file.body).contains("Hannah Host: Welcome!"));
    // The token does not belong there.
    assert_eq!(
        zoom.handle(&request("GET", &location, Some(&auth), None))
            .status,
        400
    );
    // A forged or expired signature is refused.
    let forged = location.replace("Signature=", "Signature=0");
    assert_eq!(
        zoom.handle(&request("GET", &forged, None, None)).status,
        403
    );
    clock.advance(Duration::from_millis(STORAGE_URL_LIFETIME_MS as u64));
    assert_eq!(
        zoom.handle(&request("GET", &location, None, None)).status,
        403
    );
}

/// Follows the fake's download redirect as a client would (without the token).
fn download(zoom: &FakeZoom, url: &str, auth: &str) -> FakeResponse {
    let answer = zoom.handle(&request("GET", url, Some(auth), None));
    match answer.headers.iter().find(|(n, _)| n == "location") {
        Some((_, location)) if answer.status == 302 => {
            zoom.handle(&request("GET", location, None, None))
        }
        _ => answer,
    }
}

#[test]
fn recordings_list_their_files_and_download_transcripts() {
    let (zoom, _) = zoom();
    let auth = token(&zoom);
    let recording = body(&get(&zoom, &auth, "/meetings/81234567890/recordings"));
    let files = recording["recording_files"].as_array().unwrap();
    assert_eq!(
        files
            .iter()
            .map(|f| f["file_type"].as_str().unwrap())
            .collect::<Vec<_>>(),
        ["MP4", "TRANSCRIPT"]
    );
    let url = files[1]["download_url"].as_str().unwrap();
    let vtt = download(&zoom, url, &auth);
    assert!(String::from_utf8_lossy(&vtt.body).contains("Hannah Host: Welcome!"));

    let none = get(&zoom, &auth, "/meetings/89999999999/recordings");
    assert_eq!(
        (none.status, body(&none)["code"].as_u64()),
        (404, Some(3301))
    );
    zoom.update(|a| {
        a.webinar_mut(81234567890)
            .unwrap()
            .recording
            .as_mut()
            .unwrap()
            .files[1]
            .status = "processing".into()
    });
    assert_eq!(
        zoom.handle(&request("GET", url, Some(&auth), None)).status,
        404,
        "still processing"
    );
    zoom.update(|a| {
        a.webinar_mut(81234567890)
            .unwrap()
            .recording
            .as_mut()
            .unwrap()
            .deleted = true
    });
    assert_eq!(
        body(&get(&zoom, &auth, "/meetings/81234567890/recordings"))["code"],
        3301
    );
}

#[test]
fn users_and_zoom_events_are_listed() {
    let (zoom, _) = zoom();
    let auth = token(&zoom);
    let users = body(&get(&zoom, &auth, "/users?page_size=1"));
    assert_eq!(
        (
            users["total_records"].as_u64(),
            users["users"].as_array().unwrap().len()
        ),
        (Some(2), 1)
    );
    assert_ne!(users["next_page_token"], "");
    let events = body(&get(&zoom, &auth, "/zoom_events/events"));
    assert_eq!(events["events"][0]["event_id"], "ev1");
    let sessions = body(&get(&zoom, &auth, "/zoom_events/events/ev1/sessions"));
    assert_eq!(sessions["sessions"][0]["webinar_id"], 89999999999u64);
}

/// R14: sessions name their webinar in `webinar_id`, not `meeting_id`,
/// and the events list is paged.
#[test]
fn r14_zoom_events_are_paged_and_sessions_name_their_webinar_in_webinar_id() {
    let (zoom, _) = zoom();
    zoom.update(|a| {
        for i in 0..40 {
            a.events.push(ZoomEvent {
                id: format!("more{i}"),
                name: format!("Event {i}"),
                webinar_ids: vec![],
            });
        }
    });
    let auth = token(&zoom);
    let first = body(&get(&zoom, &auth, "/zoom_events/events"));
    assert_eq!(
        first["events"].as_array().unwrap().len(),
        30,
        "30 unless asked"
    );
    assert_eq!(first["total_records"], 41);
    let token = first["next_page_token"].as_str().unwrap();
    assert_ne!(token, "");
    let second = body(&get(
        &zoom,
        &auth,
        &format!("/zoom_events/events?next_page_token={token}"),
    ));
    assert_eq!(second["events"].as_array().unwrap().len(), 11);
    assert_eq!(second["next_page_token"], "");
    let sessions = body(&get(&zoom, &auth, "/zoom_events/events/ev1/sessions"));
    assert!(sessions["sessions"][0].get("meeting_id").is_none());
    assert_eq!(sessions["sessions"][0]["webinar_id"], 89999999999u64);
}

fn header<'a>(answer: &'a FakeResponse, name: &str) -> Option<&'a str> {
    answer
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// R32: Zoom's rate-limit headers: the category on every answer; the
/// type, limit and remaining on a 429; `Retry-After` on a daily limit
/// (the next 00:00 UTC) and, here, on a limit another app spent.
#[test]
fn r32_rate_limited_answers_carry_zooms_headers() {
    let (zoom, clock) = zoom();
    let auth = token(&zoom);
    let ok = get(&zoom, &auth, "/report/webinars/81234567890/participants");
    assert_eq!(header(&ok, "X-RateLimit-Category"), Some("Heavy"));
    for _ in 0..9 {
        get(&zoom, &auth, "/report/webinars/81234567890/participants");
    }
    let qps = get(&zoom, &auth, "/report/webinars/81234567890/participants");
    assert_eq!(qps.status, 429);
    assert_eq!(header(&qps, "X-RateLimit-Type"), Some("QPS"));
    assert_eq!(header(&qps, "X-RateLimit-Limit"), Some("10"));
    assert_eq!(header(&qps, "X-RateLimit-Remaining"), Some("0"));
    assert_eq!(
        header(&qps, "Retry-After"),
        None,
        "Zoom documents none here"
    );

    clock.advance(Duration::from_secs(1));
    zoom.set_daily_heavy_limit(12);
    assert_eq!(
        get(&zoom, &auth, "/meetings/81234567890/recordings").status,
        200
    );
    let daily = get(&zoom, &auth, "/report/webinars/81234567890/participants");
    assert_eq!(
        daily.status, 429,
        "the 11 heavy requests above and this one"
    );
    assert_eq!(header(&daily, "X-RateLimit-Type"), Some("Daily-limit"));
    assert_eq!(header(&daily, "X-RateLimit-Limit"), Some("12"));
    assert_eq!(header(&daily, "Retry-After"), Some("2026-11-21T00:00:00Z"));
    assert!(
        body(&daily)["message"]
            .as_str()
            .unwrap()
            .contains("daily rate limit (12)")
    );
    assert_eq!(
        get(&zoom, &auth, "/webinars/81234567890").status,
        200,
        "light APIs have no daily limit"
    );
    clock.advance(Duration::from_secs(7 * 3600));
    let auth = token(&zoom);
    assert_eq!(
        get(&zoom, &auth, "/meetings/81234567890/recordings").status,
        200,
        "a new day"
    );

    zoom.throttle("/v2/webinars/", Duration::from_millis(6_500));
    let throttled = get(&zoom, &auth, "/webinars/81234567890");
    assert_eq!(throttled.status, 429);
    assert_eq!(header(&throttled, "Retry-After"), Some("7"));
    clock.advance(Duration::from_millis(6_500));
    assert_eq!(get(&zoom, &auth, "/webinars/81234567890").status, 200);
}

#[test]
fn heavy_apis_are_limited_to_ten_a_second() {
    let (zoom, clock) = zoom();
    let auth = token(&zoom);
    for _ in 0..10 {
        assert_eq!(
            get(&zoom, &auth, "/report/webinars/81234567890/participants").status,
            200
        );
    }
    let limited = get(&zoom, &auth, "/report/webinars/81234567890/participants");
    assert_eq!(limited.status, 429);
    assert!(
        body(&limited)["message"]
            .as_str()
            .unwrap()
            .contains("rate limit")
    );
    assert_eq!(
        get(&zoom, &auth, "/webinars/81234567890").status,
        200,
        "light APIs have their own budget"
    );
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        get(&zoom, &auth, "/report/webinars/81234567890/participants").status,
        200
    );
}

#[test]
fn injected_faults_answer_5xx_or_time_out() {
    let clock = Clock::manual(0);
    let app = ZoomApp {
        account_id: "a".into(),
        client_id: "i".into(),
        client_secret: "s".into(),
    };
    let failing = FakeZoom::new(app.clone(), clock.clone()).with_faults(FaultPlan {
        error_rate: 1.0,
        ..FaultPlan::default()
    });
    assert_eq!(
        failing
            .handle(&request("GET", "https://api.zoom.us/v2/users", None, None))
            .status,
        503
    );
    let hanging = FakeZoom::new(app.clone(), clock.clone()).with_faults(FaultPlan {
        timeout_rate: 1.0,
        ..FaultPlan::default()
    });
    let answer = hanging.handle(&request("GET", "https://api.zoom.us/v2/users", None, None));
    assert!(answer.timed_out);
    let slow = FakeZoom::new(app, clock).with_faults(FaultPlan {
        latency_ms: 250,
        ..FaultPlan::default()
    });
    let answer = slow.handle(&request("GET", "https://api.zoom.us/v2/users", None, None));
    assert_eq!(
        (answer.status, answer.delay),
        (401, Duration::from_millis(250)),
        "a slow refusal"
    );
}

#[test]
fn webhooks_carry_zooms_id_quirk_and_verify() {
    let (zoom, _) = zoom();
    let registration = zoom
        .webhook_body(&WebhookEvent::RegistrationCreated {
            webinar: 81234567890,
            registrant: "person0@example.com".into(),
        })
        .unwrap();
    assert!(
        registration["payload"]["object"]["id"].is_u64(),
        "a number in registration events"
    );
    assert_eq!(
        registration["payload"]["object"]["registrant"]["email"],
        "person0@example.com"
    );
    let joined = zoom
        .webhook_body(&WebhookEvent::ParticipantJoined {
            webinar: 81234567890,
            participant: "Guest".into(),
            segment: 0,
        })
        .unwrap();
    assert!(
        joined["payload"]["object"]["id"].is_string(),
        "a string in participant events"
    );
    assert_eq!(
        joined["payload"]["object"]["participant"]["email"], "",
        "guests' emails are hidden"
    );
    assert_eq!(
        joined["payload"]["object"]["participant"]["join_time"],
        "2026-11-20T15:05:00Z"
    );
    let ended = zoom
        .webhook_body(&WebhookEvent::WebinarEnded {
            webinar: 81234567890,
        })
        .unwrap();
    assert!(
        ended["payload"]["object"]["id"].is_string(),
        "a string in ended events"
    );
    assert_eq!(
        ended["payload"]["object"]["end_time"],
        "2026-11-20T16:00:00Z"
    );
    let validation = zoom
        .webhook_body(&WebhookEvent::UrlValidation {
            plain_token: "qgg8vlvZRS6UYooatFL8Aw".into(),
        })
        .unwrap();
    assert_eq!(
        validation["payload"]["plainToken"],
        "qgg8vlvZRS6UYooatFL8Aw"
    );
    let completed = zoom
        .webhook_body(&WebhookEvent::RecordingCompleted {
            webinar: 81234567890,
        })
        .unwrap();
    assert!(completed["download_token"].is_string());

    let body = registration.to_string();
    let headers = signature_headers("secret-token", 1_764_000_000, body.as_bytes());
    let mut mac = <hmac::Hmac<sha2::Sha256> as hmac::Mac>::new_from_slice(b"secret-token").unwrap();
    hmac::Mac::update(&mut mac, format!("v0:1764000000:{body}").as_bytes());
    assert_eq!(
        headers[1].1,
        format!("v0={}", hex::encode(hmac::Mac::finalize(mac).into_bytes()))
    );
}

#[test]
fn a_lifecycle_plays_registrations_then_joins_and_leaves_in_time_order() {
    let (zoom, _) = zoom();
    let events = zoom.lifecycle(81234567890).unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| matches!(e, WebhookEvent::RegistrationCreated { .. }))
            .count(),
        650
    );
    let tail: Vec<String> = events[650..]
        .iter()
        .map(|e| {
            serde_json::to_value(e).unwrap()["event"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        tail,
        [
            "webinar.started",
            "webinar.participant_joined", // Person0 at 0
            "webinar.participant_joined", // Guest at 5
            "webinar.participant_left",   // Guest at 20
            "webinar.participant_left",   // Person0 at 30
            "webinar.participant_joined", // Person0 at 40
            "webinar.participant_left",   // Person0 at 60
            "webinar.ended",
            "recording.completed",
            "recording.transcript_completed",
        ]
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

/// R1: past webinars come from the Dashboard, a month at a time within the
/// last six months, paged; a plan without the Dashboard is refused.
#[test]
fn the_dashboard_lists_past_webinars_a_month_at_a_time_within_six_months() {
    let (zoom, _) = zoom();
    let auth = token(&zoom);
    let past = body(&get(
        &zoom,
        &auth,
        "/metrics/webinars?type=past&from=2026-11-01&to=2026-11-30&page_size=300",
    ));
    assert_eq!(past["from"], "2026-11-01");
    let listed = past["webinars"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{past}");
    assert_eq!(listed[0]["id"], 81234567890u64);
    assert_eq!(listed[0]["email"], "host@acme.example");
    assert_eq!(listed[0]["start_time"], START);
    assert_eq!(listed[0]["end_time"], "2026-11-20T16:00:00Z");
    assert_eq!(listed[0]["duration"], "01:00:00");
    assert_eq!(past["next_page_token"], "");
    // `type` defaults to live.
    let live = body(&get(
        &zoom,
        &auth,
        "/metrics/webinars?from=2026-11-01&to=2026-11-30",
    ));
    assert_eq!(live["webinars"], json!([]));
    // Another month: none.
    let october = body(&get(
        &zoom,
        &auth,
        "/metrics/webinars?type=past&from=2026-10-01&to=2026-10-31",
    ));
    assert_eq!(october["webinars"], json!([]));
    for (query, why) in [
        (
            "type=past&from=2026-09-01&to=2026-11-30",
            "more than a month",
        ),
        (
            "type=past&from=2026-05-01&to=2026-05-30",
            "older than six months",
        ),
        ("type=past&to=2026-11-30", "no from"),
        ("type=past&from=2026-11-30&to=2026-11-01", "to before from"),
    ] {
        let refused = get(&zoom, &auth, &format!("/metrics/webinars?{query}"));
        assert_eq!(
            (refused.status, body(&refused)["code"].as_u64()),
            (400, Some(300)),
            "{why}"
        );
    }
    zoom.remove_dashboard();
    let refused = get(
        &zoom,
        &auth,
        "/metrics/webinars?type=past&from=2026-11-01&to=2026-11-30",
    );
    assert_eq!(
        (refused.status, body(&refused)["code"].as_u64()),
        (400, Some(200))
    );
}
