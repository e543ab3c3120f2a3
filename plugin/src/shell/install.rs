//! `lifecycle.install`: check the Zoom connection, then create the property
//! groups, the contact properties (R12), the calls' key property, the
//! activity events' backend (R10: timeline templates or custom event
//! definitions, `crm::activity`) and the workflow action's definition
//! (R21, `crm::workflow_action`) in the CRM. Safe to run twice: what exists
//! is left as it is (the action's definition is updated in place). A
//! backend the CRM refuses, or an action without the developer key to
//! register it, does not fail install: the report says what was not set
//! up, why, and what to do by hand.

use super::crm::{Created, CrmClient, activity, workflow_action};
use super::http::HttpClient;
use super::{Config, PluginError, Store, zoom};
use crate::core::definitions;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct InstallReport {
    pub created: Vec<String>,
    pub already_present: Vec<String>,
    /// What could not be set up, each with why (R10: activity events the
    /// CRM app has no access to); the rest of the integration works.
    pub not_set_up: Vec<String>,
}

impl InstallReport {
    fn record(&mut self, what: String, outcome: &Created) {
        match outcome {
            Created::New(_) => self.created.push(what),
            Created::AlreadyExists(_) => self.already_present.push(what),
        }
    }
}

pub fn install(
    http: &dyn HttpClient,
    config: &dyn Config,
    store: &dyn Store,
) -> Result<InstallReport, PluginError> {
    // R19f "connected Zoom account not found": fail install early with the reason.
    let token = zoom::fetch_token(http, config)?;
    // R19f, R25: a Zoom app without a scope the sync needs fails install in
    // one line naming the scopes to add, instead of every sync failing later.
    // Only the Dashboard's (past webinars, Business plans) is optional: the
    // backfill says when it could not use it.
    if let Some(missing) = token
        .scope
        .as_deref()
        .and_then(zoom::scopes::missing_required)
    {
        return Err(PluginError::Configuration(missing));
    }

    let crm = CrmClient::connect(http, config)?;
    let mut report = InstallReport::default();

    let group = definitions::PROPERTY_GROUP;
    let properties = [
        ("contacts", definitions::contact_properties()),
        ("calls", definitions::call_properties()),
    ];
    for (object, definitions) in properties {
        let outcome = crm.create_property_group(object, &group)?;
        let kind = object.trim_end_matches('s');
        report.record(format!("{kind} property group {}", group.name), &outcome);
        for property in definitions {
            let outcome = crm.create_property(object, &property, group.name)?;
            report.record(format!("{kind} property {}", property.name), &outcome);
        }
    }

    // R10: the activity events' backend.
    let activity = activity::install(&crm, config, store)?;
    for (what, outcome) in activity.outcomes {
        report.record(what, &outcome);
    }
    report.not_set_up = activity.not_set_up;

    // R21: the workflow action's definition, with the developer key.
    let action = workflow_action::register(&crm, config)?;
    for (what, outcome) in action.outcomes {
        report.record(what, &outcome);
    }
    report.not_set_up.extend(action.not_set_up);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;
    use crate::shell::http::{Method, Request, Response, TransportError};
    use crate::shell::memory::MemoryStore;

    /// A CRM that remembers what was created and answers 409 the second time.
    #[derive(Default)]
    struct ScriptedServices {
        created: RefCell<Vec<String>>,
        requests: RefCell<Vec<(Method, String)>>,
        /// Timeline template calls answer this status (403: no timeline access).
        refuse_timeline: Option<u16>,
        /// The workflow action definitions (R21): (id, body), as HubSpot keeps them.
        actions: RefCell<Vec<(String, serde_json::Value)>>,
        /// Definition calls answer this status (401: the key refused).
        refuse_actions: Option<u16>,
    }

    impl ScriptedServices {
        /// `/automation/v4/actions/{appId}[/{id}]`: listed, made, updated.
        fn action_definitions(&self, request: &Request) -> Result<Response, TransportError> {
            // R21: the developer key in `hapikey`, never the portal's token.
            assert!(
                request
                    .url
                    .contains("hapikey=value-of-crm.developer-api-key"),
                "{}",
                request.url
            );
            assert!(!request.headers.iter().any(|(n, _)| n == "authorization"));
            let answer = |status: u16, body: serde_json::Value| {
                Ok(Response {
                    status,
                    body: body.to_string().into_bytes(),
                })
            };
            if let Some(status) = self.refuse_actions {
                return answer(status, serde_json::json!({ "message": "bad hapikey" }));
            }
            let path = request.url.split('?').next().unwrap();
            let rest = path
                .strip_prefix("https://api.hubapi.com/automation/v4/actions/value-of-crm.app-id")
                .unwrap();
            let mut actions = self.actions.borrow_mut();
            match (request.method, rest.trim_matches('/')) {
                (Method::Get, "") => {
                    let results: Vec<_> = actions
                        .iter()
                        .map(|(id, body)| {
                            let mut listed = body.clone();
                            listed["id"] = serde_json::json!(id);
                            listed
                        })
                        .collect();
                    answer(200, serde_json::json!({ "results": results }))
                }
                (Method::Post, "") => {
                    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
                    let id = format!("{}", 500 + actions.len());
                    actions.push((id.clone(), body));
                    answer(201, serde_json::json!({ "id": id }))
                }
                (Method::Patch, id) => {
                    let patch: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
                    let (_, body) = actions.iter_mut().find(|(i, _)| i == id).unwrap();
                    for (k, v) in patch.as_object().unwrap() {
                        body[k] = v.clone();
                    }
                    answer(200, serde_json::json!({ "id": id }))
                }
                other => panic!("{other:?}"),
            }
        }
    }

    impl HttpClient for ScriptedServices {
        fn send(&self, request: Request) -> Result<Response, TransportError> {
            self.requests
                .borrow_mut()
                .push((request.method, request.url.clone()));
            let ok = |body: serde_json::Value| {
                Ok(Response {
                    status: 201,
                    body: body.to_string().into_bytes(),
                })
            };
            if request.url.starts_with(zoom::OAUTH_TOKEN_URL) {
                return ok(serde_json::json!({ "access_token": "t", "expires_in": 3600 }));
            }
            if request.url.contains("/automation/v4/actions/") {
                return self.action_definitions(&request);
            }
            if request.url.contains("event-templates") {
                // R10: the developer key in `hapikey`, never the portal's token.
                assert!(
                    request
                        .url
                        .contains("?hapikey=value-of-crm.developer-api-key")
                );
                assert!(!request.headers.iter().any(|(n, _)| n == "authorization"));
                if let Some(status) = self.refuse_timeline {
                    return Ok(Response {
                        status,
                        body: br#"{"status":"error","message":"no timeline access","category":"FORBIDDEN"}"#.to_vec(),
                    });
                }
            }
            if request.method == Method::Get {
                let templates: Vec<_> = self
                    .created
                    .borrow()
                    .iter()
                    .filter_map(|c| c.strip_prefix("template:"))
                    .enumerate()
                    .map(|(i, name)| serde_json::json!({ "id": i + 100, "name": name }))
                    .collect();
                return Ok(Response {
                    status: 200,
                    body: serde_json::json!({ "results": templates })
                        .to_string()
                        .into_bytes(),
                });
            }
            let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap();
            let kind = if request.url.contains("event-templates") {
                "template"
            } else {
                "property"
            };
            // Names are unique per object type: the contacts' and the
            // calls' groups share one.
            let name = body["name"].as_str().unwrap();
            let key = match request.url.split_once("/properties/") {
                Some((_, object)) => format!("{kind}:{object}:{name}"),
                None => format!("{kind}:{name}"),
            };
            if self.created.borrow().contains(&key) {
                return Ok(Response {
                    status: 409,
                    body: br#"{"status":"error","message":"exists"}"#.to_vec(),
                });
            }
            self.created.borrow_mut().push(key);
            ok(serde_json::json!({ "id": "7" }))
        }
    }

    /// Every key set; activity events through the timeline (R10).
    struct MapConfig;
    impl Config for MapConfig {
        fn get(&self, key: &str) -> Result<Option<String>, String> {
            Ok(Some(match key {
                crate::shell::keys::CRM_ACTIVITY_EVENTS => "timeline".to_owned(),
                _ => format!("value-of-{key}"),
            }))
        }
    }

    #[test]
    fn r12_install_twice_creates_once_and_keeps_the_template_ids() {
        let services = ScriptedServices::default();
        let store = MemoryStore::default();
        let first = install(&services, &MapConfig, &store).unwrap();
        // Contacts: group and four properties (R12); calls: group and key;
        // three templates (R10); the workflow action's definition (R21).
        assert_eq!(first.created.len(), 1 + 4 + 1 + 1 + 3 + 1);
        assert!(first.already_present.is_empty());
        assert_eq!(
            store
                .get(&crate::shell::schema::event_template("webinar-attendance"))
                .unwrap()
                .as_deref(),
            Some(&b"7"[..])
        );

        let second = install(&services, &MapConfig, &store).unwrap();
        assert!(second.created.is_empty(), "{second:?}");
        assert_eq!(second.already_present, first.created);
        // The second run found the templates by name and kept their CRM ids.
        assert_eq!(
            store
                .get(&crate::shell::schema::event_template(
                    "webinar-registration"
                ))
                .unwrap()
                .as_deref(),
            Some(&b"100"[..])
        );
    }

    #[test]
    fn r10_install_succeeds_and_says_what_it_could_not_set_up_when_timeline_access_is_refused() {
        for status in [401, 403] {
            let services = ScriptedServices {
                refuse_timeline: Some(status),
                ..ScriptedServices::default()
            };
            let store = MemoryStore::default();
            let report = install(&services, &MapConfig, &store).unwrap();
            // The properties and the action's definition are made; no template is.
            assert_eq!(report.created.len(), 1 + 4 + 1 + 1 + 1, "{report:?}");
            assert_eq!(report.not_set_up.len(), 1, "{report:?}");
            assert!(
                report.not_set_up[0]
                    .starts_with("activity events (registered, attended, recording available)"),
                "{report:?}"
            );
            let setup = activity::Setup::load(&store).unwrap();
            let note = setup.not_written_note().unwrap();
            assert!(
                note.contains("are not written to contact timelines"),
                "{note}"
            );
            assert!(
                note.ends_with("Attendance is on the marketing event."),
                "{note}"
            );
            let why = if status == 403 {
                "no timeline access"
            } else {
                "developer account's API key"
            };
            assert!(note.contains(why), "{note}");
        }
    }

    #[test]
    fn r10_install_without_a_developer_key_leaves_the_timeline_unset_and_says_so() {
        struct NoDeveloperKey;
        impl Config for NoDeveloperKey {
            fn get(&self, key: &str) -> Result<Option<String>, String> {
                match key {
                    crate::shell::keys::CRM_DEVELOPER_API_KEY => Ok(None),
                    other => MapConfig.get(other),
                }
            }
        }
        let services = ScriptedServices::default();
        let store = MemoryStore::default();
        let report = install(&services, &NoDeveloperKey, &store).unwrap();
        assert!(
            report.not_set_up[0].contains("crm.developer-api-key"),
            "{report:?}"
        );
        assert!(
            !services
                .requests
                .borrow()
                .iter()
                .any(|(_, url)| url.contains("timeline")),
            "no timeline call without the key"
        );
    }

    const ACTION: &str = "workflow action definition add-contact-to-zoom-webinar";

    #[test]
    fn r21_install_registers_the_workflow_action_once_and_updates_it_the_second_time() {
        let services = ScriptedServices::default();
        let store = MemoryStore::default();
        let first = install(&services, &MapConfig, &store).unwrap();
        assert!(first.created.iter().any(|c| c == ACTION), "{first:?}");
        assert!(first.not_set_up.is_empty(), "{first:?}");
        {
            let actions = services.actions.borrow();
            assert_eq!(actions.len(), 1);
            let body = &actions[0].1;
            assert_eq!(
                body["actionUrl"],
                "value-of-host.public-url/actions/add-contact-to-zoom-webinar"
            );
            assert_eq!(body["objectTypes"], serde_json::json!(["CONTACT"]));
            assert_eq!(body["published"], true);
        }

        // Labels changed since: the second install updates the one definition.
        services.actions.borrow_mut()[0].1["labels"] = serde_json::json!({});
        let second = install(&services, &MapConfig, &store).unwrap();
        assert!(
            second.already_present.iter().any(|c| c == ACTION),
            "{second:?}"
        );
        let actions = services.actions.borrow();
        assert_eq!(actions.len(), 1, "updated, not duplicated");
        assert_eq!(
            actions[0].1["labels"]["en"]["actionName"],
            "Add contact to Zoom webinar"
        );
        let requests = services.requests.borrow();
        let patches: Vec<_> = requests
            .iter()
            .filter(|(m, _)| *m == Method::Patch)
            .collect();
        assert_eq!(patches.len(), 1, "{requests:?}");
        assert!(
            patches[0]
                .1
                .contains("/automation/v4/actions/value-of-crm.app-id/500?")
        );
        drop((requests, actions));

        // Unchanged since: a third install writes nothing.
        let third = install(&services, &MapConfig, &store).unwrap();
        assert!(
            third.already_present.iter().any(|c| c == ACTION),
            "{third:?}"
        );
        let requests = services.requests.borrow();
        let patches = requests.iter().filter(|(m, _)| *m == Method::Patch);
        assert_eq!(patches.count(), 1, "{requests:?}");
        assert_eq!(services.actions.borrow().len(), 1);
    }

    #[test]
    fn r21_a_definition_left_at_the_hosts_old_address_is_moved_not_duplicated() {
        let services = ScriptedServices::default();
        let store = MemoryStore::default();
        install(&services, &MapConfig, &store).unwrap();
        // The host moved: its definition still sends to the old address.
        let old = "https://old.example/actions/add-contact-to-zoom-webinar";
        services.actions.borrow_mut()[0].1["actionUrl"] = serde_json::json!(old);
        // Another action of the app, at another path, is not this one.
        let other = serde_json::json!({ "actionUrl": "https://old.example/actions/other" });
        services.actions.borrow_mut().push(("900".into(), other));
        let again = install(&services, &MapConfig, &store).unwrap();
        assert!(
            again.already_present.iter().any(|c| c == ACTION),
            "{again:?}"
        );
        let actions = services.actions.borrow();
        let urls: Vec<&str> = actions
            .iter()
            .map(|(_, body)| body["actionUrl"].as_str().unwrap())
            .collect();
        assert_eq!(
            urls,
            [
                "value-of-host.public-url/actions/add-contact-to-zoom-webinar",
                "https://old.example/actions/other"
            ],
            "moved in place (issue 17), the other action untouched"
        );
    }

    #[test]
    fn r21_install_without_the_developer_key_says_in_one_line_how_to_register_the_action_by_hand() {
        struct Without(&'static str);
        impl Config for Without {
            fn get(&self, key: &str) -> Result<Option<String>, String> {
                if key == self.0 {
                    return Ok(None);
                }
                MapConfig.get(key)
            }
        }
        for missing in [
            crate::shell::keys::CRM_DEVELOPER_API_KEY,
            crate::shell::keys::CRM_APP_ID,
        ] {
            let services = ScriptedServices::default();
            let report = install(&services, &Without(missing), &MemoryStore::default());
            // Without the app id the timeline cannot be set up either.
            let report = match report {
                Ok(report) => report,
                Err(e) => {
                    assert_eq!(missing, crate::shell::keys::CRM_APP_ID, "{e:?}");
                    continue;
                }
            };
            let line = report
                .not_set_up
                .iter()
                .find(|l| l.starts_with("workflow action \"Add contact to Zoom webinar\""))
                .unwrap_or_else(|| panic!("{report:?}"));
            assert!(!line.contains('\n'), "{line}");
            assert!(
                line.contains(&format!("{missing} not configured")),
                "{line}"
            );
            assert!(
                line.contains("POST /automation/v4/actions/{appId}?hapikey="),
                "{line}"
            );
            assert!(
                !services
                    .requests
                    .borrow()
                    .iter()
                    .any(|(_, url)| url.contains("/automation/")),
                "no definition call without the key"
            );
        }
    }

    #[test]
    fn r21_a_refused_developer_key_leaves_the_action_unregistered_and_install_succeeds() {
        let services = ScriptedServices {
            refuse_actions: Some(401),
            ..ScriptedServices::default()
        };
        let report = install(&services, &MapConfig, &MemoryStore::default()).unwrap();
        assert!(!report.created.iter().any(|c| c == ACTION), "{report:?}");
        assert_eq!(report.not_set_up.len(), 1, "{report:?}");
        assert!(
            report.not_set_up[0].contains("refused the developer account's API key"),
            "{report:?}"
        );
    }

    #[test]
    fn install_stops_at_the_zoom_check_when_zoom_refuses_the_credentials() {
        struct RefusingZoom;
        impl HttpClient for RefusingZoom {
            fn send(&self, _request: Request) -> Result<Response, TransportError> {
                Ok(Response {
                    status: 400,
                    body: br#"{"reason":"Invalid client_id or client_secret","error":"invalid_client"}"#.to_vec(),
                })
            }
        }
        let err = install(&RefusingZoom, &MapConfig, &MemoryStore::default()).unwrap_err();
        let PluginError::Configuration(message) = err else {
            panic!("{err:?}")
        };
        assert!(
            message.contains("Invalid client_id or client_secret"),
            "{message}"
        );
        assert!(message.contains("zoom.client-id"), "{message}");
    }

    /// R19f: a token granted without the participants report's scope fails
    /// install in one line naming the scope, before anything is created in
    /// the CRM.
    #[test]
    fn install_fails_in_one_line_naming_a_missing_zoom_scope() {
        struct Granted;
        impl HttpClient for Granted {
            fn send(&self, request: Request) -> Result<Response, TransportError> {
                assert!(
                    request.url.starts_with(zoom::OAUTH_TOKEN_URL),
                    "{}",
                    request.url
                );
                Ok(Response {
                    status: 200,
                    body: serde_json::json!({
                        "access_token": "t", "token_type": "bearer", "expires_in": 3600,
                        "scope": "user:read:list_users:admin webinar:read:admin webinar:write:admin recording:read:admin zoom_events:read:admin",
                    })
                    .to_string()
                    .into_bytes(),
                })
            }
        }
        let err = install(&Granted, &MapConfig, &MemoryStore::default()).unwrap_err();
        let PluginError::Configuration(message) = err else {
            panic!("{err:?}")
        };
        assert!(!message.contains('\n'), "{message}");
        assert!(
            message.contains(
                "the participants report (R8): report:read:webinar:admin report:read:list_webinar_participants:admin (or report:read:admin)"
            ),
            "{message}"
        );
    }
}
