//! Fake CRM, in HubSpot's CRM v3 shapes (`api.hubapi.com`): contacts,
//! properties, owners, marketing events, timeline events, calls, the
//! workflow engine's custom-action executions and callbacks, and the
//! app webhooks it sends. Errors come in HubSpot's body
//! (`status`, `message`, `category`, `correlationId`); requests are rate
//! limited per app (100 per 10 s, search 5 per s) and faults are seeded.
//!
//! This module holds [`FakeCrm`] itself (its settings, save and restore,
//! what tests read back) and the request helpers every resource uses;
//! `routes.rs` answers a request, `state.rs` is what the CRM holds,
//! `seed.rs` what a scenario starts it with, `settings.rs` its rate
//! limits, batch order and search lag, and one module per resource
//! (`contacts.rs`, `schema.rs`, `engagements.rs`, `events.rs`, `calls.rs`,
//! `workflows.rs`, `action_definitions.rs`, `webhooks.rs`) the rest.

pub(crate) mod action_definitions;
#[cfg(test)]
mod activity_tests;
mod calls;
pub(crate) mod contacts;
pub(crate) mod engagements;
pub mod events;
mod inspect;
mod routes;
mod schema;
pub mod scopes;
mod seed;
mod settings;
mod state;
#[cfg(test)]
mod tests;
pub mod webhooks;
pub mod workflows;

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::Serialize;
use serde_json::{Value, json};

pub use seed::{CrmSeed, SeedContact, SeedUser};
pub use settings::{BatchOrder, CrmRateLimits, SearchLag};
pub use state::Contact;
pub(crate) use state::State;

use super::{Fault, FaultPlan, Faults, RateLimiter, bearer};
use crate::clock::Clock;
use crate::outbound::{FakeRequest, FakeResponse, FakeService};

pub const API_HOST: &str = "api.hubapi.com";
/// HubSpot's batch limit.
pub const MAX_BATCH: usize = 100;

/// The developer account's API key the fake takes for timeline templates,
/// unless [`FakeCrm::with_developer_api_key`] sets another (the
/// simulator's default configuration has this one).
pub const DEVELOPER_API_KEY: &str = "sim-crm-developer-api-key";

pub struct FakeCrm {
    access_token: String,
    developer_api_key: String,
    clock: Clock,
    state: Mutex<State>,
    general: RateLimiter,
    search: RateLimiter,
    faults: Faults,
    /// Paths whose next answers are lost after the request was applied,
    /// with how many more: see [`FakeCrm::lose_answers`].
    lost_answers: Mutex<BTreeMap<String, u32>>,
}

pub(crate) fn body_json(request: &FakeRequest) -> Option<Value> {
    serde_json::from_slice(&request.body).ok()
}

/// A boolean query parameter as HubSpot reads it: `true`, or `True` as
/// HubSpot's Python client writes a Python bool.
pub(crate) fn query_flag(request: &FakeRequest, name: &str) -> bool {
    request
        .query_param(name)
        .is_some_and(|v| v.eq_ignore_ascii_case("true"))
}

/// A value HubSpot takes as a string or a number (ids), as text.
pub(crate) fn text(value: &Value) -> String {
    value
        .as_str()
        .map_or_else(|| value.to_string(), str::to_owned)
}

pub(crate) fn str_field<'a>(body: &'a Value, name: &str) -> Option<&'a str> {
    body.get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The body and its `inputs` of a batch call; more than 100 inputs is a 400.
pub(crate) fn batch_inputs(
    state: &mut State,
    request: &FakeRequest,
) -> Result<(Value, Vec<Value>), FakeResponse> {
    let Some(body) = body_json(request) else {
        return Err(state.error(400, "VALIDATION_ERROR", "Invalid input JSON on line 1"));
    };
    let inputs = body
        .get("inputs")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if inputs.len() > MAX_BATCH {
        return Err(state.error(
            400,
            "VALIDATION_ERROR",
            &format!(
                "Batch input is limited to {MAX_BATCH} inputs; {} were given.",
                inputs.len()
            ),
        ));
    }
    Ok((body, inputs))
}

/// A plausible email: one `@`, something before it, a dotted domain after, no spaces.
pub fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !email.chars().any(char::is_whitespace)
}

impl FakeCrm {
    pub fn new(access_token: &str, clock: Clock) -> Self {
        Self {
            access_token: access_token.to_owned(),
            developer_api_key: DEVELOPER_API_KEY.to_owned(),
            clock,
            state: Mutex::new(State::default()),
            general: RateLimiter::new(CrmRateLimits::STARTER.per_ten_seconds, 10_000),
            search: RateLimiter::new(CrmRateLimits::STARTER.search_per_second, 1000),
            faults: Faults::new(FaultPlan::default()),
            lost_answers: Mutex::new(BTreeMap::new()),
        }
    }

    /// The next `count` requests to `path` are applied and their answers
    /// lost (the connection drops before the answer): the case a client
    /// must settle by reading, without writing twice (R30).
    pub fn lose_answers(&self, path: &str, count: u32) {
        let mut lost = self.lost_answers.lock().unwrap_or_else(|e| e.into_inner());
        lost.insert(path.to_owned(), count);
    }

    fn answer_lost(&self, path: &str) -> bool {
        let mut lost = self.lost_answers.lock().unwrap_or_else(|e| e.into_inner());
        match lost.get_mut(path) {
            Some(left) if *left > 0 => {
                *left -= 1;
                true
            }
            _ => false,
        }
    }

    /// Changes the injected faults from now on (the CRM goes down, comes back).
    pub fn set_faults(&self, plan: FaultPlan) {
        self.faults.set(plan);
    }

    pub fn with_rate_limits(mut self, limits: CrmRateLimits) -> Self {
        self.general = RateLimiter::new(limits.per_ten_seconds, 10_000);
        self.search = RateLimiter::new(limits.search_per_second, 1000);
        self
    }

    /// The developer account's API key (`hapikey`) timeline templates take.
    pub fn with_developer_api_key(mut self, key: &str) -> Self {
        self.developer_api_key = key.to_owned();
        self
    }

    /// Gives the app timeline access (R10), or takes it away: without it
    /// every timeline call answers 403, as for an app HubSpot has not
    /// opened timeline events to.
    pub fn set_timeline_access(&self, access: bool) {
        self.lock().timeline_refused = !access;
    }

    pub fn with_faults(mut self, plan: FaultPlan) -> Self {
        self.faults = Faults::new(plan);
        self
    }

    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Everything the fake holds, to be [`restore`](Self::restore)d by a later process.
    pub fn save(&self) -> Value {
        serde_json::to_value(&*self.lock()).unwrap_or_default()
    }

    pub fn restore(&self, saved: Value) -> Result<(), serde_json::Error> {
        let mut restored: State = serde_json::from_value(saved)?;
        let mut state = self.lock();
        restored.batch_order = state.batch_order;
        restored.search_lag = state.search_lag;
        *state = restored;
        Ok(())
    }

    /// How batch answers are ordered from now on (shuffled by default, see
    /// [`BatchOrder`]).
    pub fn set_batch_order(&self, order: BatchOrder) {
        self.lock().batch_order = order;
    }

    /// How long a new record takes to reach search from now on (ten
    /// seconds by default, see [`SearchLag`]).
    pub fn set_search_lag(&self, lag: SearchLag) {
        self.lock().search_lag = lag;
    }

    /// The CRM's data as JSON, for snapshots: ids are the CRM's, in creation order.
    pub fn dump(&self) -> Value {
        let state = self.lock();
        let contacts: Vec<Value> = state
            .contacts
            .values()
            .map(|c| json!({ "id": c.id, "archived": c.archived, "properties": c.properties }))
            .collect();
        json!({
            "contacts": contacts,
            "owners": state.owners,
            "property_groups": state.property_groups.values().collect::<Vec<_>>(),
            "contact_properties": state.contact_properties.values().collect::<Vec<_>>(),
            "event_templates": state.event_templates,
            "marketing_events": state.marketing_events.values().collect::<Vec<_>>(),
            "participations": state.participations,
            "timeline_events": state.timeline_events.values().collect::<Vec<_>>(),
            "calls": state.calls.values().collect::<Vec<_>>(),
            "workflow_action_definitions": state.action_definitions,
            "workflow_executions": state.executions.values().collect::<Vec<_>>(),
            "event_definitions": state.event_definitions.values().collect::<Vec<_>>(),
            "custom_events": state.custom_events.values().collect::<Vec<_>>(),
        })
    }

    /// The workflow engine's request for one contact's execution of
    /// `app_id`'s registered action, signed v2 for its `actionUrl` (see
    /// [`workflows`]); why there is none.
    pub fn action_request(
        &self,
        app_id: &str,
        callback_id: &str,
        contact_id: u64,
        input: &workflows::ActionInput,
        client_secret: &str,
    ) -> Result<workflows::SignedRequest, String> {
        self.lock()
            .action_request(app_id, callback_id, contact_id, input, client_secret)
    }

    /// Keeps the action URL's answer; the execution as HubSpot now holds it.
    pub fn action_answered(
        &self,
        callback_id: &str,
        status: u16,
        body: &[u8],
    ) -> Option<workflows::Execution> {
        let now = self.clock.now_ms();
        self.lock().action_answered(callback_id, status, body, now)
    }

    /// One execution of the workflow action, as HubSpot holds it now.
    pub fn execution(&self, callback_id: &str) -> Option<workflows::Execution> {
        self.lock().executions.get(callback_id).cloned()
    }

    /// Contacts as they are now.
    pub fn contacts(&self) -> Vec<Contact> {
        self.lock().contacts.values().cloned().collect()
    }
}

/// One page of `items` as HubSpot pages a list: `limit` (default
/// `default_limit`, at most `max_limit`) and `after` (an offset here), with
/// `paging.next.after` while more follow.
pub(crate) fn page<T: Serialize>(
    request: &FakeRequest,
    items: &[T],
    default_limit: usize,
    max_limit: usize,
) -> Value {
    let number = |name: &str| {
        request
            .query_param(name)
            .and_then(|v| v.parse::<usize>().ok())
    };
    let limit = number("limit").unwrap_or(default_limit).clamp(1, max_limit);
    let after = number("after").unwrap_or(0);
    let results: Vec<&T> = items.iter().skip(after).take(limit).collect();
    let mut body = json!({ "results": results });
    if after + limit < items.len() {
        body["paging"] = json!({ "next": { "after": (after + limit).to_string() } });
    }
    body
}
