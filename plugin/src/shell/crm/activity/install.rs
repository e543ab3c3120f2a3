//! Install's part of activity events (R10): the timeline's templates
//! (with the developer key) or the custom events' definitions (with the
//! portal's token), and what the CRM refused, in a marketer's words.

use super::*;

/// What install did for activity events: each thing made or found, and
/// what could not be set up, with why.
#[derive(Debug, Default)]
pub struct Installed {
    pub outcomes: Vec<(String, Created)>,
    pub not_set_up: Vec<String>,
}

/// Sets the configured backend up; a backend the CRM refuses (401, 403,
/// no developer key) is not an install failure: the rest of the
/// integration works without it, and the setup says why (R10).
pub fn install(
    crm: &CrmClient<'_>,
    config: &dyn Config,
    store: &dyn Store,
) -> Result<Installed, PluginError> {
    let backend = Backend::configured(config)?;
    let mut installed = Installed::default();
    let result = match backend {
        Backend::Off => Err(
            "they are turned off in the integration's configuration (crm.activity-events = off)"
                .to_owned(),
        ),
        Backend::Timeline => timeline_templates(crm, config, store, &mut installed)?,
        Backend::CustomEvents => custom_event_definitions(crm, &mut installed)?,
    };
    let setup = match result {
        Ok(ids) => Setup {
            backend,
            ids,
            not_written: None,
        },
        Err(reason) => {
            installed.not_set_up.push(format!(
                "activity events (registered, attended, recording available) on contact timelines: {reason}"
            ));
            Setup {
                backend,
                ids: BTreeMap::new(),
                not_written: Some(reason),
            }
        }
    };
    save(store, schema::ACTIVITY_SETUP, &setup)?;
    Ok(installed)
}

/// A refusal at install: `Err(reason)` for the marketer, or an error that
/// fails install (the CRM down, an answer it should not give).
type Refusable<T> = Result<Result<T, String>, PluginError>;

fn timeline_templates(
    crm: &CrmClient<'_>,
    config: &dyn Config,
    store: &dyn Store,
    installed: &mut Installed,
) -> Refusable<BTreeMap<String, String>> {
    let Some(key) = config
        .get(keys::CRM_DEVELOPER_API_KEY)
        .ok()
        .flatten()
        .filter(|k| !k.trim().is_empty())
    else {
        return Ok(Err(format!(
            "the timeline needs the CRM developer account's API key, and {} is not configured",
            keys::CRM_DEVELOPER_API_KEY
        )));
    };
    let app = app_id(config)?;
    let path = format!("/integrators/timeline/v3/{app}/event-templates");
    let listed = crm.developer_send(Method::Get, &path, &key, None)?;
    if let Some(reason) = timeline_refusal(&listed) {
        return Ok(Err(reason));
    }
    if !listed.is_success() {
        return Err(PluginError::CrmUnavailable(format!(
            "listing timeline event templates failed with {}: {}",
            listed.status,
            listed.error_message()
        )));
    }
    // Templates have no unique name in the CRM, so look before creating.
    let existing: Vec<(String, String)> = listed
        .json()
        .and_then(|j| j.get("results").and_then(Value::as_array).cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|t| {
            Some((
                t.get("name")?.as_str()?.to_owned(),
                id_string(t.get("id")?)?,
            ))
        })
        .collect();
    let mut ids = BTreeMap::new();
    for event in definitions::timeline_event_types() {
        let outcome = match existing.iter().find(|(name, _)| name == event.name) {
            Some((_, id)) => Created::AlreadyExists(id.clone()),
            None => {
                let made =
                    crm.developer_send(Method::Post, &path, &key, Some(template_body(&event)))?;
                if let Some(reason) = timeline_refusal(&made) {
                    return Ok(Err(reason));
                }
                match made
                    .json()
                    .filter(|_| made.is_success())
                    .and_then(|j| j.get("id").and_then(id_string))
                {
                    Some(id) => Created::New(id),
                    None => {
                        return Err(PluginError::CrmUnavailable(format!(
                            "creating timeline event template {} failed with {}: {}",
                            event.id,
                            made.status,
                            made.error_message()
                        )));
                    }
                }
            }
        };
        let (Created::New(id) | Created::AlreadyExists(id)) = &outcome;
        store.set(&schema::event_template(event.id), id.as_bytes())?;
        ids.insert(event.id.to_owned(), id.clone());
        installed
            .outcomes
            .push((format!("timeline event template {}", event.id), outcome));
    }
    Ok(Ok(ids))
}

/// A 401 or 403 of a timeline call, in a marketer's words.
fn timeline_refusal(response: &Response) -> Option<String> {
    match response.status {
        401 => Some(format!(
            "the CRM did not accept the developer account's API key for timeline event templates ({}: check {})",
            response.error_message(),
            keys::CRM_DEVELOPER_API_KEY
        )),
        403 => Some(format!(
            "the CRM app has no timeline access; HubSpot opens timeline events only to app partners whose app already defines them ({}). Custom events (crm.activity-events = custom-events) work for a new app",
            response.error_message()
        )),
        _ => None,
    }
}

fn template_body(event: &TimelineEventType) -> Value {
    let tokens: Vec<_> = event
        .tokens
        .iter()
        .map(|t| json!({ "name": t.name, "label": t.label, "type": token_type(t.token_type) }))
        .collect();
    json!({
        "name": event.name,
        "objectType": "contacts",
        "headerTemplate": event.header_template,
        "detailTemplate": event.detail_template,
        "tokens": tokens,
    })
}

fn token_type(t: PropertyType) -> &'static str {
    match t {
        PropertyType::Number => "number",
        PropertyType::Text => "string",
        PropertyType::Datetime => "date",
        PropertyType::Enumeration => "enumeration",
    }
}

/// The custom event's name for an event type: `webinar-attendance` is
/// `zoom_webinar_attendance` (HubSpot's event names: lowercase letters,
/// digits and underscores).
pub fn custom_event_name(event_id: &str) -> String {
    format!("zoom_{}", event_id.replace('-', "_"))
}

fn definition_body(event: &TimelineEventType) -> Value {
    let properties: Vec<_> = event
        .tokens
        .iter()
        .map(|t| {
            let kind = match t.token_type {
                PropertyType::Number => "number",
                PropertyType::Text => "string",
                PropertyType::Datetime => "datetime",
                PropertyType::Enumeration => "enumeration",
            };
            json!({ "name": t.name, "label": t.label, "type": kind })
        })
        .collect();
    json!({
        "label": event.name,
        "name": custom_event_name(event.id),
        "description": event.header_template,
        "primaryObject": "CONTACT",
        "propertyDefinitions": properties,
    })
}

fn custom_event_definitions(
    crm: &CrmClient<'_>,
    installed: &mut Installed,
) -> Refusable<BTreeMap<String, String>> {
    let mut existing = match crm.event_definitions()? {
        Ok(existing) => existing,
        Err(reason) => return Ok(Err(reason)),
    };
    let mut ids = BTreeMap::new();
    for event in definitions::timeline_event_types() {
        let name = custom_event_name(event.id);
        let what = format!("custom event definition {name}");
        if let Some(qualified) = existing.get(&name) {
            ids.insert(event.id.to_owned(), qualified.clone());
            installed
                .outcomes
                .push((what, Created::AlreadyExists(qualified.clone())));
            continue;
        }
        let made = crm.bearer_send(
            Method::Post,
            "/events/v3/event-definitions",
            Some(definition_body(&event)),
        )?;
        if let Some(reason) = custom_events_refusal(&made) {
            return Ok(Err(reason));
        }
        let qualified = match made.status {
            200..=299 => made
                .json()
                .and_then(|j| j.get("fullyQualifiedName")?.as_str().map(str::to_owned)),
            // Made by an install running at the same time: read it back.
            409 => {
                existing = match crm.event_definitions()? {
                    Ok(existing) => existing,
                    Err(reason) => return Ok(Err(reason)),
                };
                existing.get(&name).cloned()
            }
            _ => None,
        };
        let Some(qualified) = qualified else {
            return Err(PluginError::CrmUnavailable(format!(
                "defining custom event {name} failed with {}: {}",
                made.status,
                made.error_message()
            )));
        };
        ids.insert(event.id.to_owned(), qualified.clone());
        let outcome = if made.status == 409 {
            Created::AlreadyExists(qualified)
        } else {
            Created::New(qualified)
        };
        installed.outcomes.push((what, outcome));
    }
    Ok(Ok(ids))
}

/// A 401 or 403 of a custom events call, in a marketer's words.
fn custom_events_refusal(response: &Response) -> Option<String> {
    match response.status {
        401 => Some(format!(
            "the CRM refused the access token for custom events ({})",
            response.error_message()
        )),
        403 => Some(
            match response
                .json()
                .as_ref()
                .and_then(super::super::missing_scopes)
            {
                Some(scopes) => format!(
                    "the CRM app lacks the scope(s) {scopes} that custom events need; add them to the app and install again"
                ),
                None => format!(
                    "the CRM account cannot use custom events; they need an Enterprise subscription ({})",
                    response.error_message()
                ),
            },
        ),
        _ => None,
    }
}

impl CrmClient<'_> {
    /// The portal's custom event definitions, name -> fully qualified
    /// name, every page; `Err(reason)` when the CRM refuses.
    fn event_definitions(&self) -> Refusable<BTreeMap<String, String>> {
        let mut found = BTreeMap::new();
        let mut after: Option<String> = None;
        loop {
            let path = match &after {
                None => "/events/v3/event-definitions?limit=100".to_owned(),
                Some(after) => format!("/events/v3/event-definitions?limit=100&after={after}"),
            };
            let page = self.bearer_send(Method::Get, &path, None)?;
            if let Some(reason) = custom_events_refusal(&page) {
                return Ok(Err(reason));
            }
            if !page.is_success() {
                return Err(PluginError::CrmUnavailable(format!(
                    "listing custom event definitions failed with {}: {}",
                    page.status,
                    page.error_message()
                )));
            }
            let json = page.json().unwrap_or_default();
            for definition in json["results"].as_array().into_iter().flatten() {
                if let (Some(name), Some(qualified)) = (
                    definition["name"].as_str(),
                    definition["fullyQualifiedName"].as_str(),
                ) {
                    found.insert(name.to_owned(), qualified.to_owned());
                }
            }
            match json.pointer("/paging/next/after").and_then(id_string) {
                Some(next) if !next.is_empty() && Some(&next) != after.as_ref() => {
                    after = Some(next)
                }
                _ => return Ok(Ok(found)),
            }
        }
    }
}
