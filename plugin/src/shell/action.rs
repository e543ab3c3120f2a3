//! The workflow action "Add contact to Zoom webinar" (R21-R24): read the
//! contact, check what Zoom would refuse before asking it, register, and
//! record the registration as a fact like a webhook's, so the next `tick`
//! writes it to the CRM the same way (R7-R12).

use super::crm::CrmClient;
use super::intake;
use super::ports::{Contacts, ZoomRegistration};
use super::schema;
use super::sync::Env;
use super::zoom::ZoomClient;
use super::zoom::registration::{Approval, RegistrationTerms};
use super::{PluginError, keys, load, required, save, settings};
pub use crate::core::action::Registered;
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

/// The enrolled contact, as the action needs it.
struct Person {
    email: String,
    first_name: String,
    last_name: String,
}

/// Runs "Add contact to Zoom webinar" for one contact, against the real
/// services.
pub fn add_contact_to_webinar(env: &Env<'_>, execution: &Execution) -> Result<Registered, Refusal> {
    if execution.action_id != ADD_CONTACT_TO_WEBINAR {
        return Err(Refusal::UnknownAction {
            action: execution.action_id.clone(),
        });
    }
    let crm = CrmClient::connect(env.http, env.config).map_err(unavailable)?;
    let zoom = ZoomClient::new(env.http, env.config, env.store, env.now_ms);
    register(env, &crm, &zoom, execution)
}

/// The action through the ports: the rules are the core's (`core::action`).
fn register(
    env: &Env<'_>,
    crm: &dyn Contacts,
    zoom: &dyn ZoomRegistration,
    execution: &Execution,
) -> Result<Registered, Refusal> {
    let (person, webinar) = enrolled_contact(crm, execution)?;

    // A repeated execution answers what the first one got, without asking
    // Zoom again (Zoom counts every call toward its daily cap of 3).
    let key = schema::action_registration(&webinar, &person.email);
    if let Some(done) = load::<Registered>(env.store, &key).map_err(unavailable)? {
        return Ok(done);
    }

    let account = required(env.config, keys::ZOOM_ACCOUNT_ID).map_err(unavailable)?;
    let (email, terms) = may_register(env, zoom, &webinar, &person.email, &account)?;
    // Zoom needs a first name; checked after what Zoom's form would
    // refuse, so every reason of a refused contact is known at once.
    if person.first_name.is_empty() {
        return Err(Refusal::ContactWithoutFirstName);
    }
    let registered = zoom
        .add_registrant(&webinar, &email, &person.first_name, &person.last_name)
        .map_err(unavailable)?
        .map_err(|refused| action::zoom_refusal(&refused, &webinar, &email, &account))?;
    let person = Person { email, ..person };
    record_registration(env, &webinar, &person, &registered, terms.approval)?;
    save(env.store, &key, &registered).map_err(unavailable)?;
    Ok(registered)
}

/// The contact the workflow enrolled and the webinar id its input names
/// (a fixed id, or a property of the contact: R21).
fn enrolled_contact(
    crm: &dyn Contacts,
    execution: &Execution,
) -> Result<(Person, String), Refusal> {
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
    let property = |name: &str| contact.get(name).cloned().unwrap_or_default();
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
    let person = Person {
        email,
        first_name: property("firstname").trim().to_owned(),
        last_name: property("lastname").trim().to_owned(),
    };
    Ok((person, webinar))
}

/// Whether Zoom would take `email` for `webinar`, checked before asking it
/// to register (R22-R24), with the email the sync would use and the
/// webinar's terms.
fn may_register(
    env: &Env<'_>,
    zoom: &dyn ZoomRegistration,
    webinar: &str,
    email: &str,
    account: &str,
) -> Result<(String, RegistrationTerms), Refusal> {
    // R22: only the connected account's webinars are visible with its token.
    let terms = zoom
        .registration_terms(webinar)
        .map_err(unavailable)?
        .ok_or_else(|| Refusal::NotOnConnectedAccount {
            webinar: webinar.to_owned(),
            account: account.to_owned(),
        })?;
    // The sync's own rules about who may be a contact (R5, R18).
    let global = settings::global(env.store).map_err(unavailable)?;
    let mut directory = Directory {
        excluded_domains: global.contact_exclusion_domains.iter().cloned().collect(),
        ..Directory::default()
    };
    if env
        .store
        .get(&schema::deleted_contact(email))
        .map_err(unavailable)?
        .is_some()
    {
        directory.deleted_contacts.insert(email.to_owned());
    }
    // Known from the ended webhook or a reconcile; Zoom's own refusal covers the rest.
    let ran = load::<crate::core::plan::Webinar>(env.store, &schema::webinar_meta(webinar))
        .map_err(unavailable)?
        .and_then(|w| w.ran)
        .is_some();
    let email = action::may_register(email, webinar, &terms, ran, &directory)?;
    let webinar = webinar.to_owned();
    // R24: asked before registering, so the refusal names every field at once.
    if let Some(questions) = zoom.required_questions(&webinar).map_err(unavailable)? {
        let fields = action::other_required_fields(&questions);
        if !fields.is_empty() {
            return Err(Refusal::OtherRequiredFields { webinar, fields });
        }
    }
    Ok((email, terms))
}

/// Recorded like Zoom's registration webhook: the next tick writes the
/// marketing event, the registration, the timeline event and the
/// properties, in batches with everyone else's (R7-R12).
fn record_registration(
    env: &Env<'_>,
    webinar: &str,
    person: &Person,
    registered: &Registered,
    approval: Approval,
) -> Result<(), Refusal> {
    let status = approval.status();
    let fact = Intake {
        // Timed: registering again after a cancellation is a new fact.
        key: format!(
            "action|{webinar}|{}|{status}|{}",
            registered.registrant_id, env.now_ms
        ),
        fact: Fact::Registration {
            webinar: webinar.to_owned(),
            registrant: Registrant {
                id: registered.registrant_id.clone(),
                email: person.email.clone(),
                first_name: person.first_name.clone(),
                last_name: person.last_name.clone(),
                status: status.into(),
                registered_ms: env.now_ms,
            },
            at_ms: env.now_ms,
        },
    };
    intake::record_zoom(env.store, &fact).map_err(unavailable)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::core::intake::Fact;
    use crate::shell::memory::MemoryStore;
    use crate::shell::sync::testing::{StubCrm, StubZoom};
    use crate::shell::{Config, Store, http};

    struct Account;
    impl Config for Account {
        fn get(&self, key: &str) -> Result<Option<String>, String> {
            Ok((key == keys::ZOOM_ACCOUNT_ID).then(|| "acct-1".to_owned()))
        }
    }

    struct NoHttp;
    impl http::HttpClient for NoHttp {
        fn send(&self, request: http::Request) -> Result<http::Response, http::TransportError> {
            panic!("the action sent HTTP around its ports: {}", request.url)
        }
    }

    /// Zoom's webinar 81 with `approval`, and contact 501 (Ada) in the CRM.
    fn world(approval: Approval) -> (StubCrm, StubZoom) {
        let crm = StubCrm::default();
        crm.state.borrow_mut().contacts.insert(
            "501".into(),
            BTreeMap::from([
                ("email".into(), "Ada@X.example".into()),
                ("firstname".into(), "Ada".into()),
                ("lastname".into(), "Lovelace".into()),
            ]),
        );
        let zoom = StubZoom::default();
        zoom.state.borrow_mut().terms.insert(
            "81".into(),
            RegistrationTerms {
                host_email: "host@acme.example".into(),
                one_time: true,
                approval,
            },
        );
        (crm, zoom)
    }

    fn run(store: &MemoryStore, (crm, zoom): &(StubCrm, StubZoom)) -> Result<Registered, Refusal> {
        let env = Env {
            http: &NoHttp,
            config: &Account,
            store,
            now_ms: 1_795_000_000_000,
        };
        let execution = Execution {
            action_id: ADD_CONTACT_TO_WEBINAR.into(),
            contact_id: "501".into(),
            webinar: Some(WebinarInput::Fixed("81".into())),
        };
        register(&env, crm, zoom, &execution)
    }

    #[test]
    fn r21_a_contact_is_registered_once_and_recorded_like_a_webhook_for_the_next_tick() {
        let store = MemoryStore::default();
        let world = world(Approval::Automatic);
        let first = run(&store, &world).unwrap();
        // A repeat answers the same registration without asking Zoom again.
        assert_eq!(run(&store, &world).unwrap(), first);
        assert_eq!(
            world.1.state.borrow().registered,
            [("81".to_owned(), "ada@x.example".to_owned())]
        );
        let facts = intake::facts(&store, "81").unwrap();
        let [Fact::Registration { registrant, .. }] = facts.as_slice() else {
            panic!("{facts:?}");
        };
        assert_eq!(
            (registrant.email.as_str(), registrant.status.as_str()),
            ("ada@x.example", "approved")
        );
        assert!(store.get(&schema::pending("81")).unwrap().is_some());
    }

    #[test]
    fn r21_a_registration_the_host_must_approve_is_recorded_as_pending() {
        let store = MemoryStore::default();
        run(&store, &world(Approval::Manual)).unwrap();
        let facts = intake::facts(&store, "81").unwrap();
        assert!(matches!(
            facts.as_slice(),
            [Fact::Registration { registrant, .. }] if registrant.status == "pending"
        ));
    }

    #[test]
    fn r22_r23_what_zoom_would_refuse_is_refused_before_zoom_is_asked() {
        let store = MemoryStore::default();
        let (crm, zoom) = world(Approval::Automatic);
        crm.state
            .borrow_mut()
            .contacts
            .get_mut("501")
            .unwrap()
            .insert("email".into(), "host@acme.example".into());
        assert_eq!(
            run(&store, &(crm.clone(), zoom.clone())),
            Err(Refusal::HostCannotRegister)
        );
        zoom.state.borrow_mut().terms.clear();
        crm.state
            .borrow_mut()
            .contacts
            .get_mut("501")
            .unwrap()
            .insert("email".into(), "ada@x.example".into());
        assert!(matches!(
            run(&store, &(crm, zoom.clone())),
            Err(Refusal::NotOnConnectedAccount { .. })
        ));
        assert!(zoom.state.borrow().registered.is_empty());
    }
}
