//! Marketing events with their attendance, and timeline events.

use serde_json::{Value, json};

use super::contacts::by_primary_email;
use super::{Contact, State, batch_inputs, body_json, str_field, valid_email};
use crate::outbound::{FakeRequest, FakeResponse};

const EVENT_REQUIRED: &[&str] = &[
    "externalEventId",
    "externalAccountId",
    "eventName",
    "eventOrganizer",
];

fn event_key(event: &Value) -> (String, String) {
    let field = |name| str_field(event, name).unwrap_or_default().to_owned();
    (field("externalAccountId"), field("externalEventId"))
}

/// A marketing event as the API answers it, HubSpot's
/// `MarketingEventPublicDefaultResponse`: the fields stored, with the
/// CRM's `id`, `createdAt` and `updatedAt` (required by the model).
fn event_view(state: &State, event: &Value) -> Value {
    let mut view = event.clone();
    let id = event["objectId"].as_str().unwrap_or_default().to_owned();
    let (created, updated) = state
        .marketing_event_times
        .get(&id)
        .copied()
        .unwrap_or_default();
    view["id"] = json!(id);
    view["createdAt"] = json!(crate::clock::rfc3339(created));
    view["updatedAt"] = json!(crate::clock::rfc3339(updated));
    view["customProperties"] = json!([]);
    view
}

/// Creates or replaces the fields given, keeping the CRM's object id;
/// answers the event as the API shows it.
fn upsert_event(state: &mut State, input: &Value, now: i64) -> Result<Value, String> {
    let missing: Vec<&str> = EVENT_REQUIRED
        .iter()
        .copied()
        .filter(|f| str_field(input, f).is_none())
        .collect();
    if !missing.is_empty() {
        return Err(format!("Missing required fields: {}", missing.join(", ")));
    }
    let key = event_key(input);
    let object_id = match state.marketing_events.get(&key) {
        Some(existing) => existing["objectId"].clone(),
        None => json!(state.id().to_string()),
    };
    let mut event = state
        .marketing_events
        .get(&key)
        .cloned()
        .unwrap_or_else(|| json!({ "eventCancelled": false, "eventCompleted": false }));
    if let (Some(target), Some(fields)) = (event.as_object_mut(), input.as_object()) {
        for (k, v) in fields {
            target.insert(k.clone(), v.clone());
        }
    }
    event["objectId"] = object_id.clone();
    state.marketing_events.insert(key, event.clone());
    let times = state
        .marketing_event_times
        .entry(object_id.as_str().unwrap_or_default().to_owned())
        .or_insert((now, now));
    times.1 = now;
    Ok(event_view(state, &event))
}

fn attendance_state(path_state: &str) -> Option<&'static str> {
    match path_state {
        "register" => Some("REGISTERED"),
        "attend" => Some("ATTENDED"),
        "cancel" => Some("CANCELLED"),
        _ => None,
    }
}

/// What makes a participation a duplicate: (account, event, contact, state, interaction time).
pub(crate) type ParticipationKey = [String; 5];

fn participation_key(p: &Value) -> ParticipationKey {
    let text = |field: &str| p[field].as_str().unwrap_or_default().to_owned();
    [
        text("externalAccountId"),
        text("externalEventId"),
        text("contactId"),
        text("attendanceState"),
        text("occurredAt"),
    ]
}

/// Records participations by email, creating contacts for new emails.
/// Idempotent on (contact, state, interaction time).
fn attendance(
    state: &mut State,
    request: &FakeRequest,
    external_event_id: &str,
    path_state: &str,
    now: i64,
) -> FakeResponse {
    let Some(account) = request.query_param("externalAccountId") else {
        return state.error(400, "VALIDATION_ERROR", "externalAccountId is required");
    };
    let Some(attendance) = attendance_state(path_state) else {
        return state.error(
            400,
            "VALIDATION_ERROR",
            &format!("Unknown subscriber state {path_state}"),
        );
    };
    if !state
        .marketing_events
        .contains_key(&(account.clone(), external_event_id.to_owned()))
    {
        return state.error(
            404,
            "OBJECT_NOT_FOUND",
            &format!("Marketing event {external_event_id} does not exist for account {account}"),
        );
    }
    let inputs = match batch_inputs(state, request) {
        Ok((_, inputs)) => inputs,
        Err(answer) => return answer,
    };
    let mut results = Vec::new();
    let mut errors = Vec::new();
    let mut index = state.take_emails();
    let mut seen = state
        .participation_keys
        .take()
        .unwrap_or_else(|| state.participations.iter().map(participation_key).collect());
    for input in &inputs {
        let email = str_field(input, "email")
            .unwrap_or_default()
            .to_ascii_lowercase();
        if !valid_email(&email) {
            let error = state.item_error(
                "VALIDATION_ERROR",
                &format!("Email address {email} is invalid"),
                json!({ "emails": [email] }),
            );
            errors.push(error);
            continue;
        }
        let contact_id = match index.primary(&email) {
            Some(id) => id,
            None => {
                let id = state.id();
                index.created(&email, id);
                let properties = [("email".to_owned(), email.clone())].into();
                state.contacts.insert(
                    id,
                    Contact {
                        id,
                        properties,
                        archived: false,
                        created_ms: now,
                        updated_ms: now,
                    },
                );
                id
            }
        };
        let occurred = input
            .get("interactionDateTime")
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .unwrap_or_else(|| now.to_string());
        let participation = json!({
            "externalAccountId": account,
            "externalEventId": external_event_id,
            "contactId": contact_id.to_string(),
            "email": email,
            "attendanceState": attendance,
            "occurredAt": occurred,
            "properties": input.get("properties").cloned().unwrap_or(json!({})),
        });
        if seen.insert(participation_key(&participation)) {
            state.participations.push(participation);
        }
        // HubSpot's `SubscriberEmailResponse`: the contact as `vid`, a number.
        results.push(json!({ "vid": contact_id, "email": email }));
    }
    state.keep_emails(index);
    state.participation_keys = Some(seen);
    state.batch_answer(results, errors, 200, now)
}

pub(crate) fn marketing_events(
    state: &mut State,
    request: &FakeRequest,
    rest: &[&str],
    now: i64,
) -> FakeResponse {
    match (request.method.as_str(), rest) {
        ("POST", ["events"]) => {
            let Some(body) = body_json(request) else {
                return state.error(400, "VALIDATION_ERROR", "Invalid input JSON on line 1");
            };
            if state.marketing_events.contains_key(&event_key(&body)) {
                return state.error(409, "CONFLICT", "A marketing event with this externalEventId already exists for this externalAccountId.");
            }
            match upsert_event(state, &body, now) {
                Ok(event) => FakeResponse::json(200, &event),
                Err(message) => state.error(400, "VALIDATION_ERROR", &message),
            }
        }
        ("POST", ["events", "upsert"]) => {
            let inputs = match batch_inputs(state, request) {
                Ok((_, inputs)) => inputs,
                Err(answer) => return answer,
            };
            let mut results = Vec::new();
            for input in &inputs {
                match upsert_event(state, input, now) {
                    Ok(event) => results.push(event),
                    Err(message) => return state.error(400, "VALIDATION_ERROR", &message),
                }
            }
            state.batch_answer(results, Vec::new(), 200, now)
        }
        ("PATCH", ["events", external_event_id]) => {
            let Some(account) = request.query_param("externalAccountId") else {
                return state.error(400, "VALIDATION_ERROR", "externalAccountId is required");
            };
            let key = (account, external_event_id.to_string());
            let Some(mut event) = state.marketing_events.get(&key).cloned() else {
                return state.error(
                    404,
                    "OBJECT_NOT_FOUND",
                    &format!("Marketing event {external_event_id} does not exist"),
                );
            };
            if let (Some(target), Some(Value::Object(fields))) =
                (event.as_object_mut(), body_json(request))
            {
                target.extend(fields);
            }
            state.marketing_events.insert(key, event.clone());
            FakeResponse::json(200, &event_view(state, &event))
        }
        ("POST", ["events", external_event_id, "complete"]) => {
            let Some(account) = request.query_param("externalAccountId") else {
                return state.error(400, "VALIDATION_ERROR", "externalAccountId is required");
            };
            let body = body_json(request).unwrap_or_default();
            match state
                .marketing_events
                .get_mut(&(account, external_event_id.to_string()))
            {
                Some(event) => {
                    event["eventCompleted"] = json!(true);
                    for field in ["startDateTime", "endDateTime"] {
                        if let Some(v) = body.get(field) {
                            event[field] = v.clone();
                        }
                    }
                    let event = event.clone();
                    FakeResponse::json(200, &event_view(state, &event))
                }
                None => state.error(
                    404,
                    "OBJECT_NOT_FOUND",
                    &format!("Marketing event {external_event_id} does not exist"),
                ),
            }
        }
        ("GET", ["events", external_event_id]) => {
            let account = request.query_param("externalAccountId").unwrap_or_default();
            match state
                .marketing_events
                .get(&(account, external_event_id.to_string()))
            {
                Some(event) => FakeResponse::json(200, &event_view(state, event)),
                None => state.error(
                    404,
                    "OBJECT_NOT_FOUND",
                    &format!("Marketing event {external_event_id} does not exist"),
                ),
            }
        }
        ("POST", ["attendance", external_event_id, path_state, "email-create"]) => {
            attendance(state, request, external_event_id, path_state, now)
        }
        ("GET", ["participations", account, external_event_id, "breakdown"]) => {
            let results: Vec<Value> = state
                .participations
                .iter()
                .filter(|p| p["externalAccountId"] == *account && p["externalEventId"] == *external_event_id)
                .map(|p| {
                    json!({
                        "associations": { "contact": { "contactId": p["contactId"], "email": p["email"] } },
                        "properties": { "attendanceState": p["attendanceState"], "occurredAt": p["occurredAt"] },
                    })
                })
                .collect();
            FakeResponse::json(200, &json!({ "total": results.len(), "results": results }))
        }
        _ => state.error(
            404,
            "OBJECT_NOT_FOUND",
            &format!("No route for {} {}", request.method, request.path()),
        ),
    }
}

fn template_tokens(state: &State, template_id: &str) -> Option<Vec<String>> {
    state
        .event_templates
        .values()
        .flatten()
        .find(|t| t["id"] == template_id)
        .map(|t| {
            t["tokens"]
                .as_array()
                .map(|ts| {
                    ts.iter()
                        .filter_map(|t| t["name"].as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default()
        })
}

/// Timeline events, batch created; `id` makes a create idempotent.
pub(crate) fn timeline(
    state: &mut State,
    request: &FakeRequest,
    rest: &[&str],
    now: i64,
) -> FakeResponse {
    if !(request.method == http::Method::POST && rest == ["batch", "create"]) {
        return state.error(
            404,
            "OBJECT_NOT_FOUND",
            &format!("No route for {} {}", request.method, request.path()),
        );
    }
    let inputs = match batch_inputs(state, request) {
        Ok((_, inputs)) => inputs,
        Err(answer) => return answer,
    };
    let mut results = Vec::new();
    let mut errors = Vec::new();
    for input in &inputs {
        let template_id = input
            .get("eventTemplateId")
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .unwrap_or_default();
        let id = str_field(input, "id")
            .map(str::to_owned)
            .unwrap_or_else(|| format!("generated-{}", state.id()));
        let mut fail = |state: &mut State, category: &str, message: String| {
            errors.push(state.item_error(category, &message, json!({ "id": [id.clone()] })));
        };
        let Some(tokens) = template_tokens(state, &template_id) else {
            fail(
                state,
                "VALIDATION_ERROR",
                format!("Event template {template_id} does not exist"),
            );
            continue;
        };
        let contact = match (str_field(input, "email"), input.get("objectId")) {
            (Some(email), _) => by_primary_email(state, email).map(|c| c.id),
            (None, Some(object_id)) => object_id
                .as_str()
                .map_or_else(|| object_id.to_string(), str::to_owned)
                .parse::<u64>()
                .ok()
                .filter(|id| state.contacts.get(id).is_some_and(|c| !c.archived)),
            (None, None) => None,
        };
        let Some(contact_id) = contact else {
            fail(
                state,
                "OBJECT_NOT_FOUND",
                "The contact for this timeline event does not exist".into(),
            );
            continue;
        };
        let given = input
            .get("tokens")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        if let Some(unknown) = given.keys().find(|k| !tokens.contains(k)) {
            fail(
                state,
                "VALIDATION_ERROR",
                format!("Token {unknown} is not defined on template {template_id}"),
            );
            continue;
        }
        if state.timeline_events.contains_key(&id) {
            fail(
                state,
                "CONFLICT",
                format!("An event with id {id} already exists"),
            );
            continue;
        }
        let event = json!({
            "id": id,
            "eventTemplateId": template_id,
            "objectId": contact_id.to_string(),
            "tokens": given,
            "extraData": input.get("extraData").cloned().unwrap_or(Value::Null),
            "timestamp": input.get("timestamp").cloned().unwrap_or_else(|| json!(crate::clock::rfc3339(now))),
        });
        state.timeline_events.insert(id.clone(), event.clone());
        // HubSpot's `TimelineEventResponse` requires `objectType`.
        let mut result = event;
        result["objectType"] = json!("contacts");
        result["createdAt"] = json!(crate::clock::rfc3339(now));
        results.push(result);
    }
    state.batch_answer(results, errors, 201, now)
}
