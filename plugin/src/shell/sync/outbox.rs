//! The outbox: writes carried from one slice to the next (issue 21), so
//! that every batch of a kind but the webinar's last is full. Without it a
//! webinar of S slices would cost the CRM S partial batches of each kind.
//! What waits is marked in the ledger once written, so the ledger keeps
//! holding the parts of what waits (`sync_slices`); a person's attendance
//! or cancellation waits for their registration (R8, R9: register, then
//! attend or cancel).

use std::collections::BTreeSet;

use super::properties::Update;
use crate::core::ledger::part_of;
use crate::core::plan::{Participation, ParticipationState, TimelineEvent};
use crate::shell::crm::BATCH_SIZE;

/// The participation states in the order they are written.
pub(super) const STATES: [ParticipationState; 3] = [
    ParticipationState::Register,
    ParticipationState::Attend,
    ParticipationState::Cancel,
];

#[derive(Default)]
pub(super) struct Outbox {
    /// By state, in [`STATES`]' order.
    pub participations: [Vec<Participation>; 3],
    /// Activity events and the contact id each is for.
    pub timeline: Vec<(TimelineEvent, String)>,
    pub properties: Vec<Update>,
}

impl Outbox {
    /// The first ledger part anything waiting is of.
    pub fn first_part(&self) -> Option<u32> {
        let participations = self.participations.iter().flatten().map(|p| &p.email);
        let timeline = self.timeline.iter().map(|(t, _)| &t.email);
        let properties = self.properties.iter().map(|(email, ..)| email);
        participations
            .chain(timeline)
            .chain(properties)
            .map(|email| part_of(email))
            .min()
    }

    /// The participations of `state` to write now: full batches of those
    /// whose registration is not waiting (all of them when `last`); the
    /// rest wait.
    pub fn participations_due(
        &mut self,
        state: ParticipationState,
        last: bool,
    ) -> Vec<Participation> {
        let at = STATES.iter().position(|s| *s == state).unwrap_or(0);
        let registering: BTreeSet<String> = match state {
            ParticipationState::Register => BTreeSet::new(),
            _ => self.participations[0]
                .iter()
                .map(|p| p.email.clone())
                .collect(),
        };
        let (ready, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.participations[at])
            .into_iter()
            .partition(|p| !registering.contains(&p.email));
        let (due, rest) = split_due(ready, last);
        self.participations[at] = waiting.into_iter().chain(rest).collect();
        due
    }
}

/// `items` cut into what is due now (whole batches, or all when `last`)
/// and what waits for the next slice.
pub(super) fn split_due<T>(mut items: Vec<T>, last: bool) -> (Vec<T>, Vec<T>) {
    let due = if last {
        items.len()
    } else {
        items.len() / BATCH_SIZE * BATCH_SIZE
    };
    let rest = items.split_off(due);
    (items, rest)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn participation(n: usize, state: ParticipationState) -> Participation {
        Participation {
            email: format!("p{n}@x.example"),
            state,
            at_ms: 1,
            joined_ms: None,
            left_ms: None,
        }
    }

    #[test]
    fn issue_21_only_whole_batches_leave_until_the_last_slice() {
        let mut outbox = Outbox::default();
        outbox.participations[0] = (0..250)
            .map(|n| participation(n, ParticipationState::Register))
            .collect();
        assert_eq!(
            outbox
                .participations_due(ParticipationState::Register, false)
                .len(),
            200
        );
        assert_eq!(outbox.participations[0].len(), 50);
        assert_eq!(
            outbox
                .participations_due(ParticipationState::Register, true)
                .len(),
            50
        );
        assert!(outbox.first_part().is_none());
    }

    #[test]
    fn r8_an_attendance_waits_for_its_registration() {
        let mut outbox = Outbox::default();
        outbox.participations[0] = vec![participation(0, ParticipationState::Register)];
        outbox.participations[1] = (0..100)
            .map(|n| participation(n, ParticipationState::Attend))
            .collect();
        // p0's registration waits, so p0's attendance does, and 99 is no batch.
        assert!(
            outbox
                .participations_due(ParticipationState::Attend, false)
                .is_empty()
        );
        assert_eq!(
            outbox.first_part(),
            Some(
                part_of("p0@x.example").min(
                    (0..100)
                        .map(|n| part_of(&format!("p{n}@x.example")))
                        .min()
                        .unwrap()
                )
            )
        );
        assert_eq!(
            outbox
                .participations_due(ParticipationState::Register, true)
                .len(),
            1
        );
        assert_eq!(
            outbox
                .participations_due(ParticipationState::Attend, false)
                .len(),
            100
        );
    }
}
