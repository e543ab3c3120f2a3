//! HubSpot's workflow engine, for the one custom action the plugin defines
//! (R21, R29): it sends each enrolled contact's execution to the action's
//! URL, signed, and keeps what the answer said. Follows
//! developers.hubspot.com/docs/api/automation/custom-workflow-actions:
//!
//! - the action is the app's registered definition
//!   (`action_definitions.rs`): its `actionUrl` gets the request, its id
//!   and revision are the `origin`, and only the input fields it declares
//!   are sent, a contact property only to a field whose
//!   `supportedValueTypes` has `OBJECT_PROPERTY`; without a definition
//!   there is no action to put in a workflow;
//! - the request body carries `callbackId`, `origin`, `context`, `object`
//!   and `inputFields`; a property input arrives resolved to its value;
//! - `X-HubSpot-Signature` v2 is hex(SHA-256(client secret + method + full
//!   URI + body)), with `X-HubSpot-Signature-Version: v2`;
//! - an answer `hs_execution_state: BLOCK` holds the contact until
//!   `POST /automation/v4/actions/callbacks/{callbackId}/complete` (204) or
//!   until `hs_expiration_duration` (ISO 8601; a week when absent) passes;
//! - 429 and 5xx answers are retried by HubSpot, other answers are final.
//!
//! Where the docs are silent the fake refuses: completing a callback that
//! is unknown, expired or not blocked is a 400 or 404, and a completion
//! whose state is not SUCCESS or FAIL_CONTINUE is a 400.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{FakeRequest, FakeResponse, State, body_json};

/// A week: HubSpot's expiry of a block that names none.
const DEFAULT_BLOCK_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// The portal id the fake's requests carry.
const PORTAL_ID: u64 = 62_515;

/// Where the workflow's webinar id comes from (R21).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionInput {
    Fixed(String),
    /// A contact property, resolved by HubSpot before it sends the request.
    Property(String),
    Missing,
}

/// What became of one execution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ExecutionState {
    Success {
        output_fields: BTreeMap<String, Value>,
    },
    FailContinue {
        output_fields: BTreeMap<String, Value>,
    },
    /// Held at the action's step until a callback or `expires_at_ms`.
    Blocked { expires_at_ms: i64 },
    /// A 429 or 5xx: HubSpot sends the same execution again later.
    Retrying { status: u16 },
    /// Any other answer: HubSpot records a failure and moves on.
    Failed { status: u16 },
}

/// One enrolled contact's execution of the action.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Execution {
    pub callback_id: String,
    pub contact_id: u64,
    pub input_fields: BTreeMap<String, Value>,
    pub state: ExecutionState,
    /// Whether the final state came through the callbacks API.
    #[serde(default)]
    pub completed_by_callback: bool,
}

/// The signed request HubSpot sends for an execution.
pub struct SignedRequest {
    /// Where it goes: the definition's `actionUrl`.
    pub action_url: String,
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
}

/// hex(SHA-256(secret + method + uri + body)): HubSpot's v2 signature.
/// Written again here rather than taken from the plugin's
/// `core::crm_action`: the fake signs as HubSpot does, so a mistake in the
/// plugin's check is refused instead of agreed with.
pub fn v2_signature(secret: &str, method: &str, uri: &str, body: &[u8]) -> String {
    use sha2::Digest as _;
    let mut hash = sha2::Sha256::new();
    hash.update(secret.as_bytes());
    hash.update(method.as_bytes());
    hash.update(uri.as_bytes());
    hash.update(body);
    hex::encode(hash.finalize())
}

impl State {
    /// The request for `contact_id`'s execution of `app_id`'s action,
    /// signed for its `actionUrl`; why there is none.
    pub(crate) fn action_request(
        &mut self,
        app_id: &str,
        callback_id: &str,
        contact_id: u64,
        input: &ActionInput,
        client_secret: &str,
    ) -> Result<SignedRequest, String> {
        let Some(definition) = self.live_action_definition(app_id) else {
            return Err(format!(
                "the CRM has no published workflow action definition for app {app_id}: install registers it (with crm.app_id and crm.developer_api_key), or POST one to /automation/v4/actions/{app_id}"
            ));
        };
        let action_url = definition["actionUrl"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let number = |name: &str| {
            definition[name]
                .as_str()
                .and_then(|id| id.parse::<u64>().ok())
                .unwrap_or_default()
        };
        let (definition_id, revision) = (number("id"), number("revisionId"));
        let input_fields =
            self.action_input_fields(definition, definition_id, input, contact_id)?;
        let body = json!({
            "callbackId": callback_id,
            "origin": {
                "portalId": PORTAL_ID,
                "actionDefinitionId": definition_id,
                "actionDefinitionVersion": revision,
            },
            "context": { "source": "WORKFLOWS", "workflowId": 1 },
            "object": { "objectId": contact_id, "objectType": "CONTACT" },
            "inputFields": input_fields,
        })
        .to_string()
        .into_bytes();
        self.executions.insert(
            callback_id.to_owned(),
            Execution {
                callback_id: callback_id.to_owned(),
                contact_id,
                input_fields,
                state: ExecutionState::Retrying { status: 0 },
                completed_by_callback: false,
            },
        );
        let signature = v2_signature(client_secret, "POST", &action_url, &body);
        Ok(SignedRequest {
            action_url,
            body,
            headers: vec![
                ("content-type".into(), "application/json".into()),
                ("x-hubspot-signature".into(), signature),
                ("x-hubspot-signature-version".into(), "v2".into()),
            ],
        })
    }

    /// The input fields the workflow sends for `contact_id`: `webinar_id`
    /// as `input` fills it, when the definition declares it; why it cannot
    /// (a contact property for a field that takes none).
    fn action_input_fields(
        &self,
        definition: &Value,
        definition_id: u64,
        input: &ActionInput,
        contact_id: u64,
    ) -> Result<BTreeMap<String, Value>, String> {
        let declared = definition["inputFields"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|f| f["typeDefinition"]["name"] == "webinar_id");
        let takes_property = declared.is_some_and(|f| {
            f["supportedValueTypes"]
                .as_array()
                .is_some_and(|t| t.iter().any(|t| t == "OBJECT_PROPERTY"))
        });
        if matches!(input, ActionInput::Property(_)) && !takes_property {
            return Err(format!(
                "the action's webinar_id takes no contact property (its supportedValueTypes lack OBJECT_PROPERTY in definition {definition_id})"
            ));
        }
        let input = if declared.is_some() {
            input
        } else {
            // Not declared: the workflow editor has no field to fill.
            &ActionInput::Missing
        };
        let mut input_fields = BTreeMap::new();
        let value = match input {
            ActionInput::Fixed(value) => Some(value.clone()),
            // An empty property arrives empty: the action must say so.
            ActionInput::Property(name) => Some(
                self.contacts
                    .get(&contact_id)
                    .and_then(|c| c.properties.get(name))
                    .cloned()
                    .unwrap_or_default(),
            ),
            ActionInput::Missing => None,
        };
        if let Some(value) = value {
            input_fields.insert("webinar_id".to_owned(), json!(value));
        }
        Ok(input_fields)
    }

    /// Keeps what the action's URL answered to `callback_id`'s request.
    pub(crate) fn action_answered(
        &mut self,
        callback_id: &str,
        status: u16,
        body: &[u8],
        now_ms: i64,
    ) -> Option<Execution> {
        let execution = self.executions.get_mut(callback_id)?;
        let fields: BTreeMap<String, Value> = serde_json::from_slice::<Value>(body)
            .ok()
            .and_then(|b| serde_json::from_value(b.get("outputFields")?.clone()).ok())
            .unwrap_or_default();
        let state = fields.get("hs_execution_state").and_then(Value::as_str);
        execution.state = match (status, state) {
            (429 | 500..=599, _) => ExecutionState::Retrying { status },
            (200..=299, Some("SUCCESS")) => ExecutionState::Success {
                output_fields: fields,
            },
            (200..=299, Some("FAIL_CONTINUE")) => ExecutionState::FailContinue {
                output_fields: fields,
            },
            (200..=299, Some("BLOCK")) => ExecutionState::Blocked {
                expires_at_ms: now_ms
                    + fields
                        .get("hs_expiration_duration")
                        .and_then(Value::as_str)
                        .and_then(iso8601_duration_ms)
                        .unwrap_or(DEFAULT_BLOCK_MS),
            },
            // HubSpot takes a 2xx without a known state for a success; the
            // fake does not, so a plugin that forgets the state is seen.
            _ => ExecutionState::Failed { status },
        };
        Some(execution.clone())
    }

    /// `POST /automation/v4/actions/callbacks/{callbackId}/complete`.
    pub(crate) fn complete_callback(
        &mut self,
        callback_id: &str,
        request: &FakeRequest,
        now_ms: i64,
    ) -> FakeResponse {
        let Some(fields) = body_json(request)
            .and_then(|b| b.get("outputFields").cloned())
            .and_then(|f| serde_json::from_value::<BTreeMap<String, Value>>(f).ok())
        else {
            return self.error(400, "VALIDATION_ERROR", "outputFields is required");
        };
        let blocked = match self.executions.get(callback_id).map(|e| &e.state) {
            None => {
                return self.error(
                    404,
                    "OBJECT_NOT_FOUND",
                    &format!("No callback {callback_id}"),
                );
            }
            Some(ExecutionState::Blocked { expires_at_ms }) => *expires_at_ms,
            Some(_) => {
                return self.error(
                    400,
                    "VALIDATION_ERROR",
                    &format!("Callback {callback_id} is not blocked"),
                );
            }
        };
        if now_ms >= blocked {
            return self.error(
                400,
                "VALIDATION_ERROR",
                &format!("Callback {callback_id} expired"),
            );
        }
        let state = match fields.get("hs_execution_state").and_then(Value::as_str) {
            Some("SUCCESS") => ExecutionState::Success {
                output_fields: fields,
            },
            Some("FAIL_CONTINUE") => ExecutionState::FailContinue {
                output_fields: fields,
            },
            other => {
                return self.error(
                    400,
                    "VALIDATION_ERROR",
                    &format!("hs_execution_state must be SUCCESS or FAIL_CONTINUE, not {other:?}"),
                );
            }
        };
        if let Some(execution) = self.executions.get_mut(callback_id) {
            execution.state = state;
            execution.completed_by_callback = true;
        }
        FakeResponse::empty(204)
    }
}

/// `P1D`, `PT1H`, `P1WT30M`: ISO 8601 durations of weeks, days, hours,
/// minutes and seconds, as HubSpot takes `hs_expiration_duration`.
pub fn iso8601_duration_ms(text: &str) -> Option<i64> {
    let rest = text.strip_prefix('P')?;
    let (date, time) = rest.split_once('T').unwrap_or((rest, ""));
    let mut total = 0i64;
    for (part, units) in [
        (date, &[('W', 604_800), ('D', 86_400)][..]),
        (time, &[('H', 3_600), ('M', 60), ('S', 1)][..]),
    ] {
        let mut number = String::new();
        for c in part.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let (_, seconds) = units.iter().find(|(unit, _)| *unit == c)?;
            total += number.parse::<i64>().ok()? * seconds * 1000;
            number.clear();
        }
        if !number.is_empty() {
            return None;
        }
    }
    (total > 0).then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_hubspot_writes_them() {
        assert_eq!(iso8601_duration_ms("P1D"), Some(86_400_000));
        assert_eq!(
            iso8601_duration_ms("P1WT1H"),
            Some((604_800 + 3_600) * 1000)
        );
        assert_eq!(iso8601_duration_ms("PT30M"), Some(1_800_000));
        for bad in ["", "1D", "P", "PXD", "P1"] {
            assert_eq!(iso8601_duration_ms(bad), None, "{bad}");
        }
    }
}
