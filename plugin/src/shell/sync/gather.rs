//! Gather: the facts a webinar's sync decides on. What webhooks said
//! (the inbox), overridden on a reconcile by Zoom's authoritative lists,
//! staged by slice (`stage`) as they are read; the webinar as Zoom
//! describes it; who must never be written to. Zoom's reports (when it
//! ran, who attended) are in `reports`. Nothing here writes to the CRM.

use std::collections::{BTreeMap, BTreeSet};

use super::stage::{Slice, Stage};
use super::{Book, Mode, Report, ZoomSide};
use crate::core::exclusions::Directory;
use crate::core::intake::{Fact, assemble};
use crate::core::ledger::{Ledger, Resolved};
use crate::core::plan::{ParticipantRow, Registrant, Webinar};
use crate::core::settings::GlobalSettings;
use crate::shell::{PluginError, Store, all_keys, intake, load, save, schema};

/// Who a slice's plan is about.
#[derive(Debug, Clone, Default)]
pub(super) struct People {
    pub registrants: Vec<Registrant>,
    /// Attendance rows; none until the webinar ended and Zoom's report is in (R8).
    pub rows: Vec<ParticipantRow>,
}

impl People {
    /// Moves the people of `emails` (as a plan knows them: trimmed,
    /// lowercase) out, with the rows of their attendance, found as the plan
    /// finds them: by registrant id, else by the email they joined with.
    pub fn split_off(&mut self, emails: &BTreeSet<String>) -> People {
        let known = |email: &str| emails.contains(&email.trim().to_ascii_lowercase());
        let moved_ids: BTreeSet<String> = (self.registrants.iter())
            .filter(|r| !r.id.is_empty() && known(&r.email))
            .map(|r| r.id.clone())
            .collect();
        let kept_ids: BTreeSet<&str> = (self.registrants.iter())
            .filter(|r| !r.id.is_empty() && !known(&r.email))
            .map(|r| r.id.as_str())
            .collect();
        let moves = |row: &ParticipantRow| match row.registrant_id.as_str() {
            id if moved_ids.contains(id) => true,
            id if kept_ids.contains(id) => false,
            _ => known(&row.email),
        };
        let (rows, kept_rows): (Vec<_>, Vec<_>) =
            std::mem::take(&mut self.rows).into_iter().partition(moves);
        let (registrants, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut self.registrants)
            .into_iter()
            .partition(|r| known(&r.email));
        (self.registrants, self.rows) = (kept, kept_rows);
        People { registrants, rows }
    }

    /// Adds the people another slice moved here.
    pub fn append(&mut self, mut other: People) {
        self.registrants.append(&mut other.registrants);
        self.rows.append(&mut other.rows);
    }

    /// The first ledger part of anyone here: of a registrant's email, or
    /// of an attendee's who is none of them.
    pub fn first_part(&self) -> Option<u32> {
        let ids: BTreeSet<&str> = self.registrants.iter().map(|r| r.id.as_str()).collect();
        let emails = self.registrants.iter().map(|r| &r.email);
        let guests = (self.rows.iter())
            .filter(|r| r.registrant_id.is_empty() || !ids.contains(r.registrant_id.as_str()))
            .map(|r| &r.email);
        emails
            .chain(guests)
            .map(|e| crate::core::ledger::part_of(&e.trim().to_ascii_lowercase()))
            .min()
    }
}

/// What staging the people found out about the webinar's attendance.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Gathered {
    /// Zoom has not made the participants report yet: attendance waits.
    pub attendance_waits: bool,
    /// The participants report's rows staged are Zoom's report (a
    /// refusal after its first pages leaves rows that are not).
    pub report: bool,
}

/// The webinar's own facts in its inbox (scheduled, ended, deleted, its
/// recording), the registrations webhooks told of staged on the way.
pub(super) fn webinar_facts(
    store: &dyn Store,
    webinar: &str,
    stage: &mut Stage,
) -> Result<Vec<Fact>, PluginError> {
    let mut own = Vec::new();
    intake::each_fact(store, webinar, &mut |fact| match fact {
        Fact::Registration { .. } => stage.fact(fact),
        Fact::Joined { .. } | Fact::Left { .. } => Ok(()),
        _ => {
            own.push(fact);
            Ok(())
        }
    })?;
    Ok(own)
}

/// The people of one slice: what webhooks said, overridden by Zoom's
/// list on a reconcile (R20); attendance once the webinar has ended and
/// Zoom's report is in (R8).
pub(super) fn slice_people(slice: Slice, webinar: &Webinar, gathered: Gathered) -> People {
    let assembled = assemble(&slice.facts);
    let mut registrants: BTreeMap<String, Registrant> = assembled
        .registrants
        .into_iter()
        .map(|r| (r.key(), r))
        .collect();
    merge_listed(&mut registrants, slice.listed);
    let mut rows = assembled.rows;
    if gathered.report {
        rows.extend(slice.rows);
    }
    // Attendance is written once, when the webinar has ended and Zoom's
    // report is in (R8).
    if webinar.ran.is_none() || gathered.attendance_waits {
        rows.clear();
    }
    People {
        registrants: registrants.into_values().collect(),
        rows,
    }
}

impl ZoomSide<'_> {
    /// Users of the connected Zoom account: email -> display name (R16).
    pub(super) fn users(&mut self) -> Result<&BTreeMap<String, String>, PluginError> {
        if self.users.is_none() {
            self.users = Some(self.port.users()?);
        }
        Ok(self.users.get_or_insert_default())
    }

    /// Webinars that are sessions of a Zoom Event (R14).
    fn event_webinars(&mut self) -> Result<&BTreeSet<String>, PluginError> {
        if self.event_webinars.is_none() {
            self.event_webinars = Some(self.port.zoom_event_webinars()?);
        }
        Ok(self.event_webinars.get_or_insert_default())
    }

    /// The webinar as Zoom describes it now, or as last seen when Zoom no
    /// longer has it (deleted).
    pub(super) fn webinar(
        &mut self,
        id: &str,
        deleted: bool,
        store: &dyn Store,
    ) -> Result<Option<Webinar>, PluginError> {
        let known: Option<Webinar> = load(store, &schema::webinar_meta(id))?;
        let Some(scheduled) = self.port.webinar(id)? else {
            return Ok(known.map(|w| Webinar { deleted: true, ..w }));
        };
        let webinar = Webinar {
            id: id.to_owned(),
            topic: scheduled.topic,
            host_email: scheduled.host_email,
            join_url: scheduled.join_url,
            scheduled_start_ms: scheduled.start_ms,
            scheduled_minutes: scheduled.minutes,
            ran: known.as_ref().and_then(|k| k.ran),
            deleted,
            zoom_event: self.event_webinars()?.contains(id),
        };
        save(store, &schema::webinar_meta(id), &webinar)?;
        Ok(Some(webinar))
    }

    /// Stages the rest of who the plan is about, after the webhooks'
    /// registrations ([`webinar_facts`]), in the order the routing needs:
    /// Zoom's list on a reconcile, then attendance (webhooks' joins and
    /// leaves, then Zoom's report), whose part may be the registration's.
    pub(super) fn stage_people(
        &mut self,
        (webinar, stage): (&Webinar, &mut Stage),
        (mode, details_refused): (Mode, Option<String>),
        book: &Book,
        ledger: &mut Ledger,
        report: &mut Report,
    ) -> Result<Gathered, PluginError> {
        let id = webinar.id.as_str();
        if mode.reconcile {
            let start = webinar.scheduled_start_ms;
            self.port.approved_registrants(id, start, &mut |page| {
                page.into_iter().try_for_each(|r| stage.registrant(r))
            })?;
        }
        intake::each_fact(book.store, id, &mut |fact| match fact {
            Fact::Joined { .. } | Fact::Left { .. } => stage.fact(fact),
            _ => Ok(()),
        })?;
        let mut gathered = Gathered::default();
        if mode.reconcile {
            match self.attendance(webinar, details_refused, stage, book, (ledger, report))? {
                Some(read) => gathered.report = read,
                None => gathered.attendance_waits = true,
            }
        }
        Ok(gathered)
    }
}

/// Who must never be written to (R5, R16-R18), as far as known before
/// the CRM is asked about the plan's emails (`resolve`): the excluded
/// domains, the users of both accounts, the deleted contacts.
pub(super) fn directory(
    global: &GlobalSettings,
    (zoom_users, crm_users): (BTreeSet<String>, BTreeSet<String>),
    store: &dyn Store,
) -> Result<Directory, PluginError> {
    let mut directory = Directory {
        excluded_domains: global.contact_exclusion_domains.iter().cloned().collect(),
        zoom_users,
        crm_users,
        ..Directory::default()
    };
    for key in all_keys(store, schema::DELETED_PREFIX)? {
        let email = key.trim_start_matches(schema::DELETED_PREFIX);
        directory.deleted_contacts.insert(email.to_owned());
    }
    Ok(directory)
}

/// Zoom's list of registrants over what webhooks said; a registration
/// seen first in a webhook keeps its time: the timeline does not move.
fn merge_listed(registrants: &mut BTreeMap<String, Registrant>, listed: Vec<Registrant>) {
    for registrant in listed {
        let key = registrant.key();
        let registered_ms = registrants
            .get(&key)
            .map_or(registrant.registered_ms, |known| known.registered_ms);
        registrants.insert(
            key,
            Registrant {
                registered_ms,
                ..registrant
            },
        );
    }
}

/// The emails the ledger (the slice it holds) knows to be a contact's
/// secondary ones (R17), in place of those of the slice held before.
pub(super) fn learn_secondary_emails(directory: &mut Directory, ledger: &Ledger) {
    directory.secondary_emails.clear();
    for (email, resolved) in ledger.contacts() {
        if let Resolved::Secondary { primary } = resolved {
            directory
                .secondary_emails
                .insert(email.clone(), primary.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shell::ports::ScheduledWebinar;
    use crate::shell::sync::testing::row;
    use crate::shell::sync::testing::{Harness, StubCrm, StubZoom};

    fn registrant(id: &str, email: &str, at: i64) -> Registrant {
        Registrant {
            id: id.into(),
            email: email.into(),
            first_name: "Ada".into(),
            last_name: "Lovelace".into(),
            status: "approved".into(),
            registered_ms: at,
        }
    }

    #[test]
    fn issue_21_people_moved_to_the_next_slice_take_their_attendance_with_them() {
        let mut people = People {
            registrants: vec![
                registrant("r1", "Ada@X.example", 5),
                registrant("r2", "bo@x.example", 5),
            ],
            rows: vec![
                row("r1", "ada.home@y.example"),
                row("r2", "ada@x.example"),
                row("", "ada@x.example"),
                row("", "guest@y.example"),
            ],
        };
        let moved = people.split_off(&BTreeSet::from(["ada@x.example".to_owned()]));
        let ids = |p: &People| -> Vec<(String, String)> {
            p.rows
                .iter()
                .map(|r| (r.registrant_id.clone(), r.email.clone()))
                .collect()
        };
        assert_eq!(moved.registrants.len(), 1);
        assert_eq!(
            ids(&moved),
            [
                ("r1".into(), "ada.home@y.example".into()),
                (String::new(), "ada@x.example".into())
            ]
        );
        // Bo's row stays with Bo, whatever email it joined with.
        assert_eq!(people.registrants[0].id, "r2");
        assert_eq!(
            ids(&people),
            [
                ("r2".into(), "ada@x.example".into()),
                (String::new(), "guest@y.example".into())
            ]
        );
    }

    #[test]
    fn r20_zooms_list_overrides_webhooks_but_a_registration_keeps_its_first_time() {
        let mut known = BTreeMap::from([("r1".to_owned(), registrant("r1", "old@x.example", 5))]);
        merge_listed(
            &mut known,
            vec![
                registrant("r1", "ada@x.example", 9),
                registrant("r2", "bo@x.example", 7),
            ],
        );
        let merged: Vec<(&str, &str, i64)> = known
            .values()
            .map(|r| (r.id.as_str(), r.email.as_str(), r.registered_ms))
            .collect();
        assert_eq!(
            merged,
            [("r1", "ada@x.example", 5), ("r2", "bo@x.example", 7)]
        );
    }

    #[test]
    fn r14_a_webinar_is_read_from_zoom_and_marked_when_it_is_a_zoom_event_session() {
        let zoom = StubZoom::default();
        zoom.state.borrow_mut().webinars.insert(
            "81".into(),
            ScheduledWebinar {
                topic: "Launch".into(),
                host_email: "host@x.example".into(),
                join_url: "https://zoom.us/w/81".into(),
                start_ms: 1_000,
                minutes: 45,
            },
        );
        zoom.state.borrow_mut().event_webinars.insert("81".into());
        let harness = Harness::new(zoom, StubCrm::default());
        let mut run = harness.run();
        let webinar = run
            .zoom
            .webinar("81", false, &harness.store)
            .unwrap()
            .unwrap();
        assert_eq!(
            (
                webinar.topic.as_str(),
                webinar.scheduled_minutes,
                webinar.zoom_event
            ),
            ("Launch", 45, true)
        );
        // Gone from Zoom later: the webinar as last seen, marked deleted.
        harness.zoom.state.borrow_mut().webinars.clear();
        let gone = run
            .zoom
            .webinar("81", false, &harness.store)
            .unwrap()
            .unwrap();
        assert!(gone.deleted && gone.topic == "Launch");
        assert!(
            run.zoom
                .webinar("82", false, &harness.store)
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn r16_r18_the_directory_holds_zoom_users_crm_users_and_deleted_contacts() {
        let zoom = StubZoom::default();
        zoom.state
            .borrow_mut()
            .users
            .insert("host@x.example".into(), "Host".into());
        let crm = StubCrm::default();
        crm.state.borrow_mut().owners.push("owner@x.example".into());
        let harness = Harness::new(zoom, crm);
        save(
            &harness.store,
            &schema::deleted_contact("gone@x.example"),
            &"deletion",
        )
        .unwrap();
        let mut ledger = Ledger::default();
        ledger.resolve(
            "alias@x.example".into(),
            Resolved::Secondary {
                primary: "main@x.example".into(),
            },
        );
        let global = GlobalSettings {
            contact_exclusion_domains: vec!["competitor.example".into()],
            ..GlobalSettings::default()
        };
        let mut directory = harness.run().directory(&global).unwrap();
        learn_secondary_emails(&mut directory, &ledger);
        assert!(directory.zoom_users.contains("host@x.example"));
        assert!(directory.crm_users.contains("owner@x.example"));
        assert!(directory.deleted_contacts.contains("gone@x.example"));
        assert!(directory.excluded_domains.contains("competitor.example"));
        assert_eq!(
            directory.secondary_emails["alias@x.example"],
            "main@x.example"
        );
    }
}
