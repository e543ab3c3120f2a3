//! Everything the fake CRM holds (saved between `host-sim` commands), its
//! contacts' shape, and the answers every resource builds from it:
//! HubSpot's error body, a batch answer, a per-item error, new ids.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{BatchOrder, FakeResponse, SearchLag, contacts, engagements, workflows};

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
    pub(super) next_id: u64,
    pub(super) correlation: u64,
    /// Contacts by email, kept between requests: rebuilding it for every
    /// batch made the fake, not the plugin, the slow part of a large sync.
    /// Dropped by [`State::contacts_changed`] when emails or archiving change.
    #[serde(skip)]
    pub(super) emails: Option<contacts::EmailIndex>,
    /// The participations already recorded, for the duplicate check.
    #[serde(skip)]
    pub(super) participation_keys: Option<std::collections::HashSet<engagements::ParticipationKey>>,
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
    pub(super) fn schema(
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
