//! Resolve, then plan: which contact each of the plan's emails is (new,
//! existing, a secondary email of another contact, archived), asked of
//! the CRM once per email and kept in the ledger; the core plans with
//! what was learned (R7, R17, R18).

use std::collections::BTreeSet;

use super::gather::{People, learn_secondary_emails};
use super::{Book, CrmSide};
use crate::core::audit::AuditKind;
use crate::core::exclusions::Directory;
use crate::core::ledger::{Ledger, Resolved, in_part_order};
use crate::core::plan::{self, AuditNote, Plan, Webinar};
use crate::shell::crm::BATCH_SIZE;
use crate::shell::{PluginError, Store, save, save_all, schema};

/// What the CRM said of the emails asked about.
#[derive(Debug, Default)]
pub(super) struct Learned {
    /// An email turned out secondary or archived: the plan changes.
    excluded: bool,
    /// Emails the CRM refused to make a contact for, with its reason.
    pub refused: Vec<(String, String)>,
}

/// What the audit log says of the emails the CRM refused (R7, R19).
pub(super) fn refused_note(refused: &[(String, String)]) -> Option<AuditNote> {
    let (_, reason) = refused.first()?;
    Some(AuditNote {
        kind: AuditKind::WebinarDataNotSynced,
        message: format!(
            "The CRM refused {} email(s), so no contact was created for them: {reason}.",
            refused.len(),
        ),
        records: refused.iter().map(|(e, _)| e.clone()).collect(),
    })
}

impl CrmSide<'_> {
    /// The plan of a slice's writes, every email of it resolved, and
    /// what the CRM said of them. The CRM is asked in whole batches of 100
    /// (R31): unless the slice is the `last`, the people of the emails
    /// short of a batch are moved out of `people`, returned, and planned
    /// with the next slice (issue 21).
    pub(super) fn resolve_and_plan(
        &mut self,
        webinar: &Webinar,
        (people, last): (&mut People, bool),
        directory: &mut Directory,
        book: &Book,
        ledger: &mut Ledger,
    ) -> Result<(Plan, Learned, People), PluginError> {
        let mut plan = plan::plan(webinar, &people.registrants, &people.rows, directory);
        let mut unresolved: Vec<String> = plan
            .contacts
            .iter()
            .map(|c| c.email.clone())
            .filter(|e| ledger.resolved(e).is_none())
            .collect();
        let mut moved = People::default();
        if !last {
            // Those of the slice's last parts: in the next slice they are
            // of its first, and the ledger holds both slices only there.
            let by_part = in_part_order(unresolved.iter().collect(), |e| e);
            let deferred: BTreeSet<String> = by_part[by_part.len() / BATCH_SIZE * BATCH_SIZE..]
                .iter()
                .map(|e| (*e).clone())
                .collect();
            if !deferred.is_empty() {
                unresolved.retain(|e| !deferred.contains(e));
                moved = people.split_off(&deferred);
                plan.without(&deferred);
            }
        }
        let learned = self.resolve(&unresolved, directory, book.store, ledger)?;
        book.save_ledger(&webinar.id, ledger)?;
        // Planned again only when the CRM told of an excluded email: the
        // same facts plan the same writes (R30), and a large webinar's plan
        // is costly to make and to hold twice.
        if learned.excluded {
            drop(plan);
            learn_secondary_emails(directory, ledger);
            plan = plan::plan(webinar, &people.registrants, &people.rows, directory);
        }
        Ok((plan, learned, moved))
    }

    /// Asks the CRM about `emails`, 100 at a time: archived contacts are
    /// remembered like a deletion webhook (so a restore lifts it), the
    /// others found or made, each answer kept in the ledger.
    fn resolve(
        &mut self,
        emails: &[String],
        directory: &mut Directory,
        store: &dyn Store,
        ledger: &mut Ledger,
    ) -> Result<Learned, PluginError> {
        let mut learned = Learned::default();
        for chunk in emails.chunks(BATCH_SIZE) {
            let mut archived = BTreeSet::new();
            for (email, contact_id) in self.port.archived_contacts(chunk)? {
                save(store, &schema::contact_email(&contact_id), &email)?;
                save(store, &schema::deleted_contact(&email), &"archived")?;
                directory.deleted_contacts.insert(email.clone());
                archived.insert(email);
                learned.excluded = true;
            }
            let live: Vec<String> = chunk
                .iter()
                .filter(|e| !archived.contains(*e))
                .cloned()
                .collect();
            if live.is_empty() {
                continue;
            }
            let (contacts, refused) = self.port.upsert_emails(&live)?;
            learned.refused.extend(refused);
            let mut contact_emails = Vec::new();
            for c in contacts {
                let resolved = if c.primary_email == c.email {
                    contact_emails.push((schema::contact_email(&c.id), c.email.clone()));
                    Resolved::Contact {
                        id: c.id,
                        created: c.created,
                    }
                } else {
                    learned.excluded = true;
                    Resolved::Secondary {
                        primary: c.primary_email,
                    }
                };
                ledger.resolve(c.email, resolved);
            }
            save_all(store, &contact_emails)?;
        }
        Ok(learned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::plan::Registrant;
    use crate::shell::load;
    use crate::shell::sync::testing::{Harness, StubCrm, StubZoom, webinar};

    fn people(emails: &[&str]) -> People {
        People {
            registrants: emails
                .iter()
                .enumerate()
                .map(|(n, email)| Registrant {
                    id: format!("r{n}"),
                    email: (*email).into(),
                    first_name: "F".into(),
                    last_name: "L".into(),
                    status: "approved".into(),
                    registered_ms: 1_000,
                })
                .collect(),
            rows: Vec::new(),
        }
    }

    #[test]
    fn r17_r18_secondary_and_archived_emails_leave_the_plan_and_are_remembered() {
        let crm = StubCrm::default();
        {
            let mut state = crm.state.borrow_mut();
            state
                .secondary
                .insert("alias@x.example".into(), "main@x.example".into());
            state.archived.insert("gone@x.example".into(), "900".into());
        }
        let harness = Harness::new(StubZoom::default(), crm);
        let mut run = harness.run();
        let (mut directory, mut ledger) = (Directory::default(), Ledger::default());
        let everyone = people(&["ada@x.example", "alias@x.example", "gone@x.example"]);
        let mut plan_all = |directory: &mut Directory, ledger: &mut Ledger| {
            let everyone = (&mut everyone.clone(), true);
            let (plan, _, _) = run
                .crm
                .resolve_and_plan(&webinar("81"), everyone, directory, &run.book, ledger)
                .unwrap();
            plan
        };
        let plan = plan_all(&mut directory, &mut ledger);
        let planned: Vec<&str> = plan.contacts.iter().map(|c| c.email.as_str()).collect();
        assert_eq!(planned, ["ada@x.example"]);
        assert!(matches!(
            ledger.resolved("alias@x.example"),
            Some(Resolved::Secondary { primary }) if primary == "main@x.example"
        ));
        let remembered: Option<String> =
            load(&harness.store, &schema::contact_email("900")).unwrap();
        assert_eq!(remembered.as_deref(), Some("gone@x.example"));
        // Asked once: a second plan asks the CRM nothing.
        let asked = harness.crm.state.borrow().upserted.len();
        plan_all(&mut directory, &mut ledger);
        assert_eq!(harness.crm.state.borrow().upserted.len(), asked);
    }

    #[test]
    fn r7_an_email_the_crm_refuses_is_named_in_the_plans_audit_notes() {
        let crm = StubCrm::default();
        crm.state
            .borrow_mut()
            .refused_emails
            .insert("bad@x.example".into(), "Email address is invalid".into());
        let harness = Harness::new(StubZoom::default(), crm);
        let mut run = harness.run();
        let (_, learned, _) = run
            .crm
            .resolve_and_plan(
                &webinar("81"),
                (&mut people(&["ok@x.example", "bad@x.example"]), true),
                &mut Directory::default(),
                &run.book,
                &mut Ledger::default(),
            )
            .unwrap();
        let note = refused_note(&learned.refused).unwrap();
        assert_eq!(
            note.message,
            "The CRM refused 1 email(s), so no contact was created for them: Email address is invalid."
        );
        assert_eq!(note.records, ["bad@x.example"]);
    }
}
