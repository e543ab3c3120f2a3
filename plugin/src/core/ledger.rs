//! What has already been written to the CRM for one webinar, so a plan is
//! applied once: a replay, a retry after a partial failure or a second
//! "sync now" writes only what is missing (R20, R30, R32).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::definitions::{ATTENDANCE_EVENT, RECORDING_EVENT, REGISTRATION_EVENT};
use super::plan::{Participation, ParticipationState, Plan, TimelineEvent};

/// How an email resolved in the CRM.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "as", rename_all = "snake_case")]
pub enum Resolved {
    /// The primary email of this contact; `created` when the plugin made it.
    Contact { id: String, created: bool },
    /// R17: a secondary email of the contact whose primary email this is.
    Secondary { primary: String },
}

/// One bit per kind of write a person can have on a webinar.
pub mod applied {
    pub const REGISTERED: u8 = 1;
    pub const CANCELLED: u8 = 2;
    pub const ATTENDED: u8 = 4;
    pub const REGISTRATION_EVENT: u8 = 8;
    pub const ATTENDANCE_EVENT: u8 = 16;
    /// First and last name set on a contact the plugin created.
    pub const NAMED: u8 = 32;
    /// R11: the "recording available" timeline event.
    pub const RECORDING_EVENT: u8 = 64;
    /// R11: the call record with the recording and the transcript.
    pub const CALL: u8 = 128;
}

/// Where a webinar's recording stands (R11, R19b).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordingState {
    /// When the sync first found the recording in Zoom; the processing and
    /// transcript waits count from here.
    pub first_seen_ms: Option<i64>,
    /// Checks that found it still processing, for the back-off.
    pub checks: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ledger {
    /// Emails of this webinar as the CRM knows them.
    #[serde(default)]
    pub contacts: BTreeMap<String, Resolved>,
    /// Email -> the `applied` bits written.
    #[serde(default)]
    pub applied: BTreeMap<String, u8>,
    /// The marketing event as last written, to write it again only when it changed.
    #[serde(default)]
    pub event: Option<String>,
    /// Fingerprints of the audit notes already recorded, so a re-sync does
    /// not repeat them.
    #[serde(default)]
    pub notes: BTreeSet<String>,
    #[serde(default)]
    pub recording: RecordingState,
}

pub fn participation_bit(state: ParticipationState) -> u8 {
    match state {
        ParticipationState::Register => applied::REGISTERED,
        ParticipationState::Cancel => applied::CANCELLED,
        ParticipationState::Attend => applied::ATTENDED,
    }
}

pub fn timeline_bit(event: &TimelineEvent) -> u8 {
    match event.event_type {
        REGISTRATION_EVENT => applied::REGISTRATION_EVENT,
        ATTENDANCE_EVENT => applied::ATTENDANCE_EVENT,
        RECORDING_EVENT => applied::RECORDING_EVENT,
        _ => 0,
    }
}

impl Ledger {
    pub fn has(&self, email: &str, bit: u8) -> bool {
        self.applied.get(email).is_some_and(|b| b & bit != 0)
    }

    pub fn mark(&mut self, email: &str, bit: u8) {
        *self.applied.entry(email.to_owned()).or_insert(0) |= bit;
    }

    /// The contact id of an email that resolved to a primary contact.
    pub fn contact_id(&self, email: &str) -> Option<&str> {
        match self.contacts.get(email) {
            Some(Resolved::Contact { id, .. }) => Some(id),
            _ => None,
        }
    }

    /// The plan's participations not written yet.
    pub fn unwritten_participations<'a>(&self, plan: &'a Plan) -> Vec<&'a Participation> {
        plan.participations
            .iter()
            .filter(|p| !self.has(&p.email, participation_bit(p.state)))
            .collect()
    }

    /// The plan's timeline events not written yet.
    pub fn unwritten_timeline<'a>(&self, plan: &'a Plan) -> Vec<&'a TimelineEvent> {
        plan.timeline
            .iter()
            .filter(|t| !self.has(&t.email, timeline_bit(t)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::plan::ContactUpsert;

    fn plan() -> Plan {
        let participation = |email: &str, state| Participation {
            email: email.into(),
            state,
            at_ms: 0,
            joined_ms: None,
            left_ms: None,
        };
        Plan {
            webinar: "1".into(),
            contacts: vec![ContactUpsert {
                email: "ada@lovelace.example".into(),
                first_name: "Ada".into(),
                last_name: "Lovelace".into(),
            }],
            participations: vec![
                participation("ada@lovelace.example", ParticipationState::Register),
                participation("ada@lovelace.example", ParticipationState::Attend),
            ],
            timeline: vec![TimelineEvent {
                id: "zoom-registration-1-r1".into(),
                event_type: REGISTRATION_EVENT,
                email: "ada@lovelace.example".into(),
                timestamp_ms: 0,
                tokens: Default::default(),
            }],
            records: Vec::new(),
            audit: Vec::new(),
        }
    }

    #[test]
    fn r20_what_was_written_is_not_written_again() {
        let plan = plan();
        let mut ledger = Ledger::default();
        assert_eq!(ledger.unwritten_participations(&plan).len(), 2);
        assert_eq!(ledger.unwritten_timeline(&plan).len(), 1);
        ledger.mark("ada@lovelace.example", applied::REGISTERED);
        ledger.mark("ada@lovelace.example", applied::REGISTRATION_EVENT);
        let left = ledger.unwritten_participations(&plan);
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].state, ParticipationState::Attend);
        assert!(ledger.unwritten_timeline(&plan).is_empty());
    }
}
