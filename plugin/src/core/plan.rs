//! The plan of one webinar's sync: from Zoom's facts (the webinar, its
//! registrants, the participants report), the settings and what is known
//! of the people, the CRM writes to make and the audit entries to record.
//! Pure, so every rule is visible in a snapshot of the plan; the shell
//! applies it in batches.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::attendance;
use super::audit::AuditKind;
use super::contact_properties::WebinarRecord;
use super::exclusions::{Directory, Exclusion};
use super::settings::{GlobalSettings, UserSettings, WebinarSettings};

/// The webinar as Zoom describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Webinar {
    pub id: String,
    pub topic: String,
    pub host_email: String,
    pub join_url: String,
    pub scheduled_start_ms: i64,
    pub scheduled_minutes: u32,
    /// When it actually ran, once it has.
    pub ran: Option<(i64, i64)>,
    /// Deleted in Zoom: the marketing event is cancelled.
    pub deleted: bool,
    /// A session of a Zoom Event (R14).
    pub zoom_event: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Registrant {
    pub id: String,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
    /// approved, pending, denied or cancelled.
    pub status: String,
    pub registered_ms: i64,
}

impl Registrant {
    /// Who the registrant is: Zoom's registrant id, else the email.
    pub fn key(&self) -> String {
        if self.id.is_empty() {
            self.email.to_ascii_lowercase()
        } else {
            self.id.clone()
        }
    }
}

/// One row of the participants report: one join/leave segment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ParticipantRow {
    pub name: String,
    pub email: String,
    pub registrant_id: String,
    pub joined_ms: i64,
    pub left_ms: i64,
}

/// Whether a webinar syncs at all, and if not why (R1, R3, R6, R14).
pub fn decide(
    webinar: &Webinar,
    global: &GlobalSettings,
    host: &UserSettings,
    switch: &WebinarSettings,
) -> Result<(), (AuditKind, String)> {
    if !(global.global_sync && global.webinar_sync) {
        return Err((
            AuditKind::SyncSettingOff,
            "Some webinar data was not synced because your sync setting is off: turn on global sync and webinar sync; everything missing syncs then.".into(),
        ));
    }
    if webinar.zoom_event {
        return Err((
            AuditKind::WebinarDataNotSynced,
            "This webinar is part of a Zoom Event; Zoom Events webinars are not synced.".into(),
        ));
    }
    let host_domain = webinar
        .host_email
        .rsplit_once('@')
        .map(|(_, d)| d.to_ascii_lowercase())
        .unwrap_or_default();
    if let Some(domain) = global
        .host_exclusion_domains
        .iter()
        .find(|d| **d == host_domain)
    {
        return Err((
            AuditKind::WebinarDataNotSynced,
            format!(
                "The host {} is in the excluded domain {domain}: remove it from the host exclusions to sync this webinar.",
                webinar.host_email
            ),
        ));
    }
    match switch.sync_enabled {
        Some(false) => Err((
            AuditKind::SyncSettingOff,
            "Sync is turned off for this webinar in the host's webinar settings.".into(),
        )),
        None if !host.sync_new_webinars => Err((
            AuditKind::SyncSettingOff,
            format!(
                "{} does not sync newly scheduled webinars by default: turn it on in the user's settings, or turn on this webinar.",
                host.user
            ),
        )),
        _ => Ok(()),
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ContactUpsert {
    pub email: String,
    pub first_name: String,
    pub last_name: String,
}

/// A participation on the webinar's marketing event (R9).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Participation {
    pub email: String,
    pub state: ParticipationState,
    pub at_ms: i64,
    pub joined_ms: Option<i64>,
    pub left_ms: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ParticipationState {
    Register,
    Attend,
    Cancel,
}

impl ParticipationState {
    /// The state as a word, for people and the CRM's paths.
    pub fn word(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::Attend => "attend",
            Self::Cancel => "cancel",
        }
    }
}

/// A timeline event (R10), with an id that makes its creation idempotent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineEvent {
    pub id: String,
    /// The event type's id from `definitions`.
    pub event_type: &'static str,
    pub email: String,
    pub timestamp_ms: i64,
    pub tokens: Tokens,
}

/// A timeline event's tokens, by name. A sorted list rather than a map:
/// a webinar of 10,000 people plans 17,000 events, and a map per event
/// (a B-tree node of eleven slots) was several MiB of guest memory.
/// Serialized as a map, in name order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tokens(Vec<(&'static str, String)>);

impl Tokens {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.0.iter().map(|(n, v)| (*n, v.as_str()))
    }
}

impl<const N: usize> From<[(&'static str, String); N]> for Tokens {
    fn from(pairs: [(&'static str, String); N]) -> Self {
        let mut pairs = Vec::from(pairs);
        pairs.sort_by_key(|(name, _)| *name);
        pairs.dedup_by_key(|(name, _)| *name);
        Self(pairs)
    }
}

impl Serialize for Tokens {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditNote {
    pub kind: AuditKind,
    pub message: String,
    pub records: Vec<String>,
}

/// Who a plan left out and why (R19): what its audit notes say, kept
/// apart so the plans of a large webinar's slices say it once together.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LeftOut {
    /// Attendees Zoom gave no email for, by name.
    pub guests: Vec<String>,
    /// A person excluded as a registrant and again as an attendee is listed once.
    pub excluded: BTreeMap<Exclusion, BTreeSet<String>>,
}

impl LeftOut {
    pub fn merge(&mut self, other: LeftOut) {
        for guest in other.guests {
            if !self.guests.contains(&guest) {
                self.guests.push(guest);
            }
        }
        for (why, emails) in other.excluded {
            self.excluded.entry(why).or_default().extend(emails);
        }
    }

    /// The audit notes, one per reason.
    pub fn notes(&self) -> Vec<AuditNote> {
        let mut audit = Vec::new();
        if !self.guests.is_empty() {
            audit.push(AuditNote {
                kind: AuditKind::ParticipantsNotSynced,
                message: format!(
                    "{} participant(s) were not synced because Zoom gave no email for them (guests' emails are hidden unless they register): turn on registration for the webinar to sync every attendee.",
                    self.guests.len()
                ),
                records: self.guests.clone(),
            });
        }
        for (why, emails) in &self.excluded {
            audit.push(AuditNote {
                kind: AuditKind::EmailsExcluded,
                message: format!("{} email(s) left out: {}.", emails.len(), why.reason()),
                records: emails.iter().cloned().collect(),
            });
        }
        audit
    }
}

/// Everything one sync of one webinar writes.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Plan {
    pub webinar: String,
    pub contacts: Vec<ContactUpsert>,
    pub participations: Vec<Participation>,
    pub timeline: Vec<TimelineEvent>,
    /// What this webinar contributes to each contact's four properties (R12).
    pub records: Vec<(String, WebinarRecord)>,
    pub audit: Vec<AuditNote>,
    /// What `audit` says of who was left out, to merge with other slices'.
    #[serde(skip)]
    pub left_out: LeftOut,
}

impl Plan {
    /// The plan without the people of `emails` (a later slice plans them).
    pub fn without(&mut self, emails: &BTreeSet<String>) {
        self.contacts.retain(|c| !emails.contains(&c.email));
        self.participations.retain(|p| !emails.contains(&p.email));
        self.timeline.retain(|t| !emails.contains(&t.email));
        self.records.retain(|(email, _)| !emails.contains(email));
    }
}

fn minutes(ms: i64) -> String {
    format!("{}", (ms as f64 / 60_000.0).round())
}

mod planner;
use planner::{Planner, attendees};

/// The plan for one webinar that `decide` let through.
pub fn plan(
    webinar: &Webinar,
    registrants: &[Registrant],
    rows: &[ParticipantRow],
    directory: &Directory,
) -> Plan {
    let mut planner = Planner::new(webinar, directory);
    // R7, R8, R9, R10: registrations and cancellations.
    for r in registrants
        .iter()
        .filter(|r| matches!(r.status.as_str(), "approved" | "cancelled"))
    {
        planner.register(r);
    }
    // R8: one attendee per person, found by registrant id first, then email.
    let (people, guests) = attendees(registrants, rows);
    let length = match webinar.ran {
        Some((start, end)) => end - start,
        None => i64::from(webinar.scheduled_minutes) * 60_000,
    };
    for (email, (name, segments)) in &people {
        if let Some(attended) = attendance::attendance(segments, length) {
            planner.attend(email, name, &attended);
        }
    }
    planner.finish(guests)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::settings::RecordingSync;

    const START: i64 = 1_795_186_800_000; // 2026-11-20T15:00:00Z
    const MIN: i64 = 60_000;

    fn webinar() -> Webinar {
        Webinar {
            id: "81234567890".into(),
            topic: "Pipeline reviews that work".into(),
            host_email: "jchill@acme.example".into(),
            join_url: "https://us06web.zoom.us/w/81234567890".into(),
            scheduled_start_ms: START,
            scheduled_minutes: 60,
            ran: Some((START, START + 60 * MIN)),
            deleted: false,
            zoom_event: false,
        }
    }

    fn registrant(id: &str, email: &str, name: &str, status: &str) -> Registrant {
        let (first, last) = name.split_once(' ').unwrap_or((name, ""));
        Registrant {
            id: id.into(),
            email: email.into(),
            first_name: first.into(),
            last_name: last.into(),
            status: status.into(),
            registered_ms: START - 86_400_000,
        }
    }

    fn row(name: &str, email: &str, registrant_id: &str, from: i64, to: i64) -> ParticipantRow {
        ParticipantRow {
            name: name.into(),
            email: email.into(),
            registrant_id: registrant_id.into(),
            joined_ms: START + from * MIN,
            left_ms: START + to * MIN,
        }
    }

    fn directory() -> Directory {
        Directory {
            excluded_domains: ["acme.example".to_owned()].into(),
            zoom_users: [
                "jchill@acme.example".to_owned(),
                "zed@partner.example".to_owned(),
            ]
            .into(),
            crm_users: ["rep@sales.example".to_owned()].into(),
            secondary_emails: [(
                "grace@work.example".to_owned(),
                "grace@hopper.example".to_owned(),
            )]
            .into(),
            deleted_contacts: ["gone@example.com".to_owned()].into(),
        }
    }

    /// Registrants, attendees with rejoins and a no-show, a cancellation,
    /// a guest, and one registrant for every exclusion.
    #[test]
    fn r7_to_r19_the_plan_of_a_webinar() {
        let registrants = vec![
            registrant("r1", "Ada@Lovelace.example", "Ada Lovelace", "approved"),
            registrant("r2", "alan@turing.example", "Alan Turing", "approved"),
            registrant("r3", "noshow@example.com", "Nora Show", "approved"),
            registrant("r4", "cancel@example.com", "Cass Cancelled", "cancelled"),
            registrant("r5", "pending@example.com", "Pat Pending", "pending"),
            registrant("r6", "carl@acme.example", "Carl Colleague", "approved"),
            registrant("r7", "rep@sales.example", "Rita Rep", "approved"),
            registrant("r8", "zed@partner.example", "Zed User", "approved"),
            registrant("r9", "not-an-email", "Nora Typo", "approved"),
            registrant("r10", "grace@work.example", "Grace Hopper", "approved"),
            registrant("r11", "gone@example.com", "Gone Away", "approved"),
        ];
        let rows = vec![
            // Ada rejoins with an overlap: 0-20, 15-30, 45-60 = 45 min.
            row("Ada Lovelace", "ada@lovelace.example", "r1", 0, 20),
            row("Ada Lovelace", "ada@lovelace.example", "r1", 15, 30),
            row("Ada Lovelace", "", "r1", 45, 60),
            // Alan joins by email only (no registrant id in this row).
            row("Alan Turing", "alan@turing.example", "", 5, 35),
            // A guest: Zoom hides the email.
            row("Guest 1", "", "", 10, 50),
            // A walk-in with an email who did not register.
            row("Walk In", "walkin@example.com", "", 0, 60),
            row("Grace Hopper", "grace@work.example", "r10", 0, 30),
        ];
        let plan = plan(&webinar(), &registrants, &rows, &directory());
        insta::assert_json_snapshot!(plan);
    }

    #[test]
    fn r30_the_same_facts_plan_the_same_writes_with_the_same_ids() {
        let registrants = vec![registrant(
            "r1",
            "ada@lovelace.example",
            "Ada Lovelace",
            "approved",
        )];
        let rows = vec![row("Ada Lovelace", "ada@lovelace.example", "r1", 0, 60)];
        let first = plan(&webinar(), &registrants, &rows, &Directory::default());
        let mut shuffled = rows.clone();
        shuffled.extend(rows.clone()); // the same segment reported twice
        assert_eq!(
            plan(&webinar(), &registrants, &shuffled, &Directory::default()),
            first
        );
    }

    #[test]
    fn r1_r3_r6_r14_decide_whether_a_webinar_syncs() {
        let on = GlobalSettings {
            global_sync: true,
            webinar_sync: true,
            recording_sync: RecordingSync::None,
            ..GlobalSettings::default()
        };
        let host = UserSettings::defaults_for("jchill@acme.example");
        let follow = WebinarSettings {
            webinar: "81234567890".into(),
            sync_enabled: None,
        };
        assert_eq!(decide(&webinar(), &on, &host, &follow), Ok(()));

        let off = GlobalSettings {
            webinar_sync: false,
            ..on.clone()
        };
        assert_eq!(
            decide(&webinar(), &off, &host, &follow).unwrap_err().0,
            AuditKind::SyncSettingOff
        );
        let event = Webinar {
            zoom_event: true,
            ..webinar()
        };
        assert!(
            decide(&event, &on, &host, &follow)
                .unwrap_err()
                .1
                .contains("Zoom Event")
        );
        let host_excluded = GlobalSettings {
            host_exclusion_domains: vec!["acme.example".into()],
            ..on.clone()
        };
        assert!(
            decide(&webinar(), &host_excluded, &host, &follow)
                .unwrap_err()
                .1
                .contains("excluded domain acme.example")
        );
        let not_by_default = UserSettings {
            sync_new_webinars: false,
            ..host.clone()
        };
        assert!(decide(&webinar(), &on, &not_by_default, &follow).is_err());
        let switched_on = WebinarSettings {
            sync_enabled: Some(true),
            ..follow.clone()
        };
        assert_eq!(
            decide(&webinar(), &on, &not_by_default, &switched_on),
            Ok(()),
            "R6c overrides R6a"
        );
        let switched_off = WebinarSettings {
            sync_enabled: Some(false),
            ..follow
        };
        assert!(decide(&webinar(), &on, &host, &switched_off).is_err());
    }
}
