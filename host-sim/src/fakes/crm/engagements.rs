//! Marketing events with their attendance and participations, and
//! timeline events.

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

/// The account and attendance state of an attendance call, or why the
/// call is refused: no `externalAccountId`, an unknown state in the path,
/// or no such marketing event.
fn attendance_target(
    state: &mut State,
    request: &FakeRequest,
    external_event_id: &str,
    path_state: &str,
) -> Result<(String, &'static str), FakeResponse> {
    let Some(account) = request.query_param("externalAccountId") else {
        return Err(state.error(400, "VALIDATION_ERROR", "externalAccountId is required"));
    };
    let Some(attendance) = attendance_state(path_state) else {
        return Err(state.error(
            400,
            "VALIDATION_ERROR",
            &format!("Unknown subscriber state {path_state}"),
        ));
    };
    if !state
        .marketing_events
        .contains_key(&(account.clone(), external_event_id.to_owned()))
    {
        return Err(state.error(
            404,
            "OBJECT_NOT_FOUND",
            &format!("Marketing event {external_event_id} does not exist for account {account}"),
        ));
    }
    Ok((account, attendance))
}

/// The contact whose primary email is `email`, created if there is none.
fn attendee_contact(
    state: &mut State,
    index: &mut super::contacts::EmailIndex,
    email: &str,
    now: i64,
) -> u64 {
    if let Some(id) = index.primary(email) {
        return id;
    }
    let id = state.id();
    index.created(email, id);
    let properties = [("email".to_owned(), email.to_owned())].into();
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

/// Records participations by email, creating contacts for new emails.
/// Idempotent on (contact, state, interaction time).
fn attendance(
    state: &mut State,
    request: &FakeRequest,
    external_event_id: &str,
    path_state: &str,
    now: i64,
) -> FakeResponse {
    let (account, attendance) =
        match attendance_target(state, request, external_event_id, path_state) {
            Ok(target) => target,
            Err(refused) => return refused,
        };
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
        let contact_id = attendee_contact(state, &mut index, &email, now);
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

/// `/marketing/v3/marketing-events/...` (`rest` after `marketing-events`):
/// the events, their attendance and the participations breakdown.
pub(crate) fn marketing_events(
    state: &mut State,
    request: &FakeRequest,
    rest: &[&str],
    now: i64,
) -> FakeResponse {
    match (request.method.as_str(), rest) {
        ("POST", ["events"]) => create_event(state, request, now),
        ("POST", ["events", "upsert"]) => upsert_events(state, request, now),
        ("PATCH", ["events", external_event_id]) => update_event(state, request, external_event_id),
        ("POST", ["events", external_event_id, "complete"]) => {
            complete_event(state, request, external_event_id)
        }
        ("GET", ["events", external_event_id]) => read_event(state, request, external_event_id),
        ("POST", ["attendance", external_event_id, path_state, "email-create"]) => {
            attendance(state, request, external_event_id, path_state, now)
        }
        ("GET", ["participations", account, external_event_id, "breakdown"]) => {
            participations(state, account, external_event_id)
        }
        _ => state.error(
            404,
            "OBJECT_NOT_FOUND",
            &format!("No route for {} {}", request.method, request.path()),
        ),
    }
}

/// The 404 for a marketing event the CRM does not have.
fn no_event(state: &mut State, external_event_id: &str) -> FakeResponse {
    state.error(
        404,
        "OBJECT_NOT_FOUND",
        &format!("Marketing event {external_event_id} does not exist"),
    )
}

/// `POST /events`: a new event; one with the same account and external id
/// is a 409.
fn create_event(state: &mut State, request: &FakeRequest, now: i64) -> FakeResponse {
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

/// `POST /events/upsert`: a batch of events created or replaced; one
/// invalid input refuses the whole batch.
fn upsert_events(state: &mut State, request: &FakeRequest, now: i64) -> FakeResponse {
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

/// `PATCH /events/{externalEventId}`: the fields given replaced.
fn update_event(state: &mut State, request: &FakeRequest, external_event_id: &str) -> FakeResponse {
    let Some(account) = request.query_param("externalAccountId") else {
        return state.error(400, "VALIDATION_ERROR", "externalAccountId is required");
    };
    let key = (account, external_event_id.to_string());
    let Some(mut event) = state.marketing_events.get(&key).cloned() else {
        return no_event(state, external_event_id);
    };
    if let (Some(target), Some(Value::Object(fields))) = (event.as_object_mut(), body_json(request))
    {
        target.extend(fields);
    }
    state.marketing_events.insert(key, event.clone());
    FakeResponse::json(200, &event_view(state, &event))
}

/// `POST /events/{externalEventId}/complete`: the event completed, with
/// its start and end times as given.
fn complete_event(
    state: &mut State,
    request: &FakeRequest,
    external_event_id: &str,
) -> FakeResponse {
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
        None => no_event(state, external_event_id),
    }
}

/// `GET /events/{externalEventId}`.
fn read_event(state: &mut State, request: &FakeRequest, external_event_id: &str) -> FakeResponse {
    let account = request.query_param("externalAccountId").unwrap_or_default();
    match state
        .marketing_events
        .get(&(account, external_event_id.to_string()))
    {
        Some(event) => FakeResponse::json(200, &event_view(state, event)),
        None => no_event(state, external_event_id),
    }
}

/// `GET /participations/{account}/{externalEventId}/breakdown`: the
/// event's participations with their contacts.
fn participations(state: &State, account: &str, external_event_id: &str) -> FakeResponse {
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

/// The live contact a timeline event is for: by `email`, or by `objectId`.
fn timeline_contact(state: &State, input: &Value) -> Option<u64> {
    match (str_field(input, "email"), input.get("objectId")) {
        (Some(email), _) => by_primary_email(state, email).map(|c| c.id),
        (None, Some(object_id)) => object_id
            .as_str()
            .map_or_else(|| object_id.to_string(), str::to_owned)
            .parse::<u64>()
            .ok()
            .filter(|id| state.contacts.get(id).is_some_and(|c| !c.archived)),
        (None, None) => None,
    }
}

/// Creates the timeline event `id` from `input`, answered as HubSpot's
/// `TimelineEventResponse`; or the error's category and message: no such
/// template or contact, a token the template does not define, `id` taken.
fn create_timeline_event(
    state: &mut State,
    input: &Value,
    id: &str,
    now: i64,
) -> Result<Value, (&'static str, String)> {
    let template_id = input
        .get("eventTemplateId")
        .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
        .unwrap_or_default();
    let Some(tokens) = template_tokens(state, &template_id) else {
        return Err((
            "VALIDATION_ERROR",
            format!("Event template {template_id} does not exist"),
        ));
    };
    let Some(contact_id) = timeline_contact(state, input) else {
        return Err((
            "OBJECT_NOT_FOUND",
            "The contact for this timeline event does not exist".into(),
        ));
    };
    let given = input
        .get("tokens")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if let Some(unknown) = given.keys().find(|k| !tokens.contains(k)) {
        return Err((
            "VALIDATION_ERROR",
            format!("Token {unknown} is not defined on template {template_id}"),
        ));
    }
    if state.timeline_events.contains_key(id) {
        return Err(("CONFLICT", format!("An event with id {id} already exists")));
    }
    let event = json!({
        "id": id,
        "eventTemplateId": template_id,
        "objectId": contact_id.to_string(),
        "tokens": given,
        "extraData": input.get("extraData").cloned().unwrap_or(Value::Null),
        "timestamp": input.get("timestamp").cloned().unwrap_or_else(|| json!(crate::clock::rfc3339(now))),
    });
    state.timeline_events.insert(id.to_owned(), event.clone());
    // HubSpot's `TimelineEventResponse` requires `objectType`.
    let mut result = event;
    result["objectType"] = json!("contacts");
    result["createdAt"] = json!(crate::clock::rfc3339(now));
    Ok(result)
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
        let id = str_field(input, "id")
            .map(str::to_owned)
            .unwrap_or_else(|| format!("generated-{}", state.id()));
        match create_timeline_event(state, input, &id, now) {
            Ok(result) => results.push(result),
            Err((category, message)) => {
                errors.push(state.item_error(category, &message, json!({ "id": [id] })));
            }
        }
    }
    state.batch_answer(results, errors, 201, now)
}
