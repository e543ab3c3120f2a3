//! The Zoom REST client (Server-to-Server OAuth, REST v2).

use base64::Engine as _;
use serde_json::Value;

use super::http::{
    Headers, HttpClient, Method, Patience, RATE_LIMIT_PAUSE_MS, Request, Response, retry_after_ms,
    send_following_redirects,
};
use super::{Config, PluginError, keys, required};

mod past;
mod reads;
pub mod refusal;
pub mod registration;
pub mod scopes;
pub mod wire;
pub use past::{Past, PastWebinar};

pub const OAUTH_TOKEN_URL: &str = "https://zoom.us/oauth/token";
pub const API_BASE: &str = "https://api.zoom.us/v2";

/// A Server-to-Server OAuth access token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessToken {
    pub token: String,
    pub expires_in_s: u64,
    /// What the token was granted, space-separated; none when Zoom's
    /// answer did not say.
    pub scope: Option<String>,
}

/// Gets an access token with the account credentials grant. Zoom issues no
/// refresh token: a new one is requested when the old one expires.
pub fn fetch_token(http: &dyn HttpClient, config: &dyn Config) -> Result<AccessToken, PluginError> {
    let account_id = required(config, keys::ZOOM_ACCOUNT_ID)?;
    let client_id = required(config, keys::ZOOM_CLIENT_ID)?;
    let client_secret = required(config, keys::ZOOM_CLIENT_SECRET)?;
    let basic =
        base64::engine::general_purpose::STANDARD.encode(format!("{client_id}:{client_secret}"));
    // Zoom documents the grant in the query string.
    let url = format!("{OAUTH_TOKEN_URL}?grant_type=account_credentials&account_id={account_id}");
    let request = Request::new(Method::Post, url)
        .header("authorization", format!("Basic {basic}"))
        .header("content-type", "application/x-www-form-urlencoded");
    let response = http.send(request).map_err(|e| {
        PluginError::ZoomUnavailable(format!("could not reach Zoom's OAuth endpoint: {e}"))
    })?;
    if response.status == 400 || response.status == 401 {
        return Err(PluginError::Configuration(format!(
            "Zoom refused the Server-to-Server OAuth credentials ({}): check zoom.account-id, zoom.client-id and zoom.client-secret against the Zoom app",
            response.error_message()
        )));
    }
    if !response.is_success() {
        return Err(PluginError::ZoomUnavailable(format!(
            "Zoom's OAuth endpoint answered {}: {}",
            response.status,
            response.error_message()
        )));
    }
    let json = response.json().unwrap_or_default();
    match json.get("access_token").and_then(|t| t.as_str()) {
        Some(token) => Ok(AccessToken {
            token: token.to_owned(),
            expires_in_s: json
                .get("expires_in")
                .and_then(|e| e.as_u64())
                .unwrap_or(3600),
            scope: json
                .get("scope")
                .and_then(|s| s.as_str())
                .map(str::to_owned),
        }),
        None => Err(PluginError::ZoomUnavailable(
            "Zoom's OAuth answer has no access_token".into(),
        )),
    }
}

/// Zoom's largest page for registrants and the participants report (R31).
pub const PAGE_SIZE: u32 = 300;

/// Zoom's largest page of Zoom Events (`GET /zoom_events/events`).
pub const EVENTS_PAGE_SIZE: u32 = 300;

/// The stored access token, reused until a minute before it expires.
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredToken {
    token: String,
    expires_at_ms: i64,
}

/// Zoom REST v2 for the sync: reads, paged by 300, with the token cached in
/// storage. A 429 or a 5xx that persists is `ZoomUnavailable`: the caller
/// leaves the work for a later tick (R32).
pub struct ZoomClient<'a> {
    http: &'a dyn HttpClient,
    config: &'a dyn Config,
    store: &'a dyn super::Store,
    now_ms: i64,
    token: std::cell::RefCell<Option<String>>,
    patience: Patience,
    /// When a rate limit that waiting here does not lift (Zoom's daily
    /// limit, a `Retry-After` beyond the patience) lifts (R32).
    wait_until_ms: std::cell::Cell<Option<i64>>,
}

impl<'a> ZoomClient<'a> {
    pub fn new(
        http: &'a dyn HttpClient,
        config: &'a dyn Config,
        store: &'a dyn super::Store,
        now_ms: i64,
    ) -> Self {
        Self {
            http,
            config,
            store,
            now_ms,
            token: std::cell::RefCell::new(None),
            patience: Patience::default(),
            wait_until_ms: std::cell::Cell::new(None),
        }
    }

    fn token(&self, fresh: bool) -> Result<String, PluginError> {
        if !fresh {
            if let Some(token) = self.token.borrow().clone() {
                return Ok(token);
            }
            if let Some(stored) = super::load::<StoredToken>(self.store, super::schema::ZOOM_TOKEN)?
                && stored.expires_at_ms > self.now_ms + 60_000
            {
                *self.token.borrow_mut() = Some(stored.token.clone());
                return Ok(stored.token);
            }
        }
        let token = fetch_token(self.http, self.config)?;
        let stored = StoredToken {
            token: token.token.clone(),
            expires_at_ms: self.now_ms + token.expires_in_s as i64 * 1000,
        };
        self.store.write_batch(vec![
            (
                super::schema::ZOOM_TOKEN.into(),
                Some(super::encode(super::schema::ZOOM_TOKEN, &stored)?),
            ),
            (super::schema::ZOOM_TOKEN_BEFORE_SECRETS.into(), None),
        ])?;
        *self.token.borrow_mut() = Some(token.token.clone());
        Ok(token.token)
    }

    /// One call to `path` (under /v2) with the account's token: a refused
    /// token is renewed once, a transport error or a 5xx is tried again up
    /// to twice; any other answer is the caller's to read.
    pub fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Response, PluginError> {
        self.call_url(method, &format!("{API_BASE}{path}"), path, body)
    }

    fn call_url(
        &self,
        method: Method,
        url: &str,
        path: &str,
        body: Option<&serde_json::Value>,
    ) -> Result<Response, PluginError> {
        let mut fresh = false;
        let mut attempts = 0;
        loop {
            attempts += 1;
            let mut request = Request::new(method, url)
                .header("authorization", format!("Bearer {}", self.token(fresh)?));
            if let Some(body) = body {
                request = request.json(body);
            }
            // R11: a recording file's `download_url` answers 302 to a
            // storage host; the token goes to Zoom's first host only.
            let (response, headers) = match send_following_redirects(self.http, request) {
                Ok(answer) => answer,
                Err(_) if attempts < 3 => {
                    self.patience.retried();
                    continue;
                }
                Err(e) => {
                    return Err(PluginError::ZoomUnavailable(format!(
                        "could not reach Zoom for {path}: {e}"
                    )));
                }
            };
            match response.status {
                401 if !fresh => fresh = true,
                500..=599 if attempts < 3 => self.patience.retried(),
                // R32: reads wait out the per-second limit, as long as
                // Zoom's `Retry-After` says (a second when it says nothing).
                // Writes do not: Zoom also answers 429 for a person's
                // registrations of the day, which waiting does not lift.
                429 if method == Method::Get => {
                    let now_ms = self.now_ms + self.patience.waited_ms() as i64;
                    let limit = RateLimit::read(&response, &headers, now_ms);
                    if let Some(until) = limit.daily_until_ms(now_ms) {
                        self.wait_until_ms.set(Some(until));
                        return Err(PluginError::ZoomUnavailable(limit.daily_message(until)));
                    }
                    // At least a second: a `Retry-After: 0` that keeps
                    // coming must not spin.
                    let wait = limit
                        .retry_after_ms
                        .unwrap_or_default()
                        .max(RATE_LIMIT_PAUSE_MS as i64);
                    if !self.patience.wait_for(self.http, wait as u64) {
                        if limit.retry_after_ms.is_some() {
                            self.wait_until_ms.set(Some(now_ms + wait));
                        }
                        return Ok(response);
                    }
                }
                _ => return Ok(response),
            }
        }
    }

    /// GET `path` (under /v2); none when Zoom says the object does not exist.
    pub fn get(&self, path: &str) -> Result<Option<serde_json::Value>, PluginError> {
        let response = self.call(Method::Get, path, None)?;
        read_json(path, &response)
    }

    /// Every item of a paged list (R31: pages of 300), each read as a `T`
    /// as its page arrives, so only one page of raw JSON is held at a time
    /// (a 10,000-person webinar's JSON is many times its records); an
    /// item `T` cannot read is left out. None when the listed object does
    /// not exist.
    pub fn all_pages<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        field: &str,
    ) -> Result<Option<Vec<T>>, PluginError> {
        let mut items = Vec::new();
        let found = self.each_page(path, field, &mut |page| {
            items.extend(page);
            Ok(())
        })?;
        Ok(found.then_some(items))
    }

    /// The same list, each page's items handed to `each` before the next
    /// page is read: a large webinar's list is never held whole (issue 21).
    /// False when the listed object does not exist.
    pub fn each_page<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        field: &str,
        each: &mut dyn FnMut(Vec<T>) -> Result<(), PluginError>,
    ) -> Result<bool, PluginError> {
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut token = String::new();
        loop {
            let url = format!("{path}{separator}page_size={PAGE_SIZE}&next_page_token={token}");
            let Some(mut page) = self.get(&url)? else {
                return Ok(false);
            };
            let mut items = Vec::new();
            take_items(&mut page, field, &mut items);
            token = next_page_token(&page);
            drop(page);
            each(items)?;
            if token.is_empty() {
                return Ok(true);
            }
        }
    }
}

/// A page's list under `field`, each item read as a `T` (one `T` cannot
/// read is left out), moved out of the page onto `items`.
fn take_items<T: serde::de::DeserializeOwned>(page: &mut Value, field: &str, items: &mut Vec<T>) {
    if let Some(Value::Array(list)) = page.get_mut(field).map(Value::take) {
        items.extend(list.into_iter().filter_map(|v| T::deserialize(v).ok()));
    }
}

/// The token of a list's next page; empty on the last page.
fn next_page_token(page: &Value) -> String {
    page.get("next_page_token")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// What a 429 of Zoom's says about its limit, from the headers Zoom
/// documents (<https://developers.zoom.us/docs/api/rate-limits/>):
/// `X-RateLimit-Category` (Light, Medium, Heavy ...), `X-RateLimit-Type`
/// (`QPS` per second, `Daily-limit`), `X-RateLimit-Limit`,
/// `X-RateLimit-Remaining`, `Retry-After`. Zoom's forum reports daily
/// 429s without the headers, so the body's "daily rate limit" counts too.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RateLimit {
    category: String,
    daily: bool,
    limit: Option<u64>,
    retry_after_ms: Option<i64>,
}

impl RateLimit {
    fn read(response: &Response, headers: &Headers, now_ms: i64) -> Self {
        let daily = headers
            .get("x-ratelimit-type")
            .is_some_and(|t| t.to_ascii_lowercase().contains("daily"))
            || response
                .error_message()
                .to_ascii_lowercase()
                .contains("daily rate limit");
        Self {
            category: headers
                .get("x-ratelimit-category")
                .unwrap_or_default()
                .trim()
                .to_owned(),
            daily,
            limit: headers
                .get("x-ratelimit-limit")
                .and_then(|l| l.trim().parse().ok()),
            retry_after_ms: retry_after_ms(headers, now_ms),
        }
    }

    /// When a daily limit lifts: as `Retry-After` says, else at the next
    /// 00:00 UTC ("You may resume these requests at GMT 00:00:00").
    fn daily_until_ms(&self, now_ms: i64) -> Option<i64> {
        const DAY_MS: i64 = 86_400_000;
        self.daily.then(|| match self.retry_after_ms {
            Some(wait) => now_ms + wait,
            None => (now_ms.div_euclid(DAY_MS) + 1) * DAY_MS,
        })
    }

    fn daily_message(&self, until_ms: i64) -> String {
        let what = match (&self.limit, self.category.as_str()) {
            (Some(limit), "") => format!("of {limit} requests"),
            (Some(limit), category) => format!("of {limit} {category} requests"),
            (None, "") => "of requests".to_owned(),
            (None, category) => format!("of {category} requests"),
        };
        format!(
            "Zoom's daily limit {what} for the account was reached (every app on the Zoom account shares it); the sync waits until {}, when Zoom lifts it, and goes on then",
            crate::core::time::rfc3339(until_ms)
        )
    }
}

/// A GET's JSON answer; none when Zoom says the object does not exist
/// (404, or 400 with code 3001); any other answer is the error
/// [`refusal::error`] says it ends in.
fn read_json(path: &str, response: &Response) -> Result<Option<Value>, PluginError> {
    match response.status {
        200..=299 => Ok(Some(response.json().unwrap_or_default())),
        _ if refusal::missing(response) => Ok(None),
        _ => Err(refusal::error(path, response)),
    }
}

/// Zoom's error code in an error body.
pub fn zoom_code(response: &Response) -> Option<u64> {
    response
        .json()
        .and_then(|j| j.get("code").and_then(|c| c.as_u64()))
}

#[cfg(test)]
mod tests;
