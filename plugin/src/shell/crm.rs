//! The CRM client. It speaks HubSpot's CRM v3 shapes; another CRM would be
//! another client behind the same calls.

use serde_json::json;

use super::http::{HttpClient, Method, Request, Response};
use super::{Config, PluginError, keys, required};
use crate::core::definitions::{
    PropertyDefinition, PropertyGroup, PropertyType, TimelineEventType,
};

pub const API_BASE: &str = "https://api.hubapi.com";

/// Whether a create call made the object or found it there already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// Made now; for timeline templates, the CRM's template id.
    New(String),
    AlreadyExists(String),
}

pub struct CrmClient<'a> {
    http: &'a dyn HttpClient,
    access_token: String,
}

impl<'a> CrmClient<'a> {
    pub fn connect(http: &'a dyn HttpClient, config: &dyn Config) -> Result<Self, PluginError> {
        Ok(Self {
            http,
            access_token: required(config, keys::CRM_ACCESS_TOKEN)?,
        })
    }

    fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<serde_json::Value>,
    ) -> Result<Response, PluginError> {
        let mut request = Request::new(method, format!("{API_BASE}{path}"))
            .header("authorization", format!("Bearer {}", self.access_token));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = self
            .http
            .send(request)
            .map_err(|e| PluginError::CrmUnavailable(format!("could not reach the CRM: {e}")))?;
        if response.status == 401 || response.status == 403 {
            return Err(PluginError::Configuration(format!(
                "the CRM refused the access token ({}): check crm.access-token and the app's scopes",
                response.error_message()
            )));
        }
        Ok(response)
    }

    /// Creates, or 409 means it is there already.
    fn create(
        &self,
        path: &str,
        body: serde_json::Value,
        what: &str,
    ) -> Result<Created, PluginError> {
        let response = self.send(Method::Post, path, Some(body))?;
        match response.status {
            200..=299 => Ok(Created::New(
                response
                    .json()
                    .and_then(|j| j.get("id").and_then(id_string))
                    .unwrap_or_default(),
            )),
            409 => Ok(Created::AlreadyExists(String::new())),
            status => Err(PluginError::CrmUnavailable(format!(
                "creating {what} failed with {status}: {}",
                response.error_message()
            ))),
        }
    }

    pub fn create_contact_property_group(
        &self,
        group: &PropertyGroup,
    ) -> Result<Created, PluginError> {
        self.create(
            "/crm/v3/properties/contacts/groups",
            json!({ "name": group.name, "label": group.label, "displayOrder": -1 }),
            &format!("property group {}", group.name),
        )
    }

    pub fn create_contact_property(
        &self,
        property: &PropertyDefinition,
        group: &str,
    ) -> Result<Created, PluginError> {
        self.create(
            "/crm/v3/properties/contacts",
            json!({
                "name": property.name,
                "label": property.label,
                "description": property.description,
                "groupName": group,
                "type": property_type(property.property_type),
                "fieldType": property.property_type.field_type(),
            }),
            &format!("contact property {}", property.name),
        )
    }

    /// The app's timeline event templates, as (name, id) pairs.
    pub fn list_event_templates(&self, app_id: &str) -> Result<Vec<(String, String)>, PluginError> {
        let response = self.send(
            Method::Get,
            &format!("/crm/v3/timeline/{app_id}/event-templates"),
            None,
        )?;
        if !response.is_success() {
            return Err(PluginError::CrmUnavailable(format!(
                "listing timeline event templates failed with {}: {}",
                response.status,
                response.error_message()
            )));
        }
        let json = response.json().unwrap_or_default();
        let results = json
            .get("results")
            .and_then(|r| r.as_array())
            .cloned()
            .unwrap_or_default();
        Ok(results
            .iter()
            .filter_map(|t| {
                let name = t.get("name")?.as_str()?.to_owned();
                let id = id_string(t.get("id")?)?;
                Some((name, id))
            })
            .collect())
    }

    pub fn create_event_template(
        &self,
        app_id: &str,
        event: &TimelineEventType,
    ) -> Result<Created, PluginError> {
        let tokens: Vec<_> = event
            .tokens
            .iter()
            .map(|t| json!({ "name": t.name, "label": t.label, "type": token_type(t.token_type) }))
            .collect();
        self.create(
            &format!("/crm/v3/timeline/{app_id}/event-templates"),
            json!({
                "name": event.name,
                "objectType": "contacts",
                "headerTemplate": event.header_template,
                "detailTemplate": event.detail_template,
                "tokens": tokens,
            }),
            &format!("timeline event template {}", event.id),
        )
    }
}

/// CRM ids come as strings or numbers depending on the endpoint.
fn id_string(id: &serde_json::Value) -> Option<String> {
    match id {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn property_type(t: PropertyType) -> &'static str {
    match t {
        PropertyType::Number => "number",
        PropertyType::Text => "string",
        PropertyType::Datetime => "datetime",
        PropertyType::Enumeration => "enumeration",
    }
}

fn token_type(t: PropertyType) -> &'static str {
    match t {
        PropertyType::Number => "number",
        PropertyType::Text => "string",
        PropertyType::Datetime => "date",
        PropertyType::Enumeration => "enumeration",
    }
}

/// The CRM app id, for calls scoped to the app (timeline templates).
pub fn app_id(config: &dyn Config) -> Result<String, PluginError> {
    required(config, keys::CRM_APP_ID)
}
