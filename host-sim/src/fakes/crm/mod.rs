//! Fake CRM, in HubSpot's CRM v3 shapes (`api.hubapi.com`): contacts,
//! properties, owners, marketing events, timeline events, calls, the
//! workflow engine's custom-action executions and callbacks, and the
//! app webhooks it sends. Errors come in HubSpot's body
//! (`status`, `message`, `category`, `correlationId`); requests are rate
//! limited per app (100 per 10 s, search 5 per s) and faults are seeded.

pub(crate) mod action_definitions;
#[cfg(test)]
mod activity_tests;
mod calls;
pub(crate) mod contacts;
pub(crate) mod engagements;
pub mod events;
mod inspect;
mod schema;
pub mod scopes;
#[cfg(test)]
mod tests;
pub mod webhooks;
pub mod workflows;

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Fault, FaultPlan, Faults, RateLimiter, bearer};
use crate::clock::Clock;
use crate::outbound::{FakeRequest, FakeResponse, FakeService};

pub const API_HOST: &str = "api.hubapi.com";
/// HubSpot's batch limit.
pub const MAX_BATCH: usize = 100;

/// The CRM's request limits for one app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrmRateLimits {
    /// Requests per rolling ten seconds (Free/Starter: 100; Pro/Enterprise: 190).
    pub per_ten_seconds: u32,
    /// Search requests per second.
    pub search_per_second: u32,
}

impl CrmRateLimits {
    pub const STARTER: Self = Self {
        per_ten_seconds: 100,
        search_per_second: 5,
    };
    pub const OFF: Self = Self {
        per_ten_seconds: 0,
        search_per_second: 0,
    };
}

/// The order a batch's `results` and `errors` come back in.
///
/// HubSpot's batch endpoints do not promise that results follow inputs:
/// the reference pages are silent on order, and HubSpot's own client
/// maintainers answer that a batch create's results come in "a random
/// order" and that "there is no way" to rely on it (hubspot-api-nodejs
/// issue 190; API-NOTES, "Batch results are unordered"). The fake takes
/// that harsher reading by default: every batch answer is shuffled,
/// seeded, so a test's run is the same every time, and a client that
/// pairs results with inputs by position fails here as it would there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchOrder {
    /// Results and errors in an order drawn from `seed` and their content.
    Shuffled { seed: u64 },
    /// In input order: only for comparing a run with a shuffled one.
    AsSent,
}

impl Default for BatchOrder {
    fn default() -> Self {
        Self::Shuffled { seed: 0x5EED_0190 }
    }
}

/// How long a new record takes to reach the search endpoints. HubSpot's
/// CRM search guide warns that new and updated records reach search only
/// after a short delay, and gives no figure (API-NOTES, "Search lags
/// writes"): the fake takes ten seconds on the
/// simulator's clock, long enough that a client confirming a write by
/// search fails here as it would there. Only creation lags here; an
/// update is searchable at once (kinder than HubSpot, and no client of
/// the fake reads an update back through search).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SearchLag(pub std::time::Duration);

impl Default for SearchLag {
    fn default() -> Self {
        Self(std::time::Duration::from_secs(10))
    }
}

impl BatchOrder {
    /// `items` in this order: each placed by an FNV-1a hash of the seed
    /// and its JSON, so the order is stable for the same answer and
    /// unrelated to the inputs'.
    pub(crate) fn arrange(self, items: &mut [Value]) {
        let Self::Shuffled { seed } = self else {
            return;
        };
        items.sort_by_cached_key(|item| {
            let mut hash: u64 = 0xcbf2_9ce4_8422_2325 ^ seed;
            for byte in item.to_string().bytes() {
                hash ^= u64::from(byte);
                hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
            }
            hash
        });
    }
}

/// Contacts and users a scenario starts the CRM with.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CrmSeed {
    /// CRM users (owners): their emails are never synced (R17).
    pub users: Vec<SeedUser>,
    pub contacts: Vec<SeedContact>,
    /// The scopes the app's token was granted (`scopes::ALL` when unset);
    /// a call that needs another is refused with 403 MISSING_SCOPES.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// `false`: the app has no timeline access (not an app partner whose
    /// public app defines templates, API-NOTES): every timeline call is
    /// refused with 403. Unset: the app has it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline_access: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedUser {
    pub email: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedContact {
    pub email: String,
    #[serde(default)]
    pub firstname: String,
    #[serde(default)]
    pub lastname: String,
    /// Secondary emails (`hs_additional_emails`).
    #[serde(default)]
    pub additional_emails: Vec<String>,
    /// Deleted in the CRM (archived).
    #[serde(default)]
    pub archived: bool,
    /// Any other properties, e.g. one a workflow reads a webinar id from.
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    pub id: u64,
    pub properties: BTreeMap<String, String>,
    pub archived: bool,
    pub created_ms: i64,
    pub updated_ms: i64,
}

impl Contact {
    pub fn email(&self) -> &str {
        self.properties.get("email").map_or("", String::as_str)
    }

    /// The secondary emails, from the `;`-separated `hs_additional_emails`.
    pub fn additional_emails(&self) -> Vec<&str> {
        self.properties
            .get("hs_additional_emails")
            .map(|s| {
                s.split(';')
                    .map(str::trim)
                    .filter(|e| !e.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Everything the fake CRM holds; saved between `host-sim` commands.
#[derive(Default, Serialize, Deserialize)]
pub(crate) struct State {
    pub contacts: BTreeMap<u64, Contact>,
    pub property_groups: BTreeMap<String, Value>,
    pub contact_properties: BTreeMap<String, Value>,
    /// Event templates per app id, in creation order.
    pub event_templates: BTreeMap<String, Vec<Value>>,
    pub owners: Vec<Value>,
    /// (externalAccountId, externalEventId) -> event.
    #[serde(with = "pairs")]
    pub marketing_events: BTreeMap<(String, String), Value>,
    pub participations: Vec<Value>,
    pub timeline_events: BTreeMap<String, Value>,
    pub calls: BTreeMap<u64, Value>,
    #[serde(default)]
    pub call_property_groups: BTreeMap<String, Value>,
    /// The calls' custom properties; a call may hold only these and `hs_` ones.
    #[serde(default)]
    pub call_properties: BTreeMap<String, Value>,
    next_id: u64,
    correlation: u64,
    /// Contacts by email, kept between requests: rebuilding it for every
    /// batch made the fake, not the plugin, the slow part of a large sync.
    /// Dropped by [`State::contacts_changed`] when emails or archiving change.
    #[serde(skip)]
    emails: Option<contacts::EmailIndex>,
    /// The participations already recorded, for the duplicate check.
    #[serde(skip)]
    participation_keys: Option<std::collections::HashSet<engagements::ParticipationKey>>,
    /// When each marketing event (by its CRM object id) was created and
    /// last updated, for the answers' `createdAt` and `updatedAt`.
    #[serde(default)]
    pub(crate) marketing_event_times: BTreeMap<String, (i64, i64)>,
    /// How batch answers are ordered; a setting of the fake, not a record.
    #[serde(skip)]
    pub(crate) batch_order: BatchOrder,
    /// How long search lags creation; a setting of the fake, not a record.
    #[serde(skip)]
    pub(crate) search_lag: SearchLag,
    /// The token's scopes; none: every scope the plugin needs.
    #[serde(default)]
    pub(crate) granted_scopes: Option<std::collections::BTreeSet<String>>,
    /// The workflow action's executions by callback id (R21).
    #[serde(default)]
    pub(crate) executions: BTreeMap<String, workflows::Execution>,
    /// Custom workflow action definitions per app id, in creation order
    /// (`action_definitions.rs`).
    #[serde(default)]
    pub(crate) action_definitions: BTreeMap<String, Vec<Value>>,
    /// The app has no timeline access (R10): timeline calls answer 403.
    #[serde(default)]
    pub(crate) timeline_refused: bool,
    /// Custom event definitions by name (`events.rs`).
    #[serde(default)]
    pub event_definitions: BTreeMap<String, Value>,
    /// Custom event occurrences by (eventName, uuid): a uuid is taken once.
    #[serde(default, with = "pairs")]
    pub custom_events: BTreeMap<(String, String), Value>,
    /// Occurrences sent for no live contact, dropped as HubSpot drops them.
    #[serde(default)]
    pub custom_events_dropped: u64,
}

/// A map with tuple keys as a list of pairs: JSON keys are strings only.
mod pairs {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer, K: Serialize, V: Serialize>(
        map: &BTreeMap<K, V>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(map.iter())
    }

    pub fn deserialize<
        'de,
        D: Deserializer<'de>,
        K: Deserialize<'de> + Ord,
        V: Deserialize<'de>,
    >(
        deserializer: D,
    ) -> Result<BTreeMap<K, V>, D::Error> {
        Ok(Vec::<(K, V)>::deserialize(deserializer)?
            .into_iter()
            .collect())
    }
}

impl State {
    /// The property groups and properties of an object type (`contacts`,
    /// `calls`).
    fn schema(
        &mut self,
        object: &str,
    ) -> (&mut BTreeMap<String, Value>, &mut BTreeMap<String, Value>) {
        match object {
            "calls" => (&mut self.call_property_groups, &mut self.call_properties),
            _ => (&mut self.property_groups, &mut self.contact_properties),
        }
    }

    /// HubSpot's standard error body.
    pub fn error(&mut self, status: u16, category: &str, message: &str) -> FakeResponse {
        FakeResponse::json(status, &self.error_body(category, message))
    }

    /// A batch answer in HubSpot's `BatchResponse…` shape: 200 (or
    /// `ok_status`) when everything worked, 207 with the per-item errors
    /// otherwise; results and errors in [`BatchOrder`]'s order, never
    /// promised to follow the inputs'.
    /// Whether a record created at `created_ms` is in the search index at `now`.
    pub(crate) fn searchable(&self, created_ms: i64, now: i64) -> bool {
        now.saturating_sub(created_ms) >= self.search_lag.0.as_millis() as i64
    }

    pub(crate) fn batch_answer(
        &self,
        mut results: Vec<Value>,
        mut errors: Vec<Value>,
        ok_status: u16,
        now: i64,
    ) -> FakeResponse {
        self.batch_order.arrange(&mut results);
        self.batch_order.arrange(&mut errors);
        let stamp = crate::clock::rfc3339(now);
        let mut body = json!({
            "status": "COMPLETE", "results": results,
            "requestedAt": stamp, "startedAt": stamp, "completedAt": stamp,
        });
        if errors.is_empty() {
            FakeResponse::json(ok_status, &body)
        } else {
            body["numErrors"] = json!(errors.len());
            body["errors"] = json!(errors);
            FakeResponse::json(207, &body)
        }
    }

    /// One input's error in a 207, HubSpot's `StandardError`: its
    /// `context` names the input (`ids`, `emails`, ...), and `links` and
    /// `errors` are there even when empty (the model requires them).
    pub(crate) fn item_error(&mut self, category: &str, message: &str, context: Value) -> Value {
        let mut error = self.error_body(category, message);
        error["context"] = context;
        error["links"] = json!({});
        error["errors"] = json!([]);
        error
    }

    pub fn error_body(&mut self, category: &str, message: &str) -> Value {
        self.correlation += 1;
        json!({
            "status": "error",
            "message": message,
            "category": category,
            "correlationId": format!("00000000-0000-4000-8000-{:012x}", self.correlation),
        })
    }

    /// The email index, built on first use; give it back with [`Self::keep_emails`].
    pub(crate) fn take_emails(&mut self) -> contacts::EmailIndex {
        self.emails
            .take()
            .unwrap_or_else(|| contacts::EmailIndex::build(self))
    }

    pub(crate) fn keep_emails(&mut self, index: contacts::EmailIndex) {
        self.emails = Some(index);
    }

    /// A contact's emails or archived flag changed other than through the index.
    pub(crate) fn contacts_changed(&mut self) {
        self.emails = None;
    }

    pub fn id(&mut self) -> u64 {
        self.next_id += 1;
        // HubSpot ids are large; start where real ones look real.
        1000 + self.next_id
    }
}

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

    /// Adds a scenario's users and contacts.
    pub fn seed(&self, seed: &CrmSeed) {
        let now = self.clock.now_ms();
        let mut state = self.lock();
        state.granted_scopes = seed.scopes.as_ref().map(|s| s.iter().cloned().collect());
        if let Some(access) = seed.timeline_access {
            state.timeline_refused = !access;
        }
        for user in &seed.users {
            let id = state.id();
            // HubSpot's `PublicOwner`: `createdAt`, `updatedAt` and `type`
            // are required fields of the model.
            let stamp = crate::clock::rfc3339(now);
            state.owners.push(json!({
                "id": id.to_string(), "email": user.email, "firstName": user.first_name,
                "lastName": user.last_name, "userId": id, "archived": false, "type": "PERSON",
                "createdAt": stamp, "updatedAt": stamp, "teams": [],
            }));
        }
        let indexed_since = now - state.search_lag.0.as_millis() as i64;
        for contact in &seed.contacts {
            let id = state.id();
            // An empty value is no value: the CRM answers null for it.
            let mut properties: BTreeMap<String, String> = [
                ("email", &contact.email),
                ("firstname", &contact.firstname),
                ("lastname", &contact.lastname),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.clone()))
            .chain(contact.properties.clone())
            .filter(|(_, v)| !v.is_empty())
            .collect();
            if !contact.additional_emails.is_empty() {
                properties.insert(
                    "hs_additional_emails".into(),
                    contact.additional_emails.join(";"),
                );
            }
            state.contacts_changed();
            state.contacts.insert(
                id,
                Contact {
                    id,
                    properties,
                    archived: contact.archived,
                    // The portal's contacts were there before: the search
                    // index holds them already.
                    created_ms: indexed_since,
                    updated_ms: now,
                },
            );
        }
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

    fn route(&self, state: &mut State, request: &FakeRequest) -> FakeResponse {
        let path = request.path().trim_matches('/').to_owned();
        let segments: Vec<&str> = path.split('/').collect();
        let now = self.clock.now_ms();
        match (request.method.as_str(), segments.as_slice()) {
            (_, ["crm", "v3", "objects", "contacts", ..]) => {
                contacts::route(state, request, &segments[4..], now)
            }
            (
                "POST",
                [
                    "crm",
                    "v3",
                    "properties",
                    object @ ("contacts" | "calls"),
                    "groups",
                ],
            ) => schema::create_group(state, object, request),
            (
                "GET",
                [
                    "crm",
                    "v3",
                    "properties",
                    object @ ("contacts" | "calls"),
                    "groups",
                ],
            ) => {
                let groups: Vec<Value> = state.schema(object).0.values().cloned().collect();
                FakeResponse::json(200, &json!({ "results": groups }))
            }
            ("POST", ["crm", "v3", "properties", object @ ("contacts" | "calls")]) => {
                schema::create_property(state, object, request)
            }
            ("GET", ["crm", "v3", "properties", object @ ("contacts" | "calls")]) => {
                let properties: Vec<Value> = state.schema(object).1.values().cloned().collect();
                FakeResponse::json(200, &json!({ "results": properties }))
            }
            _ if state.timeline_refused && timeline_path(&segments) => state.error(
                403,
                "FORBIDDEN",
                "This app does not have access to timeline events: timeline event templates are open only to app partners whose public app already defines them.",
            ),
            (
                "GET",
                ["crm", "v3", "timeline", app_id, "event-templates"]
                | ["integrators", "timeline", "v3", app_id, "event-templates"],
            ) => FakeResponse::json(
                200,
                &json!({ "results": state.event_templates.get(*app_id).cloned().unwrap_or_default() }),
            ),
            (
                "POST",
                ["crm", "v3", "timeline", app_id, "event-templates"]
                | ["integrators", "timeline", "v3", app_id, "event-templates"],
            ) => schema::create_event_template(state, app_id, request),
            ("GET", ["crm", "v3", "owners"]) => owners(state, request),
            (
                _,
                ["crm", "v3", "timeline", "events", ..]
                | ["integrators", "timeline", "v3", "events", ..],
            ) => engagements::timeline(state, request, &segments[4..], now),
            (_, ["events", "v3", ..]) => events::route(state, request, &segments[2..], now),
            (_, ["crm", "v3", "objects", "calls", ..]) => {
                calls::route(state, request, &segments[4..], now)
            }
            ("POST", ["crm", "v4", "associations", "contacts", "calls", "batch", "read"]) => {
                calls::associated_calls(state, request, now)
            }
            (_, ["marketing", "v3", "marketing-events", ..]) => {
                engagements::marketing_events(state, request, &segments[3..], now)
            }
            (
                "POST",
                [
                    "automation",
                    "v4",
                    "actions",
                    "callbacks",
                    callback_id,
                    "complete",
                ],
            ) => state.complete_callback(callback_id, request, now),
            (_, ["automation", "v4", "actions", app_id, rest @ ..])
                if action_definitions::is_definition_path(&segments) =>
            {
                state.action_definitions(request, app_id, rest, now)
            }
            _ => state.error(
                404,
                "OBJECT_NOT_FOUND",
                &format!("No route for {} {}", request.method, request.path()),
            ),
        }
    }
}

/// A timeline call, templates or events, at either of HubSpot's paths
/// (`/crm/v3/timeline/...` in the older reference, `/integrators/timeline/v3/...`
/// in HubSpot's current client).
fn timeline_path(segments: &[&str]) -> bool {
    matches!(
        segments,
        ["crm", "v3", "timeline", ..] | ["integrators", "timeline", "v3", ..]
    )
}

/// A timeline template call: managed with the developer account's API key.
fn template_path(segments: &[&str]) -> bool {
    timeline_path(segments) && segments.get(4) == Some(&"event-templates")
}

fn owners(state: &mut State, request: &FakeRequest) -> FakeResponse {
    FakeResponse::json(200, &page(request, &state.owners, 100, 500))
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

impl FakeService for FakeCrm {
    /// Every answer carries the app's ten-second usage as HubSpot sends it
    /// (`X-HubSpot-RateLimit-Max`, `-Remaining`, `-Interval-Milliseconds`:
    /// developers.hubspot.com/docs/api/usage-details, "Rate limit headers");
    /// the daily headers are left out: the fake keeps no
    /// daily count (a 429 `DAILY` says it instead).
    fn handle(&self, request: &FakeRequest) -> FakeResponse {
        let mut answer = self.answer(request);
        if let Some((max, remaining, interval)) =
            self.general.usage(&self.access_token, self.clock.now_ms())
        {
            answer.headers.extend([
                ("x-hubspot-ratelimit-max".to_owned(), max.to_string()),
                (
                    "x-hubspot-ratelimit-remaining".to_owned(),
                    remaining.to_string(),
                ),
                (
                    "x-hubspot-ratelimit-interval-milliseconds".to_owned(),
                    interval.to_string(),
                ),
            ]);
        }
        answer
    }

    fn inspect(&self, request: &FakeRequest) -> Option<FakeResponse> {
        self.inspection(request)
    }
}

impl FakeCrm {
    fn answer(&self, request: &FakeRequest) -> FakeResponse {
        let latency = Duration::from_millis(self.faults.plan().latency_ms);
        let now = self.clock.now_ms();
        let mut state = self.lock();
        let path = request.path().trim_matches('/').to_owned();
        let segments: Vec<&str> = path.split('/').collect();
        // Timeline templates are the developer account's, managed with its
        // API key in `hapikey` (HubSpot's client sends nothing else for
        // them); an app's access token is refused there (API-NOTES,
        // "Timeline events are closed to new apps"). The docs do not say
        // with what: a 401, as for a missing credential (the harsher
        // reading: a client that tries its token learns nothing more).
        // Workflow action definitions likewise (R21, `action_definitions.rs`).
        let templates = template_path(&segments);
        let developer_call = templates || action_definitions::is_definition_path(&segments);
        if developer_call {
            if request.query_param("hapikey").as_deref() != Some(self.developer_api_key.as_str()) {
                let what = if templates {
                    "Timeline event templates are"
                } else {
                    "Custom workflow action definitions are"
                };
                return state.error(
                    401,
                    "INVALID_AUTHENTICATION",
                    &format!("{what} managed with the developer account's API key (hapikey); an app's access token cannot manage them."),
                );
            }
        } else if bearer(request.header("authorization")) != Some(self.access_token.as_str()) {
            return state.error(
                401,
                "INVALID_AUTHENTICATION",
                "Authentication credentials not found. This API supports OAuth 2.0 authentication.",
            );
        }
        if let (false, Some(granted), Some(scope)) = (
            developer_call,
            &state.granted_scopes,
            scopes::required(request.method.as_str(), &segments),
        ) && !granted.contains(scope)
        {
            state.correlation += 1;
            let correlation = format!("00000000-0000-4000-8000-{:012x}", state.correlation);
            return FakeResponse::json(403, &scopes::missing(scope, &correlation));
        }
        let fault = self.faults.draw();
        if !self.general.admit(&self.access_token, now) || fault == Fault::RateLimited {
            let mut body = state.error_body(
                "RATE_LIMITS",
                "You have reached your ten_secondly_rolling limit.",
            );
            body["errorType"] = json!("RATE_LIMIT");
            body["policyName"] = json!("TEN_SECONDLY_ROLLING");
            return FakeResponse::json(429, &body).delayed(latency);
        }
        if request.path().ends_with("/search") && !self.search.admit(&self.access_token, now) {
            let mut body = state.error_body("RATE_LIMITS", "You have reached your secondly limit.");
            body["errorType"] = json!("RATE_LIMIT");
            body["policyName"] = json!("SECONDLY");
            return FakeResponse::json(429, &body).delayed(latency);
        }
        if self.answer_lost(request.path()) {
            self.route(&mut state, request);
            return FakeResponse::timeout(Duration::ZERO);
        }
        let answer = match fault {
            Fault::ServerError => state.error(502, "INTERNAL_ERROR", "Bad Gateway"),
            Fault::Timeout => {
                // Done, but the answer never arrives.
                self.route(&mut state, request);
                return FakeResponse::timeout(self.faults.plan().timeout());
            }
            Fault::None | Fault::RateLimited => self.route(&mut state, request),
        };
        answer.delayed(latency)
    }
}
