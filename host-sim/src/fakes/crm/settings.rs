//! The fake CRM's settings that are not records: the app's rate limits,
//! the order batch answers come back in, and how long search lags writes.

use serde_json::Value;

/// The CRM's request limits for one app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrmRateLimits {
    /// Requests per rolling ten seconds (Free/Starter: 100; Pro/Enterprise: 190).
    pub per_ten_seconds: u32,
    /// Search requests per second.
    pub search_per_second: u32,
}

impl CrmRateLimits {
    pub const STARTER: Self = Self {
        per_ten_seconds: 100,
        search_per_second: 5,
    };
    pub const OFF: Self = Self {
        per_ten_seconds: 0,
        search_per_second: 0,
    };
}

/// The order a batch's `results` and `errors` come back in.
///
/// HubSpot's batch endpoints do not promise that results follow inputs:
/// the reference pages are silent on order, and HubSpot's own client
/// maintainers answer that a batch create's results come in "a random
/// order" and that "there is no way" to rely on it (hubspot-api-nodejs
/// issue 190; API-NOTES, "Batch results are unordered"). The fake takes
/// that harsher reading by default: every batch answer is shuffled,
/// seeded, so a test's run is the same every time, and a client that
/// pairs results with inputs by position fails here as it would there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchOrder {
    /// Results and errors in an order drawn from `seed` and their content.
    Shuffled { seed: u64 },
    /// In input order: only for comparing a run with a shuffled one.
    AsSent,
}

impl Default for BatchOrder {
    fn default() -> Self {
        Self::Shuffled { seed: 0x5EED_0190 }
    }
}

/// How long a new record takes to reach the search endpoints. HubSpot's
/// CRM search guide warns that new and updated records reach search only
/// after a short delay, and gives no figure (API-NOTES, "Search lags
/// writes"): the fake takes ten seconds on the
/// simulator's clock, long enough that a client confirming a write by
/// search fails here as it would there. Only creation lags here; an
/// update is searchable at once (kinder than HubSpot, and no client of
/// the fake reads an update back through search).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchLag(pub std::time::Duration);

impl Default for SearchLag {
    fn default() -> Self {
        Self(std::time::Duration::from_secs(10))
    }
}

impl BatchOrder {
    /// `items` in this order: each placed by an FNV-1a hash of the seed
    /// and its JSON, so the order is stable for the same answer and
    /// unrelated to the inputs'.
    pub(crate) fn arrange(self, items: &mut [Value]) {
        let Self::Shuffled { seed } = self else {
            return;
        };
        items.sort_by_cached_key(|item| {
            let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
            for byte in item.to_string().bytes() {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
            }
            hash
        });
    }
}
