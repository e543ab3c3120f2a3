//! Syncing a webinar: gather Zoom's facts (stored webhook facts, and on a
//! reconcile the authoritative lists), decide and plan in the core, then
//! apply the plan to the CRM in batches of 100, recording in the ledger
//! what was written so nothing is written twice (R1, R7-R10, R12, R14-R20,
//! R30-R32).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::crm::{BATCH_SIZE, BatchAnswer, CrmClient, activity};
use super::http::HttpClient;
use super::intake::{self, Pending};
use super::zoom::ZoomClient;
use super::{
    Config, PluginError, Store, audit, encode, keys, load, required, save, save_all, settings,
};
use crate::core::audit::{AuditKind, Record, Written};
use crate::core::contact_properties::{self, WebinarRecord};
use crate::core::definitions;
use crate::core::exclusions::Directory;
use crate::core::intake::assemble;
use crate::core::ledger::{
    Ledger, People, Resolved, StoredHead, applied, participation_bit, timeline_bit,
};
use crate::core::marketing_event::marketing_event;
use crate::core::plan::{
    self, AuditNote, ParticipantRow, Participation, ParticipationState, Plan, Registrant,
    TimelineEvent, Webinar,
};
use crate::core::time::parse_rfc3339;

mod backfill;
mod recording;
mod reports;
mod stops;

pub use backfill::backfill;
use stops::run_into;

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

/// What one run reads once and shares between webinars.
struct Run<'a> {
    env: &'a Env<'a>,
    zoom: ZoomClient<'a>,
    crm: CrmClient<'a>,
    account_id: String,
    zoom_users: Option<BTreeMap<String, String>>,
    crm_users: Option<BTreeSet<String>>,
    zoom_event_webinars: Option<BTreeSet<String>>,
    /// Write batches since the ledger was last saved.
    unsaved_batches: std::cell::Cell<u32>,
}

/// A contact's stored facts across webinars, for the four properties (R12).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct PersonRecord {
    contact_id: String,
    records: BTreeMap<String, WebinarRecord>,
    /// The property values last written, so unchanged ones are not written again.
    #[serde(default)]
    written: BTreeMap<String, String>,
}

fn person_key(email: &str) -> String {
    format!("person/{email}")
}

fn ledger_key(webinar: &str) -> String {
    format!("ledger/{webinar}")
}

/// Where a webinar's ledger keeps its people, a key per part.
fn people_prefix(webinar: &str) -> String {
    format!("ledger/{webinar}/people/")
}

fn people_key(webinar: &str, part: u32) -> String {
    format!("{}{part:02}", people_prefix(webinar))
}

/// The ledger as last stored: its head and every part of its people.
fn load_ledger(store: &dyn Store, webinar: &str) -> Result<Ledger, PluginError> {
    let head: StoredHead = load(store, &ledger_key(webinar))?.unwrap_or_default();
    let mut parts = Vec::new();
    for key in intake::all_keys(store, &people_prefix(webinar))? {
        parts.extend(load::<People>(store, &key)?);
    }
    Ok(Ledger::from_stored(head, parts))
}

/// Stores the ledger's head and the parts of its people that changed.
fn store_ledger(store: &dyn Store, webinar: &str, ledger: &mut Ledger) -> Result<(), PluginError> {
    let (head, parts) = ledger.changes();
    let key = ledger_key(webinar);
    let mut writes = vec![(key.clone(), Some(encode(&key, &head)?))];
    for (part, people) in parts {
        let key = people_key(webinar, part);
        writes.push((key.clone(), Some(encode(&key, &people)?)));
    }
    // The head and the parts are one ledger: stored together or not at all.
    store.write_batch(writes)?;
    ledger.stored();
    Ok(())
}

pub(crate) fn meta_key(webinar: &str) -> String {
    format!("meta/{webinar}")
}

/// Write batches between two saves of the ledger during a run (R30).
const CHECKPOINT_BATCHES: u32 = 20;

fn retryable(e: &PluginError) -> bool {
    matches!(
        e,
        PluginError::ZoomUnavailable(_) | PluginError::CrmUnavailable(_) | PluginError::Storage(_)
    )
}

impl<'a> Run<'a> {
    fn new(env: &'a Env<'a>) -> Result<Self, PluginError> {
        Ok(Self {
            env,
            zoom: ZoomClient::new(env.http, env.config, env.store, env.now_ms),
            crm: CrmClient::connect(env.http, env.config)?,
            account_id: required(env.config, keys::ZOOM_ACCOUNT_ID)?,
            zoom_users: None,
            crm_users: None,
            zoom_event_webinars: None,
            unsaved_batches: std::cell::Cell::new(0),
        })
    }

    /// Users of the connected Zoom account: email -> display name (R16).
    fn zoom_users(&mut self) -> Result<&BTreeMap<String, String>, PluginError> {
        if self.zoom_users.is_none() {
            let map = self
                .zoom
                .all_pages("/users?status=active", "users", |u| {
                    let email = u.get("email")?.as_str()?.to_ascii_lowercase();
                    let name = format!("{} {}", text(u, "first_name"), text(u, "last_name"));
                    Some((email, name.trim().to_owned()))
                })?
                .unwrap_or_default()
                .into_iter()
                .collect();
            self.zoom_users = Some(map);
        }
        Ok(self.zoom_users.get_or_insert_default())
    }

    fn crm_users(&mut self) -> Result<&BTreeSet<String>, PluginError> {
        if self.crm_users.is_none() {
            self.crm_users = Some(self.crm.owner_emails()?.into_iter().collect());
        }
        Ok(self.crm_users.get_or_insert_default())
    }

    /// Webinars that are sessions of a Zoom Event (R14).
    fn zoom_event_webinars(&mut self) -> Result<&BTreeSet<String>, PluginError> {
        if self.zoom_event_webinars.is_none() {
            self.zoom_event_webinars = Some(self.zoom.zoom_event_webinars()?);
        }
        Ok(self.zoom_event_webinars.get_or_insert_default())
    }

    fn note(
        &self,
        ledger: &mut Ledger,
        webinar: &str,
        note: &AuditNote,
    ) -> Result<bool, PluginError> {
        let fingerprint = format!(
            "{:?}|{}|{}",
            note.kind,
            note.message,
            note.records.join(",")
        );
        let fingerprint = {
            use sha2::Digest as _;
            hex::encode(&sha2::Sha256::digest(fingerprint.as_bytes())[..12])
        };
        if !ledger.notes.insert(fingerprint) {
            return Ok(false);
        }
        audit::append(
            self.env.store,
            webinar,
            self.env.now_ms,
            note.kind,
            &note.message,
            note.records.clone(),
        )?;
        Ok(true)
    }

    /// Some writes of a batch failed: counted, and in the audit log with the
    /// CRM's reason and the records concerned (R19f, R32: never dropped silently).
    fn failed_writes(
        &self,
        ledger: &mut Ledger,
        webinar: &str,
        report: &mut Report,
        (kind, what): (AuditKind, &str),
        answer: &BatchAnswer,
        records: Vec<String>,
    ) -> Result<(), PluginError> {
        report.failed += records.len() as u32;
        let message = format!("{} {what}: {}", records.len(), first_message(answer));
        self.note_that(ledger, webinar, kind, message, records)
    }

    /// [`note`](Self::note) from its parts.
    fn note_that(
        &self,
        ledger: &mut Ledger,
        webinar: &str,
        kind: AuditKind,
        message: String,
        records: Vec<String>,
    ) -> Result<(), PluginError> {
        self.note(
            ledger,
            webinar,
            &AuditNote {
                kind,
                message,
                records,
            },
        )
        .map(drop)
    }

    /// The webinar as Zoom describes it now, or as last seen when Zoom no
    /// longer has it (deleted).
    fn webinar(&mut self, id: &str, deleted: bool) -> Result<Option<Webinar>, PluginError> {
        let store = self.env.store;
        let known: Option<Webinar> = load(store, &meta_key(id))?;
        let Some(json) = self.zoom.get(&format!("/webinars/{id}"))? else {
            return Ok(known.map(|w| Webinar { deleted: true, ..w }));
        };
        let field = |name: &str| text(&json, name);
        let mut webinar = Webinar {
            id: id.to_owned(),
            topic: field("topic"),
            host_email: field("host_email").to_ascii_lowercase(),
            join_url: field("join_url"),
            scheduled_start_ms: parse_rfc3339(&field("start_time")).unwrap_or_default(),
            scheduled_minutes: json.get("duration").and_then(Value::as_u64).unwrap_or(60) as u32,
            ran: known.as_ref().and_then(|k| k.ran),
            deleted,
            zoom_event: false,
        };
        webinar.zoom_event = self.zoom_event_webinars()?.contains(id);
        save(store, &meta_key(id), &webinar)?;
        Ok(Some(webinar))
    }

    fn save_ledger(&self, id: &str, ledger: &mut Ledger) -> Result<(), PluginError> {
        self.unsaved_batches.set(0);
        store_ledger(self.env.store, id, ledger)
    }

    /// Saves the ledger every [`CHECKPOINT_BATCHES`] write batches: a run
    /// that dies repeats at most that many (idempotent) batches, and the
    /// parts of a large webinar's people (about 1 MB for 10,000) are not
    /// rewritten after each one.
    fn checkpoint(&self, id: &str, ledger: &mut Ledger) -> Result<(), PluginError> {
        let unsaved = self.unsaved_batches.get() + 1;
        self.unsaved_batches.set(unsaved);
        if unsaved >= CHECKPOINT_BATCHES {
            self.save_ledger(id, ledger)?;
        }
        Ok(())
    }

    fn sync_webinar(&mut self, id: &str, mode: Mode) -> Result<Report, PluginError> {
        let reconcile = mode.reconcile;
        let store = self.env.store;
        let mut report = Report::default();
        let retries_before = self.zoom.retries() + self.crm.retries();
        let mut ledger = load_ledger(store, id)?;
        let facts = intake::facts(store, id)?;
        let assembled = assemble(&facts);
        let recording_facts = assembled.recording;

        let Some(mut webinar) = self.webinar(id, assembled.deleted)? else {
            let note = AuditNote {
                kind: AuditKind::WebinarDataNotSynced,
                message: format!(
                    "Webinar {id} was not found on the connected Zoom account: check the webinar id, or that the webinar belongs to this account."
                ),
                records: vec![id.to_owned()],
            };
            self.note(&mut ledger, id, &note)?;
            self.save_ledger(id, &mut ledger)?;
            report.skipped += 1;
            report.unknown_webinar = Some(note.message.clone());
            report.notes.push(note.message);
            return Ok(report);
        };
        let details_refused = self.ran(&mut webinar, assembled.ended, reconcile)?;

        // R1, R3, R6, R14.
        let global = settings::global(store)?;
        let host = settings::user(store, &webinar.host_email)?;
        let switch = settings::webinar(store, id)?;
        if let Err((kind, message)) = plan::decide(&webinar, &global, &host, &switch) {
            let note = AuditNote {
                kind,
                message: message.clone(),
                records: Vec::new(),
            };
            self.note(&mut ledger, id, &note)?;
            self.save_ledger(id, &mut ledger)?;
            report.skipped += 1;
            report.notes.push(message);
            return Ok(report);
        }

        // Registrants: what webhooks said, overridden by Zoom's list on a reconcile.
        let mut registrants: BTreeMap<String, Registrant> = assembled
            .registrants
            .into_iter()
            .map(|r| (r.key(), r))
            .collect();
        let ended = webinar.ran.is_some();
        let mut rows: Vec<ParticipantRow> = assembled.rows;
        // Zoom has not made the participants report yet (issue 18).
        let mut attendance_waits = false;
        if reconcile {
            let scheduled_ms = webinar.scheduled_start_ms;
            let listed = self
                .zoom
                .all_pages(
                    &format!("/webinars/{id}/registrants?status=approved"),
                    "registrants",
                    |r| {
                        let field = |name: &str| text(r, name);
                        Some(Registrant {
                            id: field("id"),
                            email: field("email"),
                            first_name: field("first_name"),
                            last_name: field("last_name"),
                            status: "approved".into(),
                            registered_ms: parse_rfc3339(&field("create_time"))
                                .unwrap_or(scheduled_ms),
                        })
                    },
                )?
                .unwrap_or_default();
            for registrant in listed {
                let key = registrant.key();
                // A registration seen first in a webhook keeps its time: the timeline does not move.
                let registered_ms = registrants
                    .get(&key)
                    .map_or(registrant.registered_ms, |known| known.registered_ms);
                registrants.insert(
                    key,
                    Registrant {
                        registered_ms,
                        ..registrant
                    },
                );
            }
            match self.attendance(&webinar, details_refused, &mut ledger, &mut report)? {
                Some(report_rows) => rows.extend(report_rows),
                None => attendance_waits = true,
            }
        }
        // Attendance is written once, when the webinar has ended and
        // Zoom's report is in (R8).
        if !ended || attendance_waits {
            rows.clear();
        }
        let registrants: Vec<Registrant> = registrants.into_values().collect();

        // Who must never be written to (R5, R16-R18).
        let mut directory = Directory {
            excluded_domains: global.contact_exclusion_domains.iter().cloned().collect(),
            zoom_users: self.zoom_users()?.keys().cloned().collect(),
            crm_users: self.crm_users()?.clone(),
            ..Directory::default()
        };
        for key in intake::all_keys(store, intake::DELETED_PREFIX)? {
            directory
                .deleted_contacts
                .insert(key.trim_start_matches(intake::DELETED_PREFIX).to_owned());
        }
        let fill = |directory: &mut Directory, ledger: &Ledger| {
            for (email, resolved) in ledger.contacts() {
                match resolved {
                    Resolved::Secondary { primary } => {
                        directory
                            .secondary_emails
                            .insert(email.clone(), primary.clone());
                    }
                    Resolved::Contact { .. } => {}
                }
            }
        };
        fill(&mut directory, &ledger);

        // Find or create the contacts the plan needs (R7), learning which
        // emails are secondary (R17) or deleted (R18) on the way.
        let first = plan::plan(&webinar, &registrants, &rows, &directory);
        let unresolved: Vec<String> = first
            .contacts
            .iter()
            .map(|c| c.email.clone())
            .filter(|e| ledger.resolved(e).is_none())
            .collect();
        let mut learned = false;
        let mut refused: Vec<(String, String)> = Vec::new();
        for chunk in unresolved.chunks(BATCH_SIZE) {
            let mut archived = BTreeSet::new();
            for (email, contact_id) in self.crm.archived_contacts(chunk)? {
                // Remembered like a deletion webhook, so a restore lifts it.
                save(store, &intake::contact_email_key(&contact_id), &email)?;
                save(
                    store,
                    &format!("{}{email}", intake::DELETED_PREFIX),
                    &"archived",
                )?;
                directory.deleted_contacts.insert(email.clone());
                archived.insert(email);
                learned = true;
            }
            let live: Vec<String> = chunk
                .iter()
                .filter(|e| !archived.contains(*e))
                .cloned()
                .collect();
            if live.is_empty() {
                continue;
            }
            let (contacts, rejected) = self.crm.upsert_emails(&live)?;
            refused.extend(rejected);
            let mut contact_emails = Vec::new();
            for c in contacts {
                let resolved = if c.primary_email == c.email {
                    contact_emails.push((intake::contact_email_key(&c.id), c.email.clone()));
                    Resolved::Contact {
                        id: c.id,
                        created: c.created,
                    }
                } else {
                    learned = true;
                    Resolved::Secondary {
                        primary: c.primary_email,
                    }
                };
                ledger.resolve(c.email, resolved);
            }
            save_all(store, &contact_emails)?;
        }
        self.save_ledger(id, &mut ledger)?;
        // Planned again only when the CRM told of an excluded email: the
        // same facts plan the same writes (R30), and a large webinar's plan
        // is costly to make and to hold twice.
        let mut plan = if learned {
            drop(first);
            fill(&mut directory, &ledger);
            plan::plan(&webinar, &registrants, &rows, &directory)
        } else {
            first
        };
        if !refused.is_empty() {
            plan.audit.push(AuditNote {
                kind: AuditKind::WebinarDataNotSynced,
                message: format!(
                    "The CRM refused {} email(s), so no contact was created for them: {}.",
                    refused.len(),
                    refused[0].1
                ),
                records: refused.iter().map(|(e, _)| e.clone()).collect(),
            });
        }
        report.skipped += plan
            .audit
            .iter()
            .filter(|n| n.kind != AuditKind::Synced)
            .map(|n| n.records.len() as u32)
            .sum::<u32>();

        let result = self.apply(&webinar, &plan, &mut ledger, &mut report);
        self.save_ledger(id, &mut ledger)?;
        result?;
        for note in plan.audit.iter().filter(|n| n.kind != AuditKind::Synced) {
            self.note(&mut ledger, id, note)?;
        }
        // R11: once attendance is written, the recording can follow it.
        if ended && !webinar.deleted && !attendance_waits {
            let written = self.sync_recording(
                &webinar,
                &recording_facts,
                mode,
                (&global, &host),
                &mut ledger,
                &mut report,
            );
            self.save_ledger(id, &mut ledger)?;
            report.retry_at_ms = written?;
        }
        if report.written > 0 || report.failed > 0 {
            let summary = AuditNote {
                kind: AuditKind::Synced,
                message: format!(
                    "Synced {} record(s) to the CRM for {} contact(s) in this webinar: {}{}.",
                    report.written,
                    plan.contacts.len(),
                    report.written_by_kind.describe(),
                    if report.failed > 0 {
                        format!("; {} failed, see the errors above", report.failed)
                    } else {
                        String::new()
                    }
                ) + &match self.zoom.retries() + self.crm.retries() - retries_before {
                    0 => String::new(),
                    n => format!(
                        " Zoom or the CRM failed {n} request(s) (an error, no answer or a rate limit); each was retried."
                    ),
                },
                records: Vec::new(),
            };
            // A summary is an event of its own: always recorded.
            audit::append(
                store,
                id,
                self.env.now_ms,
                summary.kind,
                &summary.message,
                Vec::new(),
            )?;
            report.notes.push(summary.message);
        }
        self.save_ledger(id, &mut ledger)?;
        Ok(report)
    }

    /// Writes activity events (R10) in batches of 100 through the backend
    /// install set up (`crm::activity`) and marks them in the ledger; one
    /// written before (an earlier, interrupted run) counts as written.
    /// Without a backend they are skipped, unmarked (a later install with
    /// one writes them), and the webinar's audit log says so once.
    pub(super) fn write_timeline(
        &mut self,
        id: &str,
        timeline: &[&TimelineEvent],
        ledger: &mut Ledger,
        report: &mut Report,
    ) -> Result<(), PluginError> {
        if timeline.is_empty() {
            return Ok(());
        }
        let setup = activity::Setup::load(self.env.store)?;
        if let Some(message) = setup.not_written_note() {
            // One entry per webinar, not per record: the note's fingerprint.
            return self.note_that(
                ledger,
                id,
                AuditKind::WebinarDataNotSynced,
                message,
                Vec::new(),
            );
        }
        let with_contact: Vec<_> = timeline
            .iter()
            .filter_map(|t| Some((*t, ledger.contact_id(&t.email)?.to_owned())))
            .collect();
        for chunk in with_contact.chunks(BATCH_SIZE) {
            let refused = self.crm.write_activity(&setup, chunk)?;
            for (t, _) in chunk {
                if refused.contains_key(&t.id) {
                    continue;
                }
                ledger.mark(&t.email, timeline_bit(t));
                report.wrote(Record::TimelineEvent);
            }
            self.checkpoint(id, ledger)?;
            if !refused.is_empty() {
                report.failed += refused.len() as u32;
                let reason = refused.values().min().cloned().unwrap_or_default();
                let message = format!(
                    "{} timeline event(s) were not created: {reason}",
                    refused.len()
                );
                self.note_that(
                    ledger,
                    id,
                    AuditKind::Error,
                    message,
                    refused.into_keys().collect(),
                )?;
            }
        }
        Ok(())
    }

    /// Writes what the ledger has not seen yet. The ledger is saved every
    /// [`CHECKPOINT_BATCHES`] batches and after the run (also when it stops
    /// on an error): rewriting it after every batch costs more than the CRM
    /// calls on a 10,000-person webinar, and a run killed between two saves
    /// writes nothing twice when it is repeated, because attendance is
    /// idempotent on (contact, state, time), timeline events on their id
    /// and properties are set.
    fn apply(
        &mut self,
        webinar: &Webinar,
        plan: &Plan,
        ledger: &mut Ledger,
        report: &mut Report,
    ) -> Result<(), PluginError> {
        let store = self.env.store;
        let id = webinar.id.as_str();

        // R9: the marketing event.
        let host_name = self.zoom_users()?.get(&webinar.host_email).cloned();
        let event = marketing_event(webinar, host_name.as_deref());
        // What was written, to write it again only when it changes. (Its
        // layout changed once, from the CRM's JSON to the domain's: a
        // ledger of the old layout costs one idempotent upsert.)
        let written = serde_json::to_string(&event).unwrap_or_default();
        if ledger.event.as_deref() != Some(written.as_str()) {
            self.crm.upsert_marketing_event(&self.account_id, &event)?;
            ledger.event = Some(written);
            report.wrote(Record::MarketingEvent);
        }

        // R8, R9: register / attend / cancel, in that order.
        let participations = ledger.unwritten_participations(plan);
        for state in [
            ParticipationState::Register,
            ParticipationState::Attend,
            ParticipationState::Cancel,
        ] {
            let todo: Vec<&Participation> = participations
                .iter()
                .copied()
                .filter(|p| p.state == state)
                .collect();
            for chunk in todo.chunks(BATCH_SIZE) {
                let answer = self
                    .crm
                    .record_participations(&self.account_id, id, state, chunk)?;
                let failed: BTreeSet<String> = answer
                    .failed(chunk.iter().map(|p| p.email.as_str()))
                    .into_keys()
                    .collect();
                for p in chunk {
                    if failed.contains(&p.email) {
                        continue;
                    }
                    ledger.mark(&p.email, participation_bit(p.state));
                    report.wrote(match p.state {
                        ParticipationState::Register => Record::Registration,
                        ParticipationState::Attend => Record::Attendance,
                        ParticipationState::Cancel => Record::Cancellation,
                    });
                }
                self.checkpoint(id, ledger)?;
                if !failed.is_empty() {
                    let what = format!(
                        "{} participation(s) were not recorded on the marketing event",
                        state.word()
                    );
                    self.failed_writes(
                        ledger,
                        id,
                        report,
                        (AuditKind::WebinarDataNotSynced, &what),
                        &answer,
                        failed.into_iter().collect(),
                    )?;
                }
            }
        }

        // R10: timeline events, idempotent by id.
        let timeline = ledger.unwritten_timeline(plan);
        self.write_timeline(id, &timeline, ledger, report)?;

        // R7, R12: names on contacts the plugin created, and the four properties.
        let names: BTreeMap<&str, (&str, &str)> = plan
            .contacts
            .iter()
            .map(|c| {
                (
                    c.email.as_str(),
                    (c.first_name.as_str(), c.last_name.as_str()),
                )
            })
            .collect();
        let mut updates: Vec<(String, PersonRecord, BTreeMap<String, String>)> = Vec::new();
        let mut unchanged: Vec<(String, PersonRecord)> = Vec::new();
        for (email, record) in &plan.records {
            let Some(Resolved::Contact {
                id: contact_id,
                created,
            }) = ledger.resolved(email)
            else {
                continue;
            };
            let mut person: PersonRecord = load(store, &person_key(email))?.unwrap_or_default();
            person.contact_id = contact_id.clone();
            person.records.insert(id.to_owned(), record.clone());
            let records: Vec<WebinarRecord> = person.records.values().cloned().collect();
            let computed = contact_properties::compute(&records);
            let mut properties = BTreeMap::from([
                (
                    definitions::TOTAL_REGISTRATIONS.to_owned(),
                    computed.total_registrations.to_string(),
                ),
                (
                    definitions::TOTAL_ATTENDED.to_owned(),
                    computed.total_attended.to_string(),
                ),
                (
                    definitions::AVERAGE_ATTENDANCE_PERCENTAGE.to_owned(),
                    computed
                        .average_attendance_percentage
                        .map(|v| v.to_string())
                        .unwrap_or_default(),
                ),
                (
                    definitions::LAST_REGISTERED_WEBINAR.to_owned(),
                    computed.last_registered_webinar.unwrap_or_default(),
                ),
            ]);
            if *created
                && !ledger.has(email, applied::NAMED)
                && let Some((first, last)) = names.get(email.as_str())
            {
                properties.insert("firstname".into(), (*first).to_owned());
                properties.insert("lastname".into(), (*last).to_owned());
            }
            let changed: BTreeMap<String, String> = properties
                .into_iter()
                .filter(|(k, v)| person.written.get(k) != Some(v))
                .collect();
            if changed.is_empty() {
                unchanged.push((person_key(email), person));
            } else {
                updates.push((email.clone(), person, changed));
            }
            // A batch's worth at a time: the people of a large webinar are
            // never all held at once (peak guest memory, issue 8).
            if unchanged.len() == BATCH_SIZE {
                save_all(store, &unchanged)?;
                unchanged.clear();
            }
            if updates.len() == BATCH_SIZE {
                self.update_properties(id, std::mem::take(&mut updates), ledger, report)?;
            }
        }
        save_all(store, &unchanged)?;
        if !updates.is_empty() {
            self.update_properties(id, updates, ledger, report)?;
        }
        Ok(())
    }

    /// One batch update of contact properties (R12), and what it wrote
    /// saved to each person's record.
    fn update_properties(
        &mut self,
        id: &str,
        chunk: Vec<(String, PersonRecord, BTreeMap<String, String>)>,
        ledger: &mut Ledger,
        report: &mut Report,
    ) -> Result<(), PluginError> {
        let updates: Vec<(&str, &BTreeMap<String, String>)> = chunk
            .iter()
            .map(|(_, person, changed)| (person.contact_id.as_str(), changed))
            .collect();
        let answer = self.crm.update_contact_properties(&updates)?;
        let failed: BTreeSet<String> = answer
            .failed(
                chunk
                    .iter()
                    .map(|(_, person, _)| person.contact_id.as_str()),
            )
            .into_keys()
            .collect();
        let mut failed_emails = Vec::new();
        let mut written = Vec::new();
        for (email, mut person, changed) in chunk {
            if failed.contains(&person.contact_id) {
                failed_emails.push(email);
                continue;
            }
            if changed.contains_key("firstname") {
                ledger.mark(&email, applied::NAMED);
            }
            person.written.extend(changed);
            written.push((person_key(&email), person));
            report.wrote(Record::PropertyUpdate);
        }
        // What the CRM now holds, saved with the batch that wrote it.
        save_all(self.env.store, &written)?;
        self.checkpoint(id, ledger)?;
        if !failed_emails.is_empty() {
            let what = (
                AuditKind::Error,
                "contact(s) did not get their contact properties updated",
            );
            self.failed_writes(ledger, id, report, what, &answer, failed_emails)?;
        }
        Ok(())
    }
}

/// A string field of a Zoom or CRM object; empty when absent.
pub(super) fn text(object: &Value, name: &str) -> String {
    object
        .get(name)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// An id the APIs send as a number or a string.
fn id_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn first_message(answer: &BatchAnswer) -> String {
    answer
        .errors
        .first()
        .and_then(|e| e.get("message"))
        .and_then(Value::as_str)
        .unwrap_or("no reason given")
        .to_owned()
}

/// R20: re-syncs one webinar from Zoom's authoritative lists.
pub fn sync_now(env: &Env<'_>, webinar: &str) -> Result<Report, PluginError> {
    let webinar = crate::core::settings::webinar_id(webinar)
        .map_err(|e| PluginError::InvalidInput(e.to_string()))?
        .to_owned();
    let mut run = Run::new(env)?;
    let report = run_one(&mut run, &webinar, Mode::ON_DEMAND)?;
    // Asked for by its id, a webinar Zoom does not know is the caller's
    // mistake, not a sync that skipped a record (the audit log has it too).
    match report.unknown_webinar {
        Some(why) => Err(PluginError::InvalidInput(why)),
        None => Ok(report),
    }
}

/// Syncs one webinar; a retryable failure leaves the webinar pending with
/// a back-off, so `tick` finishes it (R32).
fn run_one(run: &mut Run<'_>, webinar: &str, mode: Mode) -> Result<Report, PluginError> {
    let store = run.env.store;
    let reconcile = mode.reconcile;
    let key = intake::pending_key(webinar);
    // R30: a run on demand is pending while it runs, so a host that dies
    // mid-run (killed, out of time) has the next tick finish it; the
    // writes it made are in the ledger and are not made again.
    let already_pending = store.get(&key)?.is_some();
    if mode.on_demand && !already_pending {
        intake::mark_pending(store, webinar, reconcile)?;
    }
    // R30: the run counts as begun until it ends. A host that stops the
    // plugin mid-run (out of time or memory) leaves the count up, and the
    // next run says so in the audit log; from the third such run on, a
    // back-off is set before starting, so a webinar that stops the plugin
    // every time is tried less and less often instead of at every tick.
    let now_ms = run.env.now_ms;
    let begun = intake::update_pending_if_marked(store, webinar, |pending| {
        pending.unfinished += 1;
        if pending.unfinished > UNFINISHED_BEFORE_BACKOFF {
            let backoff_s = retry_backoff_s(pending.unfinished - UNFINISHED_BEFORE_BACKOFF);
            pending.not_before_ms = now_ms + backoff_s * 1000;
        }
    })?;
    if let Some(begun) = begun.filter(|p| p.unfinished > 1) {
        let next = match begun.unfinished > UNFINISHED_BEFORE_BACKOFF {
            true => format!(
                "; if this one stops too, the next waits {} s",
                (begun.not_before_ms - now_ms) / 1000
            ),
            false => String::new(),
        };
        audit::append(
            store,
            webinar,
            now_ms,
            AuditKind::Error,
            &format!(
                "The last sync of this webinar stopped before it finished: the host stopped the plugin (out of time or memory; the host's log says which) or stopped itself. What it wrote is kept; the rest is synced now (attempt {}){next}.",
                begun.unfinished
            ),
            Vec::new(),
        )?;
    }
    // What the webinar owed when the run started; a webhook that marks it
    // while the run goes on changes this, and its facts may be unread.
    let started = store.get(&key)?;
    // A sync that ends well ends a streak of failures.
    let ended = |pending: &mut Pending| {
        run_ended(pending);
        pending.attempts = 0;
        pending.failing_since_ms = None;
    };
    match run.sync_webinar(webinar, mode) {
        Ok(mut report) => {
            match report.retry_at_ms {
                // Zoom is not done with the recording: the tick comes back.
                Some(at) => {
                    intake::update_pending(store, webinar, |pending| {
                        ended(pending);
                        pending.reconcile |= reconcile;
                        pending.not_before_ms = at;
                    })?;
                    report.pending += 1;
                }
                None => {
                    let done = match &started {
                        Some(seen) => intake::clear_pending(store, webinar, seen)?,
                        None => store.get(&key)?.is_none(),
                    };
                    // Marked during the run: the next tick reads the new facts.
                    if !done {
                        intake::update_pending_if_marked(store, webinar, ended)?;
                        report.pending += 1;
                    }
                }
            }
            Ok(report)
        }
        // Retried with a bound, or explained, or both (issue 18).
        Err(e) => {
            stops::stopped(run, webinar, mode, &e, started.as_deref())?;
            Err(e)
        }
    }
}

/// The run of a webinar ended, whichever way: no longer counted as begun.
fn run_ended(pending: &mut Pending) {
    if pending.unfinished > UNFINISHED_BEFORE_BACKOFF {
        pending.not_before_ms = 0;
    }
    pending.unfinished = 0;
}

/// Runs of a webinar that may end without ending (the host stopped the
/// plugin) before the next waits a back-off: two, so that a host killed
/// once during "sync now" and once during the tick that resumed it still
/// finishes at the next tick.
const UNFINISHED_BEFORE_BACKOFF: u32 = 2;

/// How long a webinar whose sync failed `attempts` times in a row waits:
/// 30 s, 1, 2, 4 ... minutes, at most an hour.
fn retry_backoff_s(attempts: u32) -> i64 {
    (30i64 << attempts.min(7).saturating_sub(1)).min(3600)
}

/// Finishes what webhooks and interrupted runs left pending.
pub fn tick(env: &Env<'_>) -> Result<Report, PluginError> {
    let mut total = Report::default();
    let keys = intake::all_keys(env.store, intake::PENDING_PREFIX)?;
    if keys.is_empty() {
        return Ok(total);
    }
    let mut run = Run::new(env)?;
    let mut due = Vec::new();
    for key in keys {
        let webinar = key.trim_start_matches(intake::PENDING_PREFIX).to_owned();
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
    for key in intake::all_keys(store, intake::KNOWN_PREFIX)? {
        intake::mark_pending(store, key.trim_start_matches(intake::KNOWN_PREFIX), true)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ledger::{PEOPLE_PARTS, part_of};
    use crate::shell::http::{Method, Request, Response, TransportError};
    use crate::shell::memory::MemoryStore;
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
        let mut run = Run::new(&env).unwrap();
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
        assert_eq!(
            store.get(&intake::pending_key("81000000001")).unwrap(),
            None
        );
        let (entries, _) = super::super::audit::read(&store, "81000000001", 0, 10).unwrap();
        assert!(entries.iter().any(|e| e.message == why));
    }

    #[test]
    fn r30_a_webinar_marked_by_a_webhook_during_its_sync_stays_pending() {
        let store = MemoryStore::default();
        let pending = intake::pending_key("81000000001");
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
            if key == intake::pending_key("81000000001") {
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
            if prefix == intake::inbox_prefix("81000000001")
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
            let left = inner.get(&intake::pending_key("81000000001")).unwrap();
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

    #[test]
    fn r32_a_50000_person_ledger_is_stored_in_parts_each_far_under_the_host_limit() {
        let store = MemoryStore::default();
        let mut ledger = Ledger::default();
        for n in 0..50_000 {
            let email = format!("registrant-{n:05}@example.com");
            ledger.resolve(
                email.clone(),
                Resolved::Contact {
                    id: format!("{}", 100_000 + n),
                    created: true,
                },
            );
            ledger.mark(&email, applied::REGISTERED | applied::REGISTRATION_EVENT);
        }
        store_ledger(&store, "81000000001", &mut ledger).unwrap();
        let values: Vec<usize> = store.0.borrow().values().map(Vec::len).collect();
        // Whole, this ledger was 5 MB, over the host's 4 MiB limit.
        assert_eq!(values.len(), 1 + PEOPLE_PARTS as usize);
        assert!(values.iter().sum::<usize>() > 4 << 20);
        assert!(values.iter().all(|len| *len < 256 << 10), "{values:?}");
        assert_eq!(load_ledger(&store, "81000000001").unwrap(), ledger);
    }

    #[test]
    fn r30_a_checkpoint_stores_the_head_and_only_the_parts_that_changed() {
        let store = MemoryStore::default();
        let mut ledger = Ledger::default();
        for n in 0..1_000 {
            ledger.mark(&format!("registrant-{n}@example.com"), applied::REGISTERED);
        }
        store_ledger(&store, "81000000001", &mut ledger).unwrap();
        let before = store.0.borrow().clone();
        ledger.mark("registrant-7@example.com", applied::REGISTERED);
        ledger.mark("registrant-7@example.com", applied::ATTENDED);
        ledger.notes.insert("a note".into());
        store_ledger(&store, "81000000001", &mut ledger).unwrap();
        let after = store.0.borrow().clone();
        let rewritten: Vec<&String> = after
            .iter()
            .filter(|(key, value)| before.get(*key) != Some(value))
            .map(|(key, _)| key)
            .collect();
        let part = people_key("81000000001", part_of("registrant-7@example.com"));
        assert_eq!(rewritten, [&ledger_key("81000000001"), &part]);
        assert_eq!(load_ledger(&store, "81000000001").unwrap(), ledger);
    }

    #[test]
    fn a_ledger_stored_whole_by_an_earlier_version_is_read_and_then_stored_in_parts() {
        let store = MemoryStore::default();
        let whole = json!({
            "contacts": { "ada@lovelace.example": { "as": "contact", "id": "501", "created": true } },
            "applied": { "ada@lovelace.example": applied::REGISTERED | applied::NAMED },
            "event": "written",
            "notes": ["n1"],
            "recording": { "first_seen_ms": null, "checks": 0 },
        });
        store
            .set(&ledger_key("81000000001"), whole.to_string().as_bytes())
            .unwrap();
        let mut ledger = load_ledger(&store, "81000000001").unwrap();
        assert_eq!(ledger.contact_id("ada@lovelace.example"), Some("501"));
        assert!(ledger.has("ada@lovelace.example", applied::NAMED));
        assert_eq!(ledger.event.as_deref(), Some("written"));
        store_ledger(&store, "81000000001", &mut ledger).unwrap();
        let head: serde_json::Value = load(&store, &ledger_key("81000000001")).unwrap().unwrap();
        assert_eq!(head.get("contacts"), None, "the people moved to their part");
        assert_eq!(load_ledger(&store, "81000000001").unwrap(), ledger);
    }
}
