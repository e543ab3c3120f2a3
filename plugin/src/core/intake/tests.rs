use super::*;
use serde_json::json;

fn joined(key: &str, at: &str) -> Value {
    json!({ "object": { "id": "81234567890", "uuid": "u==", "participant": {
        "participant_uuid": key, "user_name": "Ada Lovelace", "email": "ada@lovelace.example",
        "registrant_id": "r1", "join_time": at } } })
}

fn left(key: &str, at: &str) -> Value {
    json!({ "object": { "id": "81234567890", "uuid": "u==", "participant": {
        "participant_uuid": key, "user_name": "Ada Lovelace", "email": "ada@lovelace.example",
        "registrant_id": "r1", "leave_time": at } } })
}

#[test]
fn r30_a_duplicate_delivery_has_the_same_key_and_an_object_id_number_or_string_reads_the_same() {
    let a = parse(
        "webinar.participant_joined",
        1,
        &joined("p1", "2026-11-20T15:00:00Z"),
    )
    .unwrap();
    let b = parse(
        "webinar.participant_joined",
        2,
        &joined("p1", "2026-11-20T15:00:00Z"),
    )
    .unwrap();
    assert_eq!(
        a.key, b.key,
        "a retry (new event_ts) is still the same join"
    );
    let numeric = json!({ "object": { "id": 81234567890u64, "uuid": "u==" } });
    let string = json!({ "object": { "id": "81234567890", "uuid": "u==" } });
    assert_eq!(
        parse("webinar.deleted", 1, &numeric).unwrap(),
        parse("webinar.deleted", 1, &string).unwrap()
    );
}

#[test]
fn r30_left_before_joined_ends_in_the_same_segments() {
    let events = [
        (
            "webinar.participant_joined",
            joined("p1", "2026-11-20T15:00:00Z"),
        ),
        (
            "webinar.participant_left",
            left("p1", "2026-11-20T15:20:00Z"),
        ),
        (
            "webinar.participant_joined",
            joined("p1", "2026-11-20T15:30:00Z"),
        ),
        (
            "webinar.participant_left",
            left("p1", "2026-11-20T15:45:00Z"),
        ),
    ];
    let facts: Vec<Fact> = events
        .iter()
        .map(|(e, p)| parse(e, 0, p).unwrap().fact)
        .collect();
    let mut reversed = facts.clone();
    reversed.reverse();
    let mut doubled = facts.clone();
    doubled.extend(facts.clone());
    let ordered = assemble(&facts);
    assert_eq!(ordered.rows.len(), 2);
    assert_eq!(assemble(&reversed), ordered);
    assert_eq!(assemble(&doubled), ordered);
}

#[test]
fn r8_the_latest_registration_event_says_the_status_the_first_says_when() {
    let registration = |event: &str, ts: i64| {
        let payload = json!({ "object": { "id": 81234567890u64, "uuid": "u==", "registrant": {
            "id": "r1", "email": "ada@lovelace.example", "first_name": "Ada", "last_name": "Lovelace", "status": "approved" } } });
        parse(event, ts, &payload).unwrap().fact
    };
    let facts = vec![
        registration("webinar.registration_cancelled", 20),
        registration("webinar.registration_created", 10),
    ];
    let assembled = assemble(&facts);
    assert_eq!(assembled.registrants.len(), 1);
    assert_eq!(assembled.registrants[0].status, "cancelled");
    assert_eq!(assembled.registrants[0].registered_ms, 10);
}

#[test]
fn r29_ids_and_fields_are_bounded_before_they_reach_a_url_or_a_key() {
    let long_id = "9".repeat(10_000);
    let Err(NotAFact::Malformed(why)) = parse(
        "webinar.started",
        0,
        &json!({ "object": { "id": long_id, "uuid": "u==" } }),
    ) else {
        panic!("a 10,000-digit webinar id is refused");
    };
    assert!(
        why.starts_with("payload.object.id is 10000 bytes long"),
        "{why}"
    );
    let Err(NotAFact::Malformed(why)) = parse(
        "webinar.created",
        0,
        &json!({ "object": { "id": "1".repeat(21), "uuid": "u==" } }),
    ) else {
        panic!("21 digits is no Zoom webinar id");
    };
    assert!(why.contains("numeric id"), "{why}");
    let Err(NotAFact::Malformed(why)) = parse(
        "webinar.participant_joined",
        0,
        &json!({ "object": { "id": "81234567890", "uuid": "u==", "participant": {
            "user_id": "1", "email": format!("{}@x.example", "a".repeat(5000)),
            "join_time": "2026-11-20T15:00:00Z" } } }),
    ) else {
        panic!("a 5,000-character email is refused");
    };
    assert!(
        why.starts_with("payload.object.participant.email is 5010 bytes long"),
        "{why}"
    );
}

#[test]
fn malformed_and_unknown_events_say_why() {
    assert_eq!(
        parse("meeting.started", 0, &json!({})),
        Err(NotAFact::Ignored("meeting.started".into()))
    );
    let Err(NotAFact::Malformed(why)) =
        parse("webinar.ended", 0, &json!({ "object": { "id": "12-34" } }))
    else {
        panic!("a dashed id is malformed")
    };
    assert!(why.contains("numeric id"), "{why}");
    let Err(NotAFact::Malformed(why)) = parse(
        "webinar.participant_joined",
        0,
        &json!({ "object": { "id": 1, "participant": { "id": "p", "join_time": "soon" } } }),
    ) else {
        panic!("a bad time is malformed")
    };
    assert!(why.contains("join_time"), "{why}");
}

#[test]
fn r11_recording_events_of_webinars_become_facts_and_meetings_are_ignored() {
    let payload =
        |kind: u64| json!({ "object": { "id": 81234567890u64, "uuid": "u==", "type": kind } });
    let completed = parse("recording.completed", 1_000, &payload(5)).unwrap();
    assert_eq!(
        completed.fact,
        Fact::Recording {
            webinar: "81234567890".into(),
            change: RecordingChange::Completed,
            at_ms: 1_000
        }
    );
    let again = parse("recording.completed", 1_000, &payload(5)).unwrap();
    assert_eq!(
        again.key, completed.key,
        "a duplicate lands on the same key"
    );
    assert!(matches!(
        parse("recording.completed", 1_000, &payload(2)),
        Err(NotAFact::Ignored(_))
    ));
    let trashed = parse("recording.trashed", 3_000, &payload(9)).unwrap();
    let transcript = parse("recording.transcript_completed", 2_000, &payload(5)).unwrap();

    let facts = [
        trashed.fact.clone(),
        completed.fact.clone(),
        transcript.fact,
    ];
    let recording = assemble(&facts).recording;
    assert_eq!(recording.completed_ms, Some(1_000));
    assert_eq!(recording.transcript_ms, Some(2_000));
    assert!(recording.deleted(), "trashed after it completed");
    let recorded_again = parse("recording.completed", 4_000, &payload(5)).unwrap();
    let facts = [trashed.fact, recorded_again.fact];
    assert!(!assemble(&facts).recording.deleted());
}

#[test]
fn r30_a_cancellation_of_the_same_millisecond_wins_over_the_creation_in_any_order() {
    let registration = |event: &str| {
        let payload = json!({ "object": { "id": 81234567890u64, "uuid": "u==", "registrant": {
            "id": "r1", "email": "cass@example.org", "first_name": "Cass", "status": "approved" } } });
        parse(event, 5_000, &payload).unwrap().fact
    };
    let created = registration("webinar.registration_created");
    let cancelled = registration("webinar.registration_cancelled");
    for facts in [[created.clone(), cancelled.clone()], [cancelled, created]] {
        assert_eq!(assemble(&facts).registrants[0].status, "cancelled");
    }
}
