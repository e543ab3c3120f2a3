//! The [`Zoom`] port over Zoom REST v2: every read the sync makes, from
//! Zoom's answers ([`wire`]) to the domain's types (issue 18).

use std::collections::{BTreeMap, BTreeSet};

use serde::de::DeserializeOwned;

use super::{
    EVENTS_PAGE_SIZE, Method, PAGE_SIZE, PluginError, Response, ZoomClient, next_page_token,
    read_json, refusal, take_items, wire, zoom_code,
};
use crate::core::plan::{ParticipantRow, Registrant};
use crate::core::recording::{Recording, RecordingFile};
use crate::core::time::parse_rfc3339;
use crate::shell::ports::{EachPage, ListedWebinar, ScheduledWebinar, Zoom, ZoomReport};

impl Zoom for ZoomClient<'_> {
    /// `GET /users?status=active`, every page.
    fn users(&self) -> Result<BTreeMap<String, String>, PluginError> {
        let users: Vec<wire::User> = self
            .all_pages("/users?status=active", "users")?
            .unwrap_or_default();
        Ok(users
            .into_iter()
            .filter(|u| !u.email.is_empty())
            .map(|u| {
                let name = format!("{} {}", u.first_name, u.last_name);
                (u.email.to_ascii_lowercase(), name.trim().to_owned())
            })
            .collect())
    }

    fn webinar(&self, id: &str) -> Result<Option<ScheduledWebinar>, PluginError> {
        let Some(webinar) = self.read::<wire::Webinar>(&format!("/webinars/{id}"))? else {
            return Ok(None);
        };
        Ok(Some(ScheduledWebinar {
            topic: webinar.topic,
            host_email: webinar.host_email.to_ascii_lowercase(),
            join_url: webinar.join_url,
            start_ms: parse_rfc3339(&webinar.start_time).unwrap_or_default(),
            // Zoom's default length when a webinar says none.
            minutes: webinar.duration.unwrap_or(60) as u32,
        }))
    }

    fn approved_registrants(
        &self,
        webinar: &str,
        default_registered_ms: i64,
        each: EachPage<'_, Registrant>,
    ) -> Result<bool, PluginError> {
        self.each_page(
            &format!("/webinars/{webinar}/registrants?status=approved"),
            "registrants",
            &mut |page: Vec<wire::Registrant>| {
                each(
                    page.into_iter()
                        .map(|r| Registrant {
                            registered_ms: parse_rfc3339(&r.create_time)
                                .unwrap_or(default_registered_ms),
                            id: r.id,
                            email: r.email,
                            first_name: r.first_name,
                            last_name: r.last_name,
                            status: "approved".into(),
                        })
                        .collect(),
                )
            },
        )
    }

    /// The webinar's details report (`GET /report/webinars/{webinarId}`):
    /// when it ran; not made before it ends.
    fn ran(&self, webinar: &str) -> Result<ZoomReport<Option<(i64, i64)>>, PluginError> {
        let details = self.read::<wire::WebinarDetails>(&format!("/report/webinars/{webinar}"));
        ZoomReport::of(details.map(|found| {
            found.map(|d| parse_rfc3339(&d.start_time).zip(parse_rfc3339(&d.end_time)))
        }))
    }

    /// The participants report of a webinar that ended, a row per
    /// join/leave segment (R8), or why Zoom has none: not (yet) made (404,
    /// code 3001), or refused for good (12702 a year ago, 200 no
    /// permission, 1010 ...; issue 18). `registrant_id` comes only when
    /// asked for with `include_fields=registrant_id`: it joins a row to its
    /// registration when the email the person joined with is not the one
    /// they registered with, or is hidden.
    fn participants(
        &self,
        webinar: &str,
        each: EachPage<'_, ParticipantRow>,
    ) -> Result<ZoomReport<()>, PluginError> {
        let read = self.each_page(
            &format!("/report/webinars/{webinar}/participants?include_fields=registrant_id"),
            "participants",
            &mut |page: Vec<wire::Participant>| {
                each(
                    page.into_iter()
                        .filter_map(|p| {
                            Some(ParticipantRow {
                                joined_ms: parse_rfc3339(&p.join_time)?,
                                left_ms: parse_rfc3339(&p.leave_time)?,
                                name: p.name,
                                email: p.user_email,
                                registrant_id: p.registrant_id,
                            })
                        })
                        .collect(),
                )
            },
        );
        ZoomReport::of(read.map(|found| found.then_some(())))
    }

    /// From every page of the account's events and each event's sessions.
    /// An account without Zoom Events (no licence, no scope) answers the
    /// events list with a 4xx: it has no event webinars. A token refused
    /// says nothing of that, and any other failure is an error: guessing
    /// "none" would sync an event's webinar (R14).
    fn zoom_event_webinars(&self) -> Result<BTreeSet<String>, PluginError> {
        let mut ids = BTreeSet::new();
        let first = |response: &Response| {
            if refusal::is_access(response) {
                return Err(refusal::error("the list of Zoom Events", response));
            }
            Ok(())
        };
        let events: Vec<wire::Event> = match self.refusable_pages(
            "the account's Zoom Events",
            "/zoom_events/events",
            EVENTS_PAGE_SIZE,
            "events",
            first,
        )? {
            Ok(events) => events,
            Err(_) => return Ok(ids),
        };
        for event in events.into_iter().filter(|e| !e.event_id.is_empty()) {
            let path = format!("/zoom_events/events/{}/sessions", event.event_id);
            let sessions = self.read::<wire::Sessions>(&path)?.unwrap_or_default();
            ids.extend(
                sessions
                    .sessions
                    .into_iter()
                    .map(|s| s.webinar_id)
                    .filter(|id| !id.is_empty() && id != "0"),
            );
        }
        Ok(ids)
    }

    /// A user's webinars (`GET /users/{userId}/webinars`, every page), or
    /// Zoom's reason when it refuses to list them: a user without a
    /// webinar licence (400 code 200, "Webinar plan is missing"), a token
    /// without the scope (4711, 104), a user that no longer exists (1001).
    /// The backfill goes on with the other users (R1).
    fn user_webinars(&self, user: &str) -> Result<Result<Vec<ListedWebinar>, String>, PluginError> {
        let listed: Result<Vec<wire::ListedWebinar>, String> = self.refusable_pages(
            "the user's webinars",
            &format!("/users/{user}/webinars"),
            PAGE_SIZE,
            "webinars",
            |_| Ok(()),
        )?;
        Ok(listed.map(|listed| {
            listed
                .into_iter()
                .map(|w| ListedWebinar {
                    start_ms: parse_rfc3339(&w.start_time),
                    id: w.id,
                })
                .collect()
        }))
    }

    fn past_webinars(&self, since_ms: Option<i64>) -> Result<super::Past, PluginError> {
        self.dashboard_webinars(since_ms)
    }

    fn recording(&self, webinar: &str) -> Result<Option<Recording>, PluginError> {
        let found = self.read::<wire::Recording>(&format!("/meetings/{webinar}/recordings"))?;
        Ok(found.map(|r| Recording {
            share_url: r.share_url,
            start_ms: parse_rfc3339(&r.start_time),
            duration_minutes: r.duration,
            files: r
                .recording_files
                .into_iter()
                .map(|f| RecordingFile {
                    file_type: f.file_type,
                    status: f.status,
                    download_url: f.download_url,
                    play_url: f.play_url,
                })
                .collect(),
        }))
    }

    /// A recording file's content (a transcript); none when Zoom has no such
    /// file. The account's token goes to Zoom's own hosts only, as the
    /// Bearer header Zoom documents for downloads with an OAuth token (not
    /// the `access_token` query parameter, which would carry it into the
    /// redirect's URL and every log on the way); the storage host Zoom
    /// redirects to gets the signed URL and no token (R11).
    ///
    /// The recording webhook's `download_token` is never used: it expires
    /// 24 h after the event, and a recording still processing or a sync
    /// retried later would meet it expired. The account's OAuth token is
    /// renewed here when Zoom refuses it (401, code 124), and the
    /// `download_url` comes from `GET /meetings/{id}/recordings` read at
    /// the time of the download, so there is no expired token to refresh.
    fn download(&self, url: &str) -> Result<Option<Vec<u8>>, PluginError> {
        let host = url
            .strip_prefix("https://")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or_default();
        if host != "zoom.us" && !host.ends_with(".zoom.us") {
            return Ok(None);
        }
        let response = self.call_url(Method::Get, url, "a recording file", None)?;
        match response.status {
            200..=299 => Ok(Some(response.body)),
            404 => Ok(None),
            400 if zoom_code(&response) == Some(3301) => Ok(None),
            _ => Err(refusal::error("a recording file", &response)),
        }
    }

    fn retries(&self) -> u32 {
        self.patience.retries()
    }

    fn take_wait_until_ms(&self) -> Option<i64> {
        self.wait_until_ms.take()
    }
}

impl ZoomClient<'_> {
    /// GET `path` read as a `T`; none when Zoom says it does not exist.
    fn read<T: DeserializeOwned + Default>(&self, path: &str) -> Result<Option<T>, PluginError> {
        Ok(self
            .get(path)?
            .map(|json| T::deserialize(json).unwrap_or_default()))
    }

    /// Every item of a paged list whose first page Zoom may refuse with a
    /// 4xx (other than 429): `Err` with Zoom's words then, unless `first`
    /// makes that refusal an error.
    fn refusable_pages<T: DeserializeOwned>(
        &self,
        what: &str,
        path: &str,
        page_size: u32,
        field: &str,
        first: impl Fn(&Response) -> Result<(), PluginError>,
    ) -> Result<Result<Vec<T>, String>, PluginError> {
        let mut items = Vec::new();
        let mut token = String::new();
        loop {
            let url = format!("{path}?page_size={page_size}&next_page_token={token}");
            let response = self.call(Method::Get, &url, None)?;
            if token.is_empty() && (400..=499).contains(&response.status) && response.status != 429
            {
                first(&response)?;
                let code = zoom_code(&response).map_or_else(String::new, |c| format!(" code {c}"));
                return Ok(Err(format!(
                    "Zoom refused to list {what} ({}{code}: {})",
                    response.status,
                    response.error_message()
                )));
            }
            let mut page = read_json(&url, &response)?.unwrap_or_default();
            take_items(&mut page, field, &mut items);
            token = next_page_token(&page);
            if token.is_empty() {
                return Ok(Ok(items));
            }
        }
    }
}
