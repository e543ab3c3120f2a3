//! A plan being made (R7-R10, R12, R19): each registrant and attendee
//! adds their contact, participations, timeline events and record.

use std::collections::{BTreeMap, BTreeSet};

use super::*;
use crate::core::attendance::{self, Segment};
use crate::core::exclusions::{self, Exclusion};

/// Each attendee by lowercase email: the name Zoom shows, and their
/// join/leave segments.
type Attendees = BTreeMap<String, (String, Vec<Segment>)>;

/// Each attendee's name and join/leave segments by lowercase email, found
/// by registrant id first, then by the email they joined with; and the
/// names of guests Zoom gave no email for.
pub(super) fn attendees(
    registrants: &[Registrant],
    rows: &[ParticipantRow],
) -> (Attendees, Vec<String>) {
    let by_registrant: BTreeMap<&str, &Registrant> =
        registrants.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut people = Attendees::new();
    let mut guests: Vec<String> = Vec::new();
    for row in rows {
        let email = by_registrant
            .get(row.registrant_id.as_str())
            .filter(|_| !row.registrant_id.is_empty())
            .map(|r| r.email.clone())
            .unwrap_or_else(|| row.email.clone());
        if email.trim().is_empty() {
            if !guests.contains(&row.name) {
                guests.push(row.name.clone());
            }
            continue;
        }
        let person = people
            .entry(email.trim().to_ascii_lowercase())
            .or_insert_with(|| (row.name.clone(), Vec::new()));
        person.1.push(Segment {
            joined_ms: row.joined_ms,
            left_ms: row.left_ms,
        });
    }
    (people, guests)
}

/// A plan being made: what each person contributes, as it is found.
pub(super) struct Planner<'a> {
    webinar: &'a Webinar,
    directory: &'a Directory,
    contacts: BTreeMap<String, ContactUpsert>,
    participations: Vec<Participation>,
    timeline: Vec<TimelineEvent>,
    records: BTreeMap<String, WebinarRecord>,
    /// A person excluded as a registrant and again as an attendee is listed once.
    excluded: BTreeMap<Exclusion, BTreeSet<String>>,
}

impl<'a> Planner<'a> {
    pub(super) fn new(webinar: &'a Webinar, directory: &'a Directory) -> Self {
        Self {
            webinar,
            directory,
            contacts: BTreeMap::new(),
            participations: Vec::new(),
            timeline: Vec::new(),
            records: BTreeMap::new(),
            excluded: BTreeMap::new(),
        }
    }

    /// The email the CRM knows the person by, or none when excluded (R5, R16-R18).
    fn classify(&mut self, email: &str) -> Option<String> {
        match exclusions::classify(email, self.directory) {
            Ok(email) => Some(email),
            Err(why) => {
                self.excluded
                    .entry(why)
                    .or_default()
                    .insert(email.to_owned());
                None
            }
        }
    }

    fn record(&mut self, email: &str) -> &mut WebinarRecord {
        let webinar = self.webinar;
        self.records
            .entry(email.to_owned())
            .or_insert_with(|| WebinarRecord {
                webinar_id: webinar.id.clone(),
                registered_ms: None,
                cancelled: false,
                join_url: webinar.join_url.clone(),
                attendance_percentage: None,
            })
    }

    /// A registration, and its cancellation (R7-R10).
    pub(super) fn register(&mut self, r: &Registrant) {
        let Some(email) = self.classify(&r.email) else {
            return;
        };
        let webinar = self.webinar;
        self.contacts.insert(
            email.clone(),
            ContactUpsert {
                email: email.clone(),
                first_name: r.first_name.clone(),
                last_name: r.last_name.clone(),
            },
        );
        self.participations.push(Participation {
            email: email.clone(),
            state: ParticipationState::Register,
            at_ms: r.registered_ms,
            joined_ms: None,
            left_ms: None,
        });
        self.timeline.push(TimelineEvent {
            id: format!("zoom-registration-{}-{}", webinar.id, r.id),
            event_type: crate::core::definitions::REGISTRATION_EVENT,
            email: email.clone(),
            timestamp_ms: r.registered_ms,
            tokens: Tokens::from([
                ("webinar_id", webinar.id.clone()),
                ("webinar_name", webinar.topic.clone()),
            ]),
        });
        let cancelled = r.status == "cancelled";
        let record = self.record(&email);
        record.registered_ms = Some(r.registered_ms);
        if cancelled {
            record.cancelled = true;
            self.participations.push(Participation {
                email,
                state: ParticipationState::Cancel,
                at_ms: r.registered_ms,
                joined_ms: None,
                left_ms: None,
            });
        }
    }

    /// An attendee (R7-R10, R12): a contact named from Zoom's display name
    /// when they did not register.
    pub(super) fn attend(&mut self, email: &str, name: &str, attended: &attendance::Attendance) {
        let Some(email) = self.classify(email) else {
            return;
        };
        let webinar = self.webinar;
        self.contacts.entry(email.clone()).or_insert_with(|| {
            let (first, last) = name.split_once(' ').unwrap_or((name, ""));
            ContactUpsert {
                email: email.clone(),
                first_name: first.to_owned(),
                last_name: last.to_owned(),
            }
        });
        self.participations.push(Participation {
            email: email.clone(),
            state: ParticipationState::Attend,
            at_ms: attended.joined_ms,
            joined_ms: Some(attended.joined_ms),
            left_ms: Some(attended.left_ms),
        });
        let start = webinar
            .ran
            .map_or(webinar.scheduled_start_ms, |(start, _)| start);
        self.timeline.push(TimelineEvent {
            id: format!("zoom-attendance-{}-{}", webinar.id, email),
            event_type: crate::core::definitions::ATTENDANCE_EVENT,
            email: email.clone(),
            timestamp_ms: attended.joined_ms,
            tokens: Tokens::from([
                ("webinar_id", webinar.id.clone()),
                ("webinar_name", webinar.topic.clone()),
                ("webinar_date", start.to_string()),
                ("joined_at", attended.joined_ms.to_string()),
                ("left_at", attended.left_ms.to_string()),
                ("duration_minutes", minutes(attended.attended_ms)),
                ("attendance_percentage", attended.percentage.to_string()),
            ]),
        });
        self.record(&email).attendance_percentage = Some(attended.percentage);
    }

    /// The plan, with what it left out and why (R19).
    pub(super) fn finish(self, guests: Vec<String>) -> Plan {
        let left_out = LeftOut {
            guests,
            excluded: self.excluded,
        };
        let mut audit = left_out.notes();
        let count = |state| {
            self.participations
                .iter()
                .filter(|p| p.state == state)
                .count()
        };
        audit.push(AuditNote {
            kind: AuditKind::Synced,
            message: format!(
                "Planned {} contact(s), {} registration(s) and {} attendee(s) for the marketing event.",
                self.contacts.len(),
                count(ParticipationState::Register),
                count(ParticipationState::Attend),
            ),
            records: Vec::new(),
        });
        Plan {
            webinar: self.webinar.id.clone(),
            contacts: self.contacts.into_values().collect(),
            participations: self.participations,
            timeline: self.timeline,
            records: self.records.into_iter().collect(),
            audit,
            left_out,
        }
    }
}
