//! The lists a sync reads to find webinars: a user's webinars (R1) and
//! the account's Zoom Events with their sessions (R14).

use super::*;

impl FakeZoom {
    /// `GET /zoom_events/events`: the account's events, in pages (at most
    /// 300, 30 unless asked) with `next_page_token`s, as Zoom's list APIs
    /// page (<https://developers.zoom.us/docs/api/rest/zoom-events-api/>,
    /// Events: List events; <https://developers.zoom.us/docs/api/pagination/>).
    pub(super) fn zoom_events(&self, request: &FakeRequest) -> FakeResponse {
        let events: Vec<Value> = self
            .lock()
            .account
            .events
            .iter()
            .map(|e| json!({ "event_id": e.id, "name": e.name, "status": "published", "hub_id": "hub1" }))
            .collect();
        self.page(
            request,
            "zoom_events/events",
            events,
            MAX_PAGE_SIZE,
            "events",
        )
    }

    /// `GET /zoom_events/events/{eventId}/sessions`: a webinar session names
    /// its webinar in `webinar_id` (Zoom's changelog of 2023-05-29 added
    /// `webinar_id` and `meeting_id`:
    /// <https://developers.zoom.us/changelog/webinars-plus-events/may-29-2023/>).
    /// The docs do not say what `meeting_id` holds for a webinar session:
    /// the harsher reading, nothing (the field is absent).
    pub(super) fn zoom_event_sessions(&self, event: &str) -> FakeResponse {
        let state = self.lock();
        match state.account.events.iter().find(|e| e.id == event) {
            Some(e) => {
                let sessions: Vec<Value> = e
                    .webinar_ids
                    .iter()
                    .enumerate()
                    .map(|(i, id)| {
                        json!({
                            "session_id": format!("{}-s{}", e.id, i + 1),
                            "name": format!("Session {}", i + 1),
                            "type": 2,
                            "webinar_id": id,
                        })
                    })
                    .collect();
                FakeResponse::json(
                    200,
                    &json!({ "total_records": sessions.len(), "sessions": sessions }),
                )
            }
            None => zoom_error(404, 3001, &format!("Event does not exist: {event}.")),
        }
    }

    pub(super) fn list_webinars(&self, request: &FakeRequest, user: &str) -> FakeResponse {
        let webinars: Option<Vec<Value>> = {
            let state = self.lock();
            let account = &state.account;
            let host = account
                .users
                .iter()
                .find(|u| u.id == user || u.email.eq_ignore_ascii_case(user))
                .map(|u| u.email.clone());
            if host
                .as_ref()
                .is_some_and(|h| state.without_webinar_plan.contains(&h.to_ascii_lowercase()))
            {
                return zoom_error(
                    400,
                    200,
                    "Webinar plan is missing. You must subscribe to the webinar plan and enable webinar for this user.",
                );
            }
            host.map(|host| {
                account
                    .webinars
                    .iter()
                    .filter(|w| w.host.eq_ignore_ascii_case(&host))
                    // Zoom lists "scheduled and unexpired" webinars only
                    // (List webinars): a webinar that ran once (type 5) has
                    // expired; a recurring one stays until its last occurrence.
                    .filter(|w| !(w.r#type == 5 && w.ran.is_some()))
                    .map(|w| webinar_json(w, account))
                    .collect()
            })
        };
        match webinars {
            Some(webinars) => self.page(
                request,
                &format!("users/{user}/webinars"),
                webinars,
                MAX_PAGE_SIZE,
                "webinars",
            ),
            None => zoom_error(
                404,
                1001,
                "User does not exist: {user}."
                    .replace("{user}", user)
                    .as_str(),
            ),
        }
    }
}
