//! The ports the sync and the workflow action speak through: what they
//! need of Zoom and of a CRM, in the domain's words (issues 17, 18). The
//! adapters own the wire formats: `zoom` implements [`Zoom`] over Zoom
//! REST v2, `crm` implements [`Crm`] over HubSpot's APIs; another CRM
//! would be another adapter. Tests implement them in memory.
//!
//! A port's errors are [`PluginError`]s: `ZoomUnavailable` /
//! `CrmUnavailable` for what a later try may lift (R32), `ZoomRefused` and
//! `InvalidInput` for what it will not.

use std::collections::{BTreeMap, BTreeSet};

use super::PluginError;
use super::crm::activity::Setup;
use super::zoom::Past;
use crate::core::action::{Registered, RegistrationTerms, RequiredQuestion, ZoomError};
use crate::core::marketing_event::MarketingEvent;
use crate::core::plan::{
    ParticipantRow, Participation, ParticipationState, Registrant, TimelineEvent,
};
use crate::core::recording::{Call, Recording};

/// A webinar as Zoom schedules it (`GET /webinars/{id}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduledWebinar {
    pub topic: String,
    /// Lowercase.
    pub host_email: String,
    pub join_url: String,
    pub start_ms: i64,
    pub minutes: u32,
}

/// A webinar of a user's list (upcoming, or recently past).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedWebinar {
    pub id: String,
    pub start_ms: Option<i64>,
}

/// A report of a webinar, or why there is none.
#[derive(Debug, Clone, PartialEq)]
pub enum ZoomReport<T> {
    Ready(T),
    /// Zoom has none (404, code 3001): not made yet after the webinar
    /// ended, or expired (the participants report: the last six months).
    NotYet,
    /// Zoom will not give it, in its words: asking again changes nothing.
    Refused(String),
}

impl<T> ZoomReport<T> {
    /// A read's outcome: Zoom's refusal is the answer, not an error.
    pub fn of(read: Result<Option<T>, PluginError>) -> Result<Self, PluginError> {
        match read {
            Ok(Some(found)) => Ok(ZoomReport::Ready(found)),
            Ok(None) => Ok(ZoomReport::NotYet),
            Err(PluginError::ZoomRefused(why)) => Ok(ZoomReport::Refused(why)),
            Err(e) => Err(e),
        }
    }
}

/// Where a list read a page at a time goes: a page (300 people) is handed
/// on before the next is read, so a large webinar is never held whole
/// (issue 21).
pub type EachPage<'f, T> = &'f mut dyn FnMut(Vec<T>) -> Result<(), PluginError>;

/// What the sync and the action read of Zoom (R1, R8, R11, R14, R16, R21).
pub trait Zoom {
    /// The account's active users: email (lowercase) -> display name (R16).
    fn users(&self) -> Result<BTreeMap<String, String>, PluginError>;
    /// None when Zoom no longer has the webinar.
    fn webinar(&self, id: &str) -> Result<Option<ScheduledWebinar>, PluginError>;
    /// Every approved registrant, a page at a time to `each`; one without
    /// a registration time is given `default_registered_ms`. False when
    /// the webinar is gone.
    fn approved_registrants(
        &self,
        webinar: &str,
        default_registered_ms: i64,
        each: EachPage<'_, Registrant>,
    ) -> Result<bool, PluginError>;
    /// When the webinar ran (start, end), from its details report.
    fn ran(&self, webinar: &str) -> Result<ZoomReport<Option<(i64, i64)>>, PluginError>;
    /// The participants report, a row per join/leave segment (R8), a page
    /// at a time to `each`. Only a `Ready` answer's rows are the report:
    /// one refused after its first pages gave no report.
    fn participants(
        &self,
        webinar: &str,
        each: EachPage<'_, ParticipantRow>,
    ) -> Result<ZoomReport<()>, PluginError>;
    /// The ids of the webinars that are sessions of a Zoom Event (R14).
    fn zoom_event_webinars(&self) -> Result<BTreeSet<String>, PluginError>;
    /// A user's webinars, or Zoom's reason for not listing them.
    fn user_webinars(&self, user: &str) -> Result<Result<Vec<ListedWebinar>, String>, PluginError>;
    /// The account's webinars that ran since `since_ms` (R1 backfill).
    fn past_webinars(&self, since_ms: Option<i64>) -> Result<Past, PluginError>;
    /// The webinar's cloud recording; none when there is none (R11).
    fn recording(&self, webinar: &str) -> Result<Option<Recording>, PluginError>;
    /// A recording file's content; none when Zoom has no such file.
    fn download(&self, url: &str) -> Result<Option<Vec<u8>>, PluginError>;
    /// Requests sent again so far (5xx, no answer, rate limits).
    fn retries(&self) -> u32;
    /// When the rate limit that stopped the last call lifts, if Zoom said
    /// and it is not one to wait out inside a call; taken (R32).
    fn take_wait_until_ms(&self) -> Option<i64>;
}

/// What the workflow action asks of Zoom (R21-R24).
pub trait ZoomRegistration {
    /// How the webinar takes registrations; none when the connected
    /// account cannot see it (R22).
    fn registration_terms(&self, webinar: &str) -> Result<Option<RegistrationTerms>, PluginError>;
    /// The questions its registration form requires (R24); none without a form.
    fn required_questions(
        &self,
        webinar: &str,
    ) -> Result<Option<Vec<RequiredQuestion>>, PluginError>;
    /// Registers a person: Zoom's registrant, or Zoom's refusal (R23).
    fn add_registrant(
        &self,
        webinar: &str,
        email: &str,
        first_name: &str,
        last_name: &str,
    ) -> Result<Result<Registered, ZoomError>, PluginError>;
}

/// What the CRM refused of a batch: each refused input by what the caller
/// knows it by (an email, a contact id, an event id), with the CRM's
/// reason. Found by identity, never by position (issue 17).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Refused(pub BTreeMap<String, String>);

impl Refused {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn contains(&self, identity: &str) -> bool {
        self.0.contains_key(identity)
    }

    /// One reason for the audit log: the same whatever order the CRM answered in.
    pub fn reason(&self) -> &str {
        self.0
            .values()
            .min()
            .map_or("no reason given", String::as_str)
    }

    /// What the refused inputs are known by, in order.
    pub fn identities(&self) -> Vec<String> {
        self.0.keys().cloned().collect()
    }
}

/// An email the CRM refused to make a contact for, with its reason.
pub type RefusedEmail = (String, String);

/// A contact as an email upsert found or made it.
#[derive(Debug, Clone, PartialEq)]
pub struct UpsertedContact {
    /// The email sent.
    pub email: String,
    pub id: String,
    /// The contact's primary email: not `email` when `email` is a secondary one (R17).
    pub primary_email: String,
    pub created: bool,
}

/// Contacts (R7, R12, R17, R18).
pub trait Contacts {
    /// A live contact's properties by id, each a text; none when the CRM
    /// has no such live contact.
    fn contact(
        &self,
        id: &str,
        properties: &[&str],
    ) -> Result<Option<BTreeMap<String, String>>, PluginError>;
    /// Of `emails` (at most 100), those whose contact is archived, with its id.
    fn archived_contacts(&self, emails: &[String]) -> Result<Vec<(String, String)>, PluginError>;
    /// Finds or makes a contact for each email without changing it; the
    /// emails the CRM refused, with its reason.
    fn upsert_emails(
        &self,
        emails: &[String],
    ) -> Result<(Vec<UpsertedContact>, Vec<RefusedEmail>), PluginError>;
    /// Sets properties of contacts by id (at most 100); refused by contact id.
    fn update_contact_properties(
        &self,
        updates: &[(&str, &BTreeMap<String, String>)],
    ) -> Result<Refused, PluginError>;
}

/// The webinar's marketing event and its participations (R8, R9).
pub trait MarketingEvents {
    fn upsert_marketing_event(
        &self,
        account: &str,
        event: &MarketingEvent,
    ) -> Result<(), PluginError>;
    /// Records participations (at most 100, one state); refused by email.
    fn record_participations(
        &self,
        account: &str,
        webinar: &str,
        state: ParticipationState,
        participations: &[&Participation],
    ) -> Result<Refused, PluginError>;
}

/// Activity events on contacts' timelines (R10), through what install set up.
pub trait Activity {
    /// One batch (at most 100), each event with its contact id; refused by event id.
    fn write_activity(
        &self,
        setup: &Setup,
        events: &[(&TimelineEvent, String)],
    ) -> Result<Refused, PluginError>;
}

/// Calls that carry a recording (R11).
pub trait Calls {
    /// Creates a batch, sent once (creating is not idempotent); refused by
    /// contact id.
    fn create_calls(&self, calls: &[&Call]) -> Result<Refused, PluginError>;
    /// Which of `keys` (each `definitions::call_key`) name a call the CRM holds.
    fn existing_call_keys(&self, keys: &[String]) -> Result<BTreeSet<String>, PluginError>;
}

/// The CRM as the sync uses it.
pub trait Crm: Contacts + MarketingEvents + Activity + Calls {
    /// The emails of the CRM's users, lowercase (R16).
    fn owner_emails(&self) -> Result<Vec<String>, PluginError>;
    /// Requests sent again so far (5xx, no answer, rate limits).
    fn retries(&self) -> u32;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_gives_the_same_reason_whatever_order_the_crm_answered_in() {
        let one = Refused(BTreeMap::from([
            ("b@x.example".into(), "Zeta".into()),
            ("a@x.example".into(), "Alpha".into()),
        ]));
        assert_eq!(one.reason(), "Alpha");
        assert_eq!(Refused::default().reason(), "no reason given");
        assert!(one.contains("a@x.example") && !one.contains("c@x.example"));
        assert_eq!(one.identities(), ["a@x.example", "b@x.example"]);
    }
}
