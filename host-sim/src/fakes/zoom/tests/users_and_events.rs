//! The fake Zoom's users and Zoom Events with their sessions.

use super::*;

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
