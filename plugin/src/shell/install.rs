//! `lifecycle.install`: check the Zoom connection, then create the property
//! group, the contact properties (R12) and the timeline event templates
//! (R10) in the CRM. Safe to run twice: what exists is left as it is.

use super::crm::{self, Created, CrmClient};
use super::http::HttpClient;
use super::{Config, PluginError, zoom};
use crate::core::definitions;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct InstallReport {
    pub created: Vec<String>,
    pub already_present: Vec<String>,
}

impl InstallReport {
    fn record(&mut self, what: String, outcome: &Created) {
        match outcome {
            Created::New(_) => self.created.push(what),
            Created::AlreadyExists(_) => self.already_present.push(what),
        }
    }
}

pub fn install(http: &dyn HttpClient, config: &dyn Config) -> Result<InstallReport, PluginError> {
    // R19f "connected Zoom account not found": fail install early with the reason.
    zoom::fetch_token(http, config)?;

    let crm = CrmClient::connect(http, config)?;
    let app_id = crm::app_id(config)?;
    let mut report = InstallReport::default();

    let group = definitions::PROPERTY_GROUP;
    let outcome = crm.create_contact_property_group(&group)?;
    report.record(format!("property group {}", group.name), &outcome);

    for property in definitions::contact_properties() {
        let outcome = crm.create_contact_property(&property, group.name)?;
        report.record(format!("contact property {}", property.name), &outcome);
    }

    // Templates have no unique name in the CRM, so look before creating.
    let existing = crm.list_event_templates(&app_id)?;
    for event in definitions::timeline_event_types() {
        let what = format!("timeline event template {}", event.id);
        let outcome = match existing.iter().find(|(name, _)| name == event.name) {
            Some((_, id)) => Created::AlreadyExists(id.clone()),
            None => crm.create_event_template(&app_id, &event)?,
        };
        report.record(what, &outcome);
    }
    Ok(report)
}
