//! What a scenario starts the fake CRM with: its users (owners) and
//! contacts, the token's scopes and the app's timeline access.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Contact, FakeCrm};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CrmSeed {
    /// CRM users (owners): their emails are never synced (R17).
    pub users: Vec<SeedUser>,
    pub contacts: Vec<SeedContact>,
    /// The scopes the app's token was granted (`scopes::ALL` when unset);
    /// a call that needs another is refused with 403 MISSING_SCOPES.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// `false`: the app has no timeline access (not an app partner whose
    /// public app defines templates, API-NOTES): every timeline call is
    /// refused with 403. Unset: the app has it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeline_access: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedUser {
    pub email: String,
    #[serde(default)]
    pub first_name: String,
    #[serde(default)]
    pub last_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedContact {
    pub email: String,
    #[serde(default)]
    pub firstname: String,
    #[serde(default)]
    pub lastname: String,
    /// Secondary emails (`hs_additional_emails`).
    #[serde(default)]
    pub additional_emails: Vec<String>,
    /// Deleted in the CRM (archived).
    #[serde(default)]
    pub archived: bool,
    /// Any other properties, e.g. one a workflow reads a webinar id from.
    #[serde(default)]
    pub properties: BTreeMap<String, String>,
}

impl FakeCrm {
    /// Adds a scenario's users and contacts.
    pub fn seed(&self, seed: &CrmSeed) {
        let now = self.clock.now_ms();
        let mut state = self.lock();
        state.granted_scopes = seed.scopes.as_ref().map(|s| s.iter().cloned().collect());
        if let Some(access) = seed.timeline_access {
            state.timeline_refused = !access;
        }
        for user in &seed.users {
            let id = state.id();
            // HubSpot's `PublicOwner`: `createdAt`, `updatedAt` and `type`
            // are required fields of the model.
            let stamp = crate::clock::rfc3339(now);
            state.owners.push(json!({
                "id": id.to_string(), "email": user.email, "firstName": user.first_name,
                "lastName": user.last_name, "userId": id, "archived": false, "type": "PERSON",
                "createdAt": stamp, "updatedAt": stamp, "teams": [],
            }));
        }
        let indexed_since = now - state.search_lag.0.as_millis() as i64;
        for contact in &seed.contacts {
            let id = state.id();
            // An empty value is no value: the CRM answers null for it.
            let mut properties: BTreeMap<String, String> = [
                ("email", &contact.email),
                ("firstname", &contact.firstname),
                ("lastname", &contact.lastname),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.clone()))
            .chain(contact.properties.clone())
            .filter(|(_, v)| !v.is_empty())
            .collect();
            if !contact.additional_emails.is_empty() {
                properties.insert(
                    "hs_additional_emails".into(),
                    contact.additional_emails.join(";"),
                );
            }
            state.contacts_changed();
            state.contacts.insert(
                id,
                Contact {
                    id,
                    properties,
                    archived: contact.archived,
                    // The portal's contacts were there before: the search
                    // index holds them already.
                    created_ms: indexed_since,
                    updated_ms: now,
                },
            );
        }
    }
}
