//! The operator's console (issue 22): `host-sim serve`'s pages at `/`,
//! for the marketer or operator trying the integration locally. Every
//! page is server-rendered HTML from a template checked at compile time
//! (askama, `host-sim/templates/console/`); no script is needed, the job
//! pages refresh themselves with a `<meta http-equiv="refresh">`.
//!
//! Everything goes through the plugin's exports, as the JSON routes do
//! (`crate::api`): settings are changed by the `settings` export, which
//! checks them and refuses with a reason the page shows next to the field;
//! syncs are the `sync` export's, run as background jobs (`jobs`).
//!
//! | page | module |
//! | --- | --- |
//! | `GET`/`POST /console/sign-in`, `POST /console/sign-out` | `session` (sign-in with the admin token) |
//! | `GET /console/settings`, `POST /console/settings{,/users,/webinars}` | `settings` (R1-R6) |
//! | `GET /console/webinars`, `POST /console/sync-now`, `/console/backfill`, `/console/tick`, `GET /console/jobs/ID` | `webinars` |
//! | `GET /console/webinars/ID` | `audit` (R19) |
//! | `GET /console/crm`, `/console/crm/segment` | `crm` (R12, R13) |
//!
//! Who may call them (docs/reliability.md, issue 19): `serve` has already
//! refused a foreign `Host`; here every page but sign-in needs a session,
//! every `POST` the session's CSRF token, and a `POST` whose `Origin` is
//! another site is refused before anything else.

mod audit;
mod crm;
mod jobs;
mod session;
mod settings;
mod webinars;

use std::sync::Arc;

use askama::Template;

use crate::config::Secret;
use crate::exchange::{Incoming, Reply};
use crate::sim::Simulator;

pub use session::Flash;
use session::{Session, Sessions};

/// Where the console's pages live.
pub const PREFIX: &str = "/console";

/// Whether `path` is one of the console's (so `serve` hands it here).
pub fn is_console_path(path: &str) -> bool {
    path == "/" || path == PREFIX || path.starts_with("/console/")
}

/// The console's state: who is signed in, and the jobs started.
pub struct Console {
    admin_token: Secret,
    /// The `Host` values `serve` answers to: a `POST`'s `Origin` must be one.
    hosts: Vec<String>,
    sessions: Sessions,
    jobs: Arc<jobs::Jobs>,
}

/// What every page's frame shows: its title, the navigation's current
/// item, the CSRF token for its forms, and a message left by a redirect.
pub struct Chrome {
    pub title: String,
    pub nav: &'static str,
    pub csrf: String,
    pub flash: Option<Flash>,
    /// Seconds after which the page reloads itself (a running job), if any.
    pub refresh: Option<u32>,
}

/// A time for people: `2026-11-20 16:30 UTC`.
pub fn when(ms: i64) -> String {
    let text = crate::clock::rfc3339(ms);
    format!("{} {} UTC", &text[..10], &text[11..16])
}

/// The form fields of a `POST` body.
pub struct Form(Vec<(String, String)>);

impl Form {
    pub fn parse(body: &[u8]) -> Self {
        Form(crate::query::pairs(body))
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeated field (checkboxes of one name).
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    /// A checkbox: sent when ticked, absent when not.
    pub fn checked(&self, name: &str) -> bool {
        self.get(name).is_some()
    }
}

/// Headers every page carries: nothing cached, no framing (clickjacking),
/// no referrer to other sites (`no-referrer` would make browsers send
/// `Origin: null` on the console's own forms, which `same_origin` refuses), and a policy that lets the page load only its own style
/// sheet and post only to this server.
fn page_headers() -> Vec<(&'static str, String)> {
    vec![
        ("cache-control", "no-store".to_owned()),
        (
            "content-security-policy",
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'".to_owned(),
        ),
        ("x-frame-options", "DENY".to_owned()),
        ("x-content-type-options", "nosniff".to_owned()),
        ("referrer-policy", "same-origin".to_owned()),
    ]
}

/// An HTML page.
pub fn html(status: u16, body: String) -> Reply {
    Reply {
        status,
        content_type: "text/html; charset=utf-8",
        body: body.into_bytes(),
        headers: page_headers(),
    }
}

/// A rendered template; a template that cannot render is the host's bug,
/// said as such.
pub fn render(status: u16, template: &impl Template) -> Reply {
    match template.render() {
        Ok(body) => html(status, body),
        Err(e) => html(
            500,
            format!(
                "<!doctype html><title>Console error</title><p>The page could not be drawn ({e}); this is a bug in host-sim.</p>"
            ),
        ),
    }
}

/// `303 See Other` to `location` (after a form: the browser then GETs it,
/// so a reload does not post the form again).
pub fn redirect(location: &str) -> Reply {
    let mut reply = html(303, String::new());
    reply.headers.push(("location", location.to_owned()));
    reply
}

#[derive(Template)]
#[template(path = "console/message.html")]
struct MessagePage {
    page: Chrome,
    message: String,
    link: &'static str,
    link_text: &'static str,
}

/// A page that says one thing (not found, refused), with a way back.
fn message(status: u16, page: Chrome, message: String) -> Reply {
    render(
        status,
        &MessagePage {
            page,
            message,
            link: "/console/webinars",
            link_text: "Back to the webinars",
        },
    )
}

impl Console {
    pub fn new(admin_token: &Secret, hosts: &[String]) -> Self {
        Self {
            admin_token: admin_token.clone(),
            hosts: hosts.to_vec(),
            sessions: Sessions::default(),
            jobs: Arc::default(),
        }
    }

    /// The frame of a page for `session`, with its message, if one waits.
    fn chrome(&self, session: &Session, title: impl Into<String>, nav: &'static str) -> Chrome {
        Chrome {
            title: title.into(),
            nav,
            csrf: session.csrf.clone(),
            flash: self.sessions.take_flash(session),
            refresh: None,
        }
    }

    /// Whether a `POST`'s `Origin`, when the browser sends one, is this
    /// server (a cross-site form is refused even before its CSRF token is read).
    fn same_origin(&self, request: &Incoming) -> bool {
        match request.header("origin") {
            None => true,
            Some(origin) => {
                let authority = origin
                    .strip_prefix("http://")
                    .or_else(|| origin.strip_prefix("https://"))
                    .unwrap_or("")
                    .to_ascii_lowercase();
                self.hosts.contains(&authority)
            }
        }
    }

    /// Answers one of the console's requests.
    pub async fn route(&self, sim: &Arc<Simulator>, request: &Incoming) -> Reply {
        let path = request.target.split('?').next().unwrap_or("/");
        let query = request.target.split_once('?').map_or("", |(_, q)| q);
        let method = request.method.as_str();
        match (method, path) {
            ("GET", "/console/console.css") => {
                let mut reply = html(200, include_str!("console.css").to_owned());
                reply.content_type = "text/css; charset=utf-8";
                return reply;
            }
            ("GET", "/console/sign-in") => return session::sign_in_page(None, 200),
            ("POST", _) if !self.same_origin(request) => {
                return session::sign_in_page(
                    Some(
                        "This form came from another site and was refused. Open the console from its own address and try again.",
                    ),
                    403,
                );
            }
            ("POST", "/console/sign-in") => return self.sign_in(request),
            _ => {}
        }
        let Some(session) = self.sessions.find(request.header("cookie")) else {
            return match method {
                "GET" | "HEAD" => redirect("/console/sign-in"),
                _ => session::sign_in_page(
                    Some(
                        "Your session has ended (the server restarted, or you signed out): sign in again, then repeat the change.",
                    ),
                    401,
                ),
            };
        };
        if !matches!(method, "GET" | "HEAD" | "POST") {
            return message(
                405,
                self.chrome(&session, "Not allowed", ""),
                format!(
                    "The console's pages are read with GET and changed with forms (POST), not {method}."
                ),
            );
        }
        if method == "POST" {
            let form = Form::parse(&request.body);
            if !session.csrf_matches(form.get("csrf")) {
                return message(
                    403,
                    self.chrome(&session, "Form refused", ""),
                    "This form is out of date or did not come from this console, so nothing was changed. Reload the page and try again.".to_owned(),
                );
            }
            return self.post(sim, &session, path, &form).await;
        }
        self.get(sim, &session, path, query).await
    }

    async fn get(&self, sim: &Arc<Simulator>, session: &Session, path: &str, query: &str) -> Reply {
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        match segments.as_slice() {
            [""] | ["console"] => redirect("/console/webinars"),
            ["console", "settings"] => {
                let page = self.chrome(session, "Settings", "settings");
                settings::page(sim, page, None).await
            }
            ["console", "webinars"] if query.contains("id=") => {
                // The "open a webinar by its id" form (a GET, no script).
                let id = crate::query::param(query.as_bytes(), "id").unwrap_or_default();
                redirect(&format!("/console/webinars/{}", id.trim()))
            }
            ["console", "webinars"] => {
                let page = self.chrome(session, "Webinars", "webinars");
                webinars::page(sim, &self.jobs, page).await
            }
            ["console", "webinars", webinar] => {
                let page = self.chrome(session, format!("Webinar {webinar}"), "webinars");
                audit::page(sim, &self.jobs, page, webinar, query).await
            }
            ["console", "jobs", id] => {
                let page = self.chrome(session, "Job", "webinars");
                webinars::job_page(sim, &self.jobs, page, id)
            }
            ["console", "crm"] => {
                let page = self.chrome(session, "CRM", "crm");
                crm::page(sim, page).await
            }
            ["console", "crm", "segment"] => {
                let page = self.chrome(session, "Segment builder", "segment");
                crm::segment_page(sim, page, query).await
            }
            _ => message(
                404,
                self.chrome(session, "Not found", ""),
                format!("The console has no page {path}."),
            ),
        }
    }

    async fn post(
        &self,
        sim: &Arc<Simulator>,
        session: &Session,
        path: &str,
        form: &Form,
    ) -> Reply {
        let flash = |flash: Flash| self.sessions.flash(session, flash);
        match path {
            "/console/sign-out" => {
                self.sessions.end(session);
                let mut reply = redirect("/console/sign-in");
                reply.headers.push(("set-cookie", session::clear_cookie()));
                reply
            }
            "/console/settings" | "/console/settings/users" | "/console/settings/webinars" => {
                let page = self.chrome(session, "Settings", "settings");
                settings::save(sim, page, path, form, &flash).await
            }
            "/console/sync-now" | "/console/backfill" | "/console/tick" => {
                webinars::start_job(sim, &self.jobs, path, form, &flash)
            }
            _ => message(
                404,
                self.chrome(session, "Not found", ""),
                format!("The console has no form at {path}."),
            ),
        }
    }

    /// `POST /console/sign-in`: the admin token, compared in constant time
    /// (`operator::token_matches`); a new session and its cookie.
    fn sign_in(&self, request: &Incoming) -> Reply {
        let form = Form::parse(&request.body);
        let token = form.get("token").unwrap_or("").trim();
        if token.is_empty() || !crate::operator::token_matches(&self.admin_token, token) {
            return session::sign_in_page(
                Some(
                    "That is not this server's admin token. `host-sim admin-token` prints it (serve printed it when it first started).",
                ),
                401,
            );
        }
        let (id, _) = self.sessions.start();
        let mut reply = redirect("/console/webinars");
        reply.headers.push(("set-cookie", session::set_cookie(&id)));
        reply
    }
}
