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

/// Sends one request and waits for the whole answer.
pub trait HttpClient {
    fn send(&self, request: Request) -> Result<Response, TransportError>;

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
        let waited = self.waited_ms.get();
        if waited + RATE_LIMIT_PAUSE_MS > RATE_LIMIT_PATIENCE_MS {
            return false;
        }
        http.pause(RATE_LIMIT_PAUSE_MS);
        self.waited_ms.set(waited + RATE_LIMIT_PAUSE_MS);
        self.retried();
        true
    }

    /// A request is sent again.
    pub fn retried(&self) {
        self.retries.set(self.retries.get() + 1);
    }

    pub fn retries(&self) -> u32 {
        self.retries.get()
    }
}
