//! Syncing a webinar, in phases you can name (R1, R7-R20, R30-R32):
//!
//! 1. **gather** (`gather`, `reports`): Zoom's facts — what webhooks
//!    said, and on a reconcile Zoom's authoritative lists and reports;
//! 2. **decide** (core `plan::decide`): whether the webinar is synced at
//!    all (R1, R3, R6, R14);
//! 3. **resolve** (`resolve`): which contact each email is, asked of the
//!    CRM once and kept in the ledger; then the core **plans** the writes;
//! 4. **apply** (`apply`, `properties`, `recording`): the plan written
//!    through the CRM port in batches of 100, marked in the ledger
//!    (`checkpoint`) so nothing is written twice;
//!
//! steps 3 and 4 a slice of the people at a time (`stage`, issue 21): a
//! webinar's people are routed to slices of the ledger's parts as they
//! are read, and only one slice's plan and ledger are held, so memory is
//! bounded by the slice, not by the webinar;
//! 5. **schedule** (`schedule`, `stops`): pending marks, back-off,
//!    unfinished runs; and `journal`, what the audit log is told.
//!
//! The phases speak to Zoom and the CRM through `ports` only: no module
//! here knows either service's wire format. A run has three sides, and a
//! phase works with one of them and the book: `ZoomSide` (gather,
//! reports, finding the recording), `CrmSide` (resolve, apply, properties,
//! the recording's writes) and the `Book` (checkpoint, journal). Only
//! `Sides`, below, sees all three, to pass Zoom's facts through the core
//! to the CRM.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use super::crm::CrmClient;
use super::http::HttpClient;
use super::intake::Pending;
use super::ports::{Crm, Zoom};
use super::zoom::ZoomClient;
use super::{Config, PluginError, Store, keys, required, schema, settings};
use crate::core::audit::{Record, Written};
use crate::core::exclusions::Directory;
use crate::core::intake::assemble;
use crate::core::ledger::Ledger;
use crate::core::plan::{self, LeftOut, Webinar};
use crate::core::settings::GlobalSettings;
use gather::Gathered;
use outbox::Outbox;
use stage::Stage;

mod apply;
mod backfill;
mod checkpoint;
mod gather;
mod journal;
mod outbox;
mod properties;
mod recording;
mod reports;
mod resolve;
mod schedule;
mod stage;
mod stops;
#[cfg(test)]
pub(crate) mod testing;

pub use backfill::backfill;
pub use schedule::{on_settings_changed, tick};
use schedule::{retryable, run_one};

/// What a run did, in records (the WIT `sync-report`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    /// Records written to the CRM, all kinds (`wrote` counts both).
    pub written: u32,
    /// The same, by kind, for the audit summary.
    pub written_by_kind: Written,
    pub skipped: u32,
    pub failed: u32,
    pub pending: u32,
    pub notes: Vec<String>,
    /// Look at the webinar again then: its recording is still processing,
    /// or its calls wait for the transcript.
    pub retry_at_ms: Option<i64>,
    /// Zoom does not know the webinar (and the plugin never did): why, for
    /// a person who asked for this webinar by its id.
    pub unknown_webinar: Option<String>,
}

impl Report {
    /// One record of `kind` written to the CRM.
    fn wrote(&mut self, kind: Record) {
        self.written += 1;
        self.written_by_kind.add(kind, 1);
    }

    fn add(&mut self, other: Report) {
        self.written += other.written;
        self.written_by_kind.merge(&other.written_by_kind);
        self.skipped += other.skipped;
        self.failed += other.failed;
        self.pending += other.pending;
        self.notes.extend(other.notes);
        self.unknown_webinar = self.unknown_webinar.take().or(other.unknown_webinar);
        self.retry_at_ms = match (self.retry_at_ms, other.retry_at_ms) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
    }
}

/// The outside world of one run.
#[derive(Clone, Copy)]
pub struct Env<'a> {
    pub http: &'a dyn HttpClient,
    pub config: &'a dyn Config,
    pub store: &'a dyn Store,
    pub now_ms: i64,
}

/// How a webinar is synced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Mode {
    /// Read Zoom's authoritative lists, not only what webhooks said.
    reconcile: bool,
    /// A person asked for this sync (sync now, backfill): nothing waits for
    /// Zoom to catch up.
    on_demand: bool,
}

impl Mode {
    const ON_DEMAND: Mode = Mode {
        reconcile: true,
        on_demand: true,
    };

    fn tick(pending: &Pending) -> Mode {
        Mode {
            reconcile: pending.reconcile,
            on_demand: false,
        }
    }
}

/// Zoom's side of a run: its port, and what the run reads of the account
/// once for all its webinars (its users, its Zoom Events sessions).
pub(super) struct ZoomSide<'a> {
    pub port: Box<dyn Zoom + 'a>,
    users: Option<BTreeMap<String, String>>,
    event_webinars: Option<BTreeSet<String>>,
}

impl<'a> ZoomSide<'a> {
    pub fn new(port: Box<dyn Zoom + 'a>) -> Self {
        Self {
            port,
            users: None,
            event_webinars: None,
        }
    }
}

/// The CRM's side of a run: its port, the Zoom account its marketing
/// events are keyed by, and the CRM's users, read once for all the run's
/// webinars (R18).
pub(super) struct CrmSide<'a> {
    pub port: Box<dyn Crm + 'a>,
    account_id: String,
    owners: Option<BTreeSet<String>>,
}

impl<'a> CrmSide<'a> {
    pub fn new(port: Box<dyn Crm + 'a>, account_id: String) -> Self {
        Self {
            port,
            account_id,
            owners: None,
        }
    }
}

/// A run's book: where its webinars' ledgers are kept and its audit
/// notes written (`journal`), on the run's clock. Every phase writes what
/// it did through it; it speaks to neither Zoom nor the CRM.
pub(super) struct Book<'a> {
    pub store: &'a dyn Store,
    pub now_ms: i64,
    /// Write batches since the ledger was last saved.
    unsaved_batches: Cell<u32>,
}

impl<'a> Book<'a> {
    pub fn new(store: &'a dyn Store, now_ms: i64) -> Self {
        Self {
            store,
            now_ms,
            unsaved_batches: Cell::new(0),
        }
    }
}

/// A run's three sides: Zoom's (the facts), the CRM's (the writes) and
/// the book (the ledger and the audit log). Each phase works with one
/// side and the book; only the orchestration below sees all three.
struct Sides<'a> {
    zoom: ZoomSide<'a>,
    crm: CrmSide<'a>,
    book: Book<'a>,
}

impl<'a> Sides<'a> {
    /// A run against the real services: Zoom REST v2 and HubSpot.
    fn new(env: &Env<'a>) -> Result<Self, PluginError> {
        // Before a run writes, the storage's layout is one this plugin knows.
        schema::check(env.store)?;
        let zoom = ZoomClient::new(env.http, env.config, env.store, env.now_ms);
        let crm = CrmClient::connect(env.http, env.config)?;
        let account_id = required(env.config, keys::ZOOM_ACCOUNT_ID)?;
        Ok(Self::with(env, Box::new(zoom), Box::new(crm), account_id))
    }

    /// A run through any adapters of the ports.
    fn with(
        env: &Env<'a>,
        zoom: Box<dyn Zoom + 'a>,
        crm: Box<dyn Crm + 'a>,
        account_id: String,
    ) -> Self {
        Self {
            zoom: ZoomSide::new(zoom),
            crm: CrmSide::new(crm, account_id),
            book: Book::new(env.store, env.now_ms),
        }
    }

    /// Requests either service failed and retried, so far this run.
    fn retries(&self) -> u32 {
        self.zoom.port.retries() + self.crm.port.retries()
    }

    /// Who must never be written to, from both accounts' users (R16-R18).
    fn directory(&mut self, global: &GlobalSettings) -> Result<Directory, PluginError> {
        let zoom_users = self.zoom.users()?.keys().cloned().collect();
        let crm_users = self.crm.owners()?.clone();
        gather::directory(global, (zoom_users, crm_users), self.book.store)
    }

    /// One webinar, phase by phase (see the module's doc).
    fn sync_webinar(&mut self, id: &str, mode: Mode) -> Result<Report, PluginError> {
        let store = self.book.store;
        let mut report = Report::default();
        let retries_before = self.retries();
        let mut ledger = checkpoint::load_ledger_head(store, id)?;

        // Gather.
        let mut stage = Stage::new(store, id)?;
        let assembled = assemble(&gather::webinar_facts(store, id, &mut stage)?);
        let Some(mut webinar) = self.zoom.webinar(id, assembled.deleted, store)? else {
            stage.clear()?;
            return self.book.unknown_webinar(id, &mut ledger);
        };
        let (ended, reconcile) = (assembled.ended, mode.reconcile);
        let details_refused = self.zoom.ran(&mut webinar, ended, reconcile, store)?;

        // Decide (R1, R3, R6, R14).
        let global = settings::global(store)?;
        let host = settings::user(store, &webinar.host_email)?;
        let switch = settings::webinar(store, id)?;
        if let Err((kind, message)) = plan::decide(&webinar, &global, &host, &switch) {
            stage.clear()?;
            self.book
                .note_that(&mut ledger, id, kind, message.clone(), Vec::new())?;
            self.book.save_ledger(id, &mut ledger)?;
            report.skipped += 1;
            report.notes.push(message);
            return Ok(report);
        }
        let refused = (mode, details_refused);
        let gathered = self.zoom.stage_people(
            (&webinar, &mut stage),
            refused,
            &self.book,
            &mut ledger,
            &mut report,
        )?;

        // Resolve, plan and apply, a slice at a time.
        let slices = stage.slices();
        let synced = self.sync_slices(
            &webinar,
            (stage, &slices, gathered),
            &global,
            &mut ledger,
            &mut report,
        );
        self.book.save_ledger(id, &mut ledger)?;
        let contacts = synced?;

        // R11: once attendance is written, the recording can follow it.
        if webinar.ran.is_some() && !webinar.deleted && !gathered.attendance_waits {
            let settings = (&global, &host);
            let facts = &assembled.recording;
            let written = self.sync_recording(
                &webinar,
                (facts, mode, settings),
                &slices,
                &mut ledger,
                &mut report,
            );
            self.book.save_ledger(id, &mut ledger)?;
            report.retry_at_ms = written?;
        }
        let retried = self.retries() - retries_before;
        self.book.summarise(id, contacts, retried, &mut report)?;
        self.book.save_ledger(id, &mut ledger)?;
        Ok(report)
    }

    /// Each slice of the webinar's people resolved, planned and applied in
    /// turn (issue 21), the writes short of a batch carried to the next
    /// slice (`outbox`); then what the plans left out, said once. Returns
    /// the contacts planned.
    fn sync_slices(
        &mut self,
        webinar: &Webinar,
        (mut stage, slices, gathered): (Stage, &[Range<u32>], Gathered),
        global: &GlobalSettings,
        ledger: &mut Ledger,
        report: &mut Report,
    ) -> Result<usize, PluginError> {
        let id = webinar.id.as_str();
        let mut directory = self.directory(global)?;
        let mut outbox = Outbox::default();
        let (mut contacts, mut left_out, mut refused) = (0, LeftOut::default(), Vec::new());
        let mut moved = gather::People::default();
        for (n, parts) in slices.iter().enumerate() {
            let mut people = gather::slice_people(stage.take(parts.clone())?, webinar, gathered);
            // The parts of the people moved here and of what waits in the
            // outbox stay held with the slice.
            let first = [outbox.first_part(), moved.first_part(), Some(parts.start)];
            let first = first.into_iter().flatten().min().unwrap_or(parts.start);
            people.append(std::mem::take(&mut moved));
            self.book.hold(id, ledger, first..parts.end)?;
            gather::learn_secondary_emails(&mut directory, ledger);
            let last = n + 1 == slices.len();
            let (plan, learned, later) = self.crm.resolve_and_plan(
                webinar,
                (&mut people, last),
                &mut directory,
                &self.book,
                ledger,
            )?;
            moved = later;
            drop(people);
            // R9: before the first participation; written again only when it changes.
            let host_name = self.zoom.users()?.get(&webinar.host_email).cloned();
            self.crm
                .apply_marketing_event(webinar, host_name.as_deref(), ledger, report)?;
            let book = &self.book;
            self.crm
                .apply(&plan, (&mut outbox, last), book, (ledger, report))?;
            contacts += plan.contacts.len();
            left_out.merge(plan.left_out);
            refused.extend(learned.refused);
        }
        stage.clear()?;
        let mut notes = left_out.notes();
        notes.extend(resolve::refused_note(&refused));
        for note in &notes {
            report.skipped += note.records.len() as u32;
            self.book.note(ledger, id, note)?;
        }
        Ok(contacts)
    }
}

/// R20: re-syncs one webinar from Zoom's authoritative lists.
pub fn sync_now(env: &Env<'_>, webinar: &str) -> Result<Report, PluginError> {
    let webinar = crate::core::settings::webinar_id(webinar)
        .map_err(|e| PluginError::InvalidInput(e.to_string()))?
        .to_owned();
    let mut run = Sides::new(env)?;
    let report = run_one(&mut run, &webinar, Mode::ON_DEMAND)?;
    // Asked for by its id, a webinar Zoom does not know is the caller's
    // mistake, not a sync that skipped a record (the audit log has it too).
    match report.unknown_webinar {
        Some(why) => Err(PluginError::InvalidInput(why)),
        None => Ok(report),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::testing::{Harness, StubCrm, StubZoom};
    use super::*;
    use crate::core::plan::Registrant;
    use crate::shell::ports::ScheduledWebinar;
    use crate::shell::{all_keys, save};

    /// A webinar of `n` registrants on Zoom, global sync on, the timeline set up.
    fn registered(n: usize) -> Harness {
        let zoom = StubZoom::default();
        {
            let mut state = zoom.state.borrow_mut();
            state.webinars.insert(
                "81".into(),
                ScheduledWebinar {
                    topic: "Launch".into(),
                    host_email: "host@x.example".into(),
                    join_url: "https://zoom.us/w/81".into(),
                    start_ms: 1_900_000_000_000,
                    minutes: 60,
                },
            );
            let registrants = (0..n).map(|i| Registrant {
                id: format!("r{i}"),
                email: format!("person{i}@x.example"),
                first_name: "F".into(),
                last_name: "L".into(),
                status: "approved".into(),
                registered_ms: 1_000,
            });
            state.registrants.insert("81".into(), registrants.collect());
        }
        let harness = Harness::new(zoom, StubCrm::default());
        let global = GlobalSettings {
            global_sync: true,
            webinar_sync: true,
            ..GlobalSettings::default()
        };
        save(&harness.store, schema::GLOBAL_SETTINGS, &global).unwrap();
        super::testing::timeline_set_up(&harness.store);
        harness
    }

    #[test]
    fn issue_21_a_webinar_of_many_slices_is_written_whole_in_full_batches() {
        let harness = registered(12_000);
        let report = harness.run().sync_webinar("81", Mode::ON_DEMAND).unwrap();
        assert_eq!((report.failed, report.pending), (0, 0), "{report:?}");
        let state = harness.crm.state.borrow();
        let mut by_kind: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (kind, size) in &state.batches {
            by_kind.entry(kind).or_default().push(*size);
        }
        for kind in ["register", "activity", "properties", "upsert"] {
            let sizes = &by_kind[kind];
            assert_eq!(sizes.iter().sum::<usize>(), 12_000, "{kind}");
            // Carried across the slices: only whole batches of 100.
            assert!(sizes.iter().all(|s| *s == 100), "{kind}: {sizes:?}");
        }
        // Resolved in whole batches too: the people short of one were
        // planned with the next slice. (12,000 people are several slices.)
        let sliced = registered(12_000);
        let mut stage = stage::Stage::new(&sliced.store, "81").unwrap();
        for r in sliced.zoom.state.borrow().registrants["81"].clone() {
            stage.registrant(r).unwrap();
        }
        assert!(stage.slices().len() > 1);
        // Nothing staged is left, and the ledger knows everyone.
        assert!(
            all_keys(&harness.store, &schema::stage_prefix("81"))
                .unwrap()
                .is_empty()
        );
        let ledger = checkpoint::load_ledger(&harness.store, "81").unwrap();
        assert_eq!(
            ledger
                .people_with(crate::core::ledger::applied::REGISTERED)
                .len(),
            12_000
        );
        drop(state);
        // Synced again, nothing is written twice (R20, R30).
        let before = harness.crm.state.borrow().batches.len();
        harness.run().sync_webinar("81", Mode::ON_DEMAND).unwrap();
        let again = &harness.crm.state.borrow().batches[before..];
        assert!(
            again.iter().all(|(kind, _)| *kind == "properties"),
            "{again:?}"
        );
    }
}
