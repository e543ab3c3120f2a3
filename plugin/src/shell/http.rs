//! The outbound HTTP port.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Self {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    pub fn header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    pub fn json(mut self, body: &serde_json::Value) -> Self {
        self.body = body.to_string().into_bytes();
        self.header("content-type", "application/json")
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Response {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_slice(&self.body).ok()
    }

    /// The `message` of a JSON error body (Zoom's and the CRM's both have one),
    /// or the start of the raw body.
    pub fn error_message(&self) -> String {
        let json = self.json();
        let field = |name: &str| {
            json.as_ref()
                .and_then(|j| j.get(name))
                .and_then(|m| m.as_str())
                .map(str::to_owned)
        };
        field("message")
            .or_else(|| field("reason"))
            .unwrap_or_else(|| {
                String::from_utf8_lossy(&self.body)
                    .chars()
                    .take(200)
                    .collect()
            })
    }
}

/// The request never got an HTTP answer: denied by the host, connection
/// refused, timed out. The string says which, as the host reported it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TransportError(pub String);

/// An answer's headers, as sent (names compared without case).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(pub Vec<(String, String)>);

impl Headers {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one request and waits for the whole answer.
pub trait HttpClient {
    fn send(&self, request: Request) -> Result<Response, TransportError>;

    /// The answer with its headers (R32: `Retry-After`, `X-RateLimit-*`;
    /// R11: a redirect's `Location`). A port that keeps no headers (most
    /// of the shell's tests) answers with none.
    fn send_with_headers(&self, request: Request) -> Result<(Response, Headers), TransportError> {
        self.send(request).map(|r| (r, Headers::default()))
    }

    /// Waits before trying again after a rate limit. A port without a
    /// clock (the shell's tests) does not wait.
    fn pause(&self, _ms: u64) {}
}

/// R32: rate limits are waited out inside the call, a pause at a time, up
/// to this much waiting per client; past it the work is left for a later
/// tick. Enough for a 10,000-person sync at the CRM's 100 calls per 10 s
/// (about 60 s of waiting) inside the host's 120 s for a sync call.
pub const RATE_LIMIT_PATIENCE_MS: u64 = 80_000;
/// The wait between tries: the CRM counts calls per 10 s and Zoom per
/// second, so a second's pause loses at most a second of a window.
pub const RATE_LIMIT_PAUSE_MS: u64 = 1_000;

/// How long to wait before trying again, from a 429's headers, in ms from
/// `now_ms`: `Retry-After` as seconds or as a time (Zoom writes the UTC
/// time its daily limit lifts, `2020-05-31T00:00:00Z`; HTTP allows an
/// IMF date, `Wed, 21 Oct 2015 07:28:00 GMT`), else an `X-RateLimit-Reset`
/// (seconds, or a Unix time in seconds). None when the answer says nothing.
pub fn retry_after_ms(headers: &Headers, now_ms: i64) -> Option<i64> {
    let at = |text: &str| -> Option<i64> {
        let text = text.trim();
        if let Ok(seconds) = text.parse::<i64>() {
            // A Unix time, not a delay: a reset header's usual form.
            return Some(if seconds > 1_000_000_000 {
                seconds * 1000 - now_ms
            } else {
                seconds * 1000
            });
        }
        let time = crate::core::time::parse_rfc3339(text).or_else(|| imf_date_ms(text))?;
        Some(time - now_ms)
    };
    headers
        .get("retry-after")
        .and_then(at)
        .or_else(|| headers.get("x-ratelimit-reset").and_then(at))
        .map(|ms| ms.max(0))
}

/// `Wed, 21 Oct 2015 07:28:00 GMT` (RFC 9110's IMF-fixdate), in ms.
fn imf_date_ms(text: &str) -> Option<i64> {
    let mut parts = text.split_whitespace().skip(1);
    let day: u32 = parts.next()?.parse().ok()?;
    let month = parts.next()?;
    let year: u32 = parts.next()?.parse().ok()?;
    let time = parts.next()?;
    if parts.next()? != "GMT" {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let month = MONTHS.iter().position(|m| *m == month)? + 1;
    crate::core::time::parse_rfc3339(&format!("{year:04}-{month:02}-{day:02}T{time}Z"))
}

/// How long one client has waited on rate limits, and how many requests
/// it has sent again (a 5xx, no answer, a rate limit): the sync's summary
/// in the audit log says so.
#[derive(Debug, Default)]
pub struct Patience {
    waited_ms: std::cell::Cell<u64>,
    retries: std::cell::Cell<u32>,
}

impl Patience {
    /// Pauses once and says so; false when the patience is spent.
    pub fn wait(&self, http: &dyn HttpClient) -> bool {
        self.wait_for(http, RATE_LIMIT_PAUSE_MS)
    }

    /// Pauses `ms` (a `Retry-After`, R32) and says so; false, without
    /// pausing, when that would spend more than the patience left.
    pub fn wait_for(&self, http: &dyn HttpClient, ms: u64) -> bool {
        let waited = self.waited_ms.get();
        if waited + ms > RATE_LIMIT_PATIENCE_MS {
            return false;
        }
        http.pause(ms);
        self.waited_ms.set(waited + ms);
        self.retried();
        true
    }

    /// Pauses `ms` before a request that would otherwise be refused (the
    /// CRM said none are left in its window); not a retry. False, without
    /// pausing, when the patience is spent.
    pub fn hold(&self, http: &dyn HttpClient, ms: u64) -> bool {
        let waited = self.waited_ms.get();
        if waited + ms > RATE_LIMIT_PATIENCE_MS {
            return false;
        }
        http.pause(ms);
        self.waited_ms.set(waited + ms);
        true
    }

    /// How long this client has paused so far.
    pub fn waited_ms(&self) -> u64 {
        self.waited_ms.get()
    }

    /// A request is sent again.
    pub fn retried(&self) {
        self.retries.set(self.retries.get() + 1);
    }

    pub fn retries(&self) -> u32 {
        self.retries.get()
    }
}

/// Redirects followed for one request before giving up (R11).
pub const MAX_REDIRECTS: usize = 5;

/// `scheme://authority` and the rest (`/path?query`) of an absolute URL.
fn origin_and_rest(url: &str) -> Option<(&str, &str)> {
    let scheme_end = url.find("://")? + 3;
    let rest_start = url[scheme_end..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| scheme_end + i);
    let origin = &url[..rest_start];
    (rest_start > scheme_end).then_some((origin, &url[rest_start..]))
}

/// The lower-case host of an absolute URL (no user info, no port).
pub fn host_of(url: &str) -> Option<String> {
    let (origin, _) = origin_and_rest(url)?;
    let authority = &origin[origin.find("://")? + 3..];
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let host = authority.split(':').next().unwrap_or(authority);
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// Where a `Location` points, from the URL that answered it.
fn resolve(base: &str, location: &str) -> Option<String> {
    let location = location.trim();
    if location.contains("://") {
        return origin_and_rest(location).map(|_| location.to_owned());
    }
    let (origin, rest) = origin_and_rest(base)?;
    if let Some(scheme_relative) = location.strip_prefix("//") {
        let scheme = &origin[..origin.find("://")?];
        return resolve(base, &format!("{scheme}://{scheme_relative}"));
    }
    if location.starts_with('/') {
        return Some(format!("{origin}{location}"));
    }
    let path = rest.split(['?', '#']).next().unwrap_or_default();
    let dir = path.rfind('/').map_or("/", |i| &path[..=i]);
    Some(format!("{origin}{dir}{location}"))
}

fn same_origin(a: &str, b: &str) -> bool {
    match (origin_and_rest(a), origin_and_rest(b)) {
        (Some((a, _)), Some((b, _))) => a.eq_ignore_ascii_case(b),
        _ => false,
    }
}

/// Sends `request` and follows the answer's redirects (301, 302, 303, 307,
/// 308), at most [`MAX_REDIRECTS`]: a recording's `download_url` answers
/// 302 to a storage host (R11). Each hop is a new request, which the host
/// checks against its allow-list like any other.
///
/// The credentials (`authorization`, `cookie`) go to the first origin
/// only: a redirect to another host gets none. Zoom's storage redirects
/// carry their own signature in the URL, and Zoom documents nothing that
/// asks for the token to follow (curl and browsers drop it too). A
/// redirect from https to plain http is refused rather than followed.
pub fn send_following_redirects(
    http: &dyn HttpClient,
    request: Request,
) -> Result<(Response, Headers), TransportError> {
    let first = request.url.clone();
    let mut request = request;
    let mut hops = 0;
    loop {
        let url = request.url.clone();
        let (response, headers) = http.send_with_headers(request.clone())?;
        let redirect = matches!(response.status, 301 | 302 | 303 | 307 | 308);
        let Some(location) = headers.get("location").filter(|_| redirect) else {
            return Ok((response, headers));
        };
        if hops == MAX_REDIRECTS {
            return Err(TransportError(format!(
                "more than {MAX_REDIRECTS} redirects from {}",
                host_of(&first).unwrap_or_default()
            )));
        }
        hops += 1;
        let Some(next) = resolve(&url, location) else {
            return Err(TransportError(format!(
                "{} redirected to an address that is not a URL: {location:?}",
                host_of(&url).unwrap_or_default()
            )));
        };
        if url.starts_with("https://") && !next.starts_with("https://") {
            return Err(TransportError(format!(
                "{} redirected to an address that is not https: {}",
                host_of(&url).unwrap_or_default(),
                host_of(&next).unwrap_or_default()
            )));
        }
        if !same_origin(&url, &next) {
            request.headers.retain(|(name, _)| {
                !name.eq_ignore_ascii_case("authorization") && !name.eq_ignore_ascii_case("cookie")
            });
        }
        // 303, and 301/302 after a POST as every client does: a GET without the body.
        if response.status == 303
            || (matches!(response.status, 301 | 302) && request.method != Method::Get)
        {
            request.method = Method::Get;
            request.body.clear();
            request
                .headers
                .retain(|(name, _)| !name.eq_ignore_ascii_case("content-type"));
        }
        request.url = next;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// A URL, the status it answers and its headers.
    type Answer = (&'static str, u16, Vec<(&'static str, &'static str)>);

    /// Answers from a script (the body is the URL); records what it was sent.
    struct Scripted {
        answers: Vec<Answer>,
        sent: RefCell<Vec<Request>>,
    }

    impl HttpClient for Scripted {
        fn send(&self, request: Request) -> Result<Response, TransportError> {
            self.send_with_headers(request).map(|(r, _)| r)
        }

        fn send_with_headers(
            &self,
            request: Request,
        ) -> Result<(Response, Headers), TransportError> {
            self.sent.borrow_mut().push(request.clone());
            let (_, status, headers) = self
                .answers
                .iter()
                .find(|(url, ..)| *url == request.url)
                .ok_or_else(|| TransportError(format!("no answer for {}", request.url)))?;
            let headers = headers
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect();
            Ok((
                Response {
                    status: *status,
                    body: request.url.clone().into_bytes(),
                },
                Headers(headers),
            ))
        }
    }

    fn scripted(answers: Vec<Answer>) -> Scripted {
        Scripted {
            answers,
            sent: RefCell::new(Vec::new()),
        }
    }

    fn authorization(request: &Request) -> Option<&str> {
        request
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("authorization"))
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn r11_a_download_follows_a_302_to_a_storage_host_without_the_token() {
        let http = scripted(vec![
            (
                "https://zoom.us/rec/download/f1",
                302,
                vec![("Location", "https://ssrweb.zoom.us/file/f1?Signature=s")],
            ),
            ("https://ssrweb.zoom.us/file/f1?Signature=s", 200, vec![]),
        ]);
        let request = Request::new(Method::Get, "https://zoom.us/rec/download/f1")
            .header("authorization", "Bearer secret");
        let (response, _) = send_following_redirects(&http, request).unwrap();
        assert_eq!(response.status, 200);
        assert_eq!(response.body, b"https://ssrweb.zoom.us/file/f1?Signature=s");
        let sent = http.sent.borrow();
        assert_eq!(authorization(&sent[0]), Some("Bearer secret"));
        assert_eq!(
            authorization(&sent[1]),
            None,
            "the token stays with zoom.us"
        );
    }

    #[test]
    fn r11_a_redirect_on_the_same_host_keeps_the_token_and_relative_locations_resolve() {
        let http = scripted(vec![
            ("https://zoom.us/a/b", 307, vec![("location", "/c?x=1")]),
            ("https://zoom.us/c?x=1", 302, vec![("location", "d")]),
            ("https://zoom.us/d", 200, vec![]),
        ]);
        let request =
            Request::new(Method::Get, "https://zoom.us/a/b").header("Authorization", "Bearer t");
        let (response, _) = send_following_redirects(&http, request).unwrap();
        assert_eq!(response.status, 200);
        assert!(
            http.sent
                .borrow()
                .iter()
                .all(|r| authorization(r) == Some("Bearer t"))
        );
    }

    #[test]
    fn r11_redirects_are_bounded_and_never_downgrade_to_http() {
        let looping = scripted(vec![(
            "https://zoom.us/loop",
            302,
            vec![("location", "/loop")],
        )]);
        let e =
            send_following_redirects(&looping, Request::new(Method::Get, "https://zoom.us/loop"))
                .unwrap_err();
        assert!(e.0.contains("more than 5 redirects from zoom.us"), "{e}");
        assert_eq!(looping.sent.borrow().len(), MAX_REDIRECTS + 1);

        let downgrade = scripted(vec![(
            "https://zoom.us/x",
            301,
            vec![("location", "http://zoom.us/x")],
        )]);
        let e =
            send_following_redirects(&downgrade, Request::new(Method::Get, "https://zoom.us/x"))
                .unwrap_err();
        assert!(e.0.contains("not https"), "{e}");
    }

    #[test]
    fn a_3xx_without_a_location_and_any_other_answer_are_returned_as_they_are() {
        let http = scripted(vec![("https://zoom.us/x", 304, vec![])]);
        let (response, _) =
            send_following_redirects(&http, Request::new(Method::Get, "https://zoom.us/x"))
                .unwrap();
        assert_eq!(response.status, 304);
    }

    #[test]
    fn r32_retry_after_in_seconds_as_a_time_or_a_reset() {
        let now = crate::core::time::parse_rfc3339("2026-11-20T17:00:00Z").unwrap();
        let headers = |pairs: &[(&str, &str)]| {
            Headers(
                pairs
                    .iter()
                    .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                    .collect(),
            )
        };
        assert_eq!(
            retry_after_ms(&headers(&[("Retry-After", "7")]), now),
            Some(7_000)
        );
        assert_eq!(
            retry_after_ms(&headers(&[("retry-after", "2026-11-21T00:00:00Z")]), now),
            Some(7 * 3_600_000)
        );
        assert_eq!(
            retry_after_ms(
                &headers(&[("Retry-After", "Fri, 20 Nov 2026 17:00:30 GMT")]),
                now
            ),
            Some(30_000)
        );
        assert_eq!(
            retry_after_ms(
                &headers(&[("X-RateLimit-Reset", &(now / 1000 + 5).to_string())]),
                now
            ),
            Some(5_000)
        );
        assert_eq!(
            retry_after_ms(&headers(&[("Retry-After", "2026-11-20T16:00:00Z")]), now),
            Some(0)
        );
        for nonsense in ["soon", "", "-", "Fri, 99 Nov 2026 17:00:30 GMT"] {
            assert_eq!(
                retry_after_ms(&headers(&[("Retry-After", nonsense)]), now),
                None,
                "{nonsense}"
            );
        }
        assert_eq!(retry_after_ms(&Headers::default(), now), None);
    }

    #[test]
    fn hosts_of_urls() {
        assert_eq!(
            host_of("https://User@SSRWEB.zoom.us:443/f?x").as_deref(),
            Some("ssrweb.zoom.us")
        );
        assert_eq!(host_of("https://zoom.us").as_deref(), Some("zoom.us"));
        assert_eq!(host_of("zoom.us/x"), None);
        assert_eq!(host_of("https:///x"), None);
    }
}
