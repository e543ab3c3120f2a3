//! The fake Zoom's webhooks: their bodies, signatures and the order a
//! lifecycle plays them in.

use super::*;

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
