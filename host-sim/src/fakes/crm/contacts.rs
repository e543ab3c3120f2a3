//! Contacts: batch upsert, batch read, get, batch update, archive, and
//! the email index they are found by; their search is `contacts/search.rs`.

mod search;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Value, json};

use super::{Contact, State, batch_inputs, query_flag, valid_email};
use crate::outbound::{FakeRequest, FakeResponse};
use search::search;
pub(crate) use search::{SearchQuery, matches_groups};

const DEFAULT_PROPERTIES: &[&str] = &[
    "email",
    "firstname",
    "lastname",
    "createdate",
    "lastmodifieddate",
    "hs_object_id",
];

fn contact_json(c: &Contact, requested: &[String]) -> Value {
    let mut properties = serde_json::Map::new();
    let wanted = DEFAULT_PROPERTIES
        .iter()
        .map(|s| s.to_string())
        .chain(requested.iter().cloned());
    for name in wanted {
        let value = match name.as_str() {
            "hs_object_id" => Some(c.id.to_string()),
            "createdate" => Some(c.created_ms.to_string()),
            "lastmodifieddate" => Some(c.updated_ms.to_string()),
            _ => c.properties.get(&name).cloned(),
        };
        properties.insert(name, value.map_or(Value::Null, Value::String));
    }
    json!({
        "id": c.id.to_string(),
        "properties": properties,
        "createdAt": crate::clock::rfc3339(c.created_ms),
        "updatedAt": crate::clock::rfc3339(c.updated_ms),
        "archived": c.archived,
    })
}

fn requested_properties(body: &Value) -> Vec<String> {
    body.get("properties")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .filter_map(|p| p.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

fn string_properties(value: Option<&Value>) -> BTreeMap<String, String> {
    value
        .and_then(Value::as_object)
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn item_error(state: &mut State, category: &str, message: &str, ids: &[&str]) -> Value {
    state.item_error(category, message, json!({ "ids": ids }))
}

/// A batch input's `objectWriteTraceId`, echoed in its result so a caller
/// can tell which input a result answers (results are not in input order).
pub(crate) fn echo_trace(input: &Value, result: &mut Value) {
    if let Some(trace) = input.get("objectWriteTraceId").filter(|t| !t.is_null()) {
        result["objectWriteTraceId"] = trace.clone();
    }
}

/// The active contact whose primary email is `email`.
pub(crate) fn by_primary_email<'a>(state: &'a State, email: &str) -> Option<&'a Contact> {
    state
        .contacts
        .values()
        .find(|c| !c.archived && c.email().eq_ignore_ascii_case(email))
}

/// A contact by its id, or by its primary email, among the active or the archived ones.
fn find<'a>(state: &'a State, id: &str, by_email: bool, archived: bool) -> Option<&'a Contact> {
    if !by_email {
        return id
            .parse::<u64>()
            .ok()
            .and_then(|id| state.contacts.get(&id))
            .filter(|c| c.archived == archived && c.id.to_string() == id);
    }
    state
        .contacts
        .values()
        .find(|c| c.archived == archived && c.email().eq_ignore_ascii_case(id))
}

fn by_any_email(state: &State, email: &str) -> Option<u64> {
    state
        .contacts
        .values()
        .find(|c| {
            !c.archived
                && (c.email().eq_ignore_ascii_case(email)
                    || c.additional_emails()
                        .iter()
                        .any(|e| e.eq_ignore_ascii_case(email)))
        })
        .map(|c| c.id)
}

/// Contacts by email for one request: built once, not scanned per input
/// (a batch of 100 against 10,000 contacts). First contact wins, like a scan.
#[derive(Default)]
pub(crate) struct EmailIndex {
    primary: HashMap<String, u64>,
    any: HashMap<String, u64>,
    archived: HashMap<String, u64>,
}

impl EmailIndex {
    pub(crate) fn build(state: &State) -> Self {
        let mut index = Self::default();
        for c in state.contacts.values() {
            let email = c.email().to_ascii_lowercase();
            if c.archived {
                index.archived.entry(email).or_insert(c.id);
                continue;
            }
            index.primary.entry(email.clone()).or_insert(c.id);
            index.any.entry(email).or_insert(c.id);
            for additional in c.additional_emails() {
                index
                    .any
                    .entry(additional.to_ascii_lowercase())
                    .or_insert(c.id);
            }
        }
        index
    }

    pub(crate) fn primary(&self, email: &str) -> Option<u64> {
        self.primary.get(&email.to_ascii_lowercase()).copied()
    }

    fn any(&self, email: &str) -> Option<u64> {
        self.any.get(&email.to_ascii_lowercase()).copied()
    }

    /// A contact made during the request.
    pub(crate) fn created(&mut self, email: &str, id: u64) {
        let email = email.to_ascii_lowercase();
        self.primary.insert(email.clone(), id);
        self.any.insert(email, id);
    }
}

pub(crate) fn route(
    state: &mut State,
    request: &FakeRequest,
    rest: &[&str],
    now: i64,
) -> FakeResponse {
    match (request.method.as_str(), rest) {
        ("POST", ["batch", "upsert"]) => upsert(state, request, now),
        ("POST", ["batch", "read"]) => batch_read(state, request, now),
        ("POST", ["batch", "update"]) => batch_update(state, request, now),
        ("POST", ["search"]) => search(state, request, now),
        ("GET", [id]) => get(state, request, id),
        ("DELETE", [id]) => match id
            .parse::<u64>()
            .ok()
            .and_then(|id| state.contacts.get_mut(&id))
        {
            Some(contact) => {
                contact.archived = true;
                state.contacts_changed();
                FakeResponse::empty(204)
            }
            // HubSpot answers 204 for an id that does not exist, too.
            None => FakeResponse::empty(204),
        },
        _ => state.error(
            404,
            "OBJECT_NOT_FOUND",
            &format!("No route for {} {}", request.method, request.path()),
        ),
    }
}

/// Upsert by email. The email matches a contact's primary email or one of
/// its secondary emails (`hs_additional_emails`); a new email creates a
/// contact. Whether HubSpot matches secondary emails here is not
/// documented: the fake does, so a plugin that must not write to a
/// secondary-email contact (R17) has to check first.
fn upsert(state: &mut State, request: &FakeRequest, now: i64) -> FakeResponse {
    let (_, inputs) = match batch_inputs(state, request) {
        Ok(parsed) => parsed,
        Err(answer) => return answer,
    };
    let ids: Vec<String> = inputs
        .iter()
        .map(|i| {
            i.get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    let unique: BTreeSet<String> = ids.iter().map(|i| i.to_ascii_lowercase()).collect();
    if unique.len() != ids.len() {
        return state.error(
            400,
            "VALIDATION_ERROR",
            "Duplicate IDs found in batch input.",
        );
    }
    let mut results = Vec::new();
    let mut errors = Vec::new();
    let mut index = state.take_emails();
    for (input, email) in inputs.iter().zip(&ids) {
        if input.get("idProperty").and_then(Value::as_str) != Some("email") {
            errors.push(item_error(
                state,
                "VALIDATION_ERROR",
                "idProperty must be email",
                &[email],
            ));
            continue;
        }
        if !valid_email(email) {
            errors.push(item_error(
                state,
                "VALIDATION_ERROR",
                &format!("Email address {email} is invalid"),
                &[email],
            ));
            continue;
        }
        let mut properties = string_properties(input.get("properties"));
        properties.remove("email");
        properties.remove("hs_additional_emails");
        let (id, new) = match index.any(email) {
            Some(id) => (id, false),
            None => {
                let id = state.id();
                index.created(email, id);
                let contact = Contact {
                    id,
                    properties: BTreeMap::from([("email".to_owned(), email.to_ascii_lowercase())]),
                    archived: false,
                    created_ms: now,
                    updated_ms: now,
                };
                state.contacts.insert(id, contact);
                (id, true)
            }
        };
        let contact = state.contacts.get_mut(&id).expect("just found or made");
        contact.properties.extend(properties);
        contact.updated_ms = now;
        let mut result = contact_json(contact, &[]);
        result["new"] = json!(new);
        echo_trace(input, &mut result);
        results.push(result);
    }
    state.keep_emails(index);
    state.batch_answer(results, errors, 200, now)
}

fn batch_read(state: &mut State, request: &FakeRequest, now: i64) -> FakeResponse {
    let (body, inputs) = match batch_inputs(state, request) {
        Ok(parsed) => parsed,
        Err(answer) => return answer,
    };
    let archived = query_flag(request, "archived");
    let by_email = body.get("idProperty").and_then(Value::as_str) == Some("email");
    let requested = requested_properties(&body);
    let mut results = Vec::new();
    let mut missing = Vec::new();
    let index = state.take_emails();
    for input in &inputs {
        let id = input.get("id").and_then(Value::as_str).unwrap_or_default();
        let found = if by_email {
            let by = if archived {
                &index.archived
            } else {
                &index.primary
            };
            by.get(&id.to_ascii_lowercase())
                .and_then(|id| state.contacts.get(id))
        } else {
            find(state, id, false, archived)
        };
        match found {
            Some(contact) => results.push(contact_json(contact, &requested)),
            None => missing.push(id.to_owned()),
        }
    }
    state.keep_emails(index);
    let errors = if missing.is_empty() {
        Vec::new()
    } else {
        let ids: Vec<&str> = missing.iter().map(String::as_str).collect();
        vec![item_error(
            state,
            "OBJECT_NOT_FOUND",
            "Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are valid.",
            &ids,
        )]
    };
    state.batch_answer(results, errors, 200, now)
}

fn batch_update(state: &mut State, request: &FakeRequest, now: i64) -> FakeResponse {
    let (_, inputs) = match batch_inputs(state, request) {
        Ok(parsed) => parsed,
        Err(answer) => return answer,
    };
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for input in &inputs {
        let id = input.get("id").and_then(Value::as_str).unwrap_or_default();
        let properties = string_properties(input.get("properties"));
        // Secondary emails are unique across contacts, primary ones included.
        if let Some(additional) = properties.get("hs_additional_emails") {
            let taken = additional
                .split(';')
                .map(str::trim)
                .filter(|e| !e.is_empty())
                .find(|email| {
                    by_any_email(state, email).is_some_and(|owner| owner.to_string() != id)
                });
            if let Some(email) = taken {
                let message = format!("{email} is already an email of another contact");
                errors.push(item_error(state, "CONFLICT", &message, &[id]));
                continue;
            }
        }
        match id
            .parse::<u64>()
            .ok()
            .and_then(|id| state.contacts.get_mut(&id))
            .filter(|c| !c.archived)
        {
            Some(contact) => {
                let emails_changed = properties.contains_key("email")
                    || properties.contains_key("hs_additional_emails");
                contact.properties.extend(properties);
                contact.updated_ms = now;
                let mut result = contact_json(contact, &[]);
                echo_trace(input, &mut result);
                results.push(result);
                if emails_changed {
                    state.contacts_changed();
                }
            }
            None => errors.push(item_error(
                state,
                "OBJECT_NOT_FOUND",
                &format!("Object not found. objectId are usually numeric. {id}"),
                &[id],
            )),
        }
    }
    state.batch_answer(results, errors, 200, now)
}

fn get(state: &mut State, request: &FakeRequest, id: &str) -> FakeResponse {
    let archived = query_flag(request, "archived");
    let requested: Vec<String> = request
        .query_param("properties")
        .map(|p| p.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    let by_email = request.query_param("idProperty").as_deref() == Some("email");
    match find(state, id, by_email, archived) {
        Some(contact) => FakeResponse::json(200, &contact_json(contact, &requested)),
        None => state.error(404, "OBJECT_NOT_FOUND", "resource not found"),
    }
}
