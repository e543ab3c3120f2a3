//! Apply, the contact properties (R7, R12): each person's records across
//! webinars are kept in storage (`person/{email}`); the core computes
//! what changed since the last write, and only that is written, 100
//! contacts a call. A batch's worth is held at a time: the people of a
//! large webinar are never all in memory at once (issue 8).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Report;
use super::{Book, CrmSide};
use crate::core::audit::{AuditKind, Record};
use crate::core::contact_properties::{self, FIRST_NAME, WebinarRecord};
use crate::core::ledger::{Ledger, Resolved, applied, in_part_order};
use crate::core::plan::Plan;
use crate::shell::crm::BATCH_SIZE;
use crate::shell::{PluginError, load, save_all, schema};

/// A contact's stored facts across webinars, for the four properties (R12).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(super) struct PersonRecord {
    contact_id: String,
    records: BTreeMap<String, WebinarRecord>,
    /// The property values last written, so unchanged ones are not written again.
    #[serde(default)]
    written: BTreeMap<String, String>,
}

/// One contact's update: its email, its record, what changed.
pub(super) type Update = (String, PersonRecord, BTreeMap<String, String>);

impl CrmSide<'_> {
    /// The property updates of a slice's `plan`, into `waiting` (the
    /// outbox's; the records of contacts whose properties do not change
    /// are saved here), a full batch written as soon as there is one.
    pub(super) fn apply_properties(
        &mut self,
        (id, plan): (&str, &Plan),
        waiting: &mut Vec<Update>,
        book: &Book,
        (ledger, report): (&mut Ledger, &mut Report),
    ) -> Result<(), PluginError> {
        let store = book.store;
        let names: BTreeMap<&str, (&str, &str)> = plan
            .contacts
            .iter()
            .map(|c| {
                (
                    c.email.as_str(),
                    (c.first_name.as_str(), c.last_name.as_str()),
                )
            })
            .collect();
        let mut unchanged: Vec<(String, PersonRecord)> = Vec::new();
        let records = in_part_order(plan.records.iter().collect(), |(email, _)| email);
        for (email, record) in records {
            let Some(Resolved::Contact {
                id: contact_id,
                created,
            }) = ledger.resolved(email)
            else {
                continue;
            };
            let mut person: PersonRecord = load(store, &schema::person(email))?.unwrap_or_default();
            person.contact_id = contact_id.clone();
            person.records.insert(id.to_owned(), record.clone());
            // R7: the registrant's name, on a contact the plugin created, once.
            let new_name = (*created && !ledger.has(email, applied::NAMED))
                .then(|| names.get(email.as_str()).copied())
                .flatten();
            let records: Vec<WebinarRecord> = person.records.values().cloned().collect();
            let changed = contact_properties::updates(&records, new_name, &person.written);
            if changed.is_empty() {
                unchanged.push((schema::person(email), person));
            } else {
                waiting.push((email.clone(), person, changed));
            }
            if unchanged.len() == BATCH_SIZE {
                save_all(store, &unchanged)?;
                unchanged.clear();
            }
            if waiting.len() == BATCH_SIZE {
                let chunk = std::mem::take(waiting);
                self.update_properties(id, chunk, book, (ledger, report))?;
            }
        }
        save_all(store, &unchanged)?;
        Ok(())
    }

    /// One batch update of contact properties (R12), and what it wrote
    /// saved to each person's record.
    pub(super) fn update_properties(
        &mut self,
        id: &str,
        chunk: Vec<Update>,
        book: &Book,
        (ledger, report): (&mut Ledger, &mut Report),
    ) -> Result<(), PluginError> {
        let updates: Vec<(&str, &BTreeMap<String, String>)> = chunk
            .iter()
            .map(|(_, person, changed)| (person.contact_id.as_str(), changed))
            .collect();
        let refused = self.port.update_contact_properties(&updates)?;
        let mut failed_emails = Vec::new();
        let mut written = Vec::new();
        for (email, mut person, changed) in chunk {
            if refused.contains(&person.contact_id) {
                failed_emails.push(email);
                continue;
            }
            if changed.contains_key(FIRST_NAME) {
                ledger.mark(&email, applied::NAMED);
            }
            person.written.extend(changed);
            written.push((schema::person(&email), person));
            report.wrote(Record::PropertyUpdate);
        }
        // What the CRM now holds, saved with the batch that wrote it.
        save_all(book.store, &written)?;
        book.checkpoint(id, ledger)?;
        if !failed_emails.is_empty() {
            let what = (
                AuditKind::Error,
                "contact(s) did not get their contact properties updated",
            );
            book.failed_writes((ledger, id, report), what, &refused, failed_emails)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::definitions;
    use crate::core::plan::ContactUpsert;
    use crate::shell::sync::outbox::Outbox;
    use crate::shell::sync::testing::{Harness, StubCrm, StubZoom, ada_created_as_501};

    fn record(webinar: &str) -> WebinarRecord {
        WebinarRecord {
            webinar_id: webinar.into(),
            registered_ms: Some(1_000),
            cancelled: false,
            join_url: format!("https://zoom.us/w/{webinar}"),
            attendance_percentage: None,
        }
    }

    fn plan_of(email: &str, webinar: &str) -> Plan {
        Plan {
            webinar: webinar.into(),
            contacts: vec![ContactUpsert {
                email: email.into(),
                first_name: "Ada".into(),
                last_name: "Lovelace".into(),
            }],
            records: vec![(email.to_owned(), record(webinar))],
            ..Plan::default()
        }
    }

    #[test]
    fn r12_properties_count_every_webinar_and_a_created_contact_is_named_once() {
        let harness = Harness::new(StubZoom::default(), StubCrm::default());
        let mut run = harness.run();
        let mut ledger = ada_created_as_501();
        let mut report = Report::default();
        for webinar in ["81", "81", "82"] {
            let plan = plan_of("ada@x.example", webinar);
            let outbox = &mut Outbox::default();
            run.crm
                .apply(&plan, (outbox, true), &run.book, (&mut ledger, &mut report))
                .unwrap();
        }
        let state = harness.crm.state.borrow();
        // The second sync of 81 changed nothing: two updates, not three.
        assert_eq!(state.property_updates.len(), 2);
        let (first, second) = (&state.property_updates[0], &state.property_updates[1]);
        assert_eq!(first.0, "501");
        assert_eq!(first.1[FIRST_NAME], "Ada");
        assert_eq!(first.1[definitions::TOTAL_REGISTRATIONS], "1");
        assert!(!second.1.contains_key(FIRST_NAME), "named once");
        assert_eq!(second.1[definitions::TOTAL_REGISTRATIONS], "2");
    }
}
