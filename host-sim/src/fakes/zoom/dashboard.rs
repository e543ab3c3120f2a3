//! `GET /v2/metrics/webinars` (Dashboards: List webinars), the endpoint
//! the plugin's backfill finds past webinars through (R1): `GET
//! /users/{userId}/webinars` lists scheduled and unexpired webinars only.
//!
//! As Zoom documents it
//! (<https://developers.zoom.us/docs/api/accounts/#tag/dashboards/GET/metrics/webinars>,
//! the rivet SDK's `DashboardsListWebinarsQueryParams` /
//! `DashboardsListWebinarsResponse`): Business plan or higher with the
//! Dashboard feature on, scope `dashboard_webinars:read:admin`; `from` and
//! `to` (`yyyy-MM-dd`) are required, the range is "only one month" and the
//! month must fall within the last six months; `type` is `live` unless
//! `past` is asked for; pages of at most 300 (30 by default) with
//! `next_page_token`s that expire after 15 minutes; each webinar carries
//! `id` (a number), `uuid`, `topic`, `host` (a name), `email` (the host's),
//! `start_time`, `end_time`, `duration` (`HH:MM:SS`), `participants`.
//!
//! Where the docs are silent the fake takes the harsher reading: "one
//! month" is at most 31 days from `from` to `to`, "six months" is 180 days
//! back from today (UTC), and a refused range is a 400 with code 300.

use serde_json::{Value, json};

use super::{FakeZoom, MAX_PAGE_SIZE, Webinar, zoom_error};
use crate::clock::{DAY_MS, date, parse_date, parse_rfc3339, rfc3339};
use crate::outbound::{FakeRequest, FakeResponse};

/// The longest `from`..`to` range of one request (the harsher reading of "one month").
pub const MAX_RANGE_DAYS: i64 = 31;
/// How far back `from` may go (the harsher reading of "the last six months").
pub const MAX_AGE_DAYS: i64 = 180;

impl FakeZoom {
    /// The account's plan lacks the Dashboard (below Business, or the
    /// feature off): `GET /metrics/webinars` answers 400 code 200.
    pub fn remove_dashboard(&self) {
        self.lock().without_dashboard = true;
    }

    pub(super) fn metrics_webinars(&self, request: &FakeRequest) -> FakeResponse {
        if self.lock().without_dashboard {
            return zoom_error(
                400,
                200,
                "No permission. This API is only available for Business or higher accounts that have enabled the Dashboard feature.",
            );
        }
        let (Some(from), Some(to)) = (
            request.query_param("from").as_deref().and_then(parse_date),
            request.query_param("to").as_deref().and_then(parse_date),
        ) else {
            return zoom_error(
                400,
                300,
                "Invalid parameter: from and to are required, as yyyy-MM-dd.",
            );
        };
        let today = self.clock.now_ms().div_euclid(DAY_MS) * DAY_MS;
        if to < from || to - from > MAX_RANGE_DAYS * DAY_MS {
            return zoom_error(
                400,
                300,
                "The date range defined by from and to should only be one month.",
            );
        }
        if from < today - MAX_AGE_DAYS * DAY_MS {
            return zoom_error(
                400,
                300,
                "The month should fall within the last six months.",
            );
        }
        // `live` by default: only webinars under way, which a fake that
        // has no "under way" lists as none (the harsher reading).
        let past = request.query_param("type").as_deref() == Some("past");
        let until = to + DAY_MS; // `to` is a whole day
        let items: Vec<Value> = {
            let state = self.lock();
            state
                .account
                .webinars
                .iter()
                .filter(|_| past)
                .filter_map(|w| {
                    let ran = w.ran.as_ref()?;
                    let start = parse_rfc3339(&ran.start_time)?;
                    let end = parse_rfc3339(&ran.end_time)?;
                    (start >= from && start < until)
                        .then(|| past_webinar_json(w, start, end, &state.account))
                })
                .collect()
        };
        let listing = format!("metrics/webinars/{}/{}", rfc3339(from), rfc3339(to));
        let mut answer = self.page(request, &listing, items, MAX_PAGE_SIZE, "webinars");
        // The answer names its range, as Zoom's does.
        if answer.status == 200
            && let Ok(Value::Object(mut body)) = serde_json::from_slice::<Value>(&answer.body)
        {
            body.insert("from".into(), json!(date(from)));
            body.insert("to".into(), json!(date(to)));
            answer = FakeResponse::json(200, &Value::Object(body));
        }
        answer
    }
}

fn past_webinar_json(w: &Webinar, start: i64, end: i64, account: &super::ZoomAccount) -> Value {
    let host = account.user_by_email(&w.host);
    let seconds = (end - start).max(0) / 1000;
    json!({
        "id": w.id,
        "uuid": w.uuid,
        "topic": w.topic,
        "host": host.map(|u| format!("{} {}", u.first_name, u.last_name).trim().to_owned()).unwrap_or_default(),
        "email": w.host,
        "user_type": "Licensed",
        "start_time": rfc3339(start),
        "end_time": rfc3339(end),
        "duration": format!("{:02}:{:02}:{:02}", seconds / 3600, seconds / 60 % 60, seconds % 60),
        "participants": w.participants.len(),
        "has_recording": w.recording.is_some(),
    })
}
