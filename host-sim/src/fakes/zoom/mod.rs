//! Fake Zoom: Server-to-Server OAuth and recording downloads (`zoom.us`)
//! and REST v2 (`api.zoom.us`), over a [`ZoomAccount`]. Pages of at most
//! 300 with expiring `next_page_token`s, per-category rate limits, seeded
//! faults, and Zoom's error bodies and codes.
//!
//! This module holds [`FakeZoom`] itself (its settings, seed, save and
//! restore) and the answers its resources share; `routes.rs` answers a
//! request, `oauth.rs` issues and checks tokens, `paging.rs` pages
//! listings, and one module per resource (`lists.rs`, `registrants.rs`,
//! `reports.rs`, `recordings.rs`, `dashboard.rs`) the rest.

mod dashboard;
#[cfg(test)]
mod error_tests;
mod lists;
pub mod model;
mod oauth;
mod paging;
mod recordings;
mod refusals;
mod registrants;
mod reports;
mod routes;
#[cfg(test)]
mod tests;
pub mod webhooks;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use serde_json::{Value, json};

use super::{
    Fault, FaultPlan, Faults, PageTokens, RateLimiter, basic_credentials, bearer, form_pairs,
};
use crate::clock::{Clock, DAY_MS, parse_rfc3339, rfc3339};
use crate::outbound::{FakeRequest, FakeResponse};
use model::{Registrant, Webinar, ZoomAccount};
use recordings::recording_json;

pub const OAUTH_HOST: &str = "zoom.us";
pub const API_HOST: &str = "api.zoom.us";
/// Where a recording file's `download_url` redirects: Zoom's file storage,
/// a signed URL on another host (R11).
pub const STORAGE_HOST: &str = "ssrweb.zoom.us";
/// How long a storage URL's signature holds. Zoom documents none; real
/// ones carry a CloudFront `Policy` a few hours long. The harsher reading:
/// a minute, so a client must follow the redirect at once.
pub const STORAGE_URL_LIFETIME_MS: i64 = 60_000;

/// Zoom's page size limit for registrants and the participants report.
pub const MAX_PAGE_SIZE: usize = 300;
/// `GET /users` allows larger pages.
pub const MAX_USERS_PAGE_SIZE: usize = 2000;
/// Zoom's page tokens expire after 15 minutes.
pub const PAGE_TOKEN_LIFETIME_MS: i64 = 15 * 60 * 1000;
/// The same person may register for the same webinar at most 3 times a day.
pub const DAILY_REGISTRATIONS_PER_PERSON: u32 = 3;
/// Heavy (and resource-intensive) requests an account may make per UTC day
/// on the Pro plan (<https://developers.zoom.us/docs/api/rate-limits/>:
/// "Daily limit of 30,000 requests per day, shared by heavy and
/// resource-intensive APIs"; 60,000 on Business+).
pub const DAILY_HEAVY_REQUESTS_PRO: u32 = 30_000;

/// The token answer's `scope` when a scenario names none: every classic
/// scope the plugin uses (Zoom answers a space-separated list).
pub const ALL_SCOPES: &str = "webinar:read:admin webinar:write:admin report:read:admin recording:read:admin user:read:admin zoom_events:read:admin dashboard_webinars:read:admin";

/// The Server-to-Server OAuth app the fake accepts.
#[derive(Debug, Clone)]
pub struct ZoomApp {
    pub account_id: String,
    pub client_id: String,
    pub client_secret: String,
}

/// Zoom's rate limit categories (Pro plan, per second).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ZoomRateLimits {
    pub light: u32,
    pub medium: u32,
    pub heavy: u32,
}

impl ZoomRateLimits {
    pub const PRO: Self = Self {
        light: 30,
        medium: 20,
        heavy: 10,
    };
    pub const OFF: Self = Self {
        light: 0,
        medium: 0,
        heavy: 0,
    };
}

pub struct FakeZoom {
    app: ZoomApp,
    clock: Clock,
    token_lifetime: Duration,
    state: Mutex<State>,
    pages: PageTokens,
    light: RateLimiter,
    medium: RateLimiter,
    heavy: RateLimiter,
    limits: ZoomRateLimits,
    faults: Faults,
    /// Taken after `state`, never before.
    report_index: Mutex<reports::RegistrantIndex>,
}

#[derive(Default)]
struct State {
    account: ZoomAccount,
    /// Access token -> expiry (ms).
    tokens: HashMap<String, i64>,
    issued: u64,
    /// (webinar, email, day) -> registrations that day.
    registrations_today: HashMap<(u64, String, i64), u32>,
    next_registrant: u64,
    /// Heavy requests a day (0: no daily limit), and (day, count) so far.
    daily_heavy_limit: u32,
    heavy_today: (i64, u32),
    /// (path prefix, until ms): APIs whose limit another app on the
    /// account has spent (Zoom's limits are per account, shared by all apps).
    throttles: Vec<(String, i64)>,
    /// Users (by email) without a webinar licence.
    without_webinar_plan: Vec<String>,
    /// The account's plan has no Dashboard (below Business).
    without_dashboard: bool,
    /// How long after a webinar ends its participants report appears.
    report_delay_ms: i64,
    /// Zoom's retention of reports holds (`expire_reports`).
    reports_expire: bool,
    /// (path prefix, status, code, message): Zoom errors a test asks for,
    /// for codes the account does not produce by itself (see `refuse`).
    refusals: Vec<(String, u16, u32, String)>,
}

/// `answer` with Zoom's rate-limit headers.
fn rate_limited(mut answer: FakeResponse, headers: &[(&str, &str)]) -> FakeResponse {
    answer.headers.extend(
        headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned())),
    );
    answer
}

/// A per-second 429 (`X-RateLimit-Type: QPS`) with Zoom's words, and
/// `headers` beside the category and type.
fn per_second_limited(category: &str, headers: &[(&str, &str)]) -> FakeResponse {
    let answer = zoom_error(
        429,
        429,
        "You have reached the maximum per-second rate limit for this API. Try again later.",
    );
    let answer = rate_limited(
        answer,
        &[
            ("X-RateLimit-Category", category),
            ("X-RateLimit-Type", "QPS"),
        ],
    );
    rate_limited(answer, headers)
}

/// Zoom's error body: `{"code": ..., "message": ...}`.
pub fn zoom_error(status: u16, code: u32, message: &str) -> FakeResponse {
    FakeResponse::json(status, &json!({ "code": code, "message": message }))
}

fn webinar_not_found(id: &str) -> FakeResponse {
    zoom_error(404, 3001, &format!("Webinar does not exist: {id}."))
}

impl FakeZoom {
    pub fn new(app: ZoomApp, clock: Clock) -> Self {
        Self {
            app,
            clock,
            token_lifetime: Duration::from_secs(3600),
            state: Mutex::new(State {
                daily_heavy_limit: DAILY_HEAVY_REQUESTS_PRO,
                ..State::default()
            }),
            pages: PageTokens::new(PAGE_TOKEN_LIFETIME_MS),
            light: RateLimiter::new(ZoomRateLimits::PRO.light, 1000),
            medium: RateLimiter::new(ZoomRateLimits::PRO.medium, 1000),
            heavy: RateLimiter::new(ZoomRateLimits::PRO.heavy, 1000),
            limits: ZoomRateLimits::PRO,
            faults: Faults::new(FaultPlan::default()),
            report_index: Mutex::default(),
        }
    }

    /// Tokens expire after `lifetime` (Zoom: one hour).
    pub fn with_token_lifetime(mut self, lifetime: Duration) -> Self {
        self.token_lifetime = lifetime;
        self
    }

    pub fn with_rate_limits(mut self, limits: ZoomRateLimits) -> Self {
        self.light = RateLimiter::new(limits.light, 1000);
        self.medium = RateLimiter::new(limits.medium, 1000);
        self.heavy = RateLimiter::new(limits.heavy, 1000);
        self.limits = limits;
        self
    }

    /// Changes the injected faults from now on (Zoom goes down, comes back).
    pub fn set_faults(&self, plan: FaultPlan) {
        self.faults.set(plan);
    }

    pub fn with_faults(mut self, plan: FaultPlan) -> Self {
        self.faults = Faults::new(plan);
        self
    }

    /// `user` (an email) has no webinar licence: listing their webinars is
    /// refused with 400 code 200, as Zoom documents for List webinars
    /// ("Webinar plan is missing. You must subscribe to the webinar plan
    /// and enable webinar for this user.").
    pub fn remove_webinar_plan(&self, user: &str) {
        self.lock()
            .without_webinar_plan
            .push(user.to_ascii_lowercase());
    }

    /// Heavy requests allowed per UTC day (0: none counted).
    pub fn set_daily_heavy_limit(&self, limit: u32) {
        self.lock().daily_heavy_limit = limit;
    }

    /// Requests whose path (under `api.zoom.us`) starts with `prefix` are
    /// refused for `for_how_long`, each with a 429 and a `Retry-After` of
    /// the seconds left: the account's limit for them spent by another app.
    pub fn throttle(&self, prefix: &str, for_how_long: Duration) {
        let until = self.clock.now_ms() + for_how_long.as_millis() as i64;
        self.lock().throttles.push((prefix.to_owned(), until));
    }

    /// The rate limits' answer to a request of `category`, if it is refused:
    /// a 429 with Zoom's headers (<https://developers.zoom.us/docs/api/rate-limits/>,
    /// "Best practices for handling errors": `X-RateLimit-Category`,
    /// `X-RateLimit-Type` (`QPS` or `Daily-limit`), `X-RateLimit-Limit`,
    /// `X-RateLimit-Remaining`, and on a daily limit `Retry-After` with the
    /// UTC time it lifts, e.g. `2020-05-31T00:00:00Z`). Zoom documents no
    /// `Retry-After` on a per-second 429: the harsher reading, none, so the
    /// client must pause by itself.
    fn refusal(&self, request: &FakeRequest, category: &str) -> Option<FakeResponse> {
        let now = self.clock.now_ms();
        let day = now.div_euclid(DAY_MS);
        let mut state = self.lock();
        state.throttles.retain(|(_, until)| *until > now);
        if let Some((_, until)) = state
            .throttles
            .iter()
            .find(|(prefix, _)| request.path().starts_with(prefix.as_str()))
        {
            let seconds = (until - now + 999) / 1000;
            return Some(per_second_limited(
                category,
                &[
                    ("X-RateLimit-Remaining", "0"),
                    ("Retry-After", &seconds.to_string()),
                ],
            ));
        }
        if category == "Heavy" && state.daily_heavy_limit > 0 {
            if state.heavy_today.0 != day {
                state.heavy_today = (day, 0);
            }
            let limit = state.daily_heavy_limit;
            if state.heavy_today.1 >= limit {
                let message = format!(
                    "You have exceeded the daily rate limit ({limit}) of Heavy API requests permitted for this account. You may resume these requests at GMT 00:00:00."
                );
                return Some(rate_limited(
                    zoom_error(429, 429, &message),
                    &[
                        ("X-RateLimit-Category", category),
                        ("X-RateLimit-Type", "Daily-limit"),
                        ("X-RateLimit-Limit", &limit.to_string()),
                        ("X-RateLimit-Remaining", "0"),
                        ("Retry-After", &rfc3339((day + 1) * DAY_MS)),
                    ],
                ));
            }
            state.heavy_today.1 += 1;
        }
        None
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn lock_report_index(&self) -> std::sync::MutexGuard<'_, reports::RegistrantIndex> {
        self.report_index.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Replaces the account (ids and uuids filled in).
    pub fn seed(&self, mut account: ZoomAccount) {
        account.complete();
        self.lock().account = account;
    }

    /// Changes the account in place, e.g. a webinar ending or a recording completing.
    pub fn update<R>(&self, change: impl FnOnce(&mut ZoomAccount) -> R) -> R {
        let mut state = self.lock();
        let result = change(&mut state.account);
        state.account.complete();
        result
    }

    /// The account as it is now.
    pub fn account(&self) -> ZoomAccount {
        self.lock().account.clone()
    }

    /// The account and the registrant counter, to be
    /// [`restore`](Self::restore)d by a later process. Tokens are not kept:
    /// the plugin asks for a new one when Zoom refuses its old one.
    pub fn save(&self) -> Value {
        let state = self.lock();
        json!({ "account": state.account, "next_registrant": state.next_registrant })
    }

    pub fn restore(&self, saved: Value) -> Result<(), serde_json::Error> {
        #[derive(serde::Deserialize)]
        struct Saved {
            account: ZoomAccount,
            next_registrant: u64,
        }
        let saved: Saved = serde_json::from_value(saved)?;
        let mut state = self.lock();
        state.account = saved.account;
        state.next_registrant = saved.next_registrant;
        Ok(())
    }

    /// The account as JSON, for snapshots.
    pub fn dump(&self) -> Value {
        serde_json::to_value(self.account()).unwrap_or_default()
    }

    fn with_webinar(
        &self,
        id: &str,
        f: impl FnOnce(&Webinar, &ZoomAccount) -> FakeResponse,
    ) -> FakeResponse {
        let state = self.lock();
        match id
            .parse::<u64>()
            .ok()
            .and_then(|id| state.account.webinar(id))
        {
            Some(webinar) => f(webinar, &state.account),
            None => webinar_not_found(id),
        }
    }
}

fn user_json(user: &model::User) -> Value {
    json!({
        "id": user.id, "email": user.email, "first_name": user.first_name, "last_name": user.last_name,
        "type": 2, "status": "active", "timezone": "UTC",
    })
}

fn webinar_json(w: &Webinar, account: &ZoomAccount) -> Value {
    let host_id = account
        .user_by_email(&w.host)
        .map(|u| u.id.clone())
        .unwrap_or_default();
    json!({
        "id": w.id,
        "uuid": w.uuid,
        "host_id": host_id,
        "host_email": w.host,
        "topic": w.topic,
        "type": w.r#type,
        "start_time": w.start_time,
        "duration": w.duration,
        "timezone": w.timezone,
        "created_at": w.start_time,
        "join_url": w.join_url(),
        "settings": {
            "approval_type": w.approval_type,
            "registration_type": 1,
            "host_video": true,
            "panelists_video": true,
        },
    })
}
