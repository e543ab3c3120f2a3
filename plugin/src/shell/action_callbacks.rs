//! The workflow action as HubSpot runs it (R21, R29): a verified request to
//! the action's URL becomes a registration now, a refusal now, or a
//! registration that waits for Zoom. A waiting one answers `BLOCK`, is kept
//! in storage (so a restart loses nothing), retried on every `tick` with a
//! growing pause, and finished through HubSpot's callbacks API with the
//! same output fields an immediate answer would have carried.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::action::{Execution, WebinarInput, add_contact_to_webinar};
use super::all_keys;
use super::crm::CrmClient;
use super::schema::{self, BLOCKED_ACTIONS_PREFIX};
use super::sync::Env;
use super::{PluginError, load, save};
use crate::core::action::Refusal;
use crate::core::crm_action::{
    self, ActionRequest, BLOCK_EXPIRATION_MS, Outcome, valid_callback_id,
};
use crate::core::definitions::ADD_CONTACT_TO_WEBINAR;

/// The first retry waits a minute, each next one twice as long, at most an hour.
const FIRST_RETRY_MS: i64 = 60 * 1000;
const LONGEST_RETRY_MS: i64 = 60 * 60 * 1000;

/// An execution HubSpot holds at the action's step until its callback.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Blocked {
    contact_id: String,
    webinar: Option<String>,
    blocked_at_ms: i64,
    attempts: u32,
    next_attempt_ms: i64,
    /// The final `outputFields`, kept until HubSpot accepts the callback:
    /// a CRM outage after the registration must not register again or
    /// lose the join link.
    completion: Option<Value>,
}

fn execution(contact_id: &str, webinar: Option<&str>) -> Execution {
    Execution {
        action_id: ADD_CONTACT_TO_WEBINAR.into(),
        contact_id: contact_id.to_owned(),
        // HubSpot resolves a property input itself and sends its value.
        webinar: webinar.map(|w| WebinarInput::Fixed(w.to_owned())),
    }
}

/// What the registration came to, for an answer or a callback.
fn outcome(result: Result<super::action::Registered, Refusal>) -> Outcome {
    match result {
        Ok(registered) => Outcome::Registered(vec![
            ("registrant_id".into(), registered.registrant_id),
            ("join_url".into(), registered.join_url),
        ]),
        Err(refusal) if refusal.retryable() => Outcome::Unavailable(refusal.to_string()),
        Err(refusal) => Outcome::Refused(refusal.to_string()),
    }
}

fn waits_for_zoom(result: &Result<super::action::Registered, Refusal>) -> bool {
    matches!(
        result,
        Err(Refusal::Unavailable {
            service: "Zoom",
            ..
        })
    )
}

/// Runs a verified request. Zoom unavailable: the execution is kept and
/// blocked; the CRM or storage unavailable: a 503, which HubSpot retries.
pub fn run(env: &Env<'_>, request: &ActionRequest) -> Outcome {
    let result = add_contact_to_webinar(
        env,
        &execution(&request.contact_id, request.webinar_id.as_deref()),
    );
    if !waits_for_zoom(&result) || !valid_callback_id(&request.callback_id) {
        return outcome(result);
    }
    let blocked = Blocked {
        contact_id: request.contact_id.clone(),
        webinar: request.webinar_id.clone(),
        blocked_at_ms: env.now_ms,
        attempts: 0,
        next_attempt_ms: env.now_ms + FIRST_RETRY_MS,
        completion: None,
    };
    match save(
        env.store,
        &schema::blocked_action(&request.callback_id),
        &blocked,
    ) {
        Ok(()) => Outcome::Blocked,
        // Not kept, so not blocked: HubSpot's own retry is the safe way.
        Err(_) => outcome(result),
    }
}

/// What a `tick` did with the blocked executions.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Resumed {
    /// Completed through the callbacks API.
    pub completed: u32,
    /// Still waiting (for Zoom, or for the CRM to take the callback).
    pub waiting: u32,
    pub notes: Vec<String>,
}

/// Retries every blocked execution that is due and completes the finished
/// ones; one that outlived its block is dropped with a note (HubSpot has
/// moved the contact on by then).
pub fn resume(env: &Env<'_>) -> Result<Resumed, PluginError> {
    let mut resumed = Resumed::default();
    let keys = all_keys(env.store, BLOCKED_ACTIONS_PREFIX)?;
    if keys.is_empty() {
        return Ok(resumed);
    }
    let crm = CrmClient::connect(env.http, env.config)?;
    for key in keys {
        let callback_id = &key[BLOCKED_ACTIONS_PREFIX.len()..];
        let Some(mut blocked) = load::<Blocked>(env.store, &key)? else {
            continue;
        };
        if env.now_ms >= blocked.blocked_at_ms + BLOCK_EXPIRATION_MS {
            env.store.delete(&key)?;
            resumed.notes.push(format!(
                "The workflow's hold on contact {} expired before Zoom answered: HubSpot moved it on without a registration to webinar {}.",
                blocked.contact_id,
                blocked.webinar.as_deref().unwrap_or("(none)")
            ));
            continue;
        }
        if blocked.completion.is_none() {
            if env.now_ms < blocked.next_attempt_ms {
                resumed.waiting += 1;
                continue;
            }
            let result = add_contact_to_webinar(
                env,
                &execution(&blocked.contact_id, blocked.webinar.as_deref()),
            );
            let outcome = outcome(result);
            blocked.completion = crm_action::output_fields(&outcome);
            if blocked.completion.is_none() {
                blocked.attempts += 1;
                blocked.next_attempt_ms = env.now_ms + retry_pause_ms(blocked.attempts);
                save(env.store, &key, &blocked)?;
                resumed.waiting += 1;
                continue;
            }
        }
        let fields = blocked.completion.clone().unwrap_or_default();
        match crm.complete_callback(callback_id, fields) {
            Ok(()) => {
                env.store.delete(&key)?;
                resumed.completed += 1;
            }
            Err(PluginError::CrmUnavailable(_)) => {
                save(env.store, &key, &blocked)?;
                resumed.waiting += 1;
            }
            Err(e) => {
                env.store.delete(&key)?;
                resumed.notes.push(format!(
                    "HubSpot did not take the result of the workflow action for contact {} ({e}); the workflow's history shows the block expiring instead.",
                    blocked.contact_id
                ));
            }
        }
    }
    Ok(resumed)
}

fn retry_pause_ms(attempts: u32) -> i64 {
    FIRST_RETRY_MS
        .saturating_mul(1 << attempts.min(10))
        .min(LONGEST_RETRY_MS)
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};

    use serde_json::json;

    use super::*;
    use crate::shell::Config;
    use crate::shell::Store as _;
    use crate::shell::http::{HttpClient, Request, Response, TransportError};
    use crate::shell::memory::MemoryStore;

    const NOW: i64 = 1_795_000_000_000;

    /// Zoom down or up; the CRM answers the contact and takes callbacks,
    /// or refuses them with `callback_status`.
    struct Services {
        zoom_up: Cell<bool>,
        callback_status: Cell<u16>,
        callbacks: RefCell<Vec<(String, Value)>>,
        registrations: Cell<u32>,
    }

    impl Services {
        fn new() -> Self {
            Self {
                zoom_up: Cell::new(false),
                callback_status: Cell::new(204),
                callbacks: RefCell::default(),
                registrations: Cell::new(0),
            }
        }
    }

    fn answer(status: u16, body: Value) -> Result<Response, TransportError> {
        Ok(Response {
            status,
            body: body.to_string().into_bytes(),
        })
    }

    impl HttpClient for Services {
        fn send(&self, request: Request) -> Result<Response, TransportError> {
            let url = request.url.as_str();
            if let Some(rest) =
                url.strip_prefix("https://api.hubapi.com/automation/v4/actions/callbacks/")
            {
                let id = rest.trim_end_matches("/complete").to_owned();
                let body: Value = serde_json::from_slice(&request.body).unwrap();
                self.callbacks.borrow_mut().push((id, body));
                return answer(self.callback_status.get(), json!({}));
            }
            if url.contains("/crm/v3/objects/contacts/") {
                return answer(
                    200,
                    json!({ "id": "1001", "properties": { "email": "ada@example.com", "firstname": "Ada", "lastname": "Lovelace" } }),
                );
            }
            if !self.zoom_up.get() {
                return answer(503, json!({ "code": 503, "message": "down" }));
            }
            if url.contains("oauth/token") {
                return answer(200, json!({ "access_token": "t", "expires_in": 3600 }));
            }
            if url.ends_with("/registrants") {
                self.registrations.set(self.registrations.get() + 1);
                return answer(
                    201,
                    json!({ "registrant_id": "r1", "join_url": "https://zoom.us/w/87?tk=1" }),
                );
            }
            if url.ends_with("/questions") {
                return answer(200, json!({ "questions": [], "custom_questions": [] }));
            }
            answer(
                200,
                json!({ "id": 87, "host_email": "host@acme.example", "type": 5, "settings": { "approval_type": 0 } }),
            )
        }

        fn pause(&self, _ms: u64) {}
    }

    struct Keys;
    impl Config for Keys {
        fn get(&self, key: &str) -> Result<Option<String>, String> {
            Ok(Some(format!("value-of-{key}")))
        }
    }

    fn env<'a>(services: &'a Services, store: &'a MemoryStore, now_ms: i64) -> Env<'a> {
        Env {
            http: services,
            config: &Keys,
            store,
            now_ms,
        }
    }

    fn request() -> ActionRequest {
        ActionRequest {
            callback_id: "ap-102-4".into(),
            contact_id: "1001".into(),
            webinar_id: Some("87000000001".into()),
        }
    }

    #[test]
    fn r21_a_zoom_outage_blocks_and_the_tick_completes_the_callback_once_zoom_is_back() {
        let services = Services::new();
        let store = MemoryStore::default();
        assert_eq!(
            run(&env(&services, &store, NOW), &request()),
            Outcome::Blocked
        );

        // Not due yet, then due but Zoom still down: waiting, nothing sent.
        let early = resume(&env(&services, &store, NOW + 1)).unwrap();
        assert_eq!(early.waiting, 1);
        let down = resume(&env(&services, &store, NOW + FIRST_RETRY_MS)).unwrap();
        assert_eq!((down.waiting, down.completed), (1, 0));
        assert!(services.callbacks.borrow().is_empty());

        services.zoom_up.set(true);
        let later = NOW + FIRST_RETRY_MS + retry_pause_ms(1);
        let done = resume(&env(&services, &store, later)).unwrap();
        assert_eq!((done.waiting, done.completed), (0, 1), "{done:?}");
        let callbacks = services.callbacks.borrow();
        let (id, body) = &callbacks[0];
        assert_eq!(id, "ap-102-4");
        assert_eq!(body["outputFields"]["hs_execution_state"], "SUCCESS");
        assert_eq!(
            body["outputFields"]["join_url"],
            "https://zoom.us/w/87?tk=1"
        );
        assert!(
            store
                .get(&schema::blocked_action("ap-102-4"))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn r21_a_refused_callback_is_kept_and_sent_again_without_registering_twice() {
        let services = Services::new();
        let store = MemoryStore::default();
        run(&env(&services, &store, NOW), &request());
        services.zoom_up.set(true);
        services.callback_status.set(503);
        let due = NOW + FIRST_RETRY_MS;
        assert_eq!(resume(&env(&services, &store, due)).unwrap().waiting, 1);
        services.callback_status.set(204);
        assert_eq!(
            resume(&env(&services, &store, due + 1)).unwrap().completed,
            1
        );
        assert_eq!(services.registrations.get(), 1);
        // The CRM client sent the 503'd callback again within its call too.
        assert!(services.callbacks.borrow().len() >= 2);
    }

    #[test]
    fn r21_a_block_that_expired_is_dropped_with_a_note() {
        let services = Services::new();
        let store = MemoryStore::default();
        run(&env(&services, &store, NOW), &request());
        let resumed = resume(&env(&services, &store, NOW + BLOCK_EXPIRATION_MS)).unwrap();
        assert_eq!(resumed.completed, 0);
        assert!(resumed.notes[0].contains("expired"), "{:?}", resumed.notes);
        assert!(
            store
                .get(&schema::blocked_action("ap-102-4"))
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn without_a_callback_id_an_outage_is_a_503_for_hubspot_to_retry() {
        let services = Services::new();
        let store = MemoryStore::default();
        let mut anonymous = request();
        anonymous.callback_id.clear();
        assert!(matches!(
            run(&env(&services, &store, NOW), &anonymous),
            Outcome::Unavailable(_)
        ));
    }

    #[test]
    fn retries_wait_longer_each_time_up_to_an_hour() {
        assert_eq!(retry_pause_ms(1), 2 * FIRST_RETRY_MS);
        assert_eq!(retry_pause_ms(30), LONGEST_RETRY_MS);
    }
}
