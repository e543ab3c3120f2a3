//! The fake CRM's schema calls: property groups and properties of contacts
//! and calls (R12), and timeline event templates (R10).

use serde_json::{Value, json};

use super::{FakeRequest, FakeResponse, State, body_json, str_field};

/// The property type / field type pairs the CRM accepts.
const VALID_TYPE_PAIRS: &[(&str, &str)] = &[
    ("number", "number"),
    ("string", "text"),
    ("string", "textarea"),
    ("datetime", "date"),
    ("date", "date"),
    ("enumeration", "select"),
    ("enumeration", "checkbox"),
    ("enumeration", "radio"),
    ("bool", "booleancheckbox"),
];

pub(super) fn create_group(state: &mut State, object: &str, request: &FakeRequest) -> FakeResponse {
    let Some(body) = body_json(request) else {
        return state.error(400, "VALIDATION_ERROR", "Invalid input JSON on line 1");
    };
    let (Some(name), Some(label)) = (str_field(&body, "name"), str_field(&body, "label")) else {
        return state.error(
            400,
            "VALIDATION_ERROR",
            "Property group requires a name and a label",
        );
    };
    if state.schema(object).0.contains_key(name) {
        return state.error(
            409,
            "OBJECT_ALREADY_EXISTS",
            &format!("A property group named '{name}' already exists."),
        );
    }
    let group = json!({
        "name": name, "label": label,
        "displayOrder": body.get("displayOrder").cloned().unwrap_or(json!(-1)), "archived": false,
    });
    state
        .schema(object)
        .0
        .insert(name.to_owned(), group.clone());
    FakeResponse::json(201, &group)
}

pub(super) fn create_property(
    state: &mut State,
    object: &str,
    request: &FakeRequest,
) -> FakeResponse {
    let Some(body) = body_json(request) else {
        return state.error(400, "VALIDATION_ERROR", "Invalid input JSON on line 1");
    };
    let field = |name| str_field(&body, name);
    let (Some(name), Some(label), Some(kind), Some(field_type), Some(group)) = (
        field("name"),
        field("label"),
        field("type"),
        field("fieldType"),
        field("groupName"),
    ) else {
        return state.error(
            400,
            "VALIDATION_ERROR",
            "Property requires name, label, type, fieldType and groupName",
        );
    };
    if !VALID_TYPE_PAIRS.contains(&(kind, field_type)) {
        return state.error(
            400,
            "VALIDATION_ERROR",
            &format!("Property type {kind} does not support field type {field_type}"),
        );
    }
    if !state.schema(object).0.contains_key(group) {
        return state.error(
            400,
            "VALIDATION_ERROR",
            &format!("Property group {group} does not exist"),
        );
    }
    if state.schema(object).1.contains_key(name) {
        return state.error(
            409,
            "OBJECT_ALREADY_EXISTS",
            &format!("A property named '{name}' already exists."),
        );
    }
    // HubSpot's `Property` model requires `options` (empty for a type
    // without them) and `description`.
    let options = body.get("options").cloned().unwrap_or_else(|| json!([]));
    let property = json!({
        "name": name, "label": label, "type": kind, "fieldType": field_type, "groupName": group,
        "description": field("description").unwrap_or_default(), "options": options,
        "hasUniqueValue": false, "archived": false, "hidden": false, "formField": false,
        "calculated": false, "externalOptions": false, "hubspotDefined": false,
    });
    state
        .schema(object)
        .1
        .insert(name.to_owned(), property.clone());
    FakeResponse::json(201, &property)
}

pub(super) fn create_event_template(
    state: &mut State,
    app_id: &str,
    request: &FakeRequest,
) -> FakeResponse {
    let Some(body) = body_json(request) else {
        return state.error(400, "VALIDATION_ERROR", "Invalid input JSON on line 1");
    };
    if str_field(&body, "name").is_none() || str_field(&body, "objectType").is_none() {
        return state.error(
            400,
            "VALIDATION_ERROR",
            "Event template requires name and objectType",
        );
    }
    let valid_tokens = body
        .get("tokens")
        .and_then(Value::as_array)
        .is_some_and(|tokens| {
            tokens.iter().all(|t| {
                str_field(t, "name").is_some()
                    && matches!(
                        str_field(t, "type"),
                        Some("string" | "number" | "date" | "enumeration")
                    )
            })
        });
    if !valid_tokens {
        return state.error(
            400,
            "VALIDATION_ERROR",
            "Every token needs a name and a type of string, number, date or enumeration",
        );
    }
    let id = state.id();
    let mut template = body;
    template["id"] = json!(id.to_string());
    state
        .event_templates
        .entry(app_id.to_owned())
        .or_default()
        .push(template.clone());
    FakeResponse::json(201, &template)
}
