//! The Zoom client against scripted answers: rate limits (R32) and the
//! refusals that end a read (issue 18).

use std::cell::{Cell, RefCell};

use super::*;
use crate::core::time::parse_rfc3339;
use crate::shell::http::TransportError;
use crate::shell::memory::MemoryStore;
use crate::shell::ports::{Zoom, ZoomReport as Report};

struct AnyConfig;
impl Config for AnyConfig {
    fn get(&self, key: &str) -> Result<Option<String>, String> {
        Ok(Some(format!("value-of-{key}")))
    }
}

/// Zoom answering GETs with `refusals` 429s (with `headers`) before a 200;
/// counts the requests and the pauses it was asked for.
struct Limited {
    refusals: Cell<u32>,
    headers: Vec<(&'static str, String)>,
    body: serde_json::Value,
    requests: Cell<u32>,
    paused_ms: RefCell<Vec<u64>>,
}

impl Limited {
    fn new(refusals: u32, headers: &[(&'static str, &str)]) -> Self {
        Self {
            refusals: Cell::new(refusals),
            headers: headers.iter().map(|(n, v)| (*n, (*v).to_owned())).collect(),
            body: serde_json::json!({
                "code": 429,
                "message": "You have reached the maximum per-second rate limit for this API. Try again later."
            }),
            requests: Cell::new(0),
            paused_ms: RefCell::new(Vec::new()),
        }
    }
}

impl HttpClient for Limited {
    fn send(&self, request: Request) -> Result<Response, TransportError> {
        self.send_with_headers(request).map(|(r, _)| r)
    }

    fn send_with_headers(&self, request: Request) -> Result<(Response, Headers), TransportError> {
        let answer = |status, body: serde_json::Value| Response {
            status,
            body: body.to_string().into_bytes(),
        };
        if request.url.starts_with(OAUTH_TOKEN_URL) {
            let token = serde_json::json!({ "access_token": "t", "expires_in": 3600 });
            return Ok((answer(200, token), Headers::default()));
        }
        self.requests.set(self.requests.get() + 1);
        if self.refusals.get() == 0 {
            return Ok((
                answer(200, serde_json::json!({ "id": 1 })),
                Headers::default(),
            ));
        }
        self.refusals.set(self.refusals.get() - 1);
        let headers = self
            .headers
            .iter()
            .map(|(n, v)| ((*n).to_owned(), v.clone()))
            .collect();
        Ok((answer(429, self.body.clone()), Headers(headers)))
    }

    fn pause(&self, ms: u64) {
        self.paused_ms.borrow_mut().push(ms);
    }
}

fn now() -> i64 {
    parse_rfc3339("2026-11-20T17:00:00Z").unwrap()
}

#[test]
fn r32_a_429_with_retry_after_7_waits_7_seconds_once() {
    let zoom = Limited::new(1, &[("X-RateLimit-Type", "QPS"), ("Retry-After", "7")]);
    let store = MemoryStore::default();
    let client = ZoomClient::new(&zoom, &AnyConfig, &store, now());
    assert_eq!(
        client.get("/webinars/1").unwrap(),
        Some(serde_json::json!({ "id": 1 }))
    );
    assert_eq!(*zoom.paused_ms.borrow(), [7_000]);
    assert_eq!(zoom.requests.get(), 2);
    assert_eq!(client.take_wait_until_ms(), None);
}

#[test]
fn r32_a_429_without_headers_waits_a_second_at_a_time() {
    let zoom = Limited::new(2, &[]);
    let store = MemoryStore::default();
    let client = ZoomClient::new(&zoom, &AnyConfig, &store, now());
    assert!(client.get("/webinars/1").unwrap().is_some());
    assert_eq!(*zoom.paused_ms.borrow(), [1_000, 1_000]);
}

#[test]
fn r32_zooms_daily_limit_is_waited_for_until_it_lifts_not_retried() {
    let zoom = Limited::new(
        u32::MAX,
        &[
            ("X-RateLimit-Category", "Heavy"),
            ("X-RateLimit-Type", "Daily-limit"),
            ("X-RateLimit-Limit", "30000"),
            ("X-RateLimit-Remaining", "0"),
            ("Retry-After", "2026-11-21T00:00:00Z"),
        ],
    );
    let store = MemoryStore::default();
    let client = ZoomClient::new(&zoom, &AnyConfig, &store, now());
    let e = client.get("/report/webinars/1/participants").unwrap_err();
    assert!(
        e.to_string().contains(
            "daily limit of 30000 Heavy requests for the account was reached (every app on the Zoom account shares it); the sync waits until 2026-11-21T00:00:00Z, when Zoom lifts it"
        ),
        "{e}"
    );
    assert!(
        zoom.paused_ms.borrow().is_empty(),
        "no waiting inside the call"
    );
    assert_eq!(zoom.requests.get(), 1, "and no retry");
    assert_eq!(
        client.take_wait_until_ms(),
        parse_rfc3339("2026-11-21T00:00:00Z")
    );
    assert_eq!(client.take_wait_until_ms(), None, "taken");
}

#[test]
fn r32_a_daily_limit_told_only_in_the_body_lifts_at_midnight_utc() {
    let mut zoom = Limited::new(u32::MAX, &[]);
    zoom.body = serde_json::json!({
        "code": 429,
        "message": "You have exceeded the daily rate limit (30000) of Heavy API requests permitted for this account. You may resume these requests at GMT 00:00:00."
    });
    let store = MemoryStore::default();
    let client = ZoomClient::new(&zoom, &AnyConfig, &store, now());
    assert!(client.get("/report/webinars/1").is_err());
    assert_eq!(
        client.take_wait_until_ms(),
        parse_rfc3339("2026-11-21T00:00:00Z")
    );
}

#[test]
fn r32_a_retry_after_of_0_still_waits_a_second_and_the_patience_ends_it() {
    let zoom = Limited::new(u32::MAX, &[("Retry-After", "0")]);
    let store = MemoryStore::default();
    let client = ZoomClient::new(&zoom, &AnyConfig, &store, now());
    assert!(client.get("/webinars/1").is_err());
    let paused = zoom.paused_ms.borrow();
    assert!(paused.iter().all(|ms| *ms == 1_000), "{paused:?}");
    assert_eq!(
        paused.len() as u64,
        crate::shell::http::RATE_LIMIT_PATIENCE_MS / 1_000
    );
}

#[test]
fn r32_a_retry_after_beyond_the_patience_is_left_for_later() {
    let zoom = Limited::new(u32::MAX, &[("Retry-After", "600")]);
    let store = MemoryStore::default();
    let client = ZoomClient::new(&zoom, &AnyConfig, &store, now());
    assert!(client.get("/webinars/1").is_err());
    assert!(zoom.paused_ms.borrow().is_empty());
    assert_eq!(client.take_wait_until_ms(), Some(now() + 600_000));
}

/// Zoom answering every API request with `status` and `body` (and a
/// token to whoever asks); counts the API requests and the tokens issued.
struct Answering {
    status: u16,
    body: serde_json::Value,
    requests: Cell<u32>,
    tokens: Cell<u32>,
}

impl Answering {
    fn new(status: u16, code: u64, message: &str) -> Self {
        Self {
            status,
            body: serde_json::json!({ "code": code, "message": message }),
            requests: Cell::new(0),
            tokens: Cell::new(0),
        }
    }
}

impl HttpClient for Answering {
    fn send(&self, request: Request) -> Result<Response, TransportError> {
        let (status, body) = if request.url.starts_with(OAUTH_TOKEN_URL) {
            self.tokens.set(self.tokens.get() + 1);
            (
                200,
                serde_json::json!({ "access_token": "t", "expires_in": 3600 }),
            )
        } else {
            self.requests.set(self.requests.get() + 1);
            (self.status, self.body.clone())
        };
        Ok(Response {
            status,
            body: body.to_string().into_bytes(),
        })
    }
}

/// Issue 18: the participants report's documented refusals are answers
/// (the sync explains them), not outages retried for ever; 404 / 3001 is a
/// report not made yet.
#[test]
fn issue_18_the_participants_reports_refusals_are_answers_not_outages() {
    let store = MemoryStore::default();
    let refused = [
        (400, 12702, "Can not access webinar a year ago."),
        (400, 200, "No permission."),
        (400, 1010, "User does not belong to this account: abc."),
    ];
    for (status, code, message) in refused {
        let zoom = Answering::new(status, code, message);
        let client = ZoomClient::new(&zoom, &AnyConfig, &store, now());
        let Report::Refused(why) = client.participants("81234567890", &mut |_| Ok(())).unwrap()
        else {
            panic!("{code} is a refusal");
        };
        assert!(
            why.contains(&format!("{status} code {code}: {message}")),
            "{why}"
        );
        assert_eq!(zoom.requests.get(), 1, "asked once");
    }
    for (status, code) in [(404, 3001), (400, 3001)] {
        let zoom = Answering::new(
            status,
            code,
            "Webinar 81234567890 not found or has expired.",
        );
        let client = ZoomClient::new(&zoom, &AnyConfig, &store, now());
        assert_eq!(
            client.participants("81234567890", &mut |_| Ok(())).unwrap(),
            Report::NotYet
        );
    }
    let zoom = Answering::new(400, 12702, "Can not access webinar a year ago.");
    let client = ZoomClient::new(&zoom, &AnyConfig, &store, now());
    assert!(matches!(
        client.ran("81234567890").unwrap(),
        Report::Refused(_)
    ));
}

/// Issue 18: a token Zoom refuses even when new (401 code 124 twice) is
/// renewed once, then the Zoom app's to fix, not an outage to retry.
#[test]
fn issue_18_a_token_refused_twice_is_the_zoom_apps_to_fix() {
    let store = MemoryStore::default();
    let zoom = Answering::new(401, 124, "Invalid access token.");
    let client = ZoomClient::new(&zoom, &AnyConfig, &store, now());
    let e = client
        .participants("81234567890", &mut |_| Ok(()))
        .unwrap_err();
    assert!(
        matches!(&e, PluginError::Configuration(m) if m.contains("Server-to-Server OAuth app is activated")),
        "{e:?}"
    );
    assert_eq!(
        (zoom.requests.get(), zoom.tokens.get()),
        (2, 2),
        "renewed once"
    );
}

/// R14, issue 18: an events list refused for a missing scope is not "no
/// Zoom Events": guessing so would sync an event's webinar.
#[test]
fn r14_a_zoom_events_list_refused_for_its_scope_is_an_error_not_no_events() {
    let store = MemoryStore::default();
    let zoom = Answering::new(
        400,
        4711,
        "Invalid access token, does not contain scopes:[zoom_events:read:list_events:admin, zoom_events:read:admin].",
    );
    let client = ZoomClient::new(&zoom, &AnyConfig, &store, now());
    let e = client.zoom_event_webinars().unwrap_err();
    assert!(
        e.to_string()
            .contains("add zoom_events:read:list_events:admin (or zoom_events:read:admin)"),
        "{e}"
    );
    // An account without Zoom Events (another 4xx) has none.
    let zoom = Answering::new(400, 200, "No permission.");
    let client = ZoomClient::new(&zoom, &AnyConfig, &store, now());
    assert!(client.zoom_event_webinars().unwrap().is_empty());
}
