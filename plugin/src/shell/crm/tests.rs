use std::cell::{Cell, RefCell};

use super::*;
use crate::shell::http::{RATE_LIMIT_PATIENCE_MS, TransportError};

/// A CRM that answers 429 (with `policy`) a number of times, then 200,
/// and counts the pauses it was asked for.
struct RateLimited {
    policy: &'static str,
    refusals: Cell<u32>,
    paused_ms: Cell<u64>,
    requests: RefCell<u32>,
}

impl RateLimited {
    fn new(policy: &'static str, refusals: u32) -> Self {
        Self {
            policy,
            refusals: Cell::new(refusals),
            paused_ms: Cell::new(0),
            requests: RefCell::new(0),
        }
    }
}

impl HttpClient for RateLimited {
    fn send(&self, _request: Request) -> Result<Response, TransportError> {
        *self.requests.borrow_mut() += 1;
        if self.refusals.get() == 0 {
            return Ok(Response {
                status: 200,
                body: br#"{"status":"COMPLETE","results":[]}"#.to_vec(),
            });
        }
        self.refusals.set(self.refusals.get() - 1);
        let body = json!({
            "status": "error",
            "message": "You have reached your ten_secondly_rolling limit.",
            "errorType": "RATE_LIMIT",
            "policyName": self.policy,
        });
        Ok(Response {
            status: 429,
            body: body.to_string().into_bytes(),
        })
    }

    fn pause(&self, ms: u64) {
        self.paused_ms.set(self.paused_ms.get() + ms);
    }
}

struct Token;
impl Config for Token {
    fn get(&self, _key: &str) -> Result<Option<String>, String> {
        Ok(Some("token".into()))
    }
}

fn batch(http: &RateLimited) -> Result<BatchAnswer, PluginError> {
    CrmClient::connect(http, &Token).unwrap().batch(
        "/crm/v3/objects/contacts/batch/update",
        json!({}),
        vec![],
        "updating",
    )
}

/// Answers 200 with `remaining` requests left in a 10 s window.
struct Counting {
    remaining: Cell<u32>,
    paused_ms: Cell<u64>,
}

impl HttpClient for Counting {
    fn send(&self, request: Request) -> Result<Response, TransportError> {
        self.send_with_headers(request).map(|(r, _)| r)
    }

    fn send_with_headers(&self, _request: Request) -> Result<(Response, Headers), TransportError> {
        let left = self.remaining.get();
        self.remaining.set(left.saturating_sub(1));
        let headers = Headers(vec![
            ("X-HubSpot-RateLimit-Max".into(), "100".into()),
            (
                "X-HubSpot-RateLimit-Remaining".into(),
                left.saturating_sub(1).to_string(),
            ),
            (
                "X-HubSpot-RateLimit-Interval-Milliseconds".into(),
                "10000".into(),
            ),
        ]);
        Ok((
            Response {
                status: 200,
                body: br#"{"results":[]}"#.to_vec(),
            },
            headers,
        ))
    }

    fn pause(&self, ms: u64) {
        self.paused_ms.set(self.paused_ms.get() + ms);
        self.remaining.set(100);
    }
}

#[test]
fn r32_a_spent_window_is_waited_for_before_the_next_request_not_after_a_429() {
    let http = Counting {
        remaining: Cell::new(2),
        paused_ms: Cell::new(0),
    };
    let client = CrmClient::connect(&http, &Token).unwrap();
    client.batch("/x", json!({}), vec![], "a").unwrap();
    assert_eq!(http.paused_ms.get(), 0, "one request was left");
    client.batch("/x", json!({}), vec![], "b").unwrap();
    assert_eq!(
        http.paused_ms.get(),
        0,
        "the pause waits for a next request"
    );
    client.batch("/x", json!({}), vec![], "c").unwrap();
    assert_eq!(http.paused_ms.get(), 10_000);
    assert_eq!(
        client.retries(),
        0,
        "a pause before a request is not a retry"
    );
}

#[test]
fn r32_the_ten_second_limit_is_waited_out_in_the_call() {
    let crm = RateLimited::new("TEN_SECONDLY_ROLLING", 7);
    assert!(batch(&crm).is_ok());
    assert_eq!(*crm.requests.borrow(), 8);
    assert_eq!(crm.paused_ms.get(), 7 * 1_000);
}

#[test]
fn r32_past_its_patience_the_call_leaves_the_rest_for_a_tick() {
    let crm = RateLimited::new("TEN_SECONDLY_ROLLING", u32::MAX);
    let error = batch(&crm).unwrap_err();
    assert!(matches!(error, PluginError::CrmUnavailable(_)), "{error:?}");
    assert_eq!(crm.paused_ms.get(), RATE_LIMIT_PATIENCE_MS);
}

#[test]
fn r32_the_daily_limit_is_not_waited_for() {
    let crm = RateLimited::new("DAILY", 1);
    let error = batch(&crm).unwrap_err();
    assert!(error.to_string().contains("rate limit"), "{error}");
    assert_eq!(crm.paused_ms.get(), 0);
    assert_eq!(*crm.requests.borrow(), 1);
}
