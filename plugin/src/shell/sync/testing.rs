//! In-memory adapters of the ports, for the phases' unit tests: Zoom and
//! a CRM as plain data, each write kept so a test can read what was sent.
//! They are deliberately simple; the HubSpot and Zoom adapters' own tests
//! and the end-to-end tests against the strict fakes cover the wire.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use super::{Env, Sides};
use crate::core::action::{Registered, RegistrationTerms, RequiredQuestion, ZoomError};
use crate::core::marketing_event::MarketingEvent;
use crate::core::plan::{
    ParticipantRow, Participation, ParticipationState, Registrant, TimelineEvent, Webinar,
};
use crate::core::recording::{Call, Recording};
use crate::shell::crm::activity::Setup;
use crate::shell::http::{HttpClient, Request, Response, TransportError};
use crate::shell::memory::MemoryStore;
use crate::shell::ports::{
    Activity, Calls, Contacts, Crm, EachPage, ListedWebinar, MarketingEvents, Refused,
    RefusedEmail, ScheduledWebinar, UpsertedContact, Zoom, ZoomRegistration, ZoomReport,
};
use crate::shell::zoom::Past;
use crate::shell::{Config, PluginError};

/// What Zoom holds.
#[derive(Debug, Default)]
pub struct ZoomState {
    pub users: BTreeMap<String, String>,
    pub webinars: BTreeMap<String, ScheduledWebinar>,
    pub registrants: BTreeMap<String, Vec<Registrant>>,
    /// Participants reports; a webinar without one answers "not yet".
    pub participants: BTreeMap<String, Vec<ParticipantRow>>,
    pub event_webinars: BTreeSet<String>,
    pub recordings: BTreeMap<String, Recording>,
    /// Files by download URL.
    pub files: BTreeMap<String, Vec<u8>>,
    /// How each webinar takes registrations (the workflow action).
    pub terms: BTreeMap<String, RegistrationTerms>,
    /// Registrations made: (webinar, email).
    pub registered: Vec<(String, String)>,
}

#[derive(Clone, Default)]
pub struct StubZoom {
    pub state: Rc<RefCell<ZoomState>>,
}

impl Zoom for StubZoom {
    fn users(&self) -> Result<BTreeMap<String, String>, PluginError> {
        Ok(self.state.borrow().users.clone())
    }
    fn webinar(&self, id: &str) -> Result<Option<ScheduledWebinar>, PluginError> {
        Ok(self.state.borrow().webinars.get(id).cloned())
    }
    fn approved_registrants(
        &self,
        webinar: &str,
        _: i64,
        each: EachPage<'_, Registrant>,
    ) -> Result<bool, PluginError> {
        let Some(listed) = self.state.borrow().registrants.get(webinar).cloned() else {
            return Ok(false);
        };
        for page in listed.chunks(300) {
            each(page.to_vec())?;
        }
        Ok(true)
    }
    fn ran(&self, _: &str) -> Result<ZoomReport<Option<(i64, i64)>>, PluginError> {
        Ok(ZoomReport::NotYet)
    }
    fn participants(
        &self,
        webinar: &str,
        each: EachPage<'_, ParticipantRow>,
    ) -> Result<ZoomReport<()>, PluginError> {
        let Some(rows) = self.state.borrow().participants.get(webinar).cloned() else {
            return Ok(ZoomReport::NotYet);
        };
        for page in rows.chunks(300) {
            each(page.to_vec())?;
        }
        Ok(ZoomReport::Ready(()))
    }
    fn zoom_event_webinars(&self) -> Result<BTreeSet<String>, PluginError> {
        Ok(self.state.borrow().event_webinars.clone())
    }
    fn user_webinars(&self, _: &str) -> Result<Result<Vec<ListedWebinar>, String>, PluginError> {
        Ok(Ok(Vec::new()))
    }
    fn past_webinars(&self, _: Option<i64>) -> Result<Past, PluginError> {
        Ok(Past::default())
    }
    fn recording(&self, webinar: &str) -> Result<Option<Recording>, PluginError> {
        Ok(self.state.borrow().recordings.get(webinar).cloned())
    }
    fn download(&self, url: &str) -> Result<Option<Vec<u8>>, PluginError> {
        Ok(self.state.borrow().files.get(url).cloned())
    }
    fn retries(&self) -> u32 {
        0
    }
    fn take_wait_until_ms(&self) -> Option<i64> {
        None
    }
}

impl ZoomRegistration for StubZoom {
    fn registration_terms(&self, webinar: &str) -> Result<Option<RegistrationTerms>, PluginError> {
        Ok(self.state.borrow().terms.get(webinar).cloned())
    }
    fn required_questions(&self, _: &str) -> Result<Option<Vec<RequiredQuestion>>, PluginError> {
        Ok(None)
    }
    fn add_registrant(
        &self,
        webinar: &str,
        email: &str,
        _: &str,
        _: &str,
    ) -> Result<Result<Registered, ZoomError>, PluginError> {
        let mut state = self.state.borrow_mut();
        state
            .registered
            .push((webinar.to_owned(), email.to_owned()));
        Ok(Ok(Registered {
            registrant_id: format!("r{}", state.registered.len()),
            join_url: format!("https://zoom.us/w/{webinar}?tk={}", state.registered.len()),
        }))
    }
}

/// What the CRM holds and was sent.
#[derive(Debug, Default)]
pub struct CrmState {
    pub owners: Vec<String>,
    /// Live contacts by id: their properties.
    pub contacts: BTreeMap<String, BTreeMap<String, String>>,
    /// Secondary email -> the contact's primary one.
    pub secondary: BTreeMap<String, String>,
    /// Archived contacts: email -> id.
    pub archived: BTreeMap<String, String>,
    /// Emails the CRM refuses to make a contact for, with its reason.
    pub refused_emails: BTreeMap<String, String>,
    pub refused_participations: BTreeMap<String, String>,
    /// Every email upserted, in order.
    pub upserted: Vec<String>,
    pub events: Vec<MarketingEvent>,
    /// Every email whose participation was sent, in order.
    pub participations: Vec<String>,
    pub activity: Vec<String>,
    /// Calls made: (contact id, body).
    pub calls: Vec<(String, String)>,
    pub property_updates: Vec<(String, BTreeMap<String, String>)>,
    /// Every batch call: its kind and its size.
    pub batches: Vec<(&'static str, usize)>,
}

#[derive(Clone, Default)]
pub struct StubCrm {
    pub state: Rc<RefCell<CrmState>>,
}

impl Contacts for StubCrm {
    fn contact(
        &self,
        id: &str,
        _: &[&str],
    ) -> Result<Option<BTreeMap<String, String>>, PluginError> {
        Ok(self.state.borrow().contacts.get(id).cloned())
    }
    fn archived_contacts(&self, emails: &[String]) -> Result<Vec<(String, String)>, PluginError> {
        let state = self.state.borrow();
        Ok(emails
            .iter()
            .filter_map(|e| Some((e.clone(), state.archived.get(e)?.clone())))
            .collect())
    }
    fn upsert_emails(
        &self,
        emails: &[String],
    ) -> Result<(Vec<UpsertedContact>, Vec<RefusedEmail>), PluginError> {
        let mut state = self.state.borrow_mut();
        state.batches.push(("upsert", emails.len()));
        let (mut made, mut refused) = (Vec::new(), Vec::new());
        for email in emails {
            state.upserted.push(email.clone());
            if let Some(reason) = state.refused_emails.get(email) {
                refused.push((email.clone(), reason.clone()));
                continue;
            }
            made.push(UpsertedContact {
                email: email.clone(),
                id: format!("{}", 500 + state.upserted.len()),
                primary_email: state.secondary.get(email).unwrap_or(email).clone(),
                created: true,
            });
        }
        Ok((made, refused))
    }
    fn update_contact_properties(
        &self,
        updates: &[(&str, &BTreeMap<String, String>)],
    ) -> Result<Refused, PluginError> {
        let mut state = self.state.borrow_mut();
        state.batches.push(("properties", updates.len()));
        for (id, properties) in updates {
            state
                .property_updates
                .push(((*id).to_owned(), (*properties).clone()));
        }
        Ok(Refused::default())
    }
}

impl MarketingEvents for StubCrm {
    fn upsert_marketing_event(&self, _: &str, event: &MarketingEvent) -> Result<(), PluginError> {
        self.state.borrow_mut().events.push(event.clone());
        Ok(())
    }
    fn record_participations(
        &self,
        _: &str,
        _: &str,
        state: ParticipationState,
        participations: &[&Participation],
    ) -> Result<Refused, PluginError> {
        let kind = state.word();
        let mut state = self.state.borrow_mut();
        state.batches.push((kind, participations.len()));
        let mut refused = Refused::default();
        for p in participations {
            state.participations.push(p.email.clone());
            if let Some(reason) = state.refused_participations.get(&p.email) {
                refused.0.insert(p.email.clone(), reason.clone());
            }
        }
        Ok(refused)
    }
}

impl Activity for StubCrm {
    fn write_activity(
        &self,
        _: &Setup,
        events: &[(&TimelineEvent, String)],
    ) -> Result<Refused, PluginError> {
        let mut state = self.state.borrow_mut();
        state.batches.push(("activity", events.len()));
        state
            .activity
            .extend(events.iter().map(|(t, _)| t.id.clone()));
        Ok(Refused::default())
    }
}

impl Calls for StubCrm {
    fn create_calls(&self, calls: &[&Call]) -> Result<Refused, PluginError> {
        let mut state = self.state.borrow_mut();
        for call in calls {
            let body = call
                .properties
                .get("hs_call_body")
                .cloned()
                .unwrap_or_default();
            state.calls.push((call.contact_id.clone(), body));
        }
        Ok(Refused::default())
    }
    fn existing_call_keys(&self, _: &[String]) -> Result<BTreeSet<String>, PluginError> {
        Ok(BTreeSet::new())
    }
}

impl Crm for StubCrm {
    fn owner_emails(&self) -> Result<Vec<String>, PluginError> {
        Ok(self.state.borrow().owners.clone())
    }
    fn retries(&self) -> u32 {
        0
    }
}

/// No HTTP: the phases reach the services through the ports only.
struct NoHttp;
impl HttpClient for NoHttp {
    fn send(&self, request: Request) -> Result<Response, TransportError> {
        panic!("a phase sent HTTP around its ports: {}", request.url)
    }
}

struct NoConfig;
impl Config for NoConfig {
    fn get(&self, _: &str) -> Result<Option<String>, String> {
        Ok(None)
    }
}

/// A store and the two stubs, from which runs are made.
pub struct Harness {
    pub store: MemoryStore,
    pub zoom: StubZoom,
    pub crm: StubCrm,
}

impl Harness {
    pub fn new(zoom: StubZoom, crm: StubCrm) -> Self {
        Self {
            store: MemoryStore::default(),
            zoom,
            crm,
        }
    }

    pub(in crate::shell::sync) fn run(&self) -> Sides<'_> {
        let env = Env {
            http: &NoHttp,
            config: &NoConfig,
            store: &self.store,
            now_ms: 1_795_000_000_000,
        };
        Sides::with(
            &env,
            Box::new(self.zoom.clone()),
            Box::new(self.crm.clone()),
            "zoom-account".into(),
        )
    }
}

/// A webinar that has not run yet.
pub fn webinar(id: &str) -> Webinar {
    Webinar {
        id: id.into(),
        topic: "Launch".into(),
        host_email: "host@x.example".into(),
        join_url: format!("https://zoom.us/w/{id}"),
        scheduled_start_ms: 1_795_000_000_000,
        scheduled_minutes: 60,
        ran: None,
        deleted: false,
        zoom_event: false,
    }
}

/// A ledger that knows one person: ada@x.example, contact 501, made by the plugin.
pub fn ada_created_as_501() -> crate::core::ledger::Ledger {
    let mut ledger = crate::core::ledger::Ledger::default();
    ledger.resolve(
        "ada@x.example".into(),
        crate::core::ledger::Resolved::Contact {
            id: "501".into(),
            created: true,
        },
    );
    ledger
}

/// A participants report's row: one segment.
pub fn row(registrant_id: &str, email: &str) -> ParticipantRow {
    ParticipantRow {
        name: "N".into(),
        email: email.into(),
        registrant_id: registrant_id.into(),
        joined_ms: 1,
        left_ms: 2,
    }
}

/// Install set the timeline up (R10): activity events are written.
pub fn timeline_set_up(store: &MemoryStore) {
    let setup = Setup {
        backend: crate::shell::crm::activity::Backend::Timeline,
        ids: crate::core::definitions::timeline_event_types()
            .iter()
            .map(|t| (t.id.to_owned(), format!("template-{}", t.id)))
            .collect(),
        not_written: None,
    };
    crate::shell::save(store, crate::shell::schema::ACTIVITY_SETUP, &setup).unwrap();
}
