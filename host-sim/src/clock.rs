//! The simulator's wall clock, shared by the guest (its `wasi:clocks`
//! wall clock), the fakes (token expiry, rate-limit windows) and scenario
//! steps that advance time. Real time by default; manual in tests, so
//! that time moves only when a test says so.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, OffsetDateTime};

#[derive(Clone, Debug)]
pub struct Clock(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    manual: AtomicBool,
    /// Manual: the time now. Real: the offset added to the system time.
    value_ms: AtomicI64,
    /// The guest's monotonic clock counts from here ...
    started: Instant,
    /// ... and counts its reads.
    monotonic_reads: AtomicU64,
}

fn system_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

impl Clock {
    /// The system's time.
    pub fn real() -> Self {
        Self(Arc::new(Inner {
            manual: AtomicBool::new(false),
            value_ms: AtomicI64::new(0),
            started: Instant::now(),
            monotonic_reads: AtomicU64::new(0),
        }))
    }

    /// Stands still at `now_ms` until advanced.
    pub fn manual(now_ms: i64) -> Self {
        Self(Arc::new(Inner {
            manual: AtomicBool::new(true),
            value_ms: AtomicI64::new(now_ms),
            started: Instant::now(),
            monotonic_reads: AtomicU64::new(0),
        }))
    }

    /// Milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        let value = self.0.value_ms.load(Ordering::SeqCst);
        if self.0.manual.load(Ordering::SeqCst) {
            value
        } else {
            system_ms() + value
        }
    }

    /// From now on, moves with real time from where it stands (a manual
    /// clock starts running): the rate-limited bench waits out real windows.
    pub fn run(&self) {
        let now = self.now_ms();
        self.0.manual.store(false, Ordering::SeqCst);
        self.0.value_ms.store(now - system_ms(), Ordering::SeqCst);
    }

    pub fn advance(&self, by: Duration) {
        self.0
            .value_ms
            .fetch_add(by.as_millis() as i64, Ordering::SeqCst);
    }
}

impl Clock {
    /// The guest's monotonic clock: real time, read through this clock so
    /// that its reads are counted ([`Clock::monotonic_reads`]).
    pub fn monotonic(&self) -> Monotonic {
        Monotonic(self.clone())
    }

    /// How often a guest read its monotonic clock. The plugin reads it only
    /// while it pauses (R32), once per step of at most 20 ms: a test waits
    /// on a pause's steps, not on real time.
    pub fn monotonic_reads(&self) -> u64 {
        self.0.monotonic_reads.load(Ordering::SeqCst)
    }
}

/// See [`Clock::monotonic`].
pub struct Monotonic(Clock);

impl wasmtime_wasi::HostMonotonicClock for Monotonic {
    fn resolution(&self) -> u64 {
        1
    }

    fn now(&self) -> u64 {
        let inner = &self.0.0;
        inner.monotonic_reads.fetch_add(1, Ordering::SeqCst);
        u64::try_from(inner.started.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::real()
    }
}

impl wasmtime_wasi::HostWallClock for Clock {
    fn resolution(&self) -> Duration {
        Duration::from_millis(1)
    }

    fn now(&self) -> Duration {
        Duration::from_millis(self.now_ms().max(0) as u64)
    }
}

/// A day in milliseconds (UTC days: no leap seconds, as Zoom and the CRM count).
pub const DAY_MS: i64 = 86_400_000;

/// RFC 3339 in UTC with seconds, as Zoom prints times: `2026-11-20T15:00:00Z`.
/// (Empty for a time before year 1 or after 9999, which nothing here meets.)
pub fn rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// The UTC date of `ms`, `yyyy-MM-dd`, as Zoom's reports take and print dates.
pub fn date(ms: i64) -> String {
    let mut text = rfc3339(ms);
    text.truncate(10);
    text
}

/// The midnight (UTC) of a `yyyy-MM-dd` date, in ms.
pub fn parse_date(text: &str) -> Option<i64> {
    let date = Date::parse(text, format_description!("[year]-[month]-[day]")).ok()?;
    Some(date.midnight().assume_utc().unix_timestamp() * 1000)
}

/// Milliseconds of an RFC 3339 time (`Z` or `±hh:mm`, fractional seconds
/// of any length, as Zoom's reports print seven digits).
pub fn parse_rfc3339(text: &str) -> Option<i64> {
    let time = OffsetDateTime::parse(text.trim(), &Rfc3339).ok()?;
    i64::try_from(time.unix_timestamp_nanos().div_euclid(1_000_000)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_time_moves_only_when_advanced() {
        let clock = Clock::manual(1_000);
        assert_eq!(clock.now_ms(), 1_000);
        clock.advance(Duration::from_secs(2));
        assert_eq!(clock.now_ms(), 3_000);
    }

    #[test]
    fn a_manual_clock_set_running_goes_on_from_where_it_stood() {
        let clock = Clock::manual(1_000);
        clock.run();
        let now = clock.now_ms();
        // Real time passes between the two reads, never backwards.
        assert!((1_000..1_000 + 60_000).contains(&now), "{now}");
        assert!(clock.now_ms() >= now);
    }

    #[test]
    fn rfc3339_round_trips_and_reads_zoom_formats() {
        let ms = parse_rfc3339("2026-11-20T15:00:00Z").unwrap();
        assert_eq!(ms, 1_795_186_800_000);
        assert_eq!(rfc3339(ms), "2026-11-20T15:00:00Z");
        // The participants report's seven-digit fractions and +00:00 offsets.
        assert_eq!(
            parse_rfc3339("2026-11-20T15:00:00.1234567+00:00"),
            Some(ms + 123)
        );
        assert_eq!(parse_rfc3339("2026-11-20T17:00:00+02:00"), Some(ms));
        assert_eq!(
            parse_rfc3339("2024-02-29T00:00:00Z")
                .map(rfc3339)
                .as_deref(),
            Some("2024-02-29T00:00:00Z")
        );
        assert_eq!(parse_rfc3339("yesterday"), None);
    }

    #[test]
    fn dates_are_utc_days() {
        let ms = parse_rfc3339("2026-11-20T23:59:59+00:00").unwrap();
        assert_eq!(date(ms), "2026-11-20");
        assert_eq!(parse_date("2026-11-20"), Some(ms - ms.rem_euclid(DAY_MS)));
        assert_eq!(
            parse_date("2026-11-20").map(date).as_deref(),
            Some("2026-11-20")
        );
        for bad in [
            "2026-11-2",
            "2026-11-20T00:00:00Z",
            "2026-13-01",
            "tomorrow",
        ] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
    }
}
