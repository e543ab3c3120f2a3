//! Stops that end (issue 18): a webinar Zoom refuses for good does not
//! stop the tick's others; a scope removed after install is explained
//! once and retried with a bound.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::super::{Env, tick};
use super::GIVE_UP_AFTER_MS;
use crate::shell::http::{HttpClient, Method, Request, Response, TransportError};
use crate::shell::memory::MemoryStore;
use crate::shell::{Config, Store, audit, intake, schema};

struct AnyConfig;
impl Config for AnyConfig {
    fn get(&self, key: &str) -> Result<Option<String>, String> {
        Ok(Some(format!("value-of-{key}")))
    }
}

/// Zoom answering `answers` (by path under /v2, query left out), every
/// other webinar "does not exist", and the lists a sync reads empty.
#[derive(Default)]
struct Zoom {
    answers: BTreeMap<String, (u16, Value)>,
}

impl Zoom {
    fn answering(mut self, path: &str, status: u16, body: Value) -> Self {
        self.answers.insert(path.to_owned(), (status, body));
        self
    }
}

impl HttpClient for Zoom {
    fn send(&self, request: Request) -> Result<Response, TransportError> {
        let answer = |status: u16, body: &Value| {
            Ok(Response {
                status,
                body: body.to_string().into_bytes(),
            })
        };
        if request.method == Method::Post && request.url.contains("/oauth/token") {
            return answer(200, &json!({ "access_token": "t", "expires_in": 3600 }));
        }
        let path = request
            .url
            .trim_start_matches("https://api.zoom.us/v2")
            .split('?')
            .next()
            .unwrap_or_default();
        if let Some((status, body)) = self.answers.get(path) {
            return answer(*status, body);
        }
        match path {
            "/users" => answer(200, &json!({ "users": [], "next_page_token": "" })),
            "/zoom_events/events" => answer(200, &json!({ "events": [], "next_page_token": "" })),
            _ => answer(
                404,
                &json!({ "code": 3001, "message": "Webinar does not exist." }),
            ),
        }
    }
}

const START_MS: i64 = 1_795_000_000_000;

fn tick_at(http: &Zoom, store: &MemoryStore, now_ms: i64) -> crate::shell::sync::Report {
    let env = Env {
        http,
        config: &AnyConfig,
        store,
        now_ms,
    };
    tick(&env).expect("a tick ends well whatever one webinar meets")
}

fn messages(store: &MemoryStore, webinar: &str) -> Vec<String> {
    let (entries, _) = audit::read(store, webinar, 0, 500).unwrap();
    entries.into_iter().map(|e| e.message).collect()
}

fn pending(store: &MemoryStore, webinar: &str) -> bool {
    store.get(&schema::pending(webinar)).unwrap().is_some()
}

/// Issue 18 (R19f): Zoom refusing one webinar for good (here 400 code 1010,
/// "User does not belong to this account") stopped the whole tick before;
/// now that webinar's audit log says why, once, it is not retried, and the
/// tick goes on with the next webinar.
#[test]
fn issue_18_a_webinar_zoom_refuses_for_good_does_not_stop_the_ticks_others() {
    let store = MemoryStore::default();
    intake::mark_pending(&store, "81000000001", true).unwrap();
    intake::mark_pending(&store, "81000000002", true).unwrap();
    let zoom = Zoom::default().answering(
        "/webinars/81000000001",
        400,
        json!({ "code": 1010, "message": "User does not belong to this account: abc." }),
    );
    let report = tick_at(&zoom, &store, START_MS);
    assert_eq!(report.failed, 1, "{report:?}");
    assert_eq!(report.pending, 0, "{report:?}");
    let refused = messages(&store, "81000000001");
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(
        refused[0].starts_with(
            "The sync of this webinar stopped and is not tried again: Zoom refused /webinars/81000000001 (400 code 1010: User does not belong to this account: abc.)"
        ),
        "{refused:?}"
    );
    assert!(!pending(&store, "81000000001"), "not retried");
    // The next webinar of the tick was synced (Zoom does not know it).
    let next = messages(&store, "81000000002");
    assert!(
        next.iter()
            .any(|m| m.contains("was not found on the connected Zoom account")),
        "{next:?}"
    );
    // Nothing is left for later ticks, and nothing more is said.
    let report = tick_at(&zoom, &store, START_MS + 3_600_000);
    assert_eq!((report.failed, report.pending), (0, 0), "{report:?}");
    assert_eq!(messages(&store, "81000000001").len(), 1);
}

/// Issue 18 (R19f): a scope removed from the Zoom app after install (400
/// code 4711, as Zoom answers it) is explained once, in one line naming the
/// scope to add, in the webinar's audit log and the tick's report; it is
/// retried (the sync resumes once the scope is back), less and less often,
/// and given up after three days, not hourly for ever.
#[test]
fn issue_18_a_scope_removed_after_install_is_explained_once_and_retried_with_a_bound() {
    let store = MemoryStore::default();
    intake::mark_pending(&store, "81000000001", true).unwrap();
    intake::mark_pending(&store, "81000000002", true).unwrap();
    let refusal = json!({
        "code": 4711,
        "message": "Invalid access token, does not contain scopes:[webinar:read:webinar:admin, webinar:read:admin]."
    });
    let zoom = Zoom::default()
        .answering("/webinars/81000000001", 400, refusal.clone())
        .answering("/webinars/81000000002", 400, refusal);
    let report = tick_at(&zoom, &store, START_MS);
    assert_eq!(report.pending, 2, "{report:?}");
    let scope_lines: Vec<&String> = report
        .notes
        .iter()
        .filter(|n| n.contains("add webinar:read:webinar:admin (or webinar:read:admin) in the Zoom app's Scopes page"))
        .collect();
    assert_eq!(
        scope_lines.len(),
        1,
        "one line for the run: {:?}",
        report.notes
    );
    assert!(!scope_lines[0].contains('\n'));

    // Hourly ticks: tried again whenever the back-off allows, said once.
    let mut now = START_MS;
    let mut ticks = 0;
    while pending(&store, "81000000001") {
        now += 3_600_000;
        ticks += 1;
        assert!(ticks < 24 * 4, "still retried after {ticks} hours");
        tick_at(&zoom, &store, now);
    }
    let log = messages(&store, "81000000001");
    assert_eq!(log.len(), 2, "{log:#?}");
    assert!(
        log[0].starts_with("The sync of this webinar waits for a change to the installation and is tried again, less and less often, until ")
            && log[0].contains("The Zoom app no longer has the scope for webinars and their registrants (R1, R7, R24): add webinar:read:webinar:admin (or webinar:read:admin)"),
        "{log:#?}"
    );
    assert!(
        log[1].starts_with("The sync of this webinar was given up: it failed at every try since "),
        "{log:#?}"
    );
    assert!(now - START_MS >= GIVE_UP_AFTER_MS, "three days of tries");
    assert!(!pending(&store, "81000000002"));
}

/// The scope back within the three days: the next try syncs, and a later
/// failure starts a new streak (a new explanation, a new bound).
#[test]
fn issue_18_a_scope_put_back_ends_the_streak() {
    let store = MemoryStore::default();
    intake::mark_pending(&store, "81000000001", true).unwrap();
    let refusing = Zoom::default().answering(
        "/webinars/81000000001",
        400,
        json!({ "code": 4711, "message": "Invalid access token, does not contain scopes:[webinar:read:admin]." }),
    );
    tick_at(&refusing, &store, START_MS);
    tick_at(&refusing, &store, START_MS + 3_600_000);
    assert_eq!(messages(&store, "81000000001").len(), 1);
    // Put back: Zoom answers (it does not know the webinar) and the mark goes.
    tick_at(&Zoom::default(), &store, START_MS + 2 * 3_600_000);
    assert!(!pending(&store, "81000000001"));
    let log = messages(&store, "81000000001");
    assert!(
        log[1].contains("was not found on the connected Zoom account"),
        "{log:?}"
    );
}
