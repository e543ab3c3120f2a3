//! In-process fakes of the remote services, speaking the real APIs' shapes
//! and failing the way they fail. Only the remote services are faked.

pub mod crm;
pub mod zoom;

/// The first path segment of the simulator's inspection routes: not a
/// host name, so no service's path can begin with it.
pub const INSPECT_PREFIX: &str = "_sim";

pub use zoom::model::ZoomAccount;

use base64::Engine as _;

/// The `user:password` of a `Basic` authorization header.
pub(crate) fn basic_credentials(header: Option<&str>) -> Option<(String, String)> {
    let encoded = header?.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let decoded = String::from_utf8(decoded).ok()?;
    let (user, password) = decoded.split_once(':')?;
    Some((user.to_owned(), password.to_owned()))
}

/// The token of a `Bearer` authorization header.
pub(crate) fn bearer(header: Option<&str>) -> Option<&str> {
    header?.strip_prefix("Bearer ").map(str::trim)
}

/// `application/x-www-form-urlencoded` pairs, read as the query is (`crate::query`).
pub(crate) fn form_pairs(body: &[u8]) -> Vec<(String, String)> {
    crate::query::pairs(body)
}

/// Seeded fault injection: a share of 5xx answers, timeouts, 429s and
/// added latency, reproducible for a given seed.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct FaultPlan {
    /// Share of requests answered with a 5xx (0.0 to 1.0).
    pub error_rate: f64,
    /// Share of requests that time out without an answer. The CRM has
    /// applied the request first (the answer is lost, the harder case: a
    /// retry must not write twice); Zoom has not.
    pub timeout_rate: f64,
    /// How long a timed-out request waits before it fails; 0: 30 s.
    pub timeout_ms: u64,
    /// Share of requests answered 429 (the CRM's ten-second policy, Zoom's
    /// per-second one), over and above the real limits.
    pub rate_limit_rate: f64,
    /// Latency added to every answer, in milliseconds.
    pub latency_ms: u64,
    pub seed: u64,
}

impl FaultPlan {
    /// How long a timed-out request waits.
    pub fn timeout(&self) -> std::time::Duration {
        std::time::Duration::from_millis(if self.timeout_ms == 0 {
            30_000
        } else {
            self.timeout_ms
        })
    }
}

/// What fault, if any, hits one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    None,
    ServerError,
    Timeout,
    RateLimited,
}

pub struct Faults {
    plan: std::sync::Mutex<FaultPlan>,
    state: std::sync::Mutex<u64>,
}

impl Faults {
    pub fn new(plan: FaultPlan) -> Self {
        let seed = plan.seed;
        Self {
            plan: std::sync::Mutex::new(plan),
            state: std::sync::Mutex::new(seed),
        }
    }

    pub fn plan(&self) -> FaultPlan {
        self.plan.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// A service going down or coming back during a run.
    pub fn set(&self, plan: FaultPlan) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) = plan.seed;
        *self.plan.lock().unwrap_or_else(|p| p.into_inner()) = plan;
    }

    /// SplitMix64: small, seedable, good enough to spread faults evenly.
    fn next_unit(&self) -> f64 {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn draw(&self) -> Fault {
        let plan = self.plan();
        if plan.error_rate <= 0.0 && plan.timeout_rate <= 0.0 && plan.rate_limit_rate <= 0.0 {
            return Fault::None;
        }
        let x = self.next_unit();
        if x < plan.error_rate {
            Fault::ServerError
        } else if x < plan.error_rate + plan.timeout_rate {
            Fault::Timeout
        } else if x < plan.error_rate + plan.timeout_rate + plan.rate_limit_rate {
            Fault::RateLimited
        } else {
            Fault::None
        }
    }
}

/// A fixed-window request counter: at most `limit` requests per `window_ms`.
pub struct RateLimiter {
    limit: u32,
    window_ms: i64,
    state: std::sync::Mutex<std::collections::HashMap<String, (i64, u32)>>,
}

impl RateLimiter {
    pub fn new(limit: u32, window_ms: i64) -> Self {
        Self {
            limit,
            window_ms,
            state: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    /// Counts one request for `key` at `now_ms`; false when over the limit.
    pub fn admit(&self, key: &str, now_ms: i64) -> bool {
        if self.limit == 0 {
            return true;
        }
        let window = now_ms.div_euclid(self.window_ms.max(1));
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let entry = state.entry(key.to_owned()).or_insert((window, 0));
        if entry.0 != window {
            *entry = (window, 0);
        }
        entry.1 += 1;
        entry.1 <= self.limit
    }

    /// The window's limit, what is left of it for `key` at `now_ms`, and
    /// the window's length: what HubSpot's `X-HubSpot-RateLimit-*` headers
    /// say. None when there is no limit.
    pub fn usage(&self, key: &str, now_ms: i64) -> Option<(u32, u32, i64)> {
        if self.limit == 0 {
            return None;
        }
        let window = now_ms.div_euclid(self.window_ms.max(1));
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let used = match state.get(key) {
            Some((w, used)) if *w == window => *used,
            _ => 0,
        };
        Some((self.limit, self.limit.saturating_sub(used), self.window_ms))
    }
}

/// What a page token stands for: the listing, the offset, the expiry (ms).
type PageToken = (String, usize, i64);

/// Page tokens that expire, as Zoom's `next_page_token` does.
pub struct PageTokens {
    lifetime_ms: i64,
    state: std::sync::Mutex<(u64, std::collections::HashMap<String, PageToken>)>,
}

impl PageTokens {
    pub fn new(lifetime_ms: i64) -> Self {
        Self {
            lifetime_ms,
            state: std::sync::Mutex::new((0, std::collections::HashMap::new())),
        }
    }

    /// A token for the page of `listing` that starts at `offset`.
    pub fn issue(&self, listing: &str, offset: usize, now_ms: i64) -> String {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        state.0 += 1;
        let token = format!("pt{:08x}{:x}", state.0, offset);
        state.1.insert(
            token.clone(),
            (listing.to_owned(), offset, now_ms + self.lifetime_ms),
        );
        token
    }

    /// The offset a token stands for, if it is one of `listing`'s and has not expired.
    pub fn redeem(&self, listing: &str, token: &str, now_ms: i64) -> Option<usize> {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match state.1.get(token) {
            Some((l, offset, expires)) if l == listing && *expires > now_ms => Some(*offset),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_draws_the_same_faults_in_about_the_planned_share() {
        let plan = FaultPlan {
            error_rate: 0.2,
            timeout_rate: 0.1,
            seed: 42,
            ..FaultPlan::default()
        };
        let draws = |plan: &FaultPlan| {
            let faults = Faults::new(plan.clone());
            (0..1000).map(|_| faults.draw()).collect::<Vec<_>>()
        };
        let first = draws(&plan);
        assert_eq!(first, draws(&plan));
        let errors = first.iter().filter(|f| **f == Fault::ServerError).count();
        let timeouts = first.iter().filter(|f| **f == Fault::Timeout).count();
        assert!((150..250).contains(&errors), "{errors}");
        assert!((60..140).contains(&timeouts), "{timeouts}");
        assert!(Faults::new(FaultPlan::default()).draw() == Fault::None);
    }

    #[test]
    fn the_rate_limiter_admits_the_limit_per_window_and_per_key() {
        let limiter = RateLimiter::new(2, 1000);
        assert!(limiter.admit("a", 0) && limiter.admit("a", 999));
        assert!(!limiter.admit("a", 500));
        assert!(limiter.admit("b", 500));
        assert!(limiter.admit("a", 1000), "a new window");
    }

    #[test]
    fn page_tokens_expire_and_belong_to_their_listing() {
        let tokens = PageTokens::new(15 * 60 * 1000);
        let token = tokens.issue("webinar/1/registrants/approved", 300, 0);
        assert_eq!(
            tokens.redeem("webinar/1/registrants/approved", &token, 1000),
            Some(300)
        );
        assert_eq!(
            tokens.redeem("webinar/2/registrants/approved", &token, 1000),
            None
        );
        assert_eq!(
            tokens.redeem("webinar/1/registrants/approved", &token, 15 * 60 * 1000),
            None
        );
    }
}

/// Builds requests for the fakes' own tests.
#[cfg(test)]
pub(crate) mod testing {
    use crate::outbound::{FakeRequest, FakeResponse};

    pub fn request(
        method: &str,
        url: &str,
        authorization: Option<&str>,
        body: Option<serde_json::Value>,
    ) -> FakeRequest {
        let mut headers = http::HeaderMap::new();
        if let Some(a) = authorization {
            headers.insert("authorization", a.parse().unwrap());
        }
        FakeRequest {
            method: method.parse().unwrap(),
            uri: url.parse().unwrap(),
            headers,
            body: body.map(|b| b.to_string().into()).unwrap_or_default(),
        }
    }

    pub fn json(answer: &FakeResponse) -> serde_json::Value {
        serde_json::from_slice(&answer.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&answer.body)))
    }
}
