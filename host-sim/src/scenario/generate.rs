//! Scenarios made rather than written: `scenario generate` (large,
//! realistic accounts for load and performance work) and the recorded
//! webinar the fault, crash and bench runs sync.

use super::model::{GlobalSettings, RecordingSync, Scenario, Step};
use crate::clock::{DAY_MS, parse_rfc3339, rfc3339};
use crate::fakes::zoom::model::{Participant, Ran, Registrant, User, Webinar, ZoomAccount};

/// What `scenario generate` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenerateOptions {
    pub webinars: usize,
    /// Registrants per webinar.
    pub registrants: usize,
    /// Registrants who attend, per webinar (at most `registrants`).
    pub attendees: usize,
    /// Guests who join without registering, per webinar.
    pub guests: usize,
    pub seed: u64,
}

/// SplitMix64: a small generator whose numbers depend only on the seed, so
/// that a seed gives the same scenario (and the same shuffle) every time.
pub(super) struct SplitMix64(u64);

impl SplitMix64 {
    pub(super) fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub(super) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number below `bound` (0 when `bound` is 0).
    fn below(&mut self, bound: u64) -> u64 {
        self.next_u64() % bound.max(1)
    }
}

/// One webinar that ran, with `registrants` of whom 70 % attended and
/// three guests, recorded with its transcript, and no steps: a "sync now"
/// writes it all from Zoom's lists, in batches, calls included. The
/// fault, crash and bench runs sync it. Also returns the webinar's id.
pub fn recorded_webinar(registrants: usize, seed: u64) -> (Scenario, String) {
    let mut scenario = generate(GenerateOptions {
        webinars: 1,
        registrants,
        attendees: registrants * 7 / 10,
        guests: 3,
        seed,
    });
    scenario.steps.clear();
    record_every_webinar(&mut scenario);
    let webinar = scenario.zoom.webinars[0].id.to_string();
    (scenario, webinar)
}

/// Gives every webinar of `scenario` a cloud recording, ready, with its
/// transcript, and syncs every host's recordings: each attendee then gets
/// a call, which the CRM does not deduplicate (R11, R30).
pub fn record_every_webinar(scenario: &mut Scenario) {
    use crate::fakes::zoom::model::{Recording, RecordingFile};
    for webinar in &mut scenario.zoom.webinars {
        let file = |file_type: &str, content: &str| RecordingFile {
            id: String::new(),
            file_type: file_type.into(),
            status: "completed".into(),
            content: content.into(),
        };
        webinar.recording = Some(Recording {
            files: vec![
                file("MP4", ""),
                file(
                    "TRANSCRIPT",
                    &format!(
                        "WEBVTT\n\n1\n00:00:01.000 --> 00:00:04.000\nHannah Host: Welcome to {}.\n",
                        webinar.topic
                    ),
                ),
            ],
            deleted: false,
        });
    }
    scenario
        .settings
        .get_or_insert_with(GlobalSettings::default)
        .recording_sync = Some(RecordingSync::Mode("all-users".into()));
}

/// A large, realistic scenario: one host, webinars that ran, registrants of
/// many companies, attendees with one to three segments (some
/// overlapping), guests; each webinar played and then synced.
pub fn generate(options: GenerateOptions) -> Scenario {
    let mut rng = SplitMix64::new(options.seed);
    let host = "host@acme.example".to_owned();
    let mut webinars = Vec::new();
    let mut steps = Vec::new();
    for w in 0..options.webinars {
        let webinar = generated_webinar(w, &options, &host, &mut rng);
        steps.push(Step::PlayWebinar {
            webinar: webinar.id,
            shuffle_seed: None,
            times: None,
        });
        steps.push(Step::SyncNow {
            webinar: webinar.id.to_string(),
        });
        webinars.push(webinar);
    }
    Scenario {
        name: format!(
            "generated: {} webinar(s), {} registrants and {} attendees each",
            options.webinars, options.registrants, options.attendees
        ),
        description: format!("Generated with seed {}.", options.seed),
        settings: Some(GlobalSettings {
            global_sync: Some(true),
            webinar_sync: Some(true),
            ..GlobalSettings::default()
        }),
        zoom: ZoomAccount {
            users: vec![User {
                id: String::new(),
                email: host,
                first_name: "Hannah".into(),
                last_name: "Host".into(),
            }],
            webinars,
            events: Vec::new(),
            scopes: None,
        },
        steps,
        ..Scenario::default()
    }
}

/// The `w`th generated webinar (from 0): an hour on day `w` after
/// 2026-11-02 15:00 UTC, that ran as scheduled.
fn generated_webinar(
    w: usize,
    options: &GenerateOptions,
    host: &str,
    rng: &mut SplitMix64,
) -> Webinar {
    let id = 81_000_000_000 + w as u64 * 1_111;
    let start_ms = parse_rfc3339("2026-11-02T15:00:00Z").unwrap_or(0) + w as i64 * DAY_MS;
    let start = rfc3339(start_ms);
    let registrants: Vec<Registrant> = (0..options.registrants)
        .map(|i| Registrant {
            id: String::new(),
            email: format!("person{i}@company{}.example", i % 97),
            first_name: format!("Person{i}"),
            last_name: format!("Company{}", i % 97),
            status: "approved".into(),
            create_time: String::new(),
        })
        .collect();
    let participants = participants(&registrants, options, rng);
    Webinar {
        id,
        uuid: String::new(),
        host: host.to_owned(),
        topic: format!("Generated webinar {}", w + 1),
        r#type: 5,
        start_time: start.clone(),
        duration: 60,
        timezone: "UTC".into(),
        approval_type: 0,
        required_fields: Vec::new(),
        required_questions: Vec::new(),
        registrants,
        participants,
        ran: Some(Ran {
            start_time: start,
            end_time: rfc3339(start_ms + 3_600_000),
        }),
        recording: None,
    }
}

/// The first `attendees` registrants, each in one to three segments
/// (minutes from the start, some overlapping: R8 merges them), then the
/// guests, who joined without registering.
fn participants(
    registrants: &[Registrant],
    options: &GenerateOptions,
    rng: &mut SplitMix64,
) -> Vec<Participant> {
    let mut participants: Vec<Participant> = registrants
        .iter()
        .take(options.attendees.min(options.registrants))
        .map(|r| {
            let segments = match rng.below(10) {
                0 => vec![(0, 25), (20, 45)],           // overlapping rejoin
                1 => vec![(5, 15), (30, 60)],           // left and came back
                2 => vec![(0, 10), (12, 20), (50, 60)], // three times
                _ => {
                    let join = rng.below(20) as u32;
                    vec![(join, (join + 10 + rng.below(40) as u32).min(60))]
                }
            };
            Participant {
                name: r.first_name.clone(),
                email: r.email.clone(),
                registrant: Some(r.email.clone()),
                segments,
            }
        })
        .collect();
    participants.extend((0..options.guests).map(|g| Participant {
        name: format!("Guest {g}"),
        email: format!("guest{g}@elsewhere.example"),
        registrant: None,
        segments: vec![(10, 40)],
    }));
    participants
}
