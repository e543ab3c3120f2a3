//! HubSpot's custom workflow action definitions (R21), API v4
//! (developers.hubspot.com/docs/api-reference/automation-actions-v4-v4/definitions):
//!
//! - `GET /automation/v4/actions/{appId}`: the app's definitions, paged
//!   (`limit`, `after`), archived ones only with `archived=true`
//!   (`CollectionResponsePublicActionDefinitionForwardPaging`);
//! - `POST /automation/v4/actions/{appId}`: 201 and the definition with its
//!   `id` and `revisionId` (`PublicActionDefinitionEgg` in,
//!   `PublicActionDefinition` out); HubSpot keeps a second definition with
//!   the same `actionUrl` as another one, so a client looks before it posts;
//! - `GET` and `PATCH /automation/v4/actions/{appId}/{definitionId}`: one
//!   definition, and an update of the fields given (a new revision);
//! - `DELETE` of one: archived (`archivedAt`), 204.
//!
//! Only the developer account's API key (`hapikey`) opens them, never the
//! portal's token: the reference's only authorization for every one is
//! `hapikey` (query, required), and HubSpot's Python client sends them with
//! `auth_settings = ["developer_hapikey"]` alone (`routes.rs` checks it).
//!
//! What a body needs is the client 12.0.0 models' required fields
//! (`actionUrl`, `functions`, `inputFields`, `labels`, `objectTypes`,
//! `published`; per field `typeDefinition.name` and `type`, `isRequired`),
//! and an English label with the action's name ("At a minimum, an english
//! label (en) and its definition must be defined", HubSpot's custom
//! workflow actions page). HubSpot's own example fields leave out
//! `options` and `externalOptions`, which its answer model requires: the
//! fake fills them in, as HubSpot's answers must. Where the docs are
//! silent the fake refuses: an unknown value type or field type, a PATCH
//! field the patch model does not have.

use serde_json::{Map, Value, json};

use super::{FakeRequest, FakeResponse, State, body_json, page, query_flag};

const VALUE_TYPES: &[&str] = &[
    "STATIC_VALUE",
    "OBJECT_PROPERTY",
    "FIELD_DATA",
    "FETCHED_OBJECT_PROPERTY",
    "ENROLLMENT_EVENT_PROPERTY",
];
const FIELD_TYPES: &[&str] = &[
    "string",
    "number",
    "bool",
    "datetime",
    "enumeration",
    "date",
    "phone_number",
    "currency_number",
    "json",
    "object_coordinates",
];
/// `PublicActionDefinitionPatch`'s fields.
const PATCHABLE: &[&str] = &[
    "actionUrl",
    "inputFields",
    "outputFields",
    "inputFieldDependencies",
    "published",
    "executionRules",
    "objectTypes",
    "objectRequestOptions",
    "labels",
];

/// `/automation/v4/actions/{appId}` and below: whether `segments` is one
/// (the callbacks API shares the prefix, and takes the portal's token).
pub(crate) fn is_definition_path(segments: &[&str]) -> bool {
    matches!(
        segments,
        ["automation", "v4", "actions", app] | ["automation", "v4", "actions", app, _]
            if *app != "callbacks"
    )
}

/// One field's shape, or why not; `typeDefinition` filled in as HubSpot's
/// answer has it.
fn field(value: &Value, input: bool) -> Result<Value, String> {
    let mut field = value.clone();
    let definition = field
        .get_mut("typeDefinition")
        .and_then(Value::as_object_mut)
        .ok_or("every field needs a typeDefinition")?;
    let name = definition
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .ok_or("typeDefinition.name is required")?
        .to_owned();
    match definition.get("type").and_then(Value::as_str) {
        Some(kind) if FIELD_TYPES.contains(&kind) => {}
        other => {
            return Err(format!(
                "field {name}: type {other:?} is not one of {FIELD_TYPES:?}"
            ));
        }
    }
    definition.entry("options").or_insert_with(|| json!([]));
    definition
        .entry("externalOptions")
        .or_insert_with(|| json!(false));
    if input {
        if !field.get("isRequired").is_some_and(Value::is_boolean) {
            return Err(format!("input field {name}: isRequired is required"));
        }
        let types = field
            .get("supportedValueTypes")
            .and_then(Value::as_array)
            .ok_or(format!(
                "input field {name}: supportedValueTypes is required"
            ))?;
        if let Some(bad) = types
            .iter()
            .find(|t| !t.as_str().is_some_and(|t| VALUE_TYPES.contains(&t)))
        {
            return Err(format!(
                "input field {name}: {bad} is not one of {VALUE_TYPES:?}"
            ));
        }
    }
    Ok(field)
}

/// Checks and fills in the fields of a body; `patch` checks only those given.
fn checked(body: &Map<String, Value>, patch: bool) -> Result<Map<String, Value>, String> {
    let mut out = body.clone();
    let present = |name: &str| !patch || body.contains_key(name);
    if present("actionUrl") {
        let url = body.get("actionUrl").and_then(Value::as_str).unwrap_or("");
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(format!("actionUrl must be an absolute URL, not {url:?}"));
        }
    }
    if present("published") && !body.get("published").is_some_and(Value::is_boolean) {
        return Err("published is required (true or false)".into());
    }
    if present("objectTypes") {
        let types = body.get("objectTypes").and_then(Value::as_array);
        if !types.is_some_and(|t| !t.is_empty() && t.iter().all(Value::is_string)) {
            return Err("objectTypes is required: the object types, e.g. [\"CONTACT\"]".into());
        }
    }
    if !patch && !body.get("functions").is_some_and(Value::is_array) {
        return Err("functions is required (an empty list for none)".into());
    }
    for (name, input, required) in [("inputFields", true, true), ("outputFields", false, false)] {
        match body.get(name) {
            None if !required || patch => {}
            Some(Value::Array(fields)) => {
                let fields = fields
                    .iter()
                    .map(|f| field(f, input))
                    .collect::<Result<Vec<_>, _>>()?;
                out.insert(name.into(), Value::Array(fields));
            }
            _ => return Err(format!("{name} must be a list of fields")),
        }
    }
    if present("labels") {
        let named = body
            .get("labels")
            .and_then(|l| l.pointer("/en/actionName"))
            .and_then(Value::as_str)
            .is_some_and(|n| !n.is_empty());
        if !named {
            return Err("labels.en.actionName is required: at least an English label".into());
        }
    }
    Ok(out)
}

impl State {
    /// `/automation/v4/actions/{appId}/...` (`rest` after the app id),
    /// already let in with the developer key.
    pub(crate) fn action_definitions(
        &mut self,
        request: &FakeRequest,
        app_id: &str,
        rest: &[&str],
        now: i64,
    ) -> FakeResponse {
        match (request.method.as_str(), rest) {
            ("GET", []) => {
                let archived = query_flag(request, "archived");
                let listed: Vec<&Value> = self
                    .action_definitions
                    .get(app_id)
                    .into_iter()
                    .flatten()
                    .filter(|d| d["archivedAt"].is_number() == archived)
                    .collect();
                FakeResponse::json(200, &page(request, &listed, 10, 100))
            }
            ("POST", []) => self.create_action_definition(request, app_id),
            (method, [id]) => {
                let Some(index) = self
                    .action_definitions
                    .get(app_id)
                    .and_then(|list| list.iter().position(|d| d["id"] == *id))
                else {
                    return self.error(
                        404,
                        "OBJECT_NOT_FOUND",
                        &format!("No action definition {id} for app {app_id}"),
                    );
                };
                self.action_definition(request, method, app_id, index, now)
            }
            _ => self.error(
                405,
                "METHOD_NOT_ALLOWED",
                &format!("{} is not allowed here", request.method),
            ),
        }
    }

    fn create_action_definition(&mut self, request: &FakeRequest, app_id: &str) -> FakeResponse {
        let Some(Value::Object(body)) = body_json(request) else {
            return self.error(400, "VALIDATION_ERROR", "Invalid input JSON on line 1");
        };
        let mut definition = match checked(&body, false) {
            Ok(definition) => definition,
            Err(reason) => return self.error(400, "VALIDATION_ERROR", &reason),
        };
        // The developer account's, not the portal's: ids of their own
        // sequence (and no shift in the portal's record ids).
        let id = 500_000
            + self
                .action_definitions
                .values()
                .map(Vec::len)
                .sum::<usize>()
            + 1;
        definition.insert("id".into(), json!(id.to_string()));
        definition.insert("revisionId".into(), json!("1"));
        let definition = Value::Object(definition);
        self.action_definitions
            .entry(app_id.to_owned())
            .or_default()
            .push(definition.clone());
        FakeResponse::json(201, &definition)
    }

    fn action_definition(
        &mut self,
        request: &FakeRequest,
        method: &str,
        app_id: &str,
        index: usize,
        now: i64,
    ) -> FakeResponse {
        let current = self.action_definitions[app_id][index].clone();
        let archived = current["archivedAt"].is_number();
        match method {
            "GET" if !archived || query_flag(request, "archived") => {
                FakeResponse::json(200, &current)
            }
            "PATCH" if !archived => {
                let Some(Value::Object(patch)) = body_json(request) else {
                    return self.error(400, "VALIDATION_ERROR", "Invalid input JSON on line 1");
                };
                if let Some(unknown) = patch.keys().find(|k| !PATCHABLE.contains(&k.as_str())) {
                    return self.error(
                        400,
                        "VALIDATION_ERROR",
                        &format!("Unrecognized field {unknown:?}: a patch takes {PATCHABLE:?}"),
                    );
                }
                let patch = match checked(&patch, true) {
                    Ok(patch) => patch,
                    Err(reason) => return self.error(400, "VALIDATION_ERROR", &reason),
                };
                let mut updated = current;
                for (name, value) in patch {
                    updated[name] = value;
                }
                let revision = updated["revisionId"]
                    .as_str()
                    .and_then(|r| r.parse::<u64>().ok())
                    .unwrap_or(1);
                updated["revisionId"] = json!((revision + 1).to_string());
                self.action_definitions
                    .entry(app_id.to_owned())
                    .or_default()[index] = updated.clone();
                FakeResponse::json(200, &updated)
            }
            "DELETE" if !archived => {
                self.action_definitions
                    .entry(app_id.to_owned())
                    .or_default()[index]["archivedAt"] = json!(now);
                FakeResponse::empty(204)
            }
            "GET" | "PATCH" | "DELETE" => self.error(
                404,
                "OBJECT_NOT_FOUND",
                &format!("Action definition {} is archived", current["id"]),
            ),
            _ => self.error(
                405,
                "METHOD_NOT_ALLOWED",
                &format!("{method} is not allowed here"),
            ),
        }
    }

    /// The definition the workflow engine runs for `app_id`: its newest
    /// published, live one for contacts.
    pub(crate) fn live_action_definition(&self, app_id: &str) -> Option<&Value> {
        self.action_definitions.get(app_id)?.iter().rev().find(|d| {
            d["published"] == true
                && !d["archivedAt"].is_number()
                && d["objectTypes"]
                    .as_array()
                    .is_some_and(|t| t.iter().any(|t| t == "CONTACT"))
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::super::tests::crm;
    use super::super::{DEVELOPER_API_KEY, workflows::ActionInput};
    use crate::fakes::testing::{json as body, request};
    use crate::outbound::{FakeResponse, FakeService};

    const BASE: &str = "https://api.hubapi.com/automation/v4/actions/77";

    fn developer(
        crm: &super::super::FakeCrm,
        method: &str,
        rest: &str,
        b: Option<Value>,
    ) -> FakeResponse {
        let joiner = if rest.contains('?') { '&' } else { '?' };
        let url = format!("{BASE}{rest}{joiner}hapikey={DEVELOPER_API_KEY}");
        crm.handle(&request(method, &url, None, b))
    }

    fn egg(url: &str) -> Value {
        json!({
            "actionUrl": url, "published": true, "objectTypes": ["CONTACT"], "functions": [],
            "inputFields": [{
                "typeDefinition": { "name": "webinar_id", "type": "string", "fieldType": "text" },
                "supportedValueTypes": ["STATIC_VALUE", "OBJECT_PROPERTY"], "isRequired": true,
            }],
            "labels": { "en": { "actionName": "Add contact to Zoom webinar" } },
        })
    }

    #[test]
    fn r21_definitions_take_the_developer_key_only_never_the_portal_token() {
        let (crm, _) = crm();
        for authorization in [Some("Bearer t"), None] {
            let answer = crm.handle(&request(
                "POST",
                BASE,
                authorization,
                Some(egg("https://a.example/x")),
            ));
            assert_eq!(answer.status, 401, "{}", body(&answer));
            assert!(
                body(&answer)["message"]
                    .as_str()
                    .unwrap()
                    .contains("hapikey")
            );
        }
        let wrong = crm.handle(&request("GET", &format!("{BASE}?hapikey=nope"), None, None));
        assert_eq!(wrong.status, 401);
        // The callbacks API under the same prefix still takes the token.
        let callback = crm.handle(&request(
            "POST",
            "https://api.hubapi.com/automation/v4/actions/callbacks/x/complete",
            Some("Bearer t"),
            Some(json!({ "outputFields": { "hs_execution_state": "SUCCESS" } })),
        ));
        assert_eq!(callback.status, 404, "{}", body(&callback));
    }

    #[test]
    fn r21_a_definition_is_made_listed_and_patched_into_a_new_revision() {
        let (crm, _) = crm();
        let made = developer(&crm, "POST", "", Some(egg("https://a.example/x")));
        assert_eq!(made.status, 201, "{}", body(&made));
        let made = body(&made);
        assert_eq!(made["revisionId"], "1");
        // HubSpot's answer model requires what its own examples leave out.
        assert_eq!(
            made["inputFields"][0]["typeDefinition"]["options"],
            json!([])
        );
        assert_eq!(
            made["inputFields"][0]["typeDefinition"]["externalOptions"],
            false
        );
        let id = made["id"].as_str().unwrap().to_owned();

        let listed = body(&developer(&crm, "GET", "?limit=100", None));
        assert_eq!(listed["results"].as_array().unwrap().len(), 1);

        let patched = developer(
            &crm,
            "PATCH",
            &format!("/{id}"),
            Some(json!({ "actionUrl": "https://b.example/x" })),
        );
        assert_eq!(patched.status, 200, "{}", body(&patched));
        assert_eq!(body(&patched)["revisionId"], "2");
        assert_eq!(body(&patched)["actionUrl"], "https://b.example/x");
        // `functions` is not a patch field.
        let refused = developer(
            &crm,
            "PATCH",
            &format!("/{id}"),
            Some(json!({ "functions": [] })),
        );
        assert_eq!(refused.status, 400);
        let missing = developer(&crm, "PATCH", "/999", Some(json!({})));
        assert_eq!(missing.status, 404);

        // Archived: gone from the list, there with `archived=true`.
        assert_eq!(
            developer(&crm, "DELETE", &format!("/{id}"), None).status,
            204
        );
        let listed = body(&developer(&crm, "GET", "", None));
        assert!(listed["results"].as_array().unwrap().is_empty());
        let archived = body(&developer(&crm, "GET", "?archived=true", None));
        assert_eq!(archived["results"].as_array().unwrap().len(), 1);
    }

    #[test]
    fn r21_a_definition_without_what_hubspot_requires_is_a_400() {
        let (crm, _) = crm();
        let cases: [(&str, Value); 6] = [
            ("actionUrl", json!("not a url")),
            ("published", Value::Null),
            ("objectTypes", json!([])),
            ("functions", Value::Null),
            ("labels", json!({ "fr": { "actionName": "x" } })),
            (
                "inputFields",
                json!([{ "typeDefinition": { "name": "w", "type": "string" }, "supportedValueTypes": ["NOPE"], "isRequired": true }]),
            ),
        ];
        for (field, value) in cases {
            let mut bad = egg("https://a.example/x");
            if value.is_null() {
                bad.as_object_mut().unwrap().remove(field);
            } else {
                bad[field] = value;
            }
            let answer = developer(&crm, "POST", "", Some(bad));
            assert_eq!(answer.status, 400, "{field}: {}", body(&answer));
            assert_eq!(body(&answer)["category"], "VALIDATION_ERROR");
        }
    }

    #[test]
    fn r21_the_workflow_engine_sends_to_the_definitions_url_with_its_id() {
        let (crm, _) = crm();
        let contact = crm.contacts()[0].id;
        let input = ActionInput::Fixed("81".into());
        assert!(
            crm.action_request("77", "cb", contact, &input, "s")
                .is_err()
        );
        let made = body(&developer(
            &crm,
            "POST",
            "",
            Some(egg("https://a.example/x")),
        ));
        let signed = crm
            .action_request("77", "cb", contact, &input, "s")
            .unwrap();
        assert_eq!(signed.action_url, "https://a.example/x");
        let sent: Value = serde_json::from_slice(&signed.body).unwrap();
        assert_eq!(
            sent["origin"]["actionDefinitionId"].to_string(),
            made["id"].as_str().unwrap()
        );
        assert_eq!(sent["inputFields"]["webinar_id"], "81");
        // A field without OBJECT_PROPERTY takes no contact property.
        let id = made["id"].as_str().unwrap();
        let mut static_only = egg("https://a.example/x")["inputFields"].clone();
        static_only[0]["supportedValueTypes"] = json!(["STATIC_VALUE"]);
        let patched = developer(
            &crm,
            "PATCH",
            &format!("/{id}"),
            Some(json!({ "inputFields": static_only })),
        );
        assert_eq!(patched.status, 200, "{}", body(&patched));
        let property = ActionInput::Property("next_webinar".into());
        let refused = crm.action_request("77", "cb2", contact, &property, "s");
        assert!(refused.err().unwrap().contains("OBJECT_PROPERTY"));
    }
}
