//! Calls (R11): created one at a time or in batches, read back in
//! batches, found through their contacts' associations (v4) or through
//! search, which sees a call only after the index caught up with it.

use serde_json::{Value, json};

use super::contacts::echo_trace;
use super::{State, batch_inputs, body_json, text};
use crate::outbound::{FakeRequest, FakeResponse};

fn create_call(state: &mut State, input: &Value, now: i64) -> Result<Value, String> {
    let properties = input.get("properties").cloned().unwrap_or(json!({}));
    if properties.get("hs_timestamp").is_none() {
        return Err("Property hs_timestamp is required".into());
    }
    if let Some(url) = properties
        .get("hs_call_recording_url")
        .and_then(Value::as_str)
        .filter(|url| !url.starts_with("https://"))
    {
        return Err(format!(
            "hs_call_recording_url must be an https URL, not {url}"
        ));
    }
    if let Some(unknown) = properties
        .as_object()
        .into_iter()
        .flatten()
        .map(|(name, _)| name)
        .find(|name| !name.starts_with("hs_") && !state.call_properties.contains_key(*name))
    {
        return Err(format!(
            "Property values were not valid: Property \"{unknown}\" does not exist"
        ));
    }
    let mut contacts = Vec::new();
    for association in input
        .get("associations")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let to = text(&association["to"]["id"]);
        let exists = to
            .parse::<u64>()
            .ok()
            .and_then(|id| state.contacts.get(&id))
            .is_some_and(|c| !c.archived);
        if !exists {
            return Err(format!("Contact {to} to associate does not exist"));
        }
        contacts.push(to);
    }
    let id = state.id();
    let call = json!({
        "id": id.to_string(),
        "properties": properties,
        "associations": { "contacts": contacts },
        "createdAt": crate::clock::rfc3339(now),
    });
    state.calls.insert(id, call.clone());
    Ok(call_view(&call))
}

/// A call as the API answers it, HubSpot's `SimplePublicObject`:
/// `updatedAt` is required (a call is never changed here: its creation).
fn call_view(call: &Value) -> Value {
    let mut view = call.clone();
    view["updatedAt"] = call["createdAt"].clone();
    view["archived"] = json!(false);
    view
}

pub(crate) fn route(
    state: &mut State,
    request: &FakeRequest,
    rest: &[&str],
    now: i64,
) -> FakeResponse {
    let Some(body) = body_json(request) else {
        return state.error(400, "VALIDATION_ERROR", "Invalid input JSON on line 1");
    };
    match (request.method.as_str(), rest) {
        ("POST", []) => match create_call(state, &body, now) {
            Ok(call) => FakeResponse::json(201, &call),
            Err(message) => state.error(400, "VALIDATION_ERROR", &message),
        },
        ("POST", ["batch", "create"]) => {
            let inputs = match batch_inputs(state, request) {
                Ok((_, inputs)) => inputs,
                Err(answer) => return answer,
            };
            let mut results = Vec::new();
            let mut errors = Vec::new();
            for input in &inputs {
                // The CRM echoes an input's trace id, so a caller can tell which inputs made it.
                let trace = input.get("objectWriteTraceId").cloned();
                match create_call(state, input, now) {
                    Ok(mut call) => {
                        echo_trace(input, &mut call);
                        results.push(call)
                    }
                    Err(message) => {
                        let context = match trace {
                            Some(trace) => json!({ "objectWriteTraceId": [trace] }),
                            None => json!({}),
                        };
                        errors.push(state.item_error("VALIDATION_ERROR", &message, context))
                    }
                }
            }
            state.batch_answer(results, errors, 201, now)
        }
        ("POST", ["batch", "read"]) => read_calls(state, request, now),
        ("POST", ["search"]) => search_calls(state, &body, now),
        _ => state.error(
            404,
            "OBJECT_NOT_FOUND",
            &format!("No route for {} {}", request.method, request.path()),
        ),
    }
}

/// `POST /crm/v3/objects/calls/search`: the calls' properties filtered as
/// contacts are, in id order, paged by `after` (at most 200 a page).
fn search_calls(state: &mut State, body: &Value, now: i64) -> FakeResponse {
    use super::contacts::{SearchQuery, matches_groups};
    let query = match SearchQuery::read(state, body) {
        Ok(query) => query,
        Err(answer) => return answer,
    };
    let mut matched = Vec::new();
    for call in state
        .calls
        .values()
        .filter(|c| state.searchable(created_ms(c), now))
    {
        let value_of = |name: &str| match name {
            "hs_object_id" => call["id"].as_str().map(str::to_owned),
            _ => call["properties"][name].as_str().map(str::to_owned),
        };
        match matches_groups(&query.groups, &value_of) {
            Ok(true) => matched.push(call.clone()),
            Ok(false) => {}
            Err(message) => return state.error(400, "VALIDATION_ERROR", &message),
        }
    }
    query.page(&matched, |call| {
        let properties: serde_json::Map<String, Value> = query
            .requested
            .iter()
            .filter_map(|p| Some((p.clone(), call["properties"].get(p)?.clone())))
            .collect();
        json!({
            "id": call["id"], "properties": properties, "createdAt": call["createdAt"],
            "updatedAt": call["createdAt"], "archived": false,
        })
    })
}

fn created_ms(call: &Value) -> i64 {
    call["createdAt"]
        .as_str()
        .and_then(crate::clock::parse_rfc3339)
        .unwrap_or(0)
}

/// `POST /crm/v3/objects/calls/batch/read`: the calls of `inputs[].id`
/// with the `properties` asked for, from the records (no index lag). An
/// id the CRM does not hold is a per-item error, as for contacts.
fn read_calls(state: &mut State, request: &FakeRequest, now: i64) -> FakeResponse {
    let (body, inputs) = match batch_inputs(state, request) {
        Ok(read) => read,
        Err(answer) => return answer,
    };
    let requested: Vec<&str> = body["properties"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for input in &inputs {
        let id = text(&input["id"]);
        match id.parse::<u64>().ok().and_then(|id| state.calls.get(&id)) {
            Some(call) => {
                let mut view = call_view(call);
                view["properties"] = requested
                    .iter()
                    .filter_map(|p| Some((p.to_string(), call["properties"].get(*p)?.clone())))
                    .collect::<serde_json::Map<_, _>>()
                    .into();
                view.as_object_mut().map(|v| v.remove("associations"));
                results.push(view);
            }
            None => errors.push(state.item_error(
                "OBJECT_NOT_FOUND",
                &format!("Could not get some CALL objects, they may be deleted or not exist. Check that ids are valid. ids: {id}"),
                json!({ "ids": [id] }),
            )),
        }
    }
    state.batch_answer(results, errors, 200, now)
}

/// At most this many associations of one record a page: the v3 API's
/// documented limit, taken for v4 too (its page is silent on a size).
pub const ASSOCIATIONS_PAGE: usize = 500;

/// `POST /crm/v4/associations/contacts/calls/batch/read`: each input
/// contact's calls, a page each (`after` is an offset here), answered from
/// the records. At most 100 inputs (HubSpot's changelog, "Batch Read
/// Limit for HubSpot Associations API", 2024). A contact with no call is a
/// per-item error: the reading that asks more of a client than an empty
/// `to` list would.
pub(crate) fn associated_calls(state: &mut State, request: &FakeRequest, now: i64) -> FakeResponse {
    let inputs = match batch_inputs(state, request) {
        Ok((_, inputs)) => inputs,
        Err(answer) => return answer,
    };
    // One pass over the calls for the whole batch, not one per input.
    let asked: std::collections::BTreeSet<String> =
        inputs.iter().map(|input| text(&input["id"])).collect();
    let mut calls_of: std::collections::BTreeMap<String, Vec<u64>> = Default::default();
    for (id, call) in &state.calls {
        let contacts = call["associations"]["contacts"]
            .as_array()
            .into_iter()
            .flatten();
        for contact in contacts
            .filter_map(Value::as_str)
            .filter(|c| asked.contains(*c))
        {
            calls_of.entry(contact.to_owned()).or_default().push(*id);
        }
    }
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for input in &inputs {
        let contact = text(&input["id"]);
        let after: usize = input["after"]
            .as_str()
            .and_then(|a| a.parse().ok())
            .unwrap_or(0);
        let calls = calls_of.get(&contact).map_or(&[][..], Vec::as_slice);
        if calls.is_empty() {
            let message = format!("No calls are associated with contact {contact}.");
            errors.push(state.item_error(
                "NO_ASSOCIATIONS_FOUND",
                &message,
                json!({ "fromObjectId": [contact] }),
            ));
            continue;
        }
        let page: Vec<Value> = calls
            .iter()
            .skip(after)
            .take(ASSOCIATIONS_PAGE)
            .map(|id| json!({
                "toObjectId": id,
                "associationTypes": [{ "category": "HUBSPOT_DEFINED", "typeId": 194, "label": null }],
            }))
            .collect();
        let mut result = json!({ "from": { "id": contact }, "to": page });
        if after + ASSOCIATIONS_PAGE < calls.len() {
            result["paging"] =
                json!({ "next": { "after": (after + ASSOCIATIONS_PAGE).to_string() } });
        }
        results.push(result);
    }
    state.batch_answer(results, errors, 200, now)
}
