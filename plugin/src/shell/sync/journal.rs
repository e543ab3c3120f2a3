//! What a run tells the webinar's audit log (R19): each note once per
//! ledger (a fingerprint of its kind, words and records), failed writes
//! with the CRM's reason, and the run's summary.

use super::Book;
use super::Report;
use crate::core::audit::AuditKind;
use crate::core::ledger::Ledger;
use crate::core::plan::AuditNote;
use crate::shell::ports::Refused;
use crate::shell::{PluginError, audit};

impl Book<'_> {
    /// Zoom does not know the webinar and the plugin never did: said once,
    /// and nothing else is done.
    pub(super) fn unknown_webinar(
        &self,
        id: &str,
        ledger: &mut Ledger,
    ) -> Result<Report, PluginError> {
        let note = AuditNote {
            kind: AuditKind::WebinarDataNotSynced,
            message: format!(
                "Webinar {id} was not found on the connected Zoom account: check the webinar id, or that the webinar belongs to this account."
            ),
            records: vec![id.to_owned()],
        };
        self.note(ledger, id, &note)?;
        self.save_ledger(id, ledger)?;
        Ok(Report {
            skipped: 1,
            unknown_webinar: Some(note.message.clone()),
            notes: vec![note.message],
            ..Report::default()
        })
    }

    /// Appends `note` to the webinar's audit log unless this ledger has
    /// it already: a webinar synced at every tick says a thing once.
    pub(super) fn note(
        &self,
        ledger: &mut Ledger,
        webinar: &str,
        note: &AuditNote,
    ) -> Result<bool, PluginError> {
        let fingerprint = format!(
            "{:?}|{}|{}",
            note.kind,
            note.message,
            note.records.join(",")
        );
        let fingerprint = {
            use sha2::Digest as _;
            hex::encode(&sha2::Sha256::digest(fingerprint.as_bytes())[..12])
        };
        if !ledger.notes.insert(fingerprint) {
            return Ok(false);
        }
        audit::append(
            self.store,
            webinar,
            self.now_ms,
            note.kind,
            &note.message,
            note.records.clone(),
        )?;
        Ok(true)
    }

    /// [`note`](Self::note) from its parts.
    pub(super) fn note_that(
        &self,
        ledger: &mut Ledger,
        webinar: &str,
        kind: AuditKind,
        message: String,
        records: Vec<String>,
    ) -> Result<(), PluginError> {
        let note = AuditNote {
            kind,
            message,
            records,
        };
        self.note(ledger, webinar, &note).map(drop)
    }

    /// Some writes of a batch failed: counted, and in the audit log with the
    /// CRM's reason and the records concerned, by email (R19f, R32: never
    /// dropped silently).
    pub(super) fn failed_writes(
        &self,
        (ledger, webinar, report): (&mut Ledger, &str, &mut Report),
        (kind, what): (AuditKind, &str),
        refused: &Refused,
        records: Vec<String>,
    ) -> Result<(), PluginError> {
        report.failed += records.len() as u32;
        let message = format!("{} {what}: {}", records.len(), refused.reason());
        self.note_that(ledger, webinar, kind, message, records)
    }

    /// The run's summary, when it wrote or failed something: always
    /// recorded (an event of its own, not a note said once).
    pub(super) fn summarise(
        &self,
        webinar: &str,
        contacts: usize,
        retried: u32,
        report: &mut Report,
    ) -> Result<(), PluginError> {
        if report.written == 0 && report.failed == 0 {
            return Ok(());
        }
        let failed = match report.failed {
            0 => String::new(),
            n => format!("; {n} failed, see the errors above"),
        };
        let retried = match retried {
            0 => String::new(),
            n => format!(
                " Zoom or the CRM failed {n} request(s) (an error, no answer or a rate limit); each was retried."
            ),
        };
        let message = format!(
            "Synced {} record(s) to the CRM for {contacts} contact(s) in this webinar: {}{failed}.{retried}",
            report.written,
            report.written_by_kind.describe(),
        );
        audit::append(
            self.store,
            webinar,
            self.now_ms,
            AuditKind::Synced,
            &message,
            Vec::new(),
        )?;
        report.notes.push(message);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::audit::Record;
    use crate::shell::sync::testing::{Harness, StubCrm, StubZoom};

    #[test]
    fn r19_a_note_is_said_once_per_ledger_and_again_in_another_words() {
        let harness = Harness::new(StubZoom::default(), StubCrm::default());
        let run = harness.run();
        let mut ledger = Ledger::default();
        let kind = AuditKind::WebinarDataNotSynced;
        for _ in 0..3 {
            run.book
                .note_that(&mut ledger, "81", kind, "Not yet.".into(), vec![])
                .unwrap();
        }
        run.book
            .note_that(&mut ledger, "81", kind, "Now.".into(), vec![])
            .unwrap();
        let (entries, _) = audit::read(&harness.store, "81", 0, 10).unwrap();
        let said: Vec<&str> = entries.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(said, ["Not yet.", "Now."]);
    }

    #[test]
    fn r32_failed_writes_are_counted_and_logged_with_the_crms_reason_and_records() {
        let harness = Harness::new(StubZoom::default(), StubCrm::default());
        let run = harness.run();
        let (mut ledger, mut report) = (Ledger::default(), Report::default());
        run.book
            .failed_writes(
                (&mut ledger, "81", &mut report),
                (AuditKind::Error, "contact(s) were not updated"),
                &Refused(
                    [(
                        "501".to_owned(),
                        "Property values were not valid".to_owned(),
                    )]
                    .into(),
                ),
                vec!["a@x.example".into(), "b@x.example".into()],
            )
            .unwrap();
        assert_eq!(report.failed, 2);
        let (entries, _) = audit::read(&harness.store, "81", 0, 10).unwrap();
        assert_eq!(
            entries[0].message,
            "2 contact(s) were not updated: Property values were not valid"
        );
        assert_eq!(entries[0].records, ["a@x.example", "b@x.example"]);
    }

    #[test]
    fn r19_a_run_that_wrote_nothing_has_no_summary_and_one_that_did_names_its_records() {
        let harness = Harness::new(StubZoom::default(), StubCrm::default());
        let run = harness.run();
        let mut report = Report::default();
        run.book.summarise("81", 0, 0, &mut report).unwrap();
        assert!(
            audit::read(&harness.store, "81", 0, 10)
                .unwrap()
                .0
                .is_empty()
        );
        report.wrote(Record::Registration);
        report.failed = 1;
        run.book.summarise("81", 1, 0, &mut report).unwrap();
        assert_eq!(
            report.notes,
            [
                "Synced 1 record(s) to the CRM for 1 contact(s) in this webinar: 1 registration; 1 failed, see the errors above."
            ]
        );
    }
}
