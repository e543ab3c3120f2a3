//! Fake CRM, in HubSpot's CRM v3 shapes (`api.hubapi.com`).

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde_json::{Value, json};

use super::bearer;
use crate::outbound::{FakeRequest, FakeResponse, FakeService};

pub const API_HOST: &str = "api.hubapi.com";

pub struct FakeCrm {
    access_token: String,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    property_groups: BTreeMap<String, Value>,
    contact_properties: BTreeMap<String, Value>,
    /// Event templates per app id, in creation order.
    event_templates: BTreeMap<String, Vec<Value>>,
    next_id: u64,
    correlation: u64,
}

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

impl State {
    /// HubSpot's standard error body.
    fn error(&mut self, status: u16, category: &str, message: &str) -> FakeResponse {
        self.correlation += 1;
        FakeResponse::json(
            status,
            &json!({
                "status": "error",
                "message": message,
                "category": category,
                "correlationId": format!("00000000-0000-4000-8000-{:012x}", self.correlation),
            }),
        )
    }

    fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

fn body_json(request: &FakeRequest) -> Option<Value> {
    serde_json::from_slice(&request.body).ok()
}

fn str_field<'a>(body: &'a Value, name: &str) -> Option<&'a str> {
    body.get(name)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

impl FakeCrm {
    pub fn new(access_token: &str) -> Self {
        Self {
            access_token: access_token.to_owned(),
            state: Mutex::new(State::default()),
        }
    }

    /// The CRM's data as JSON, for snapshots.
    pub fn dump(&self) -> Value {
        let state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        json!({
            "property_groups": state.property_groups.values().collect::<Vec<_>>(),
            "contact_properties": state.contact_properties.values().collect::<Vec<_>>(),
            "event_templates": state.event_templates,
        })
    }

    fn route(&self, state: &mut State, request: &FakeRequest) -> FakeResponse {
        let segments: Vec<&str> = request.path().trim_matches('/').split('/').collect();
        match (request.method.as_str(), segments.as_slice()) {
            ("POST", ["crm", "v3", "properties", "contacts", "groups"]) => {
                create_group(state, request)
            }
            ("GET", ["crm", "v3", "properties", "contacts", "groups"]) => FakeResponse::json(
                200,
                &json!({ "results": state.property_groups.values().collect::<Vec<_>>() }),
            ),
            ("POST", ["crm", "v3", "properties", "contacts"]) => create_property(state, request),
            ("GET", ["crm", "v3", "properties", "contacts"]) => FakeResponse::json(
                200,
                &json!({ "results": state.contact_properties.values().collect::<Vec<_>>() }),
            ),
            ("GET", ["crm", "v3", "timeline", app_id, "event-templates"]) => FakeResponse::json(
                200,
                &json!({ "results": state.event_templates.get(*app_id).cloned().unwrap_or_default() }),
            ),
            ("POST", ["crm", "v3", "timeline", app_id, "event-templates"]) => {
                create_event_template(state, app_id, request)
            }
            _ => state.error(
                404,
                "OBJECT_NOT_FOUND",
                &format!("No route for {} {}", request.method, request.path()),
            ),
        }
    }
}

fn create_group(state: &mut State, request: &FakeRequest) -> FakeResponse {
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
    if state.property_groups.contains_key(name) {
        return state.error(
            409,
            "OBJECT_ALREADY_EXISTS",
            &format!("A property group named '{name}' already exists."),
        );
    }
    let group = json!({ "name": name, "label": label, "displayOrder": body.get("displayOrder").cloned().unwrap_or(json!(-1)), "archived": false });
    state.property_groups.insert(name.to_owned(), group.clone());
    FakeResponse::json(201, &group)
}

fn create_property(state: &mut State, request: &FakeRequest) -> FakeResponse {
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
    if !state.property_groups.contains_key(group) {
        return state.error(
            400,
            "VALIDATION_ERROR",
            &format!("Property group {group} does not exist"),
        );
    }
    if state.contact_properties.contains_key(name) {
        return state.error(
            409,
            "OBJECT_ALREADY_EXISTS",
            &format!("A property named '{name}' already exists."),
        );
    }
    let property = json!({
        "name": name, "label": label, "type": kind, "fieldType": field_type, "groupName": group,
        "description": field("description").unwrap_or_default(), "hasUniqueValue": false, "archived": false,
    });
    state
        .contact_properties
        .insert(name.to_owned(), property.clone());
    FakeResponse::json(201, &property)
}

fn create_event_template(state: &mut State, app_id: &str, request: &FakeRequest) -> FakeResponse {
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

impl FakeService for FakeCrm {
    fn handle(&self, request: &FakeRequest) -> FakeResponse {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if bearer(request.header("authorization")) != Some(self.access_token.as_str()) {
            return state.error(
                401,
                "INVALID_AUTHENTICATION",
                "Authentication credentials not found. This API supports OAuth 2.0 authentication.",
            );
        }
        self.route(&mut state, request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(path: &str, body: Value, token: &str) -> FakeRequest {
        let mut headers = http::HeaderMap::new();
        headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
        FakeRequest {
            method: http::Method::POST,
            uri: format!("https://api.hubapi.com{path}").parse().unwrap(),
            headers,
            body: body.to_string().into(),
        }
    }

    fn json_of(answer: &FakeResponse) -> Value {
        serde_json::from_slice(&answer.body).unwrap()
    }

    #[test]
    fn a_wrong_token_is_a_401_in_hubspot_shape() {
        let crm = FakeCrm::new("right");
        let answer = crm.handle(&post(
            "/crm/v3/properties/contacts/groups",
            json!({}),
            "wrong",
        ));
        assert_eq!(answer.status, 401);
        let body = json_of(&answer);
        assert_eq!(body["status"], "error");
        assert_eq!(body["category"], "INVALID_AUTHENTICATION");
        assert!(body["correlationId"].is_string());
    }

    #[test]
    fn a_duplicate_property_is_a_409() {
        let crm = FakeCrm::new("t");
        let group = json!({ "name": "g", "label": "G" });
        assert_eq!(
            crm.handle(&post(
                "/crm/v3/properties/contacts/groups",
                group.clone(),
                "t"
            ))
            .status,
            201
        );
        assert_eq!(
            crm.handle(&post("/crm/v3/properties/contacts/groups", group, "t"))
                .status,
            409
        );
        let property = json!({ "name": "p", "label": "P", "type": "number", "fieldType": "number", "groupName": "g" });
        assert_eq!(
            crm.handle(&post("/crm/v3/properties/contacts", property.clone(), "t"))
                .status,
            201
        );
        let again = crm.handle(&post("/crm/v3/properties/contacts", property, "t"));
        assert_eq!(again.status, 409);
        assert_eq!(json_of(&again)["category"], "OBJECT_ALREADY_EXISTS");
    }

    #[test]
    fn invalid_type_pairs_and_unknown_groups_are_400s() {
        let crm = FakeCrm::new("t");
        let bad_pair = json!({ "name": "p", "label": "P", "type": "number", "fieldType": "text", "groupName": "g" });
        let answer = crm.handle(&post("/crm/v3/properties/contacts", bad_pair, "t"));
        assert_eq!(answer.status, 400);
        assert!(
            json_of(&answer)["message"]
                .as_str()
                .unwrap()
                .contains("field type text")
        );
        let no_group = json!({ "name": "p", "label": "P", "type": "number", "fieldType": "number", "groupName": "g" });
        assert_eq!(
            crm.handle(&post("/crm/v3/properties/contacts", no_group, "t"))
                .status,
            400
        );
    }
}
