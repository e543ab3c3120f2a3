//! The workflow action "Add contact to Zoom webinar" (R21-R24): read the
//! contact, check what Zoom would refuse before asking it, register, and
//! record the registration as a fact like a webhook's, so the next `tick`
//! writes it to the CRM the same way (R7-R12).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::crm::CrmClient;
use super::http::Method;
use super::intake::{self, DELETED_PREFIX};
use super::sync::Env;
use super::zoom::ZoomClient;
use super::{PluginError, keys, load, required, save, settings};
use crate::core::action::{self, Refusal};
use crate::core::definitions::ADD_CONTACT_TO_WEBINAR;
use crate::core::exclusions::Directory;
use crate::core::intake::{Fact, Intake};
use crate::core::plan::Registrant;

/// Where the webinar id comes from (R21).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebinarInput {
    Fixed(String),
    /// A property of the enrolled contact.
    Property(String),
}

/// One execution, as the CRM's workflow engine sends it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Execution {
    pub action_id: String,
    pub contact_id: String,
    pub webinar: Option<WebinarInput>,
}

/// What the workflow gets back: Zoom's registrant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registered {
    pub registrant_id: String,
    pub join_url: String,
}

/// The registration this action made for a person, so a repeated execution
/// does not register twice; a cancellation lifts it (see `intake`).
pub fn registration_key(webinar: &str, email: &str) -> String {
    format!("action/{webinar}/{email}")
}

fn unavailable(e: PluginError) -> Refusal {
    match e {
        PluginError::ZoomUnavailable(detail) => Refusal::Unavailable {
            service: "Zoom",
            detail,
        },
        PluginError::CrmUnavailable(detail) => Refusal::Unavailable {
            service: "The CRM",
            detail,
        },
        PluginError::Storage(detail) => Refusal::Unavailable {
            service: "The plugin's storage",
            detail,
        },
        // Zoom will not give the webinar (issue 18): asking again changes nothing.
        PluginError::ZoomRefused(message) => Refusal::ZoomRefused { message },
        other => Refusal::NotConfigured {
            detail: other.to_string(),
        },
    }
}

fn is_property_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Runs "Add contact to Zoom webinar" for one contact.
pub fn add_contact_to_webinar(env: &Env<'_>, execution: &Execution) -> Result<Registered, Refusal> {
    if execution.action_id != ADD_CONTACT_TO_WEBINAR {
        return Err(Refusal::UnknownAction {
            action: execution.action_id.clone(),
        });
    }
    let store = env.store;
    let crm = CrmClient::connect(env.http, env.config).map_err(unavailable)?;

    // The contact, and the webinar id from it when the input is a property token.
    let mut wanted = vec!["email", "firstname", "lastname"];
    if let Some(WebinarInput::Property(name)) = &execution.webinar
        && is_property_name(name)
    {
        wanted.push(name);
    }
    let contact = crm
        .contact(&execution.contact_id, &wanted)
        .map_err(unavailable)?
        .ok_or_else(|| Refusal::ContactNotFound {
            contact_id: execution.contact_id.clone(),
        })?;
    let property = |name: &str| {
        contact
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let raw_webinar = match &execution.webinar {
        None => return Err(Refusal::MissingWebinarId),
        Some(WebinarInput::Fixed(value)) => value.clone(),
        Some(WebinarInput::Property(name)) => {
            let value = if is_property_name(name) {
                property(name)
            } else {
                String::new()
            };
            if value.is_empty() {
                return Err(Refusal::EmptyProperty {
                    property: name.clone(),
                });
            }
            value
        }
    };
    let webinar = action::webinar_id(&raw_webinar)?;

    let email = property("email").trim().to_ascii_lowercase();
    if email.is_empty() {
        return Err(Refusal::ContactWithoutEmail);
    }
    let first_name = property("firstname").trim().to_owned();
    let last_name = property("lastname").trim().to_owned();

    // A repeated execution answers what the first one got, without asking
    // Zoom again (Zoom counts every call toward its daily cap of 3).
    let key = registration_key(&webinar, &email);
    if let Some(done) = load::<Registered>(store, &key).map_err(unavailable)? {
        return Ok(done);
    }

    // R22: only the connected account's webinars are visible with its token.
    let account = required(env.config, keys::ZOOM_ACCOUNT_ID).map_err(unavailable)?;
    let zoom = ZoomClient::new(env.http, env.config, store, env.now_ms);
    let details = zoom
        .get(&format!("/webinars/{webinar}"))
        .map_err(unavailable)?
        .ok_or_else(|| Refusal::NotOnConnectedAccount {
            webinar: webinar.clone(),
            account: account.clone(),
        })?;
    let host = details
        .get("host_email")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if host.eq_ignore_ascii_case(&email) {
        return Err(Refusal::HostCannotRegister);
    }

    // The sync's own rules about who may be a contact (R5, R18), after
    // the host check: the host's domain is often an excluded one.
    let global = settings::global(store).map_err(unavailable)?;
    let mut directory = Directory {
        excluded_domains: global.contact_exclusion_domains.iter().cloned().collect(),
        ..Directory::default()
    };
    if store
        .get(&format!("{DELETED_PREFIX}{email}"))
        .map_err(unavailable)?
        .is_some()
    {
        directory.deleted_contacts.insert(email.clone());
    }
    let email = action::contact_email(&email, &directory)?;

    // Known from the ended webhook or a reconcile; Zoom's own refusal covers the rest.
    let ran = load::<crate::core::plan::Webinar>(store, &super::sync::meta_key(&webinar))
        .map_err(unavailable)?
        .and_then(|w| w.ran);
    if ran.is_some() && details.get("type").and_then(Value::as_u64) == Some(5) {
        return Err(Refusal::WebinarOver { webinar });
    }
    let approval = details
        .pointer("/settings/approval_type")
        .and_then(Value::as_u64);
    if approval == Some(2) {
        return Err(Refusal::RegistrationNotEnabled { webinar });
    }
    // R24: asked before registering, so the refusal names every field at once.
    if let Some(questions) = zoom
        .get(&format!("/webinars/{webinar}/registrants/questions"))
        .map_err(unavailable)?
    {
        let fields = action::other_required_fields(&questions);
        if !fields.is_empty() {
            return Err(Refusal::OtherRequiredFields { webinar, fields });
        }
    }
    if first_name.is_empty() {
        return Err(Refusal::ContactWithoutFirstName);
    }

    let body = json!({ "email": email, "first_name": first_name, "last_name": last_name });
    let response = zoom
        .call(
            Method::Post,
            &format!("/webinars/{webinar}/registrants"),
            Some(&body),
        )
        .map_err(unavailable)?;
    let answer = response.json().unwrap_or_default();
    if !response.is_success() {
        return Err(action::zoom_refusal(
            response.status,
            &answer,
            &webinar,
            &email,
            &account,
        ));
    }
    let text = |name: &str| match answer.get(name) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    let registered = Registered {
        registrant_id: text("registrant_id"),
        join_url: text("join_url"),
    };

    // Recorded like Zoom's registration webhook: the next tick writes the
    // marketing event, the registration, the timeline event and the
    // properties, in batches with everyone else's (R7-R12).
    let status = if approval == Some(1) {
        "pending"
    } else {
        "approved"
    };
    let fact = Intake {
        // Timed: registering again after a cancellation is a new fact.
        key: format!(
            "action|{webinar}|{}|{status}|{}",
            registered.registrant_id, env.now_ms
        ),
        fact: Fact::Registration {
            webinar: webinar.clone(),
            registrant: Registrant {
                id: registered.registrant_id.clone(),
                email: email.clone(),
                first_name,
                last_name,
                status: status.into(),
                registered_ms: env.now_ms,
            },
            at_ms: env.now_ms,
        },
    };
    intake::record_zoom(store, &fact).map_err(unavailable)?;
    save(store, &key, &registered).map_err(unavailable)?;
    Ok(registered)
}
