//! Schedule: when a webinar is synced and what is left for later. A
//! webinar owes work while it is pending (R30); a run that fails on
//! something a later try may lift leaves it pending with a back-off, one
//! that stops the plugin counts as unfinished, one that ends well clears
//! the mark unless a webhook marked it again meanwhile (R30, R32).

use super::{Env, Mode, Report, Sides, stops};
use crate::core::audit::AuditKind;
use crate::shell::intake::{self, Pending};
use crate::shell::{PluginError, Store, all_keys, audit, load, schema};
use stops::{Stop, UNFINISHED_BEFORE_BACKOFF, retry_backoff_s, run_ended, stop_of, what_to_change};

/// Whether a later try may lift the error.
pub(super) fn retryable(e: &PluginError) -> bool {
    matches!(
        e,
        PluginError::ZoomUnavailable(_) | PluginError::CrmUnavailable(_) | PluginError::Storage(_)
    )
}

/// Syncs one webinar; a retryable failure leaves the webinar pending with
/// a back-off, so `tick` finishes it (R32).
pub(super) fn run_one(
    run: &mut Sides<'_>,
    webinar: &str,
    mode: Mode,
) -> Result<Report, PluginError> {
    let store = run.book.store;
    let reconcile = mode.reconcile;
    let key = schema::pending(webinar);
    // R30: a run on demand is pending while it runs, so a host that dies
    // mid-run (killed, out of time) has the next tick finish it; the
    // writes it made are in the ledger and are not made again.
    let already_pending = store.get(&key)?.is_some();
    if mode.on_demand && !already_pending {
        intake::mark_pending(store, webinar, reconcile)?;
    }
    begin(store, webinar, run.book.now_ms)?;
    // What the webinar owed when the run started; a webhook that marks it
    // while the run goes on changes this, and its facts may be unread.
    let started = store.get(&key)?;
    match run.sync_webinar(webinar, mode) {
        Ok(mut report) => {
            ended_well(store, webinar, reconcile, started.as_deref(), &mut report)?;
            Ok(report)
        }
        // Retried with a bound, or explained, or both (issue 18).
        Err(e) => {
            stops::stopped(run, webinar, mode, &e, started.as_deref())?;
            Err(e)
        }
    }
}

/// R30: the run counts as begun until it ends. A host that stops the
/// plugin mid-run (out of time or memory) leaves the count up, and the
/// next run says so in the audit log; from the third such run on, a
/// back-off is set before starting, so a webinar that stops the plugin
/// every time is tried less and less often instead of at every tick.
fn begin(store: &dyn Store, webinar: &str, now_ms: i64) -> Result<(), PluginError> {
    let begun = intake::update_pending_if_marked(store, webinar, |pending| {
        pending.unfinished += 1;
        if pending.unfinished > UNFINISHED_BEFORE_BACKOFF {
            let backoff_s = retry_backoff_s(pending.unfinished - UNFINISHED_BEFORE_BACKOFF);
            pending.not_before_ms = now_ms + backoff_s * 1000;
        }
    })?;
    let Some(begun) = begun.filter(|p| p.unfinished > 1) else {
        return Ok(());
    };
    let next = match begun.unfinished > UNFINISHED_BEFORE_BACKOFF {
        true => format!(
            "; if this one stops too, the next waits {} s",
            (begun.not_before_ms - now_ms) / 1000
        ),
        false => String::new(),
    };
    let message = format!(
        "The last sync of this webinar stopped before it finished: the host stopped the plugin (out of time or memory; the host's log says which) or stopped itself. What it wrote is kept; the rest is synced now (attempt {}){next}.",
        begun.unfinished
    );
    audit::append(
        store,
        webinar,
        now_ms,
        AuditKind::Error,
        &message,
        Vec::new(),
    )
    .map(drop)
}

/// A run that ended well: the webinar is done, unless Zoom is not done
/// with the recording (the tick comes back then) or a webhook marked it
/// during the run (the next tick reads the new facts). `started`: the
/// pending mark as the run read it.
fn ended_well(
    store: &dyn Store,
    webinar: &str,
    reconcile: bool,
    started: Option<&[u8]>,
    report: &mut Report,
) -> Result<(), PluginError> {
    // A sync that ends well ends a streak of failures.
    let ended = |pending: &mut Pending| {
        run_ended(pending);
        pending.attempts = 0;
        pending.failing_since_ms = None;
    };
    if let Some(at) = report.retry_at_ms {
        intake::update_pending(store, webinar, |pending| {
            ended(pending);
            pending.reconcile |= reconcile;
            pending.not_before_ms = at;
        })?;
        report.pending += 1;
        return Ok(());
    }
    let done = match started {
        Some(seen) => intake::clear_pending(store, webinar, seen)?,
        None => store.get(&schema::pending(webinar))?.is_none(),
    };
    if !done {
        intake::update_pending_if_marked(store, webinar, ended)?;
        report.pending += 1;
    }
    Ok(())
}

/// Finishes what webhooks and interrupted runs left pending.
pub fn tick(env: &Env<'_>) -> Result<Report, PluginError> {
    let mut total = Report::default();
    let keys = all_keys(env.store, schema::PENDING_PREFIX)?;
    if keys.is_empty() {
        return Ok(total);
    }
    let mut run = Sides::new(env)?;
    let mut due = Vec::new();
    for key in keys {
        let webinar = key.trim_start_matches(schema::PENDING_PREFIX).to_owned();
        let Some(pending) = load::<Pending>(env.store, &key)? else {
            continue;
        };
        if pending.not_before_ms > env.now_ms {
            total.pending += 1;
            continue;
        }
        due.push((pending.unfinished > 0, webinar, Mode::tick(&pending)));
    }
    // A webinar whose last run never ended goes last: if it stops the
    // plugin again (too large for its memory, say), the others were synced.
    due.sort_by_key(|(unfinished, ..)| *unfinished);
    for (_, webinar, mode) in due {
        run_into(&mut total, &mut run, &webinar, mode)?;
    }
    Ok(total)
}

/// R1: when global and webinar sync are both on again, every webinar the
/// plugin heard of is synced on the next tick (what was missed backfills).
pub fn on_settings_changed(
    store: &dyn Store,
    before: bool,
    after: bool,
) -> Result<(), PluginError> {
    if before || !after {
        return Ok(());
    }
    for key in all_keys(store, schema::KNOWN_PREFIX)? {
        intake::mark_pending(store, key.trim_start_matches(schema::KNOWN_PREFIX), true)?;
    }
    Ok(())
}

/// One webinar of a many-webinar run (tick, backfill), added to `total`:
/// whatever stops it, the run goes on with the next (issue 18). A stop
/// the installation must fix is one note for the run, not one a webinar.
pub(super) fn run_into(
    total: &mut Report,
    run: &mut Sides<'_>,
    webinar: &str,
    mode: Mode,
) -> Result<(), PluginError> {
    let e = match run_one(run, webinar, mode) {
        Ok(report) => {
            total.add(report);
            return Ok(());
        }
        Err(e) => e,
    };
    let left = run.book.store.get(&schema::pending(webinar))?.is_some();
    if left {
        total.pending += 1;
    } else {
        total.failed += 1;
    }
    let note = match stop_of(&e) {
        Stop::Setup => what_to_change(&e),
        Stop::Outage | Stop::Webinar => format!("webinar {webinar}: {e}"),
    };
    if !total.notes.contains(&note) {
        total.notes.push(note);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::Config;
    use crate::shell::http::HttpClient;
    use crate::shell::http::{Method, Request, Response, TransportError};
    use crate::shell::memory::MemoryStore;
    use crate::shell::sync::sync_now;
    use serde_json::json;

    /// Zoom without the webinar; a webhook marks it while the sync reads it.
    struct ZoomMarkingMidRun<'a> {
        store: &'a MemoryStore,
        mark: bool,
    }

    impl HttpClient for ZoomMarkingMidRun<'_> {
        fn send(&self, request: Request) -> Result<Response, TransportError> {
            let answer = |status: u16, body: serde_json::Value| {
                Ok(Response {
                    status,
                    body: body.to_string().into_bytes(),
                })
            };
            if request.method == Method::Post && request.url.contains("/oauth/token") {
                return answer(200, json!({ "access_token": "t", "expires_in": 3600 }));
            }
            if request.url.ends_with("/webinars/81000000001") && self.mark {
                intake::mark_pending(self.store, "81000000001", false).unwrap();
            }
            answer(
                404,
                json!({ "code": 3001, "message": "Webinar does not exist: 81000000001." }),
            )
        }
    }

    struct AnyConfig;
    impl Config for AnyConfig {
        fn get(&self, key: &str) -> Result<Option<String>, String> {
            Ok(Some(format!("value-of-{key}")))
        }
    }

    /// "Sync now"'s run on `store` (its report, before `sync_now` turns an
    /// unknown webinar into an error); Zoom's answer marks the webinar in
    /// `marks` if `mark`.
    fn sync_now_in(store: &dyn Store, marks: &MemoryStore, mark: bool) -> Report {
        let http = ZoomMarkingMidRun { store: marks, mark };
        let env = Env {
            http: &http,
            config: &AnyConfig,
            store,
            now_ms: 1_795_000_000_000,
        };
        let mut run = Sides::new(&env).unwrap();
        run_one(&mut run, "81000000001", Mode::ON_DEMAND).unwrap()
    }

    #[test]
    fn r20_sync_now_of_a_webinar_zoom_does_not_know_is_an_error_that_says_so() {
        let store = MemoryStore::default();
        let http = ZoomMarkingMidRun {
            store: &store,
            mark: false,
        };
        let env = Env {
            http: &http,
            config: &AnyConfig,
            store: &store,
            now_ms: 1_795_000_000_000,
        };
        let Err(PluginError::InvalidInput(why)) = sync_now(&env, "81000000001") else {
            panic!("an unknown webinar is the caller's mistake");
        };
        assert!(
            why.contains("81000000001 was not found on the connected Zoom account"),
            "{why}"
        );
        // Nothing is left pending for the tick, and the audit log says it too.
        assert_eq!(store.get(&schema::pending("81000000001")).unwrap(), None);
        let (entries, _) = audit::read(&store, "81000000001", 0, 10).unwrap();
        assert!(entries.iter().any(|e| e.message == why));
    }

    #[test]
    fn r30_a_webinar_marked_by_a_webhook_during_its_sync_stays_pending() {
        let store = MemoryStore::default();
        let pending = schema::pending("81000000001");
        // Alone, the run is pending while it runs and done after.
        let report = sync_now_in(&store, &store, false);
        assert_eq!(report.pending, 0);
        assert_eq!(store.get(&pending).unwrap(), None);
        // A webhook's mark mid-run is not wiped: its facts may be unread.
        let report = sync_now_in(&store, &store, true);
        assert_eq!(report.pending, 1);
        let left: Pending = load(&store, &pending).unwrap().unwrap();
        assert_eq!(left.not_before_ms, 0);
        // The next run reads them and is done.
        let report = sync_now_in(&store, &store, false);
        assert_eq!(report.pending, 0);
        assert_eq!(store.get(&pending).unwrap(), None);
    }

    /// Storage where a webhook (another instance) marks the webinar right
    /// after the sync's `after`-th read of its pending mark.
    struct MarkedAfterRead<'a> {
        inner: &'a MemoryStore,
        after: usize,
        reads: std::cell::Cell<usize>,
        /// Reads of the mark when the run first listed the webinar's facts.
        reads_before_facts: std::cell::Cell<Option<usize>>,
    }

    impl Store for MarkedAfterRead<'_> {
        fn get(&self, key: &str) -> Result<Option<Vec<u8>>, PluginError> {
            let value = self.inner.get(key)?;
            if key == schema::pending("81000000001") {
                self.reads.set(self.reads.get() + 1);
                if self.reads.get() == self.after {
                    intake::mark_pending(self.inner, "81000000001", false)?;
                }
            }
            Ok(value)
        }
        fn set(&self, key: &str, value: &[u8]) -> Result<(), PluginError> {
            self.inner.set(key, value)
        }
        fn delete(&self, key: &str) -> Result<(), PluginError> {
            self.inner.delete(key)
        }
        fn list_keys(
            &self,
            prefix: &str,
            cursor: Option<&str>,
            limit: u32,
        ) -> Result<(Vec<String>, Option<String>), PluginError> {
            if prefix == schema::inbox_prefix("81000000001")
                && self.reads_before_facts.get().is_none()
            {
                self.reads_before_facts.set(Some(self.reads.get()));
            }
            self.inner.list_keys(prefix, cursor, limit)
        }
        fn compare_and_swap(
            &self,
            key: &str,
            expected: Option<&[u8]>,
            new: Option<&[u8]>,
        ) -> Result<bool, PluginError> {
            self.inner.compare_and_swap(key, expected, new)
        }
        fn write_batch(&self, writes: Vec<(String, Option<Vec<u8>>)>) -> Result<(), PluginError> {
            self.inner.write_batch(writes)
        }
    }

    #[test]
    fn r30_a_mark_made_after_the_run_read_it_is_never_cleared_by_the_run() {
        // (pending in the report, mark left, reads of the mark, reads of it
        // before the run read the webinar's facts).
        let run = |after: usize| {
            let inner = MemoryStore::default();
            // Pending already: a webhook came.
            intake::mark_pending(&inner, "81000000001", false).unwrap();
            let store = MarkedAfterRead {
                inner: &inner,
                after,
                reads: Default::default(),
                reads_before_facts: Default::default(),
            };
            let report = sync_now_in(&store, &inner, false);
            let left = inner.get(&schema::pending("81000000001")).unwrap();
            let before_facts = store.reads_before_facts.get().expect("the facts were read");
            (
                report.pending,
                left.is_some(),
                store.reads.get(),
                before_facts,
            )
        };
        let (pending, left, reads, _) = run(0);
        assert_eq!(
            (pending, left),
            (0, false),
            "unmarked again, the run is done"
        );
        for after in 1..=reads {
            let (pending, left, _, before_facts) = run(after);
            assert_eq!(pending == 1, left, "the report says what is left");
            // Marked after the run read the facts, even after its last read
            // of the mark before it clears it: the mark stays for the next
            // tick. (Marked earlier, the run read the new facts itself.)
            if after > before_facts {
                assert!(left, "marked after read {after} of {reads}");
            }
        }
    }
}
