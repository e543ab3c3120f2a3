//! A synced webinar's recording and transcript (R2, R4, R6b, R11, R19b,
//! R19f): a "recording available" timeline event and a call record with
//! the transcript for every contact that attended, each written once.

use super::{Mode, Report, Run, retryable};
use crate::core::audit::{AuditKind, Record};
use crate::core::definitions::call_key;
use crate::core::intake::RecordingFacts;
use crate::core::ledger::{Ledger, applied};
use crate::core::plan::{TimelineEvent, Webinar};
use crate::core::recording::{
    self, Call, MAX_TRANSCRIPT_CHARS, PROCESSING_LIMIT_MS, Readiness, TRANSCRIPT_WAIT_MS,
};
use crate::core::settings::{GlobalSettings, UserSettings};
use crate::shell::crm::BATCH_SIZE;
use crate::shell::{PluginError, load, save, schema};

/// (email, contact id) of the contacts whose attendance was written.
fn attendees(ledger: &Ledger) -> Vec<(String, String)> {
    ledger
        .people_with(applied::ATTENDED)
        .into_iter()
        .filter_map(|email| Some((email.clone(), ledger.contact_id(email)?.to_owned())))
        .collect()
}

impl Run<'_> {
    /// Writes what the recording owes the CRM. Returns when to look again:
    /// the recording is still processing, or the calls wait for a transcript.
    pub(super) fn sync_recording(
        &mut self,
        webinar: &Webinar,
        facts: &RecordingFacts,
        mode: Mode,
        (global, host): (&GlobalSettings, &UserSettings),
        ledger: &mut Ledger,
        report: &mut Report,
    ) -> Result<Option<i64>, PluginError> {
        if !facts.any() && !mode.reconcile {
            return Ok(None);
        }
        let id = webinar.id.as_str();
        let not_synced = AuditKind::RecordingNotSynced;
        // R2, R4, R6b. Said only when Zoom told of a recording: a reconcile
        // of an unrecorded webinar has nothing to report.
        if let Err(why) = recording::allowed(global, host, &webinar.host_email) {
            if facts.any() {
                self.note_that(
                    ledger,
                    id,
                    not_synced,
                    format!("The recording and transcript were not synced: settings off. {why}"),
                    Vec::new(),
                )?;
            }
            return Ok(None);
        }
        let attendees = attendees(ledger);
        let done = |ledger: &Ledger| {
            !attendees.is_empty()
                && attendees.iter().all(|(e, _)| {
                    ledger.has(e, applied::RECORDING_EVENT) && ledger.has(e, applied::CALL)
                })
        };
        if facts.deleted() {
            let message = if done(ledger) {
                "The recording was deleted in Zoom (or moved to the trash) after it was synced: the CRM keeps its timeline events and calls, whose link no longer plays."
            } else {
                "The recording was not synced: it was deleted in Zoom (or moved to the trash)."
            };
            self.note_that(ledger, id, not_synced, message.into(), Vec::new())?;
            return Ok(None);
        }
        if done(ledger) {
            return Ok(None);
        }

        let Some(recording) = self.zoom.recording(id)? else {
            if facts.completed_ms.is_some() || facts.transcript_ms.is_some() {
                self.note_that(
                    ledger,
                    id,
                    not_synced,
                    "The recording was not synced: not found in Zoom (deleted, or not recorded to the cloud).".into(),
                    Vec::new(),
                )?;
            }
            return Ok(None);
        };
        let now = self.env.now_ms;
        let first_seen = *ledger.recording.first_seen_ms.get_or_insert(now);
        let (url, transcript_file) = match recording::readiness(&recording) {
            Readiness::Processing if now - first_seen >= PROCESSING_LIMIT_MS => {
                self.note_that(
                    ledger,
                    id,
                    not_synced,
                    "The recording was not synced: still processing in Zoom 24 hours after it was first seen. Use \"sync now\" once Zoom shows it as ready.".into(),
                    Vec::new(),
                )?;
                return Ok(None);
            }
            Readiness::Processing => {
                self.note_that(
                    ledger,
                    id,
                    not_synced,
                    "The recording is still processing in Zoom; the sync checks again until it is ready (for up to 24 hours).".into(),
                    Vec::new(),
                )?;
                ledger.recording.checks += 1;
                // 5, 10, 20, 40 minutes, then hourly.
                let wait =
                    (300_000i64 << ledger.recording.checks.saturating_sub(1).min(4)).min(3_600_000);
                return Ok(Some(now + wait));
            }
            Readiness::NoVideo => {
                self.note_that(
                    ledger,
                    id,
                    not_synced,
                    "The recording was not synced: unavailable, Zoom lists no video or audio file for it.".into(),
                    Vec::new(),
                )?;
                return Ok(None);
            }
            Readiness::Ready { url, transcript } => (url, transcript),
        };
        if attendees.is_empty() {
            self.note_that(
                ledger,
                id,
                not_synced,
                "The recording was not synced: no participants. Nobody who attended this webinar is a contact in the CRM.".into(),
                Vec::new(),
            )?;
            return Ok(None);
        }

        // R10: "recording available" does not wait for the transcript.
        let events = recording::plan(webinar, &recording, &url, &attendees, None);
        let todo: Vec<&TimelineEvent> = events
            .timeline
            .iter()
            .filter(|t| !ledger.has(&t.email, applied::RECORDING_EVENT))
            .collect();
        self.write_timeline(id, &todo, ledger, report)?;

        // A call is created once, so it waits for its transcript.
        if attendees.iter().all(|(e, _)| ledger.has(e, applied::CALL)) {
            return Ok(None);
        }
        let transcript = match transcript_file {
            Some(file) => match self.zoom.download(&file.download_url)? {
                Some(vtt) => {
                    let text = recording::transcript_text(&String::from_utf8_lossy(&vtt));
                    let (text, cut) = recording::cap_transcript(&text, MAX_TRANSCRIPT_CHARS, &url);
                    if cut {
                        self.note_that(
                            ledger,
                            id,
                            not_synced,
                            format!("The transcript is longer than {MAX_TRANSCRIPT_CHARS} characters: the calls hold its beginning and a link to the recording."),
                            Vec::new(),
                        )?;
                    }
                    Some(text)
                }
                None => {
                    self.note_that(
                        ledger,
                        id,
                        AuditKind::Error,
                        "Transcript not found: Zoom lists a transcript, but its file could not be downloaded; the calls were created without it.".into(),
                        Vec::new(),
                    )?;
                    None
                }
            },
            None if facts.transcript_ms.is_some() => {
                self.note_that(
                    ledger,
                    id,
                    AuditKind::Error,
                    "Transcript not found: Zoom announced a transcript, but the recording has none; the calls were created without it.".into(),
                    Vec::new(),
                )?;
                None
            }
            // Zoom makes the transcript after the recording: wait for it,
            // unless someone asked for the sync now.
            None if !mode.on_demand && now - first_seen < TRANSCRIPT_WAIT_MS => {
                return Ok(Some(first_seen + TRANSCRIPT_WAIT_MS));
            }
            None => {
                self.note_that(
                    ledger,
                    id,
                    not_synced,
                    "The transcript was not synced: the recording has none in Zoom (audio transcripts may be off in the host's cloud recording settings). The calls were created without it.".into(),
                    Vec::new(),
                )?;
                None
            }
        };
        let plan = recording::plan(webinar, &recording, &url, &attendees, transcript.as_deref());
        self.settle_calls_in_flight(id, ledger)?;
        let calls: Vec<_> = plan
            .calls
            .iter()
            .filter(|c| !ledger.has(&c.email, applied::CALL))
            .collect();
        for chunk in calls.chunks(BATCH_SIZE) {
            self.create_calls(id, chunk, ledger, report)?;
        }
        Ok(None)
    }

    /// Creates one batch of calls, each exactly once (R30). The batch's
    /// keys are stored before it is sent; a run that stops before the
    /// CRM's answer is saved (killed, out of time, the answer lost) leaves
    /// them, and the CRM is asked which of them exist before any is sent
    /// again — here, or by the next run.
    fn create_calls(
        &mut self,
        webinar: &str,
        chunk: &[&Call],
        ledger: &mut Ledger,
        report: &mut Report,
    ) -> Result<(), PluginError> {
        let mut todo: Vec<&Call> = chunk.to_vec();
        for attempt in 1.. {
            let in_flight: Vec<(String, String)> = todo
                .iter()
                .map(|c| (c.email.clone(), call_key(webinar, &c.contact_id)))
                .collect();
            save(
                self.env.store,
                &schema::calls_in_flight(webinar),
                &in_flight,
            )?;
            let refused = match self.crm.create_calls(&todo) {
                Ok(refused) => refused,
                Err(e) if attempt < 3 && retryable(&e) => {
                    // Made or not, the CRM knows: ask before sending again.
                    self.settle_calls_in_flight(webinar, ledger)?;
                    todo.retain(|c| !ledger.has(&c.email, applied::CALL));
                    if todo.is_empty() {
                        return Ok(());
                    }
                    continue;
                }
                Err(e) => return Err(e),
            };
            let mut failed = Vec::new();
            for call in &todo {
                if refused.contains(&call.contact_id) {
                    failed.push(call.email.clone());
                } else {
                    ledger.mark(&call.email, applied::CALL);
                    report.wrote(Record::Call);
                }
            }
            self.save_ledger(webinar, ledger)?;
            self.env.store.delete(&schema::calls_in_flight(webinar))?;
            if !failed.is_empty() {
                let what = (
                    AuditKind::WebinarDataNotSynced,
                    "call record(s) of the recording were not created",
                );
                let reason = refused.reason().to_owned();
                self.failed_writes((ledger, webinar, report), what, &reason, failed)?;
            }
            break;
        }
        Ok(())
    }

    /// Marks the calls a stopped run sent as made if the CRM holds them,
    /// and forgets the batch: what is not there is created again.
    pub(super) fn settle_calls_in_flight(
        &mut self,
        webinar: &str,
        ledger: &mut Ledger,
    ) -> Result<(), PluginError> {
        let key = schema::calls_in_flight(webinar);
        let Some(in_flight) = load::<Vec<(String, String)>>(self.env.store, &key)? else {
            return Ok(());
        };
        let unknown: Vec<String> = in_flight
            .iter()
            .filter(|(email, _)| !ledger.has(email, applied::CALL))
            .map(|(_, key)| key.clone())
            .collect();
        if !unknown.is_empty() {
            let found = self.crm.existing_call_keys(&unknown)?;
            for (email, key) in &in_flight {
                if found.contains(key) {
                    ledger.mark(email, applied::CALL);
                }
            }
            self.save_ledger(webinar, ledger)?;
        }
        self.env.store.delete(&key)
    }
}
