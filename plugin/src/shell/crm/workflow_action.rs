//! The workflow action's definition (R21), registered in the CRM at
//! install: HubSpot's custom workflow action API v4
//! (developers.hubspot.com/docs/api-reference/automation-actions-v4-v4/definitions):
//!
//! - `GET /automation/v4/actions/{appId}` lists the app's definitions
//!   (paged: `limit`, `after`, `paging.next.after`);
//! - `POST /automation/v4/actions/{appId}` creates one (201,
//!   `PublicActionDefinitionEgg` in, `PublicActionDefinition` out);
//! - `PATCH /automation/v4/actions/{appId}/{definitionId}` updates one.
//!
//! Every one of them takes the developer account's API key in `hapikey`,
//! never the portal's token: the reference names `hapikey` (query,
//! required) as their only authorization, and HubSpot's Python client
//! 12.0.0 sends them with `auth_settings = ["developer_hapikey"]` alone
//! (`hubspot.automation.actions.DefinitionsApi`).
//!
//! Idempotent: a definition of the app whose `actionUrl` is this
//! installation's is updated (when it differs from this plugin's), not
//! made again, so install run twice, or after the labels changed, leaves
//! one definition.

use serde_json::{Value, json};

use super::activity::{Installed, query_encode};
use super::{Created, CrmClient, id_string};
use crate::core::crm_action::ACTION_PATH;
use crate::core::definitions::{self, ActionDefinition, FieldType};
use crate::shell::http::{Method, Response};
use crate::shell::{Config, PluginError, keys};

/// What install says it registered.
pub fn what(action: &ActionDefinition) -> String {
    format!("workflow action definition {}", action.id)
}

/// Where the CRM sends the action's executions: the host's public URL
/// and the action's path (the URI the v2 signature covers).
pub fn action_url(public_url: &str) -> String {
    format!("{}{ACTION_PATH}", public_url.trim_end_matches('/'))
}

fn field_types(t: FieldType) -> (&'static str, &'static str) {
    match t {
        FieldType::Text => ("string", "text"),
        FieldType::Number => ("number", "number"),
    }
}

/// The definition as HubSpot takes it (`PublicActionDefinitionEgg`: its
/// required `actionUrl`, `functions`, `inputFields`, `labels`,
/// `objectTypes` and `published`; in each field's `typeDefinition` the
/// required `name`, `type`, `options` and `externalOptions`).
pub fn definition_body(action: &ActionDefinition, action_url: &str) -> Value {
    let inputs: Vec<Value> = action
        .input_fields
        .iter()
        .map(|f| {
            let (kind, field_type) = field_types(f.field_type);
            let mut value_types = vec!["STATIC_VALUE"];
            if f.supports_object_property {
                // R21: the webinar id typed in, or a contact property's.
                value_types.push("OBJECT_PROPERTY");
            }
            json!({
                "typeDefinition": {
                    "name": f.name, "type": kind, "fieldType": field_type,
                    "options": [], "externalOptions": false,
                },
                "supportedValueTypes": value_types,
                "isRequired": f.required,
            })
        })
        .collect();
    let outputs: Vec<Value> = action
        .output_fields
        .iter()
        .map(|f| {
            let (kind, field_type) = field_types(f.field_type);
            json!({ "typeDefinition": {
                "name": f.name, "type": kind, "fieldType": field_type,
                "options": [], "externalOptions": false,
            } })
        })
        .collect();
    let labels = |pairs: Vec<(&str, &str)>| -> serde_json::Map<String, Value> {
        pairs
            .into_iter()
            .map(|(k, v)| (k.to_owned(), json!(v)))
            .collect()
    };
    json!({
        "actionUrl": action_url,
        "published": true,
        "objectTypes": ["CONTACT"],
        "functions": [],
        "inputFields": inputs,
        "outputFields": outputs,
        "labels": { "en": {
            "actionName": action.label,
            "actionDescription": action.description,
            "appDisplayName": "Zoom webinars",
            "inputFieldLabels": labels(action.input_fields.iter().map(|f| (f.name, f.label)).collect()),
            "inputFieldDescriptions": labels(action.input_fields.iter().map(|f| (f.name, f.description)).collect()),
            "outputFieldLabels": labels(action.output_fields.iter().map(|f| (f.name, f.label)).collect()),
        } },
    })
}

fn configured(config: &dyn Config, key: &str) -> Option<String> {
    config
        .get(key)
        .ok()
        .flatten()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// The one line install's `not_set_up` says when it cannot register the
/// action: why, and what the operator does by hand.
fn by_hand(action: &ActionDefinition, why: &str) -> String {
    format!(
        "workflow action \"{}\": not registered, {why}; register it by hand with POST /automation/v4/actions/{{appId}}?hapikey={{developer API key}} and the definition `host-sim properties --json` prints, actionUrl PUBLIC_URL{ACTION_PATH} (README, \"A real connection\")",
        action.label
    )
}

/// A 401 or 403 of a definitions call, in the operator's words.
fn refusal(response: &Response) -> Option<String> {
    match response.status {
        401 | 403 => Some(format!(
            "the CRM refused the developer account's API key for workflow action definitions ({}: check {} and {})",
            response.error_message(),
            keys::CRM_DEVELOPER_API_KEY,
            keys::CRM_APP_ID
        )),
        _ => None,
    }
}

/// Registers every workflow action (R21): made, or found by its
/// `actionUrl` and updated. A line per action that is not registered, for
/// install's `not_set_up`; a CRM that fails otherwise fails install.
pub fn register(crm: &CrmClient<'_>, config: &dyn Config) -> Result<Installed, PluginError> {
    let mut made = Vec::new();
    let mut not_set_up = Vec::new();
    let (app, key, public_url) = match credentials(config) {
        Ok(credentials) => credentials,
        Err(why) => {
            for action in definitions::action_definitions() {
                not_set_up.push(by_hand(&action, &why));
            }
            return Ok(Installed {
                outcomes: made,
                not_set_up,
            });
        }
    };
    let url = action_url(&public_url);
    for action in definitions::action_definitions() {
        let existing = match existing(crm, &app, &key, &url)? {
            Ok(existing) => existing,
            Err(reason) => {
                not_set_up.push(by_hand(&action, &reason));
                continue;
            }
        };
        let body = definition_body(&action, &url);
        let (answer, outcome) = match existing {
            Some((id, current)) => {
                // `PublicActionDefinitionPatch` has no `functions`.
                let mut patch = body;
                if let Some(fields) = patch.as_object_mut() {
                    fields.remove("functions");
                }
                let unchanged = patch
                    .as_object()
                    .is_some_and(|fields| fields.iter().all(|(k, v)| current.get(k) == Some(v)));
                if unchanged {
                    // Nothing to update: install run again writes nothing.
                    made.push((what(&action), Created::AlreadyExists(id)));
                    continue;
                }
                let path = format!("/automation/v4/actions/{app}/{id}");
                let answer = crm.developer_send(Method::Patch, &path, &key, Some(patch))?;
                (answer, Created::AlreadyExists(id))
            }
            None => {
                let path = format!("/automation/v4/actions/{app}");
                let answer = crm.developer_send(Method::Post, &path, &key, Some(body))?;
                let id = answer
                    .json()
                    .and_then(|j| j.get("id").and_then(id_string))
                    .unwrap_or_default();
                (answer, Created::New(id))
            }
        };
        if let Some(reason) = refusal(&answer) {
            not_set_up.push(by_hand(&action, &reason));
            continue;
        }
        if !answer.is_success() {
            return Err(PluginError::CrmUnavailable(format!(
                "registering the workflow action {} failed with {}: {}",
                action.id,
                answer.status,
                answer.error_message()
            )));
        }
        made.push((what(&action), outcome));
    }
    Ok(Installed {
        outcomes: made,
        not_set_up,
    })
}

/// The app id, the developer key and the host's public URL the
/// definition needs; or which of them are not configured.
fn credentials(config: &dyn Config) -> Result<(String, String, String), String> {
    let names = [
        keys::CRM_APP_ID,
        keys::CRM_DEVELOPER_API_KEY,
        keys::HOST_PUBLIC_URL,
    ];
    match names.map(|k| configured(config, k)) {
        [Some(app), Some(key), Some(url)] => Ok((app, key, url)),
        values => {
            let missing: Vec<&str> = names
                .into_iter()
                .zip(values)
                .filter(|(_, v)| v.is_none())
                .map(|(k, _)| k)
                .collect();
            Err(format!("{} not configured", missing.join(" and ")))
        }
    }
}

/// The id and fields of the app's definition whose `actionUrl` is `url`,
/// every page read; `Err(reason)` when the CRM refuses the key. Without
/// one, the definition of this action at another address (the host's
/// public URL moved, issue 17): it is updated to `url` rather than left
/// beside a new one, so the marketer never sees two "Add contact to Zoom
/// webinar" actions, one of them sending to an address no longer served.
fn existing(
    crm: &CrmClient<'_>,
    app: &str,
    key: &str,
    url: &str,
) -> Result<Result<Option<(String, Value)>, String>, PluginError> {
    let mut after: Option<String> = None;
    let mut moved = None;
    // A bound on pages: an app has a handful of definitions.
    for _ in 0..50 {
        let path = match &after {
            None => format!("/automation/v4/actions/{app}?limit=100"),
            Some(after) => format!(
                "/automation/v4/actions/{app}?limit=100&after={}",
                query_encode(after)
            ),
        };
        let page = crm.developer_send(Method::Get, &path, key, None)?;
        if let Some(reason) = refusal(&page) {
            return Ok(Err(reason));
        }
        let body = page.json().filter(|_| page.is_success()).ok_or_else(|| {
            PluginError::CrmUnavailable(format!(
                "listing the workflow action definitions failed with {}: {}",
                page.status,
                page.error_message()
            ))
        })?;
        let live = body
            .get("results")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|d| d.get("archivedAt").is_none_or(Value::is_null));
        for d in live {
            let Some(id) = d.get("id").and_then(id_string) else {
                continue;
            };
            let at = d.get("actionUrl").and_then(Value::as_str).unwrap_or("");
            if at == url {
                return Ok(Ok(Some((id, d.clone()))));
            }
            if moved.is_none() && at.ends_with(ACTION_PATH) {
                moved = Some((id, d.clone()));
            }
        }
        after = body
            .pointer("/paging/next/after")
            .and_then(Value::as_str)
            .map(str::to_owned);
        if after.is_none() {
            break;
        }
    }
    Ok(Ok(moved))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r21_the_definition_is_hubspots_egg_with_the_webinar_id_static_or_from_a_property() {
        let action = &definitions::action_definitions()[0];
        let body = definition_body(action, &action_url("https://plugin.example/"));
        insta::assert_json_snapshot!(body);
        assert_eq!(
            body["actionUrl"],
            "https://plugin.example/actions/add-contact-to-zoom-webinar"
        );
    }
}
