//! Recordings and transcripts (R2, R4, R6b, R11, R19b, R19f): whose
//! recordings may sync, what Zoom's recording listing says, the transcript
//! as readable text, and what to write for each attendee. Pure.

use std::collections::BTreeMap;

use super::definitions::{CALL_KEY, RECORDING_EVENT, call_key};
use super::plan::{TimelineEvent, Tokens, Webinar};
use super::settings::{GlobalSettings, RecordingSync, UserSettings};
use super::time::rfc3339;

/// The longest transcript a call body holds: the CRM caps a call's body at
/// 65,536 characters, and the rest of the body needs room.
pub const MAX_TRANSCRIPT_CHARS: usize = 60_000;

/// How long a recording may stay "processing" before the sync gives up
/// (R19b); a later "sync now" tries again.
pub const PROCESSING_LIMIT_MS: i64 = 24 * 3_600_000;

/// How long the calls wait for a transcript Zoom has not announced yet:
/// Zoom makes the transcript after the recording, in about the
/// recording's length. A call is created once, so it waits for its body.
pub const TRANSCRIPT_WAIT_MS: i64 = 2 * 3_600_000;

/// R2, R4, R6b: whether this host's recordings sync, or why not.
pub fn allowed(
    global: &GlobalSettings,
    host: &UserSettings,
    host_email: &str,
) -> Result<(), String> {
    let host_email = host_email.to_ascii_lowercase();
    match &global.recording_sync {
        RecordingSync::None => {
            return Err(
                "Recording and transcript sync is off for the account (settings: recordings: none)."
                    .into(),
            );
        }
        RecordingSync::SelectedUsers(users) if !users.contains(&host_email) => {
            return Err(format!(
                "Recordings sync for selected users only, and the host {host_email} is not one of them."
            ));
        }
        _ => {}
    }
    let domain = host_email.rsplit_once('@').map_or("", |(_, d)| d);
    if let Some(excluded) = global
        .recording_exclusion_domains
        .iter()
        .find(|d| domain == d.as_str() || domain.ends_with(&format!(".{d}")))
    {
        return Err(format!(
            "Recordings of hosts in {excluded} are excluded from the sync (the host is {host_email})."
        ));
    }
    if !host.sync_recordings {
        return Err(format!(
            "The host {host_email} turned off \"sync my recordings and transcripts\"."
        ));
    }
    Ok(())
}

/// One file of a recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordingFile {
    pub file_type: String,
    pub status: String,
    pub download_url: String,
    pub play_url: String,
}

/// A webinar's cloud recording, from `GET /meetings/{id}/recordings`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    pub share_url: String,
    pub start_ms: Option<i64>,
    pub duration_minutes: u64,
    pub files: Vec<RecordingFile>,
}

/// Whether a recording can be written now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    /// A file is still processing in Zoom.
    Processing,
    /// Files, but no video or audio to point to (R19b "unavailable").
    NoVideo,
    Ready {
        /// The link the CRM records: the share link, else the video's play link.
        url: String,
        transcript: Option<RecordingFile>,
    },
}

pub fn readiness(recording: &Recording) -> Readiness {
    if recording.files.iter().any(|f| f.status != "completed") {
        return Readiness::Processing;
    }
    let video = recording
        .files
        .iter()
        .find(|f| f.file_type == "MP4")
        .or_else(|| recording.files.iter().find(|f| f.file_type == "M4A"));
    let Some(video) = video else {
        return Readiness::NoVideo;
    };
    let url = if recording.share_url.starts_with("https://") {
        recording.share_url.clone()
    } else {
        video.play_url.clone()
    };
    Readiness::Ready {
        url,
        transcript: recording
            .files
            .iter()
            .find(|f| f.file_type == "TRANSCRIPT")
            .cloned(),
    }
}

/// Zoom's WebVTT transcript as readable text: one `Speaker: words` line
/// per turn, consecutive cues of the same speaker joined.
pub fn transcript_text(vtt: &str) -> String {
    let mut turns: Vec<(String, String)> = Vec::new();
    for block in vtt.replace("\r\n", "\n").split("\n\n") {
        let lines: Vec<&str> = block
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        // A cue is an optional number, the timing line, then its text.
        let Some(timing) = lines.iter().position(|l| l.contains("-->")) else {
            continue;
        };
        let text = lines[timing + 1..].join(" ");
        if text.is_empty() {
            continue;
        }
        let (speaker, words) = split_speaker(&text);
        match turns.last_mut() {
            Some((last, said)) if *last == speaker => {
                said.push(' ');
                said.push_str(&words);
            }
            _ => turns.push((speaker, words)),
        }
    }
    turns
        .into_iter()
        .map(|(speaker, words)| {
            if speaker.is_empty() {
                words
            } else {
                format!("{speaker}: {words}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `Name: words` (Zoom's cues) or `<v Name>words` (WebVTT voice tags).
fn split_speaker(text: &str) -> (String, String) {
    if let Some(rest) = text.strip_prefix("<v ")
        && let Some((name, words)) = rest.split_once('>')
    {
        return (
            name.trim().to_owned(),
            words.replace("</v>", "").trim().to_owned(),
        );
    }
    match text.split_once(": ") {
        // A speaker's name is short and has no sentence punctuation.
        Some((name, words))
            if !name.is_empty()
                && name.chars().count() <= 60
                && !name.contains(['.', '?', '!']) =>
        {
            (name.to_owned(), words.to_owned())
        }
        _ => (String::new(), text.to_owned()),
    }
}

/// The transcript cut to `max_chars` at a line end when it is longer, with
/// a note saying so; and whether it was cut.
pub fn cap_transcript(text: &str, max_chars: usize, full_at: &str) -> (String, bool) {
    if text.chars().count() <= max_chars {
        return (text.to_owned(), false);
    }
    let cut_at = text
        .char_indices()
        .nth(max_chars)
        .map_or(text.len(), |(i, _)| i);
    let head = &text[..cut_at];
    let head = head.rsplit_once('\n').map_or(head, |(kept, _)| kept);
    (
        format!(
            "{head}\n[Transcript cut at {max_chars} characters; the full transcript is in Zoom: {full_at}]"
        ),
        true,
    )
}

/// A call record for one attendee (R11).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub email: String,
    pub contact_id: String,
    pub properties: BTreeMap<&'static str, String>,
}

/// What to write for a ready recording: a "recording available" timeline
/// event and a call for each attendee contact.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordingPlan {
    pub timeline: Vec<TimelineEvent>,
    pub calls: Vec<Call>,
}

/// `attendees`: (email, contact id) of the contacts that attended.
pub fn plan(
    webinar: &Webinar,
    recording: &Recording,
    url: &str,
    attendees: &[(String, String)],
    transcript: Option<&str>,
) -> RecordingPlan {
    let start_ms = recording
        .start_ms
        .or(webinar.ran.map(|(start, _)| start))
        .unwrap_or(webinar.scheduled_start_ms);
    let duration_ms = match webinar.ran {
        Some((start, end)) => end - start,
        None => recording.duration_minutes as i64 * 60_000,
    };
    let mut body = format!(
        "Recording of the Zoom webinar \"{}\" ({}), {}: {url}",
        webinar.topic,
        webinar.id,
        rfc3339(start_ms)
    );
    match transcript {
        Some(text) if !text.is_empty() => {
            body.push_str("\n\nTranscript:\n");
            body.push_str(text);
        }
        _ => body.push_str("\n\nNo transcript."),
    }
    let mut out = RecordingPlan::default();
    for (email, contact_id) in attendees {
        out.timeline.push(TimelineEvent {
            id: format!("zoom-recording-{}-{contact_id}", webinar.id),
            event_type: RECORDING_EVENT,
            email: email.clone(),
            timestamp_ms: start_ms,
            tokens: Tokens::from([
                ("webinar_id", webinar.id.clone()),
                ("topic", webinar.topic.clone()),
                ("start_time", start_ms.to_string()),
                ("recording_url", url.to_owned()),
            ]),
        });
        out.calls.push(Call {
            email: email.clone(),
            contact_id: contact_id.clone(),
            properties: BTreeMap::from([
                ("hs_timestamp", rfc3339(start_ms)),
                ("hs_call_title", format!("Zoom webinar: {}", webinar.topic)),
                ("hs_call_body", body.clone()),
                ("hs_call_recording_url", url.to_owned()),
                ("hs_call_status", "COMPLETED".to_owned()),
                ("hs_call_duration", duration_ms.max(0).to_string()),
                (CALL_KEY, call_key(&webinar.id, contact_id)),
            ]),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn global(mode: RecordingSync) -> GlobalSettings {
        GlobalSettings {
            global_sync: true,
            webinar_sync: true,
            recording_sync: mode,
            recording_exclusion_domains: vec!["agency.example".into()],
            ..GlobalSettings::default()
        }
    }

    #[test]
    fn r2_r4_r6b_whose_recordings_sync_and_why_not() {
        let host = UserSettings::defaults_for("jo@acme.example");
        let all = global(RecordingSync::AllUsers);
        assert_eq!(allowed(&all, &host, "jo@acme.example"), Ok(()));
        let none = allowed(&global(RecordingSync::None), &host, "jo@acme.example");
        assert!(none.unwrap_err().contains("off for the account"));
        let selected = global(RecordingSync::SelectedUsers(vec![
            "ann@acme.example".into(),
        ]));
        assert!(
            allowed(&selected, &host, "Jo@acme.example")
                .unwrap_err()
                .contains("selected users only")
        );
        assert_eq!(allowed(&selected, &host, "ANN@acme.example"), Ok(()));
        assert!(
            allowed(&all, &host, "x@eu.agency.example")
                .unwrap_err()
                .contains("agency.example are excluded")
        );
        let off = UserSettings {
            sync_recordings: false,
            ..host
        };
        assert!(
            allowed(&all, &off, "jo@acme.example")
                .unwrap_err()
                .contains("turned off \"sync my recordings and transcripts\"")
        );
    }

    #[test]
    fn a_recording_is_ready_when_every_file_completed() {
        let file = |file_type: &str, status: &str, play: &str, download: &str| RecordingFile {
            file_type: file_type.into(),
            status: status.into(),
            play_url: play.into(),
            download_url: download.into(),
        };
        let mut recording = Recording {
            share_url: "https://zoom.us/rec/share/9".into(),
            start_ms: Some(1_795_000_000_000),
            duration_minutes: 60,
            files: vec![
                file(
                    "MP4",
                    "completed",
                    "https://zoom.us/rec/play/a",
                    "https://zoom.us/rec/download/a",
                ),
                file(
                    "TRANSCRIPT",
                    "processing",
                    "",
                    "https://zoom.us/rec/download/t",
                ),
            ],
        };
        assert_eq!(readiness(&recording), Readiness::Processing);
        recording.files[1].status = "completed".into();
        let Readiness::Ready { url, transcript } = readiness(&recording) else {
            panic!("ready");
        };
        assert_eq!(url, "https://zoom.us/rec/share/9");
        assert_eq!(
            transcript.unwrap().download_url,
            "https://zoom.us/rec/download/t"
        );
        recording.files.remove(0);
        assert_eq!(readiness(&recording), Readiness::NoVideo);
    }

    #[test]
    fn a_vtt_transcript_reads_as_turns_of_speakers() {
        let vtt = "\u{feff}WEBVTT\r\n\r\n1\r\n00:00:01.000 --> 00:00:04.000\r\nHannah Host: Welcome!\r\n\r\n2\r\n00:00:04.500 --> 00:00:06.000\r\nHannah Host: Let's start.\r\n\r\n3\r\n00:00:07.000 --> 00:00:09.000\r\n<v Ada Lovelace>Thanks, Hannah.</v>\r\n\r\n4\r\n00:00:10.000 --> 00:00:11.000\r\nno speaker here. Really: none\r\n";
        assert_eq!(
            transcript_text(vtt),
            "Hannah Host: Welcome! Let's start.\nAda Lovelace: Thanks, Hannah.\nno speaker here. Really: none"
        );
        assert_eq!(transcript_text("WEBVTT\n"), "");
    }

    #[test]
    fn a_long_transcript_is_cut_at_a_line_with_a_note() {
        let text = "A: ééé\nB: ééé\nC: ééé";
        assert_eq!(cap_transcript(text, 100, "u"), (text.to_owned(), false));
        let (cut, was_cut) = cap_transcript(text, 10, "https://zoom.us/rec/share/9");
        assert!(was_cut);
        assert_eq!(
            cut,
            "A: ééé\n[Transcript cut at 10 characters; the full transcript is in Zoom: https://zoom.us/rec/share/9]"
        );
    }
}
