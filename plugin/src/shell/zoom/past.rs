//! Past webinars for the backfill (R1). `GET /users/{userId}/webinars`
//! lists scheduled and unexpired webinars only, so a webinar that already
//! ran is found through Zoom's Dashboard: `GET /metrics/webinars?type=past`
//! (<https://developers.zoom.us/docs/api/accounts/#tag/dashboards/GET/metrics/webinars>).
//! It needs a Business plan or higher with the Dashboard on and the scope
//! `dashboard_webinars:read:admin`; it lists the whole account's webinars
//! (no loop over users), a month per request (`from`, `to` as
//! `yyyy-MM-dd`), within the last six months, in pages of at most 300.
//!
//! Why not the others Zoom documents: `GET /report/users/{userId}/meetings`
//! (Pro) has no field that tells a webinar from a meeting and leaves out
//! those with fewer than two participants; `GET
//! /past_webinars/{webinarId}/instances` needs the webinar's id first.

use serde::Deserialize;

use super::{Method, PluginError, ZoomClient, zoom_code};
use crate::core::time::rfc3339;

const DAY_MS: i64 = 86_400_000;
/// Days from `from` to `to` in one request: Zoom allows "one month".
pub const WINDOW_DAYS: i64 = 30;
/// How far back the Dashboard goes: "the last six months" (the fake reads
/// it as 180 days, and so does the plugin, to ask only what Zoom serves).
pub const HISTORY_DAYS: i64 = 180;
/// The Dashboard's largest page.
pub const PAGE_SIZE: u32 = 300;

/// One webinar of the Dashboard's list, as Zoom spells it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PastWebinar {
    /// A number in Zoom's answer.
    #[serde(deserialize_with = "super::wire::id_text")]
    pub id: String,
    #[serde(default)]
    pub topic: String,
    /// The host's email.
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub start_time: String,
    #[serde(default)]
    pub end_time: String,
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    next_page_token: String,
    #[serde(default)]
    webinars: Vec<PastWebinar>,
}

/// What the Dashboard gave, and what a marketer should know about it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Past {
    pub webinars: Vec<PastWebinar>,
    pub notes: Vec<String>,
}

/// The `from`..`to` days (`yyyy-MM-dd`) to ask for, oldest first: from
/// `since` (or as far back as Zoom keeps) to today, a window at a time.
pub fn windows(since_ms: Option<i64>, now_ms: i64) -> Vec<(String, String)> {
    let today = now_ms.div_euclid(DAY_MS) * DAY_MS;
    let earliest = today - HISTORY_DAYS * DAY_MS;
    let mut from = since_ms
        .map_or(earliest, |s| s.div_euclid(DAY_MS) * DAY_MS)
        .max(earliest);
    let day = |ms: i64| rfc3339(ms)[..10].to_owned();
    let mut windows = Vec::new();
    while from <= today {
        let to = (from + WINDOW_DAYS * DAY_MS).min(today);
        windows.push((day(from), day(to)));
        from = to + DAY_MS;
    }
    windows
}

impl ZoomClient<'_> {
    /// The account's webinars that ran since `since_ms` (all that Zoom
    /// keeps when none), from the Dashboard. A plan or a token without it
    /// (a 4xx other than 429) is no error: the backfill goes on with the
    /// webinars it can find, and the note says what was not looked up.
    pub fn dashboard_webinars(&self, since_ms: Option<i64>) -> Result<Past, PluginError> {
        let mut past = Past::default();
        let earliest = self.now_ms.div_euclid(DAY_MS) * DAY_MS - HISTORY_DAYS * DAY_MS;
        if since_ms.is_some_and(|s| s < earliest) {
            past.notes.push(format!(
                "Past webinars before {} were not looked up: Zoom's Dashboard keeps six months. Sync an older webinar with sync now and its id.",
                &rfc3339(earliest)[..10]
            ));
        }
        for (from, to) in windows(since_ms, self.now_ms) {
            let mut token = String::new();
            loop {
                let path = format!(
                    "/metrics/webinars?type=past&from={from}&to={to}&page_size={PAGE_SIZE}&next_page_token={token}"
                );
                let response = self.call(Method::Get, &path, None)?;
                if (400..=499).contains(&response.status) && response.status != 429 {
                    let code =
                        zoom_code(&response).map_or_else(String::new, |c| format!(" code {c}"));
                    past.notes.push(format!(
                        "Past webinars were not looked up: Zoom's Dashboard, which lists them, needs a Business plan or higher with the Dashboard turned on and the scope dashboard_webinars:read:admin (Zoom answered {}{code}: {}). Upcoming webinars and those the plugin heard of were synced; sync a past one with sync now and its id.",
                        response.status,
                        response.error_message()
                    ));
                    return Ok(past);
                }
                let Some(json) = super::read_json(&path, &response)? else {
                    break;
                };
                let page: Page = serde_json::from_value(json).map_err(|e| {
                    PluginError::ZoomUnavailable(format!(
                        "Zoom's list of past webinars could not be read: {e}"
                    ))
                })?;
                past.webinars.extend(page.webinars);
                token = page.next_page_token;
                if token.is_empty() {
                    break;
                }
            }
        }
        Ok(past)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::time::parse_rfc3339;

    #[test]
    fn r1_windows_cover_since_to_today_a_month_at_a_time_within_six_months() {
        let now = parse_rfc3339("2026-11-20T17:00:00Z").unwrap();
        let since = parse_rfc3339("2026-10-01T12:00:00Z");
        assert_eq!(
            windows(since, now),
            [
                ("2026-10-01".to_owned(), "2026-10-31".to_owned()),
                ("2026-11-01".to_owned(), "2026-11-20".to_owned()),
            ]
        );
        let all = windows(None, now);
        assert_eq!(all.first().unwrap().0, "2026-05-24", "180 days back");
        assert_eq!(all.last().unwrap().1, "2026-11-20");
        assert_eq!(all.len(), 6);
        let long_ago = parse_rfc3339("2020-01-01T00:00:00Z");
        assert_eq!(windows(long_ago, now), all, "never before six months");
        for pair in all.windows(2) {
            assert!(pair[0].1 < pair[1].0, "no overlap, no gap: {pair:?}");
        }
    }

    #[test]
    fn a_dashboard_page_reads_numeric_ids() {
        let page: Page = serde_json::from_value(serde_json::json!({
            "from": "2026-11-01", "to": "2026-11-30", "page_size": 300, "next_page_token": "",
            "webinars": [{ "id": 81234567890u64, "uuid": "u==", "topic": "T", "host": "Jill",
                "email": "jchill@acme.example", "start_time": "2026-11-20T15:00:00Z",
                "end_time": "2026-11-20T16:00:00Z", "duration": "01:00:00", "participants": 2 }]
        }))
        .unwrap();
        assert_eq!(page.webinars[0].id, "81234567890");
        assert_eq!(page.webinars[0].email, "jchill@acme.example");
    }
}
