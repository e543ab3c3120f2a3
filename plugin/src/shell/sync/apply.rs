//! Apply: the plan written to the CRM through its port, in batches of
//! 100, each write marked in the ledger so nothing is written twice
//! (R8-R10, R30). The ledger is saved every few batches (`checkpoint`) and
//! after the run, also when it stops on an error: a run killed between two
//! saves writes nothing twice when it is repeated, because attendance is
//! idempotent on (contact, state, time), timeline events on their id and
//! properties are set. What the CRM refused is counted and in the audit
//! log (R19f, R32).

use std::collections::BTreeSet;

use super::outbox::{Outbox, STATES, split_due};
use super::{Book, CrmSide, Report};
use crate::core::audit::{AuditKind, Record};
use crate::core::ledger::{Ledger, participation_bit, timeline_bit};
use crate::core::marketing_event::marketing_event;
use crate::core::plan::{Participation, ParticipationState, Plan, TimelineEvent, Webinar};
use crate::shell::PluginError;
use crate::shell::crm::{BATCH_SIZE, activity};

impl CrmSide<'_> {
    /// The emails of the CRM's users (R18).
    pub(super) fn owners(&mut self) -> Result<&BTreeSet<String>, PluginError> {
        if self.owners.is_none() {
            self.owners = Some(self.port.owner_emails()?.into_iter().collect());
        }
        Ok(self.owners.get_or_insert_default())
    }

    /// Writes what the ledger has not seen yet of a slice's `plan` (the
    /// marketing event is written before the first slice), whole batches
    /// now and the rest carried in the `outbox` to the next slice; `last`
    /// writes everything.
    pub(super) fn apply(
        &mut self,
        plan: &Plan,
        (outbox, last): (&mut Outbox, bool),
        book: &Book,
        (ledger, report): (&mut Ledger, &mut Report),
    ) -> Result<(), PluginError> {
        let id = plan.webinar.as_str();
        for p in ledger.unwritten_participations(plan) {
            let at = STATES.iter().position(|s| *s == p.state).unwrap_or(0);
            outbox.participations[at].push(p.clone());
        }
        for t in ledger.unwritten_timeline(plan) {
            if let Some(contact) = ledger.contact_id(&t.email) {
                outbox.timeline.push((t.clone(), contact.to_owned()));
            }
        }
        let waiting = &mut outbox.properties;
        self.apply_properties((id, plan), waiting, book, (ledger, report))?;
        self.flush(id, (outbox, last), book, (ledger, report))
    }

    /// Writes what is due in the outbox (everything when `last`).
    pub(super) fn flush(
        &mut self,
        id: &str,
        (outbox, last): (&mut Outbox, bool),
        book: &Book,
        (ledger, report): (&mut Ledger, &mut Report),
    ) -> Result<(), PluginError> {
        for state in STATES {
            let due = outbox.participations_due(state, last);
            for chunk in due.chunks(BATCH_SIZE) {
                let chunk: Vec<&Participation> = chunk.iter().collect();
                self.write_participations((id, state), &chunk, book, (ledger, report))?;
            }
        }
        let (due, rest) = split_due(std::mem::take(&mut outbox.timeline), last);
        outbox.timeline = rest;
        let due: Vec<(&TimelineEvent, String)> = due.iter().map(|(t, c)| (t, c.clone())).collect();
        self.write_activity(id, &due, book, (ledger, report))?;
        let (due, rest) = split_due(std::mem::take(&mut outbox.properties), last);
        outbox.properties = rest;
        let mut due = due.into_iter().peekable();
        while due.peek().is_some() {
            let chunk: Vec<_> = due.by_ref().take(BATCH_SIZE).collect();
            self.update_properties(id, chunk, book, (ledger, report))?;
        }
        Ok(())
    }

    /// R9: the marketing event, written again only when it changes. (The
    /// ledger's record of it changed layout once, from the CRM's JSON to
    /// the domain's: a ledger of the old layout costs one idempotent upsert.)
    pub(super) fn apply_marketing_event(
        &mut self,
        webinar: &Webinar,
        host_name: Option<&str>,
        ledger: &mut Ledger,
        report: &mut Report,
    ) -> Result<(), PluginError> {
        let event = marketing_event(webinar, host_name);
        let written = serde_json::to_string(&event).unwrap_or_default();
        if ledger.event.as_deref() != Some(written.as_str()) {
            self.port.upsert_marketing_event(&self.account_id, &event)?;
            ledger.event = Some(written);
            report.wrote(Record::MarketingEvent);
        }
        Ok(())
    }

    /// R8, R9: one batch of participations of `state`.
    fn write_participations(
        &mut self,
        (id, state): (&str, ParticipationState),
        chunk: &[&Participation],
        book: &Book,
        (ledger, report): (&mut Ledger, &mut Report),
    ) -> Result<(), PluginError> {
        let refused = self
            .port
            .record_participations(&self.account_id, id, state, chunk)?;
        for p in chunk.iter().filter(|p| !refused.contains(&p.email)) {
            ledger.mark(&p.email, participation_bit(p.state));
            report.wrote(match p.state {
                ParticipationState::Register => Record::Registration,
                ParticipationState::Attend => Record::Attendance,
                ParticipationState::Cancel => Record::Cancellation,
            });
        }
        book.checkpoint(id, ledger)?;
        if !refused.is_empty() {
            let what = format!(
                "{} participation(s) were not recorded on the marketing event",
                state.word()
            );
            book.failed_writes(
                (ledger, id, report),
                (AuditKind::WebinarDataNotSynced, &what),
                &refused,
                refused.identities(),
            )?;
        }
        Ok(())
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
        book: &Book,
        (ledger, report): (&mut Ledger, &mut Report),
    ) -> Result<(), PluginError> {
        let with_contact: Vec<_> = timeline
            .iter()
            .filter_map(|t| Some((*t, ledger.contact_id(&t.email)?.to_owned())))
            .collect();
        self.write_activity(id, &with_contact, book, (ledger, report))
    }

    /// [`CrmSide::write_timeline`] of events whose contact is known.
    fn write_activity(
        &mut self,
        id: &str,
        with_contact: &[(&TimelineEvent, String)],
        book: &Book,
        (ledger, report): (&mut Ledger, &mut Report),
    ) -> Result<(), PluginError> {
        if with_contact.is_empty() {
            return Ok(());
        }
        let setup = activity::Setup::load(book.store)?;
        if let Some(message) = setup.not_written_note() {
            // One entry per webinar, not per record: the note's fingerprint.
            let kind = AuditKind::WebinarDataNotSynced;
            return book.note_that(ledger, id, kind, message, Vec::new());
        }
        for chunk in with_contact.chunks(BATCH_SIZE) {
            let refused = self.port.write_activity(&setup, chunk)?;
            for (t, _) in chunk.iter().filter(|(t, _)| !refused.contains(&t.id)) {
                ledger.mark(&t.email, timeline_bit(t));
                report.wrote(Record::TimelineEvent);
            }
            book.checkpoint(id, ledger)?;
            if !refused.is_empty() {
                book.failed_writes(
                    (ledger, id, report),
                    (AuditKind::Error, "timeline event(s) were not created"),
                    &refused,
                    refused.identities(),
                )?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ledger::applied;
    use crate::shell::audit;
    use crate::shell::sync::testing::{Harness, StubCrm, StubZoom, ada_created_as_501, webinar};

    fn participation(email: &str, state: ParticipationState) -> Participation {
        Participation {
            email: email.into(),
            state,
            at_ms: 1_000,
            joined_ms: None,
            left_ms: None,
        }
    }

    #[test]
    fn r9_the_marketing_event_is_written_once_until_it_changes() {
        let harness = Harness::new(StubZoom::default(), StubCrm::default());
        let mut run = harness.run();
        let (mut ledger, mut report) = (Ledger::default(), Report::default());
        let mut launch = webinar("81");
        run.crm
            .apply_marketing_event(&launch, None, &mut ledger, &mut report)
            .unwrap();
        run.crm
            .apply_marketing_event(&launch, None, &mut ledger, &mut report)
            .unwrap();
        launch.topic = "Launch, moved".into();
        run.crm
            .apply_marketing_event(&launch, None, &mut ledger, &mut report)
            .unwrap();
        let events = &harness.crm.state.borrow().events;
        let topics: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(topics, ["Launch", "Launch, moved"]);
        assert_eq!(report.written, 2);
    }

    #[test]
    fn r32_a_refused_participation_is_not_marked_and_is_logged_with_the_crms_reason() {
        let crm = StubCrm::default();
        crm.state
            .borrow_mut()
            .refused_participations
            .insert("bo@x.example".into(), "Contact not found".into());
        let harness = Harness::new(StubZoom::default(), crm);
        let mut run = harness.run();
        let plan = Plan {
            webinar: "81".into(),
            participations: vec![
                participation("ada@x.example", ParticipationState::Register),
                participation("bo@x.example", ParticipationState::Register),
            ],
            ..Plan::default()
        };
        let (mut ledger, mut report) = (Ledger::default(), Report::default());
        let mut apply = |ledger: &mut Ledger, report: &mut Report| {
            let outbox = (&mut Outbox::default(), true);
            run.crm.apply(&plan, outbox, &run.book, (ledger, report))
        };
        apply(&mut ledger, &mut report).unwrap();
        assert!(ledger.has("ada@x.example", applied::REGISTERED));
        assert!(!ledger.has("bo@x.example", applied::REGISTERED));
        assert_eq!((report.written, report.failed), (1, 1));
        let (entries, _) = audit::read(&harness.store, "81", 0, 10).unwrap();
        assert_eq!(
            entries[0].message,
            "1 register participation(s) were not recorded on the marketing event: Contact not found"
        );
        // Applied again, only what is missing is sent.
        apply(&mut ledger, &mut report).unwrap();
        let sent = harness.crm.state.borrow().participations[2..].to_vec();
        assert_eq!(sent, ["bo@x.example"]);
    }

    #[test]
    fn r10_timeline_events_wait_unmarked_when_install_set_no_backend_up() {
        let harness = Harness::new(StubZoom::default(), StubCrm::default());
        let refused = activity::Setup {
            backend: activity::Backend::Off,
            ids: Default::default(),
            not_written: Some("the CRM refused the timeline API".into()),
        };
        crate::shell::save(
            &harness.store,
            crate::shell::schema::ACTIVITY_SETUP,
            &refused,
        )
        .unwrap();
        let mut run = harness.run();
        let mut ledger = ada_created_as_501();
        let event = TimelineEvent {
            id: "reg-81-ada".into(),
            email: "ada@x.example".into(),
            event_type: "webinar-registration",
            timestamp_ms: 1_000,
            tokens: Default::default(),
        };
        let mut report = Report::default();
        for _ in 0..2 {
            run.crm
                .write_timeline("81", &[&event], &run.book, (&mut ledger, &mut report))
                .unwrap();
        }
        assert_eq!(report.written, 0);
        assert!(harness.crm.state.borrow().activity.is_empty());
        let (entries, _) = audit::read(&harness.store, "81", 0, 10).unwrap();
        assert_eq!(entries.len(), 1, "said once: {entries:?}");
    }
}
