//! Who is signed in to the console: sessions started with the admin token,
//! each with its CSRF token (issue 22, on the credential of issue 19).
//!
//! A session lives in this process's memory only: a restart of `serve`
//! signs everyone out, which for a local operator's console is the safe
//! side. The cookie carries a random id (256 bits from the OS), is
//! `HttpOnly` (no script reads it), `SameSite=Strict` (no other site's page
//! makes the browser send it) and has no `Max-Age` (gone with the
//! browser). Every form carries the session's CSRF token in a hidden field,
//! compared in constant time, so even a request that arrives with the
//! cookie must also show a value only the console's own pages hold.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The cookie's name.
pub const COOKIE: &str = "host_sim_console";

/// A session unused for this long is signed out.
const IDLE: Duration = Duration::from_secs(8 * 60 * 60);

/// At most this many sessions are kept; signing in past it ends the one
/// used longest ago, so repeated sign-ins cannot fill the memory.
const MAX_SESSIONS: usize = 32;

/// A message for the next page the session sees (after a redirect).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    /// `ok` or `error`: the style, and the role screen readers announce.
    pub kind: &'static str,
    pub lines: Vec<String>,
}

impl Flash {
    pub fn ok(lines: Vec<String>) -> Self {
        Self { kind: "ok", lines }
    }

    pub fn error(line: impl Into<String>) -> Self {
        Self {
            kind: "error",
            lines: vec![line.into()],
        }
    }
}

struct Entry {
    csrf: String,
    last_seen: Instant,
    flash: Option<Flash>,
}

/// A signed-in session as a page sees it.
#[derive(Debug, Clone)]
pub struct Session {
    /// The key it is kept under (a hash of the cookie's id).
    key: [u8; 32],
    pub csrf: String,
}

/// The signed-in sessions, by the SHA-256 of their cookie's id: the map's
/// lookup then takes no time that depends on how close a guessed id is.
#[derive(Default)]
pub struct Sessions {
    map: Mutex<HashMap<[u8; 32], Entry>>,
}

fn random_hex() -> String {
    let mut bytes = [0u8; 32];
    // The OS's generator; without one there is no safe session to give.
    getrandom::fill(&mut bytes).expect("the operating system's random number generator");
    hex::encode(bytes)
}

fn key_of(id: &str) -> [u8; 32] {
    Sha256::digest(id.as_bytes()).into()
}

impl Sessions {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], Entry>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new session: its cookie id (to set) and the session.
    pub fn start(&self) -> (String, Session) {
        let id = random_hex();
        let key = key_of(&id);
        let csrf = random_hex();
        let mut map = self.lock();
        map.retain(|_, e| e.last_seen.elapsed() < IDLE);
        while map.len() >= MAX_SESSIONS {
            let oldest = map.iter().min_by_key(|(_, e)| e.last_seen).map(|(k, _)| *k);
            match oldest {
                Some(k) => map.remove(&k),
                None => break,
            };
        }
        map.insert(
            key,
            Entry {
                csrf: csrf.clone(),
                last_seen: Instant::now(),
                flash: None,
            },
        );
        (id, Session { key, csrf })
    }

    /// The session of a request's `Cookie` header, if it is a live one.
    pub fn find(&self, cookie_header: Option<&str>) -> Option<Session> {
        let id = cookie_value(cookie_header?, COOKIE)?;
        let key = key_of(id);
        let mut map = self.lock();
        let entry = map.get_mut(&key)?;
        if entry.last_seen.elapsed() >= IDLE {
            map.remove(&key);
            return None;
        }
        entry.last_seen = Instant::now();
        Some(Session {
            key,
            csrf: entry.csrf.clone(),
        })
    }

    pub fn end(&self, session: &Session) {
        self.lock().remove(&session.key);
    }

    /// Keeps `flash` for the session's next page.
    pub fn flash(&self, session: &Session, flash: Flash) {
        if let Some(entry) = self.lock().get_mut(&session.key) {
            entry.flash = Some(flash);
        }
    }

    /// The message kept for this page, once.
    pub fn take_flash(&self, session: &Session) -> Option<Flash> {
        self.lock().get_mut(&session.key)?.flash.take()
    }
}

impl Session {
    /// Whether a form's `csrf` field is this session's token (constant time).
    pub fn csrf_matches(&self, presented: Option<&str>) -> bool {
        let Some(presented) = presented else {
            return false;
        };
        let expected = Sha256::digest(self.csrf.as_bytes());
        let given = Sha256::digest(presented.as_bytes());
        expected.ct_eq(&given).into()
    }
}

#[derive(askama::Template)]
#[template(path = "console/sign_in.html")]
struct SignInPage {
    page: super::Chrome,
    error: Option<String>,
}

/// The sign-in form, with why the last try failed, if it did.
pub fn sign_in_page(error: Option<&str>, status: u16) -> crate::exchange::Reply {
    let page = super::Chrome {
        title: "Sign in".to_owned(),
        nav: "",
        csrf: String::new(),
        flash: None,
        refresh: None,
    };
    super::render(
        status,
        &SignInPage {
            page,
            error: error.map(str::to_owned),
        },
    )
}

/// The `Set-Cookie` value that hands out a session.
pub fn set_cookie(id: &str) -> String {
    format!("{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/")
}

/// The `Set-Cookie` value that removes it.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0")
}

/// The value of cookie `name` in a `Cookie` header.
fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_found_by_its_cookie_only_and_ends_at_sign_out() {
        let sessions = Sessions::default();
        let (id, session) = sessions.start();
        let header = format!("theme=dark; {COOKIE}={id}; other=1");
        let found = sessions.find(Some(&header)).expect("the session");
        assert_eq!(found.csrf, session.csrf);
        assert!(sessions.find(Some(&format!("{COOKIE}={id}x"))).is_none());
        assert!(sessions.find(Some("theme=dark")).is_none());
        assert!(sessions.find(None).is_none());
        sessions.end(&found);
        assert!(sessions.find(Some(&header)).is_none());
    }

    #[test]
    fn the_csrf_token_must_be_the_sessions_own() {
        let sessions = Sessions::default();
        let (_, session) = sessions.start();
        let (_, other) = sessions.start();
        assert!(session.csrf_matches(Some(&session.csrf)));
        assert!(!session.csrf_matches(Some(&other.csrf)));
        assert!(!session.csrf_matches(Some("")));
        assert!(!session.csrf_matches(None));
    }

    #[test]
    fn the_cookie_is_http_only_and_same_site_strict() {
        let cookie = set_cookie("abc");
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));
        assert!(clear_cookie().contains("Max-Age=0"));
    }

    #[test]
    fn sign_ins_past_the_cap_end_the_oldest_session() {
        let sessions = Sessions::default();
        let (first, _) = sessions.start();
        for _ in 0..MAX_SESSIONS {
            sessions.start();
        }
        assert!(sessions.find(Some(&format!("{COOKIE}={first}"))).is_none());
        assert_eq!(sessions.lock().len(), MAX_SESSIONS);
    }

    #[test]
    fn a_flash_is_shown_once() {
        let sessions = Sessions::default();
        let (_, session) = sessions.start();
        sessions.flash(&session, Flash::ok(vec!["saved".into()]));
        assert_eq!(
            sessions.take_flash(&session),
            Some(Flash::ok(vec!["saved".into()]))
        );
        assert_eq!(sessions.take_flash(&session), None);
    }
}
