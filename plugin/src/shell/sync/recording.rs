//! A synced webinar's recording and transcript (R2, R4, R6b, R11, R19b,
//! R19f): a "recording available" timeline event and a call record with
//! the transcript for every contact that attended, each written once.

use std::ops::Range;

use super::{Book, CrmSide};
use super::{Mode, Report, Sides, ZoomSide, retryable};
use crate::core::audit::{AuditKind, Record};
use crate::core::definitions::call_key;
use crate::core::intake::RecordingFacts;
use crate::core::ledger::{Ledger, applied, part_of};
use crate::core::plan::{TimelineEvent, Webinar};
use crate::core::recording::{self, Call, MAX_TRANSCRIPT_CHARS};
use crate::core::recording_steps as steps;
use crate::core::settings::{GlobalSettings, UserSettings};
use crate::shell::crm::BATCH_SIZE;
use crate::shell::{PluginError, load, save, schema};

/// (email, contact id) of the contacts whose attendance was written, in
/// the slice the ledger holds.
fn attendees(ledger: &Ledger) -> Vec<(String, String)> {
    ledger
        .people_with(applied::ATTENDED)
        .into_iter()
        .filter_map(|email| Some((email.clone(), ledger.contact_id(email)?.to_owned())))
        .collect()
}

/// The recording's attendees across the slices, counted as each slice's
/// attendance is written: whom the recording is for, and how many have
/// its event and call.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Tally {
    attendees: usize,
    done: usize,
    called: usize,
}

impl Tally {
    /// The slice the ledger holds.
    pub fn add(&mut self, ledger: &Ledger) {
        for (email, _) in attendees(ledger) {
            let called = ledger.has(&email, applied::CALL);
            self.attendees += 1;
            self.called += usize::from(called);
            self.done += usize::from(called && ledger.has(&email, applied::RECORDING_EVENT));
        }
    }
}

/// What the calls do this run.
enum Calls {
    /// Every attendee has one.
    Made,
    /// They wait for the transcript until then.
    WaitUntil(i64),
    /// Created now, with the transcript's text if there is one.
    Create(Option<String>),
}

/// The recording as found in Zoom, ready to write.
struct Found {
    recording: recording::Recording,
    url: String,
    calls: Calls,
}

impl Sides<'_> {
    /// Writes what the recording owes the CRM, slice by slice. Returns
    /// when to look again: the recording is still processing, or the calls
    /// wait for a transcript. Each step is the core's (`recording_steps`);
    /// this asks Zoom and writes.
    pub(super) fn sync_recording(
        &mut self,
        webinar: &Webinar,
        (facts, mode, settings): (&RecordingFacts, Mode, (&GlobalSettings, &UserSettings)),
        slices: &[Range<u32>],
        ledger: &mut Ledger,
        report: &mut Report,
    ) -> Result<Option<i64>, PluginError> {
        let id = webinar.id.as_str();
        let mut tally = Tally::default();
        for parts in slices {
            self.book.hold(id, ledger, parts.clone())?;
            tally.add(ledger);
        }
        let recording = (facts, mode, settings);
        let found = match self
            .zoom
            .find_recording(webinar, recording, tally, &self.book, ledger)?
        {
            Ok(found) => found,
            Err(look_again) => return Ok(look_again),
        };
        self.crm.settle_calls_in_flight(id, &self.book, ledger)?;
        for parts in slices {
            self.book.hold(id, ledger, parts.clone())?;
            let attendees = attendees(ledger);
            if attendees.is_empty() {
                continue;
            }
            // R10: "recording available" does not wait for the transcript.
            let events = recording::plan(webinar, &found.recording, &found.url, &attendees, None);
            let todo: Vec<&TimelineEvent> = events
                .timeline
                .iter()
                .filter(|t| !ledger.has(&t.email, applied::RECORDING_EVENT))
                .collect();
            self.crm
                .write_timeline(id, &todo, &self.book, (ledger, report))?;
            let Calls::Create(transcript) = &found.calls else {
                continue;
            };
            let plan = recording::plan(
                webinar,
                &found.recording,
                &found.url,
                &attendees,
                transcript.as_deref(),
            );
            let calls: Vec<_> = plan
                .calls
                .iter()
                .filter(|c| !ledger.has(&c.email, applied::CALL))
                .collect();
            for chunk in calls.chunks(BATCH_SIZE) {
                self.crm
                    .create_calls(id, chunk, &self.book, (ledger, report))?;
            }
        }
        Ok(match found.calls {
            Calls::WaitUntil(at) => Some(at),
            Calls::Made | Calls::Create(_) => None,
        })
    }
}

impl ZoomSide<'_> {
    /// The recording and its transcript, once for every slice; or when to
    /// look again (none: nothing to do).
    fn find_recording(
        &mut self,
        webinar: &Webinar,
        (facts, mode, (global, host)): (&RecordingFacts, Mode, (&GlobalSettings, &UserSettings)),
        tally: Tally,
        book: &Book,
        ledger: &mut Ledger,
    ) -> Result<Result<Found, Option<i64>>, PluginError> {
        let id = webinar.id.as_str();
        let allowed = recording::allowed(global, host, &webinar.host_email);
        let written = steps::Written {
            attendees: tally.attendees,
            done: tally.attendees > 0 && tally.done == tally.attendees,
        };
        if let Err(note) = steps::before_fetch(facts, mode.reconcile, allowed, written) {
            return say(book, ledger, id, note).map(|()| Err(None));
        }
        let Some(recording) = self.port.recording(id)? else {
            return say(book, ledger, id, steps::not_found(facts)).map(|()| Err(None));
        };
        let now = book.now_ms;
        let first_seen = *ledger.recording.first_seen_ms.get_or_insert(now);
        let checks = ledger.recording.checks + 1;
        let (url, transcript_file) =
            match steps::listing(&recording, tally.attendees, (now, first_seen, checks)) {
                steps::Listing::Stop(why) => {
                    return say(book, ledger, id, Some(why)).map(|()| Err(None));
                }
                steps::Listing::LookAgain { note, at_ms } => {
                    say(book, ledger, id, Some(note))?;
                    ledger.recording.checks = checks;
                    return Ok(Err(Some(at_ms)));
                }
                steps::Listing::Write { url, transcript } => (url, transcript),
            };
        // A call is created once, so it waits for its transcript.
        let calls = if tally.called == tally.attendees {
            Calls::Made
        } else {
            let announced = facts.transcript_ms.is_some();
            let step = steps::transcript(
                transcript_file.as_ref(),
                announced,
                mode.on_demand,
                (now, first_seen),
            );
            match step {
                steps::Transcript::WaitUntil(at) => Calls::WaitUntil(at),
                steps::Transcript::Without(kind, why) => {
                    book.note_that(ledger, id, kind, why, Vec::new())?;
                    Calls::Create(None)
                }
                steps::Transcript::Download(file_url) => {
                    Calls::Create(self.transcript((id, &file_url, &url), book, ledger)?)
                }
            }
        };
        Ok(Ok(Found {
            recording,
            url,
            calls,
        }))
    }

    /// The transcript's text for the calls, capped (R11); none, said once,
    /// when its file cannot be downloaded.
    fn transcript(
        &mut self,
        (id, file_url, recording_url): (&str, &str, &str),
        book: &Book,
        ledger: &mut Ledger,
    ) -> Result<Option<String>, PluginError> {
        let Some(vtt) = self.port.download(file_url)? else {
            let why = steps::TRANSCRIPT_NOT_DOWNLOADED.to_owned();
            book.note_that(ledger, id, AuditKind::Error, why, Vec::new())?;
            return Ok(None);
        };
        let text = recording::transcript_text(&String::from_utf8_lossy(&vtt));
        let (text, cut) = recording::cap_transcript(&text, MAX_TRANSCRIPT_CHARS, recording_url);
        if cut {
            say(
                book,
                ledger,
                id,
                Some(format!(
                    "The transcript is longer than {MAX_TRANSCRIPT_CHARS} characters: the calls hold its beginning and a link to the recording."
                )),
            )?;
        }
        Ok(Some(text))
    }
}

/// What a step says, if anything, in the webinar's audit log once.
fn say(
    book: &Book,
    ledger: &mut Ledger,
    id: &str,
    note: Option<String>,
) -> Result<(), PluginError> {
    match note {
        Some(why) => book.note_that(ledger, id, AuditKind::RecordingNotSynced, why, Vec::new()),
        None => Ok(()),
    }
}

impl CrmSide<'_> {
    /// Creates one batch of calls, each exactly once (R30). The batch's
    /// keys are stored before it is sent; a run that stops before the
    /// CRM's answer is saved (killed, out of time, the answer lost) leaves
    /// them, and the CRM is asked which of them exist before any is sent
    /// again — here, or by the next run.
    fn create_calls(
        &mut self,
        webinar: &str,
        chunk: &[&Call],
        book: &Book,
        (ledger, report): (&mut Ledger, &mut Report),
    ) -> Result<(), PluginError> {
        let mut todo: Vec<&Call> = chunk.to_vec();
        for attempt in 1.. {
            let in_flight: Vec<(String, String)> = todo
                .iter()
                .map(|c| (c.email.clone(), call_key(webinar, &c.contact_id)))
                .collect();
            save(book.store, &schema::calls_in_flight(webinar), &in_flight)?;
            let refused = match self.port.create_calls(&todo) {
                Ok(refused) => refused,
                Err(e) if attempt < 3 && retryable(&e) => {
                    // Made or not, the CRM knows: ask before sending again.
                    self.settle_calls_in_flight(webinar, book, ledger)?;
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
            book.save_ledger(webinar, ledger)?;
            book.store.delete(&schema::calls_in_flight(webinar))?;
            if !failed.is_empty() {
                let what = (
                    AuditKind::WebinarDataNotSynced,
                    "call record(s) of the recording were not created",
                );
                book.failed_writes((ledger, webinar, report), what, &refused, failed)?;
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
        book: &Book,
        ledger: &mut Ledger,
    ) -> Result<(), PluginError> {
        let key = schema::calls_in_flight(webinar);
        let Some(in_flight) = load::<Vec<(String, String)>>(book.store, &key)? else {
            return Ok(());
        };
        // A batch left by a run that stopped may be of another slice.
        if !in_flight.iter().all(|(email, _)| ledger.holds(email)) {
            let parts = in_flight.iter().map(|(email, _)| part_of(email));
            let (first, last) = (parts.clone().min(), parts.max());
            if let (Some(first), Some(last)) = (first, last) {
                book.hold(webinar, ledger, first..last + 1)?;
            }
        }
        let unknown: Vec<String> = in_flight
            .iter()
            .filter(|(email, _)| !ledger.has(email, applied::CALL))
            .map(|(_, key)| key.clone())
            .collect();
        if !unknown.is_empty() {
            let found = self.port.existing_call_keys(&unknown)?;
            for (email, key) in &in_flight {
                if found.contains(key) {
                    ledger.mark(email, applied::CALL);
                }
            }
            book.save_ledger(webinar, ledger)?;
        }
        book.store.delete(&key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::recording::{Recording, RecordingFile};
    use crate::shell::sync::testing::{Harness, StubCrm, StubZoom, ada_created_as_501, webinar};

    const VTT: &str = "WEBVTT\n\n1\n00:00:01.000 --> 00:00:04.000\nHannah Host: Welcome!\n";

    /// A webinar that ran, Ada attended it, the timeline is set up, and
    /// Zoom holds its recording (with a transcript file if `transcript`).
    fn recorded(transcript: bool) -> (Harness, Webinar, Ledger) {
        let zoom = StubZoom::default();
        let file = |file_type: &str| RecordingFile {
            file_type: file_type.into(),
            status: "completed".into(),
            download_url: format!("https://zoom.us/rec/download/{file_type}"),
            play_url: format!("https://zoom.us/rec/play/{file_type}"),
        };
        let mut files = vec![file("MP4")];
        if transcript {
            files.push(file("TRANSCRIPT"));
        }
        zoom.state.borrow_mut().recordings.insert(
            "81".into(),
            Recording {
                share_url: "https://zoom.us/rec/share/81".into(),
                start_ms: Some(1_000),
                duration_minutes: 60,
                files,
            },
        );
        zoom.state
            .borrow_mut()
            .files
            .insert("https://zoom.us/rec/download/TRANSCRIPT".into(), VTT.into());
        let harness = Harness::new(zoom, StubCrm::default());
        crate::shell::sync::testing::timeline_set_up(&harness.store);
        let mut ledger = ada_created_as_501();
        ledger.mark("ada@x.example", applied::ATTENDED);
        let ran = Webinar {
            ran: Some((1_000, 3_601_000)),
            ..webinar("81")
        };
        (harness, ran, ledger)
    }

    fn sync(
        harness: &Harness,
        webinar: &Webinar,
        ledger: &mut Ledger,
        on_demand: bool,
    ) -> Option<i64> {
        let facts = RecordingFacts {
            completed_ms: Some(2_000),
            ..RecordingFacts::default()
        };
        let mode = Mode {
            reconcile: true,
            on_demand,
        };
        let settings = (
            &GlobalSettings {
                recording_sync: crate::core::settings::RecordingSync::AllUsers,
                ..GlobalSettings::default()
            },
            &UserSettings::defaults_for("host@x.example"),
        );
        let mut report = Report::default();
        let every_part: Vec<_> = std::iter::once(0..crate::core::ledger::PEOPLE_PARTS).collect();
        harness
            .run()
            .sync_recording(
                webinar,
                (&facts, mode, settings),
                &every_part,
                ledger,
                &mut report,
            )
            .unwrap()
    }

    #[test]
    fn r11_an_attendee_gets_the_recording_event_and_one_call_with_the_transcript() {
        let (harness, webinar, mut ledger) = recorded(true);
        assert_eq!(sync(&harness, &webinar, &mut ledger, false), None);
        {
            let crm = harness.crm.state.borrow();
            assert_eq!(crm.activity.len(), 1, "{:?}", crm.activity);
            assert_eq!(crm.calls.len(), 1);
            assert_eq!(crm.calls[0].0, "501");
            assert!(
                crm.calls[0].1.contains("Hannah Host: Welcome!"),
                "{}",
                crm.calls[0].1
            );
        }
        assert!(ledger.has("ada@x.example", applied::CALL));
        // Synced again, nothing is written twice.
        sync(&harness, &webinar, &mut ledger, false);
        assert_eq!(harness.crm.state.borrow().calls.len(), 1);
    }

    #[test]
    fn r11_without_a_transcript_the_calls_wait_for_it_unless_a_person_asked() {
        let (harness, webinar, mut ledger) = recorded(false);
        let now = 1_795_000_000_000;
        assert_eq!(
            sync(&harness, &webinar, &mut ledger, false),
            Some(now + recording::TRANSCRIPT_WAIT_MS)
        );
        // "Recording available" does not wait; the call does.
        assert_eq!(harness.crm.state.borrow().activity.len(), 1);
        assert!(harness.crm.state.borrow().calls.is_empty());
        assert_eq!(sync(&harness, &webinar, &mut ledger, true), None);
        assert_eq!(harness.crm.state.borrow().calls.len(), 1);
    }
}
