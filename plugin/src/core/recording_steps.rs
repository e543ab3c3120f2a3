//! What the sync does with a webinar's recording, step by step (R2, R4,
//! R6b, R11, R19b): whether to look at all, what Zoom's listing means
//! now, when to look again, whether the calls wait for the transcript.
//! Each step is decided here from facts; the shell asks Zoom, writes, and
//! tells the audit log what a step says (`RecordingNotSynced` unless a
//! step names another kind).

use super::audit::AuditKind;
use super::intake::RecordingFacts;
use super::recording::{
    PROCESSING_LIMIT_MS, Readiness, Recording, RecordingFile, TRANSCRIPT_WAIT_MS, readiness,
};

/// Where the recording stands before Zoom is asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// Contacts whose attendance was written: whom the recording is for.
    pub attendees: usize,
    /// Every attendee has the "recording available" event and the call.
    pub done: bool,
}

/// Whether to ask Zoom for the recording: `Ok` to go on, `Err` with what
/// to say (none: nothing worth saying) to stop.
pub fn before_fetch(
    facts: &RecordingFacts,
    reconcile: bool,
    allowed: Result<(), String>,
    written: Written,
) -> Result<(), Option<String>> {
    if !facts.any() && !reconcile {
        return Err(None);
    }
    // R2, R4, R6b. Said only when Zoom told of a recording: a reconcile of
    // an unrecorded webinar has nothing to report.
    if let Err(why) = allowed {
        return Err(facts.any().then(|| {
            format!("The recording and transcript were not synced: settings off. {why}")
        }));
    }
    if facts.deleted() {
        return Err(Some(if written.done {
            "The recording was deleted in Zoom (or moved to the trash) after it was synced: the CRM keeps its timeline events and calls, whose link no longer plays."
        } else {
            "The recording was not synced: it was deleted in Zoom (or moved to the trash)."
        }.into()));
    }
    if written.done {
        return Err(None);
    }
    Ok(())
}

/// Zoom has no recording for the webinar: said only when Zoom told of one.
pub fn not_found(facts: &RecordingFacts) -> Option<String> {
    (facts.completed_ms.is_some() || facts.transcript_ms.is_some()).then(|| {
        "The recording was not synced: not found in Zoom (deleted, or not recorded to the cloud)."
            .into()
    })
}

/// What Zoom's listing of the recording means now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listing {
    /// Say why and stop.
    Stop(String),
    /// Still processing: say so, and look again at `at_ms`.
    LookAgain { note: String, at_ms: i64 },
    /// Ready: the link the CRM records, and the transcript file if any.
    Write {
        url: String,
        transcript: Option<RecordingFile>,
    },
}

/// `checks`: how often the recording was found processing before, this
/// time included; `first_seen_ms`: when the sync first saw it.
pub fn listing(
    recording: &Recording,
    attendees: usize,
    (now_ms, first_seen_ms, checks): (i64, i64, u32),
) -> Listing {
    match readiness(recording) {
        Readiness::Processing if now_ms - first_seen_ms >= PROCESSING_LIMIT_MS => Listing::Stop(
            "The recording was not synced: still processing in Zoom 24 hours after it was first seen. Use \"sync now\" once Zoom shows it as ready.".into(),
        ),
        Readiness::Processing => Listing::LookAgain {
            note: "The recording is still processing in Zoom; the sync checks again until it is ready (for up to 24 hours).".into(),
            at_ms: now_ms + processing_wait_ms(checks),
        },
        Readiness::NoVideo => Listing::Stop(
            "The recording was not synced: unavailable, Zoom lists no video or audio file for it."
                .into(),
        ),
        Readiness::Ready { .. } if attendees == 0 => Listing::Stop(
            "The recording was not synced: no participants. Nobody who attended this webinar is a contact in the CRM.".into(),
        ),
        Readiness::Ready { url, transcript } => Listing::Write { url, transcript },
    }
}

/// How long a processing recording waits before the next look: 5, 10,
/// 20, 40 minutes, then hourly.
pub fn processing_wait_ms(checks: u32) -> i64 {
    (300_000i64 << checks.saturating_sub(1).min(4)).min(3_600_000)
}

/// What the calls do about the transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transcript {
    /// Download this file; the calls carry its text.
    Download(String),
    /// Zoom makes the transcript after the recording: wait until then.
    WaitUntil(i64),
    /// The calls go without it, and the audit log says why.
    Without(AuditKind, String),
}

/// `announced`: Zoom's webhook said a transcript was made; `on_demand`: a
/// person asked for the sync, so nothing waits for Zoom.
pub fn transcript(
    file: Option<&RecordingFile>,
    announced: bool,
    on_demand: bool,
    (now_ms, first_seen_ms): (i64, i64),
) -> Transcript {
    match file {
        Some(file) => Transcript::Download(file.download_url.clone()),
        None if announced => Transcript::Without(
            AuditKind::Error,
            "Transcript not found: Zoom announced a transcript, but the recording has none; the calls were created without it.".into(),
        ),
        None if !on_demand && now_ms - first_seen_ms < TRANSCRIPT_WAIT_MS => {
            Transcript::WaitUntil(first_seen_ms + TRANSCRIPT_WAIT_MS)
        }
        None => Transcript::Without(
            AuditKind::RecordingNotSynced,
            "The transcript was not synced: the recording has none in Zoom (audio transcripts may be off in the host's cloud recording settings). The calls were created without it.".into(),
        ),
    }
}

/// The transcript's file could not be downloaded: the calls go without it.
pub const TRANSCRIPT_NOT_DOWNLOADED: &str = "Transcript not found: Zoom lists a transcript, but its file could not be downloaded; the calls were created without it.";

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(completed: bool, deleted: bool) -> RecordingFacts {
        RecordingFacts {
            completed_ms: completed.then_some(1),
            deleted_ms: deleted.then_some(2),
            ..RecordingFacts::default()
        }
    }

    fn file(file_type: &str, status: &str) -> RecordingFile {
        RecordingFile {
            file_type: file_type.into(),
            status: status.into(),
            download_url: format!("https://zoom.us/rec/download/{file_type}"),
            play_url: format!("https://zoom.us/rec/play/{file_type}"),
        }
    }

    fn recording(files: Vec<RecordingFile>) -> Recording {
        Recording {
            share_url: "https://zoom.us/rec/share/9".into(),
            start_ms: Some(0),
            duration_minutes: 60,
            files,
        }
    }

    const NOT_DONE: Written = Written {
        attendees: 2,
        done: false,
    };

    #[test]
    fn r2_r4_r6b_recordings_a_setting_keeps_out_are_said_only_when_zoom_told_of_one() {
        let off = || Err("Recording sync is off.".to_owned());
        let said = before_fetch(&facts(true, false), true, off(), NOT_DONE).unwrap_err();
        assert!(
            said.unwrap()
                .contains("settings off. Recording sync is off.")
        );
        assert_eq!(
            before_fetch(&facts(false, false), true, off(), NOT_DONE),
            Err(None)
        );
        // Nothing told and no reconcile: Zoom is not even asked.
        assert_eq!(
            before_fetch(&facts(false, false), false, Ok(()), NOT_DONE),
            Err(None)
        );
        assert_eq!(
            before_fetch(&facts(false, false), true, Ok(()), NOT_DONE),
            Ok(())
        );
    }

    #[test]
    fn r19b_a_deleted_recording_says_whether_the_crm_keeps_what_was_synced() {
        let done = Written {
            attendees: 2,
            done: true,
        };
        let after = before_fetch(&facts(true, true), false, Ok(()), done).unwrap_err();
        assert!(after.unwrap().contains("after it was synced"));
        let before = before_fetch(&facts(true, true), false, Ok(()), NOT_DONE).unwrap_err();
        assert!(before.unwrap().contains("was not synced: it was deleted"));
        // Synced and not deleted: nothing to do, nothing to say.
        assert_eq!(
            before_fetch(&facts(true, false), true, Ok(()), done),
            Err(None)
        );
    }

    #[test]
    fn r11_a_processing_recording_is_looked_at_again_less_and_less_often_for_a_day() {
        let processing = recording(vec![file("MP4", "processing")]);
        let waits: Vec<i64> = (1..=7)
            .map(|checks| match listing(&processing, 2, (1_000, 0, checks)) {
                Listing::LookAgain { at_ms, .. } => (at_ms - 1_000) / 60_000,
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(waits, [5, 10, 20, 40, 60, 60, 60]);
        let day = 24 * 3_600_000;
        assert!(matches!(
            listing(&processing, 2, (day, 0, 9)),
            Listing::Stop(why) if why.contains("24 hours")
        ));
    }

    #[test]
    fn r11_r19b_a_ready_recording_is_written_for_attendees_only() {
        let ready = recording(vec![
            file("MP4", "completed"),
            file("TRANSCRIPT", "completed"),
        ]);
        let Listing::Write { url, transcript } = listing(&ready, 2, (0, 0, 1)) else {
            panic!("ready");
        };
        assert_eq!(url, "https://zoom.us/rec/share/9");
        assert_eq!(transcript.unwrap().file_type, "TRANSCRIPT");
        assert!(
            matches!(listing(&ready, 0, (0, 0, 1)), Listing::Stop(why) if why.contains("no participants"))
        );
        let audio_less = recording(vec![file("CHAT", "completed")]);
        assert!(
            matches!(listing(&audio_less, 2, (0, 0, 1)), Listing::Stop(why) if why.contains("no video or audio"))
        );
    }

    #[test]
    fn r11_calls_wait_two_hours_for_a_transcript_unless_a_person_asked_or_zoom_announced_one() {
        let hour = 3_600_000;
        assert_eq!(
            transcript(None, false, false, (hour, 0)),
            Transcript::WaitUntil(2 * hour)
        );
        assert!(matches!(
            transcript(None, false, true, (hour, 0)),
            Transcript::Without(AuditKind::RecordingNotSynced, _)
        ));
        assert!(matches!(
            transcript(None, false, false, (2 * hour, 0)),
            Transcript::Without(AuditKind::RecordingNotSynced, _)
        ));
        assert!(matches!(
            transcript(None, true, false, (hour, 0)),
            Transcript::Without(AuditKind::Error, why) if why.contains("announced")
        ));
        let vtt = file("TRANSCRIPT", "completed");
        assert_eq!(
            transcript(Some(&vtt), false, false, (0, 0)),
            Transcript::Download(vtt.download_url.clone())
        );
    }
}
