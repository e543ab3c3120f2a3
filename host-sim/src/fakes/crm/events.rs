//! Custom events (R10 for an app without timeline access): event
//! definitions and event occurrences, as HubSpot's custom events API
//! (Enterprise tiers) takes them.
//!
//! - Definitions: `POST /events/v3/event-definitions` (label, name,
//!   `primaryObject`, `propertyDefinitions`), listed by
//!   `GET /events/v3/event-definitions` (`results`, `paging.next.after`).
//!   <https://developers.hubspot.com/docs/api-reference/events-manage-event-definitions-v3/guide>,
//!   <https://developers.hubspot.com/docs/api-reference/events-manage-event-definitions-v3/event-definition/get-events-v3-event-definitions>.
//! - Occurrences: `POST /events/v3/send` and `POST /events/v3/send/batch`
//!   (`inputs`), `{eventName: "pe{portalId}_{name}", email | objectId,
//!   occurredAt, properties, uuid}`, answered 204 with no body.
//!   <https://developers.hubspot.com/docs/api-reference/legacy/events/send-event-data/guide>,
//!   <https://developers.hubspot.com/docs/api-reference/legacy/events/send-event-data/batch-send-occurrences>.
//!
//! Where the docs are silent the fake takes the harsher reading, each said
//! where it is enforced below.

use serde_json::{Value, json};

use super::{State, body_json, str_field};
use crate::outbound::{FakeRequest, FakeResponse};

/// The fake portal's id: event names are `pe{PORTAL_ID}_{name}`.
pub const PORTAL_ID: u64 = 20_261_202;

/// A batch send's inputs. The docs found give no number; HubSpot's batch
/// endpoints elsewhere take 100, the event APIs are said to take 500
/// (API-NOTES). The fake refuses more than 500.
pub const MAX_SEND_BATCH: usize = 500;

/// "Each event completion can contain data for up to 50 properties"
/// (HubSpot's announcement of the custom events property limits,
/// community.hubspot.com/t5/Developer-Announcements/New-property-limits-for-the-Custom-Behavioural-Events-API/td-p/489700).
const MAX_PROPERTIES: usize = 50;

/// The property types of a definition. The docs list `string`, `number`,
/// `enumeration` and `datetime` among the property types; anything else
/// is refused (the harsher reading).
const PROPERTY_TYPES: &[&str] = &["string", "number", "enumeration", "datetime"];

/// "Property internal names must start with a letter and contain only
/// lowercase letters a-z, numbers 0-9, and underscores", at most 50
/// characters (the same announcement); the fake holds event names to the
/// same rule (the definitions reference shows `^[a-z0-9_]{1,50}`-style
/// names; starting with a letter is the harsher reading).
pub fn valid_name(name: &str) -> bool {
    (1..=50).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A UUID as text (8-4-4-4-12 hex digits). The docs call `uuid` "a
/// universally unique identifier"; the fake refuses anything else (the
/// harsher reading: a client that sends its own ids unchanged fails here).
pub fn valid_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

pub(crate) fn route(
    state: &mut State,
    request: &FakeRequest,
    rest: &[&str],
    now: i64,
) -> FakeResponse {
    match (request.method.as_str(), rest) {
        ("GET", ["event-definitions"]) => list_definitions(state, request),
        ("POST", ["event-definitions"]) => create_definition(state, request, now),
        ("POST", ["send"]) => {
            let Some(body) = body_json(request) else {
                return state.error(400, "VALIDATION_ERROR", "Invalid input JSON on line 1");
            };
            send(state, vec![body], now)
        }
        ("POST", ["send", "batch"]) => {
            let Some(body) = body_json(request) else {
                return state.error(400, "VALIDATION_ERROR", "Invalid input JSON on line 1");
            };
            let inputs = body
                .get("inputs")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            if inputs.len() > MAX_SEND_BATCH {
                return state.error(
                    400,
                    "VALIDATION_ERROR",
                    &format!(
                        "Batch input is limited to {MAX_SEND_BATCH} inputs; {} were given.",
                        inputs.len()
                    ),
                );
            }
            send(state, inputs, now)
        }
        _ => state.error(
            404,
            "OBJECT_NOT_FOUND",
            &format!("No route for {} {}", request.method, request.path()),
        ),
    }
}

/// Definitions in pages (`limit`, `after`), in creation order.
fn list_definitions(state: &mut State, request: &FakeRequest) -> FakeResponse {
    let all: Vec<&Value> = state.event_definitions.values().collect();
    let mut body = super::page(request, &all, 20, 100);
    body["total"] = json!(all.len());
    FakeResponse::json(200, &body)
}

/// `POST /events/v3/event-definitions`: a new custom event definition.
fn create_definition(state: &mut State, request: &FakeRequest, now: i64) -> FakeResponse {
    let Some(body) = body_json(request) else {
        return state.error(400, "VALIDATION_ERROR", "Invalid input JSON on line 1");
    };
    let (Some(name), Some(label)) = (str_field(&body, "name"), str_field(&body, "label")) else {
        return state.error(
            400,
            "VALIDATION_ERROR",
            "An event definition requires a name and a label",
        );
    };
    if !valid_name(name) {
        return state.error(
            400,
            "VALIDATION_ERROR",
            &format!(
                "Event name {name} is invalid: use at most 50 lowercase letters, digits and underscores, starting with a letter"
            ),
        );
    }
    // The docs' examples use CONTACT; the plugin writes to contacts only,
    // and the fake knows no other object.
    if str_field(&body, "primaryObject") != Some("CONTACT") {
        return state.error(
            400,
            "VALIDATION_ERROR",
            "primaryObject must be CONTACT (the fake knows contacts only)",
        );
    }
    let definitions = body
        .get("propertyDefinitions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if let Some(refused) = refuse_property_definitions(state, &definitions) {
        return refused;
    }
    // The docs do not say what a second definition of a name answers: a
    // 409, as a duplicate property does (the harsher reading: a client
    // that does not look first fails its second install).
    if state.event_definitions.contains_key(name) {
        return state.error(
            409,
            "OBJECT_ALREADY_EXISTS",
            &format!("An event definition named '{name}' already exists."),
        );
    }
    let id = state.id();
    let stamp = crate::clock::rfc3339(now);
    let definition = json!({
        "id": id.to_string(),
        "name": name,
        "fullyQualifiedName": format!("pe{PORTAL_ID}_{name}"),
        "labels": { "singular": label, "plural": Value::Null },
        "description": str_field(&body, "description").unwrap_or_default(),
        "primaryObject": "CONTACT",
        "primaryObjectId": "0-1",
        "objectTypeId": format!("6-{id}"),
        "properties": definitions,
        "associations": [],
        "archived": false,
        "createdAt": stamp,
        "updatedAt": stamp,
    });
    state
        .event_definitions
        .insert(name.to_owned(), definition.clone());
    FakeResponse::json(201, &definition)
}

/// The 400 for an event's property definitions HubSpot would refuse: more
/// than [`MAX_PROPERTIES`], or one without a valid name, a label and a
/// type of [`PROPERTY_TYPES`].
fn refuse_property_definitions(state: &mut State, definitions: &[Value]) -> Option<FakeResponse> {
    if definitions.len() > MAX_PROPERTIES {
        return Some(state.error(
            400,
            "VALIDATION_ERROR",
            &format!("An event has at most {MAX_PROPERTIES} properties"),
        ));
    }
    for property in definitions {
        let ok = str_field(property, "name").is_some_and(valid_name)
            && str_field(property, "label").is_some()
            && str_field(property, "type").is_some_and(|t| PROPERTY_TYPES.contains(&t));
        if !ok {
            return Some(state.error(
                400,
                "VALIDATION_ERROR",
                &format!(
                    "Property definition {property} needs a valid name (lowercase letters, digits, underscores), a label and a type of {}",
                    PROPERTY_TYPES.join(", ")
                ),
            ));
        }
    }
    None
}

/// Validates every input first: one invalid input refuses the whole
/// request with a 400 naming it (the docs say a request that exceeds the
/// limits "will fail"; nothing says a batch is taken in part, so the fake
/// takes none of it). Then stores each occurrence, once per `uuid`.
fn send(state: &mut State, inputs: Vec<Value>, now: i64) -> FakeResponse {
    let mut accepted = Vec::new();
    for (index, input) in inputs.iter().enumerate() {
        match occurrence(state, input, now) {
            Ok(event) => accepted.push(event),
            Err(message) => {
                let mut body = state.error_body("VALIDATION_ERROR", &message);
                body["context"] = json!({ "index": [index.to_string()] });
                if let Some(uuid) = str_field(input, "uuid") {
                    body["context"]["uuid"] = json!([uuid]);
                }
                body["errors"] = json!([]);
                body["links"] = json!({});
                return FakeResponse::json(400, &body);
            }
        }
    }
    for event in accepted {
        let (Some(name), Some(uuid)) = (str_field(&event, "eventName"), str_field(&event, "uuid"))
        else {
            continue;
        };
        let key = (name.to_owned(), uuid.to_owned());
        // "When multiple events have the same ID within a year, the first
        // will be accepted and all others will be rejected" (the send
        // reference, uuid). The answer is a 204 with no body either way,
        // so the rejection is not seen by the sender: the fake keeps the
        // first and drops the others silently.
        if state.custom_events.contains_key(&key) {
            continue;
        }
        // The contact is matched when HubSpot processes the event, after
        // the 204: an occurrence for no live contact is dropped without a
        // word (the docs are silent; counted for tests to see).
        if event["objectId"].is_null() {
            state.custom_events_dropped += 1;
            continue;
        }
        state.custom_events.insert(key, event);
    }
    FakeResponse::empty(204)
}

/// One input checked against its definition, as it will be stored.
fn occurrence(state: &mut State, input: &Value, now: i64) -> Result<Value, String> {
    let name = str_field(input, "eventName").ok_or("eventName is required")?;
    let prefix = format!("pe{PORTAL_ID}_");
    let definition = name
        .strip_prefix(&prefix)
        .and_then(|short| state.event_definitions.get(short))
        .ok_or_else(|| format!("Event {name} is not defined in this portal"))?;
    let defined: Vec<(String, String)> = definition["properties"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| {
            Some((
                p["name"].as_str()?.to_owned(),
                p["type"].as_str()?.to_owned(),
            ))
        })
        .collect();
    let properties = input
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if properties.len() > MAX_PROPERTIES {
        return Err(format!(
            "An event occurrence has at most {MAX_PROPERTIES} properties"
        ));
    }
    for (key, value) in &properties {
        let Some((_, kind)) = defined.iter().find(|(n, _)| n == key) else {
            return Err(format!("Property {key} is not defined on event {name}"));
        };
        // The client's model types every value as a string.
        let Some(text) = value.as_str() else {
            return Err(format!("Property {key}: values are strings"));
        };
        let fits = match kind.as_str() {
            "number" => text.parse::<f64>().is_ok(),
            // Datetimes as epoch milliseconds or ISO 8601.
            "datetime" => text.parse::<i64>().is_ok() || text.contains('T'),
            _ => true,
        };
        if !fits {
            return Err(format!(
                "Property {key} of type {kind} cannot take {text:?}"
            ));
        }
    }
    // uuid: optional in the docs (HubSpot makes one), but only a UUID.
    let uuid = match str_field(input, "uuid") {
        Some(uuid) if valid_uuid(uuid) => uuid.to_owned(),
        Some(uuid) => return Err(format!("uuid {uuid} is not a UUID")),
        None => {
            let n = state.id();
            format!("00000000-0000-4000-8000-{n:012x}")
        }
    };
    let contact = match (str_field(input, "objectId"), str_field(input, "email")) {
        (Some(id), _) => id
            .parse::<u64>()
            .ok()
            .filter(|id| state.contacts.get(id).is_some_and(|c| !c.archived)),
        (None, Some(email)) => super::contacts::by_primary_email(state, email).map(|c| c.id),
        (None, None) => {
            return Err("An occurrence needs an identifier: objectId, email or utk".into());
        }
    };
    let occurred_at = input
        .get("occurredAt")
        .cloned()
        .unwrap_or_else(|| json!(crate::clock::rfc3339(now)));
    Ok(json!({
        "eventName": name,
        "uuid": uuid,
        "objectId": contact.map(|c| c.to_string()),
        "occurredAt": occurred_at,
        "properties": properties,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_uuids_as_the_docs_take_them() {
        assert!(valid_name("zoom_webinar_attendance"));
        for bad in ["", "Zoom", "1st", "zoom-webinar", &"a".repeat(51)] {
            assert!(!valid_name(bad), "{bad}");
        }
        assert!(valid_uuid("0f8fad5b-d9cb-469f-a165-70867728950e"));
        assert!(!valid_uuid("zoom-registration-1-2"));
        assert!(!valid_uuid("0f8fad5b-d9cb-469f-a165-70867728950"));
    }
}
