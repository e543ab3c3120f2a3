//! What has already been written to the CRM for one webinar, so a plan is
//! applied once: a replay, a retry after a partial failure or a second
//! "sync now" writes only what is missing (R20, R30, R32).

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

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

/// A webinar's people are stored in this many parts, by a hash of the
/// email: a checkpoint writes only the parts whose people changed, and no
/// stored value nears the host's size limit (in one value, a webinar of
/// 50,000 registrants took 4.2 MB, over the host's 4 MiB; in 64 parts,
/// about 3 million would).
pub const PEOPLE_PARTS: u32 = 64;

/// The part an email is stored in. FNV-1a: stable across builds and
/// platforms, which std's hasher does not promise.
pub fn part_of(email: &str) -> u32 {
    let hash = email.bytes().fold(0x811c_9dc5_u32, |hash, byte| {
        (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
    });
    hash % PEOPLE_PARTS
}

/// What was written for one webinar. The people (how each email resolved,
/// what was written for it) are held in their storage parts, and changed
/// only through [`Ledger::resolve`] and [`Ledger::mark`], which note the
/// parts to store again; a checkpoint serialises those parts as they are.
#[derive(Debug, Clone, PartialEq)]
pub struct Ledger {
    /// [`PEOPLE_PARTS`] parts; an email's entries are in `part_of(email)`.
    people: Vec<People>,
    /// The marketing event as last written, to write it again only when it changed.
    pub event: Option<String>,
    /// Fingerprints of the audit notes already recorded, so a re-sync does
    /// not repeat them.
    pub notes: BTreeSet<String>,
    pub recording: RecordingState,
    /// Parts whose people changed since the ledger was last stored.
    changed: BTreeSet<u32>,
    /// The parts whose people this ledger holds: all, or one slice's when
    /// a sync holds a large webinar a slice at a time (issue 21).
    held: Range<u32>,
}

impl Default for Ledger {
    fn default() -> Self {
        Ledger {
            people: vec![People::default(); PEOPLE_PARTS as usize],
            event: None,
            notes: BTreeSet::new(),
            recording: RecordingState::default(),
            changed: BTreeSet::new(),
            held: 0..PEOPLE_PARTS,
        }
    }
}

/// What is stored under the webinar's ledger key: all but the people.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StoredHead {
    #[serde(default)]
    pub event: Option<String>,
    #[serde(default)]
    pub notes: BTreeSet<String>,
    #[serde(default)]
    pub recording: RecordingState,
    /// A ledger stored before the people were split into parts held them
    /// here; read, never written.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub contacts: BTreeMap<String, Resolved>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub applied: BTreeMap<String, u8>,
}

impl StoredHead {
    /// A head of the layout before parts holds people: its ledger is read
    /// whole, so that the next save moves every one of them to its part.
    pub fn holds_people(&self) -> bool {
        !self.contacts.is_empty() || !self.applied.is_empty()
    }
}

/// The people of one part, as stored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct People {
    #[serde(default)]
    pub contacts: BTreeMap<String, Resolved>,
    #[serde(default)]
    pub applied: BTreeMap<String, u8>,
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
    /// The ledger that was stored: its head and its parts. The people of a
    /// head from before the parts are stored in parts at the next save.
    pub fn from_stored(head: StoredHead, parts: impl IntoIterator<Item = People>) -> Ledger {
        let mut ledger = Ledger {
            event: head.event,
            notes: head.notes,
            recording: head.recording,
            ..Ledger::default()
        };
        for (email, resolved) in head.contacts {
            ledger.resolve(email, resolved);
        }
        for (email, bits) in head.applied {
            ledger.mark(&email, bits);
        }
        // Each email is put in its part, whatever part it was read from,
        // and bits are joined: nothing written is forgotten.
        for part in parts {
            for (email, resolved) in part.contacts {
                ledger.part_mut(&email).contacts.insert(email, resolved);
            }
            for (email, bits) in part.applied {
                *ledger.part_mut(&email).applied.entry(email).or_insert(0) |= bits;
            }
        }
        ledger
    }

    /// What to store: the head, and each part whose people changed since
    /// [`Ledger::stored`] was last called.
    pub fn changes(&self) -> (StoredHead, Vec<(u32, &People)>) {
        let head = StoredHead {
            event: self.event.clone(),
            notes: self.notes.clone(),
            recording: self.recording.clone(),
            ..StoredHead::default()
        };
        let parts = self
            .changed
            .iter()
            .map(|part| (*part, &self.people[*part as usize]))
            .collect();
        (head, parts)
    }

    /// The changes were stored.
    pub fn stored(&mut self) {
        self.changed.clear();
    }

    /// Holds the people of `parts` only: the parts held before and still
    /// in `parts` are kept as they are, the others dropped (their changes
    /// were stored), and `stored` holds the people of the parts new to the
    /// ledger. The head (event, notes, recording) stays. A sync holds a
    /// large webinar's people one slice at a time (issue 21), keeping the
    /// parts of the writes it carries into the next slice.
    pub fn hold(&mut self, parts: Range<u32>, stored: impl IntoIterator<Item = People>) {
        debug_assert!(
            self.changed.is_empty(),
            "a slice's changes are stored first"
        );
        let before = std::mem::replace(&mut self.held, parts.clone());
        for part in before.filter(|p| !parts.contains(p)) {
            self.people[part as usize] = People::default();
        }
        for part in stored {
            for (email, resolved) in part.contacts {
                if self.holds(&email) {
                    self.part_mut(&email).contacts.insert(email, resolved);
                }
            }
            for (email, bits) in part.applied {
                if self.holds(&email) {
                    *self.part_mut(&email).applied.entry(email).or_insert(0) |= bits;
                }
            }
        }
    }

    /// The parts held (all, unless [`Ledger::hold`] said otherwise).
    pub fn held(&self) -> Range<u32> {
        self.held.clone()
    }

    /// Whether `email`'s part is held: only a held part can change, so a
    /// slice's save never overwrites a part it did not read.
    pub fn holds(&self, email: &str) -> bool {
        self.held.contains(&part_of(email))
    }

    fn part(&self, email: &str) -> &People {
        &self.people[part_of(email) as usize]
    }

    fn part_mut(&mut self, email: &str) -> &mut People {
        &mut self.people[part_of(email) as usize]
    }

    pub fn has(&self, email: &str, bit: u8) -> bool {
        self.part(email)
            .applied
            .get(email)
            .is_some_and(|b| b & bit != 0)
    }

    /// Notes that `bits` were written for `email`.
    pub fn mark(&mut self, email: &str, bits: u8) {
        let part = part_of(email);
        if !self.held.contains(&part) {
            debug_assert!(false, "{email} is not in the slice held");
            return;
        }
        let applied = self.people[part as usize]
            .applied
            .entry(email.to_owned())
            .or_insert(0);
        if *applied & bits != bits {
            *applied |= bits;
            self.changed.insert(part);
        }
    }

    /// Notes how `email` resolved in the CRM.
    pub fn resolve(&mut self, email: String, resolved: Resolved) {
        let part = part_of(&email);
        if !self.held.contains(&part) {
            debug_assert!(false, "{email} is not in the slice held");
            return;
        }
        let contacts = &mut self.people[part as usize].contacts;
        if contacts.get(&email) != Some(&resolved) {
            contacts.insert(email, resolved);
            self.changed.insert(part);
        }
    }

    /// How `email` resolved in the CRM, if it was looked up.
    pub fn resolved(&self, email: &str) -> Option<&Resolved> {
        self.part(email).contacts.get(email)
    }

    /// Every email looked up in the CRM, and how it resolved, part by part.
    pub fn contacts(&self) -> impl Iterator<Item = (&String, &Resolved)> {
        self.people.iter().flat_map(|part| part.contacts.iter())
    }

    /// The emails for which `bit` was written, in email order.
    pub fn people_with(&self, bit: u8) -> Vec<&String> {
        let mut emails: Vec<&String> = self
            .people
            .iter()
            .flat_map(|part| part.applied.iter())
            .filter(|(_, bits)| *bits & bit != 0)
            .map(|(email, _)| email)
            .collect();
        emails.sort_unstable();
        emails
    }

    /// The contact id of an email that resolved to a primary contact.
    pub fn contact_id(&self, email: &str) -> Option<&str> {
        match self.resolved(email) {
            Some(Resolved::Contact { id, .. }) => Some(id),
            _ => None,
        }
    }

    /// The plan's participations not written yet.
    ///
    /// In the order of the ledger's parts (see [`in_part_order`]).
    pub fn unwritten_participations<'a>(&self, plan: &'a Plan) -> Vec<&'a Participation> {
        in_part_order(
            plan.participations
                .iter()
                .filter(|p| !self.has(&p.email, participation_bit(p.state)))
                .collect(),
            |p| &p.email,
        )
    }

    /// The plan's timeline events not written yet.
    ///
    /// In the order of the ledger's parts (see [`in_part_order`]).
    pub fn unwritten_timeline<'a>(&self, plan: &'a Plan) -> Vec<&'a TimelineEvent> {
        in_part_order(
            plan.timeline
                .iter()
                .filter(|t| !self.has(&t.email, timeline_bit(t)))
                .collect(),
            |t| &t.email,
        )
    }
}

/// `items` ordered by the ledger part of their email, stably. A run
/// saves the ledger every few batches, and a save re-encodes every part
/// the batches since the last one touched: written in email order, 2,000
/// people touch nearly every part, and a webinar's saves re-encode the
/// whole ledger each time — quadratic in its people (issue 21). In part
/// order, each save re-encodes the few parts its batches filled.
pub fn in_part_order<T>(mut items: Vec<T>, email: impl Fn(&T) -> &str) -> Vec<T> {
    items.sort_by_cached_key(|item| part_of(email(item)));
    items
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
            ..Plan::default()
        }
    }

    #[test]
    fn issue_21_a_ledger_holding_a_slice_keeps_its_head_and_changes_only_its_parts() {
        let mut whole = Ledger::default();
        let emails: Vec<String> = (0..200).map(|n| format!("p{n}@example.com")).collect();
        for email in &emails {
            whole.mark(email, applied::REGISTERED);
        }
        whole.notes.insert("said".into());
        let stored: Vec<People> = whole.people.clone();
        let mut ledger = whole.clone();
        ledger.stored();
        ledger.hold(0..8, stored.clone());
        let (inside, outside): (Vec<&String>, Vec<&String>) =
            emails.iter().partition(|e| part_of(e) < 8);
        assert!(inside.iter().all(|e| ledger.has(e, applied::REGISTERED)));
        assert!(outside.iter().all(|e| !ledger.has(e, applied::REGISTERED)));
        assert!(ledger.notes.contains("said"), "the head stays");
        // Changes outside the slice held are refused (in release builds;
        // debug builds stop on them): its save never writes a part it did not read.
        ledger.mark(inside[0], applied::ATTENDED);
        assert_eq!(ledger.changes().1.len(), 1);
        ledger.stored();
        ledger.hold(8..PEOPLE_PARTS, stored);
        assert!(!ledger.has(inside[0], applied::ATTENDED));
        assert!(outside.iter().all(|e| ledger.has(e, applied::REGISTERED)));
        assert!(ledger.holds(outside[0]) && !ledger.holds(inside[0]));
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
