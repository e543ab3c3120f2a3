//! The webinars page: every webinar the console can name, with where it
//! stands, its marketing event's counts, its last sync, and "Sync now"
//! (R20); the backfill (R1) and the tick as background jobs, with a page
//! for each job that shows its progress, then its result.
//!
//! The plugin has no export that lists the webinars it holds, so the
//! console names those of the connected Zoom account (the in-process
//! fake's; none when Zoom is remote or real), those with a marketing
//! event in the CRM, and those a job synced; any other opens by its id
//! (`/console/webinars/ID`, the form on the page).

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use serde_json::Value;

use super::jobs::{Job, Jobs, Outcome, Work};
use super::{Chrome, Flash, Form, redirect, render};
use crate::api;
use crate::bindings::settings::{AuditEntry, AuditKind, GlobalSettings};
use crate::config::ConnectionMode;
use crate::exchange::Reply;
use crate::sim::Simulator;

/// A webinar as the console names it.
#[derive(Debug, Clone, Default)]
pub struct KnownWebinar {
    pub id: String,
    pub topic: String,
    pub host: String,
    /// The scheduled start (RFC 3339), as Zoom or the CRM gave it.
    pub start: String,
    /// The Zoom Event it is a session of (R14), when Zoom says so.
    pub zoom_event: Option<String>,
}

impl KnownWebinar {
    /// The scheduled start for people (`2026-11-20 16:00 UTC`), or as given.
    pub fn starts(&self) -> String {
        crate::clock::parse_rfc3339(&self.start).map_or_else(|| self.start.clone(), super::when)
    }
}

/// The account's Zoom users (email, name) from the in-process fake Zoom.
pub fn account_users(sim: &Simulator) -> Vec<(String, String)> {
    if sim.config.connection.mode != ConnectionMode::Fake {
        return Vec::new();
    }
    sim.zoom
        .account()
        .users
        .iter()
        .map(|u| {
            let name = format!("{} {}", u.first_name, u.last_name);
            (u.email.clone(), name.trim().to_owned())
        })
        .collect()
}

/// The webinars the console can name (the module's note), newest first;
/// `also`: ids to include (the jobs').
pub async fn known(sim: &Simulator, also: &[String]) -> Vec<KnownWebinar> {
    let mut found: BTreeMap<String, KnownWebinar> = BTreeMap::new();
    if sim.config.connection.mode == ConnectionMode::Fake {
        let account = sim.zoom.account();
        for w in &account.webinars {
            let event = account
                .events
                .iter()
                .find(|e| e.webinar_ids.contains(&w.id))
                .map(|e| e.name.clone());
            found.insert(
                w.id.to_string(),
                KnownWebinar {
                    id: w.id.to_string(),
                    topic: w.topic.clone(),
                    host: w.host.clone(),
                    start: w.start_time.clone(),
                    zoom_event: event,
                },
            );
        }
    }
    if let Ok(crm) = crate::crm_view::crm_records(sim).await {
        for e in crm["marketing_events"].as_array().into_iter().flatten() {
            let Some(id) = e["externalEventId"].as_str() else {
                continue;
            };
            found.entry(id.to_owned()).or_insert_with(|| KnownWebinar {
                id: id.to_owned(),
                topic: e["eventName"].as_str().unwrap_or_default().to_owned(),
                host: e["eventOrganizer"].as_str().unwrap_or_default().to_owned(),
                start: e["startDateTime"].as_str().unwrap_or_default().to_owned(),
                zoom_event: None,
            });
        }
    }
    for id in also {
        found.entry(id.clone()).or_insert_with(|| KnownWebinar {
            id: id.clone(),
            ..KnownWebinar::default()
        });
    }
    let mut list: Vec<KnownWebinar> = found.into_values().collect();
    list.sort_by(|a, b| b.start.cmp(&a.start).then(a.id.cmp(&b.id)));
    list
}

/// Where a webinar stands, as the console tells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Synced,
    /// Nothing synced yet, or changes waiting for the next tick.
    Pending,
    SyncOff,
    Excluded,
    ZoomEvent,
    Failed,
    /// A job of this console is syncing it now.
    Syncing,
}

impl State {
    pub fn name(self) -> &'static str {
        match self {
            State::Synced => "synced",
            State::Pending => "pending",
            State::SyncOff => "sync off",
            State::Excluded => "excluded",
            State::ZoomEvent => "Zoom Event",
            State::Failed => "failed",
            State::Syncing => "syncing",
        }
    }

    /// The badge's style.
    pub fn class(self) -> &'static str {
        match self {
            State::Synced => "ok",
            State::Pending | State::Syncing => "wait",
            State::SyncOff | State::Excluded | State::ZoomEvent => "off",
            State::Failed => "bad",
        }
    }
}

/// What the state is read from: the settings (through the plugin), what
/// Zoom says of the webinar, the audit log, and this console's jobs.
pub struct Facts<'a> {
    pub webinar: &'a KnownWebinar,
    pub global: &'a GlobalSettings,
    /// The webinar's own switch (R6c).
    pub sync_enabled: Option<bool>,
    /// Its host's R6a default.
    pub host_syncs_new: bool,
    /// Newest first.
    pub audit: &'a [AuditEntry],
    pub syncing: bool,
}

/// The state, and why, for a marketer. The settings are read as the
/// plugin's rules read them (`decide` in `plugin/src/core/plan.rs`: R1,
/// R14, R3, R6), so a change shows at once, before the next sync writes
/// its audit entry; the audit log tells the rest.
pub fn state(f: &Facts) -> (State, String) {
    let newest = f.audit.first();
    let said = |kind: AuditKind, words: &str| {
        newest.is_some_and(|e| e.kind == kind && e.message.contains(words))
    };
    let domain = f
        .webinar
        .host
        .rsplit_once('@')
        .map(|(_, d)| d.to_ascii_lowercase());
    if f.syncing {
        return (
            State::Syncing,
            "A sync of this webinar is running now.".into(),
        );
    }
    if let Some(event) = &f.webinar.zoom_event {
        return (
            State::ZoomEvent,
            format!(
                "A session of the Zoom Event \"{event}\": Zoom Events webinars are never synced (R14)."
            ),
        );
    }
    if said(AuditKind::WebinarDataNotSynced, "Zoom Event") {
        return (
            State::ZoomEvent,
            "Zoom Events webinars are never synced (R14).".into(),
        );
    }
    if let Some(d) = domain.filter(|d| f.global.host_exclusion_domains.contains(d)) {
        return (
            State::Excluded,
            format!(
                "The host's domain {d} is in the host exclusions (R3): remove it there to sync this webinar."
            ),
        );
    }
    if !(f.global.global_sync && f.global.webinar_sync) {
        return (
            State::SyncOff,
            "Global sync and webinar sync must both be on (R1): turn them on in the settings."
                .into(),
        );
    }
    match f.sync_enabled {
        Some(false) => return (State::SyncOff, "Sync is turned off for this webinar (R6c): change it in the settings.".into()),
        None if !f.host_syncs_new => return (State::SyncOff, "Its host does not sync newly scheduled webinars (R6a): turn it on for the host, or for this webinar.".into()),
        _ => {}
    }
    match newest {
        Some(e) if e.kind == AuditKind::Error => (State::Failed, e.message.clone()),
        _ if f.audit.iter().any(|e| e.kind == AuditKind::Synced) => (
            State::Synced,
            "Synced: the CRM has what Zoom has, as of the last sync.".into(),
        ),
        _ => (
            State::Pending,
            "Not synced yet: the next tick syncs it, or press Sync now.".into(),
        ),
    }
}

pub struct Row {
    pub webinar: KnownWebinar,
    pub state: State,
    pub why: String,
    pub registered: usize,
    pub attended: usize,
    pub cancelled: usize,
    /// The newest audit entry's time and text: the last sync's summary.
    pub last_at: String,
    pub last_summary: String,
    /// The last "Sync now" from this console, as a line.
    pub last_job: Option<String>,
}

#[derive(Template)]
#[template(path = "console/webinars.html")]
struct WebinarsPage {
    page: Chrome,
    rows: Vec<Row>,
    jobs: Vec<JobLine>,
    remote: bool,
}

/// A job in a list: its id, what, and where it stands.
pub struct JobLine {
    pub id: u64,
    pub label: String,
    pub status: String,
}

pub fn job_line(sim: &Simulator, job: &Job) -> JobLine {
    JobLine {
        id: job.id,
        label: job.work.label(),
        status: progress(sim, job),
    }
}

/// A job's progress or result in one line.
fn progress(sim: &Simulator, job: &Job) -> String {
    match &job.outcome {
        Outcome::Running => {
            let counts = sim
                .installation
                .outbound
                .log()
                .counts_by_service_since(job.requests_before);
            let requests: Vec<String> = counts.iter().map(|(s, n)| format!("{n} to {s}")).collect();
            let requests = if requests.is_empty() {
                "no requests yet".to_owned()
            } else {
                format!("requests so far: {}", requests.join(", "))
            };
            format!("running for {:.0} s; {requests}", job.elapsed_s())
        }
        Outcome::Done(r) => format!(
            "done in {:.1} s: written {}, skipped {}, failed {}, pending {}",
            job.elapsed_s(),
            r.written,
            r.skipped,
            r.failed,
            r.pending
        ),
        Outcome::Failed(why) => format!("failed after {:.1} s: {why}", job.elapsed_s()),
    }
}

/// The audit log of a webinar, newest first; empty when it cannot be read.
pub async fn audit_newest_first(sim: &Simulator, webinar: &str) -> Vec<AuditEntry> {
    let mut entries = api::audit_log(sim, webinar).await.unwrap_or_default();
    entries.reverse();
    entries
}

/// One webinar's row (also the header of its audit page).
pub async fn row(
    sim: &Simulator,
    jobs: &Jobs,
    webinar: KnownWebinar,
    global: &GlobalSettings,
    counts: (usize, usize, usize),
    audit: &[AuditEntry],
) -> Row {
    let sync_enabled = api::webinar_settings(sim, &webinar.id)
        .await
        .ok()
        .and_then(|s| s.sync_enabled);
    let host_syncs_new = match webinar.host.as_str() {
        "" => true,
        host => api::user_settings(sim, host)
            .await
            .map_or(true, |s| s.sync_new_webinars),
    };
    let last_job = jobs.last_for(&webinar.id);
    let syncing = last_job.as_ref().is_some_and(Job::running);
    let (state, why) = state(&Facts {
        webinar: &webinar,
        global,
        sync_enabled,
        host_syncs_new,
        audit,
        syncing,
    });
    let newest = audit.first();
    Row {
        state,
        why,
        registered: counts.0,
        attended: counts.1,
        cancelled: counts.2,
        last_at: newest.map_or(String::new(), |e| super::when(e.at)),
        last_summary: newest.map_or(String::new(), |e| e.message.clone()),
        last_job: last_job.map(|j| progress(sim, &j)),
        webinar,
    }
}

/// The registered / attended / cancelled counts of each webinar's
/// marketing event in the CRM (`crm_view`), by webinar id.
pub async fn counts(sim: &Simulator) -> BTreeMap<String, (usize, usize, usize)> {
    let Ok(crm) = crate::crm_view::crm_records(sim).await else {
        return BTreeMap::new();
    };
    crate::crm_view::marketing_events(&crm, sim.clock.now_ms(), &BTreeMap::<String, Value>::new())
        .into_iter()
        .map(|e| (e.webinar, (e.registered, e.attended, e.cancelled)))
        .collect()
}

pub async fn page(sim: &Arc<Simulator>, jobs: &Jobs, page: Chrome) -> Reply {
    let global = match api::global_settings(sim).await {
        Ok(g) => g,
        Err(e) => {
            return super::message(
                503,
                page,
                format!("The plugin could not be asked for its settings: {e}."),
            );
        }
    };
    let all_jobs = jobs.all();
    let job_webinars: Vec<String> = all_jobs
        .iter()
        .filter_map(|j| j.work.webinar().map(str::to_owned))
        .collect();
    let counts = counts(sim).await;
    let mut rows = Vec::new();
    for webinar in known(sim, &job_webinars).await {
        let audit = audit_newest_first(sim, &webinar.id).await;
        let c = counts.get(&webinar.id).copied().unwrap_or_default();
        rows.push(row(sim, jobs, webinar, &global, c, &audit).await);
    }
    let jobs = all_jobs.iter().take(10).map(|j| job_line(sim, j)).collect();
    render(
        200,
        &WebinarsPage {
            page,
            rows,
            jobs,
            remote: sim.config.connection.mode != ConnectionMode::Fake,
        },
    )
}

/// A job's form posted: the job started, and its page to watch.
pub fn start_job(
    sim: &Arc<Simulator>,
    jobs: &Arc<Jobs>,
    path: &str,
    form: &Form,
    flash: &(dyn Fn(Flash) + Sync),
) -> Reply {
    let work = match path {
        "/console/sync-now" => {
            let webinar = form.get("webinar").unwrap_or("").trim();
            if webinar.is_empty() || !webinar.bytes().all(|b| b.is_ascii_digit()) {
                flash(Flash::error(format!(
                    "{webinar:?} is not a Zoom webinar id: use its digits only, without spaces or dashes."
                )));
                return redirect("/console/webinars");
            }
            Work::SyncNow(webinar.to_owned())
        }
        "/console/backfill" => match form.get("since").map(str::trim).filter(|s| !s.is_empty()) {
            None => Work::Backfill(None),
            Some(date) => {
                match crate::clock::parse_date(date).or_else(|| crate::clock::parse_rfc3339(date)) {
                    Some(ms) => Work::Backfill(Some(crate::clock::rfc3339(ms))),
                    None => {
                        flash(Flash::error(format!(
                            "{date:?} is not a date: pick one, or write it as 2026-11-01."
                        )));
                        return redirect("/console/webinars");
                    }
                }
            }
        },
        _ => Work::Tick,
    };
    let id = jobs.start(sim, work);
    redirect(&format!("/console/jobs/{id}"))
}

#[derive(Template)]
#[template(path = "console/job.html")]
struct JobPage {
    page: Chrome,
    job: JobLine,
    running: bool,
    webinar: Option<String>,
    notes: Vec<String>,
}

pub fn job_page(sim: &Simulator, jobs: &Jobs, mut page: Chrome, id: &str) -> Reply {
    let Some(job) = id.parse().ok().and_then(|id| jobs.get(id)) else {
        return super::message(
            404,
            page,
            format!("There is no job {id} (jobs are kept while the server runs)."),
        );
    };
    let running = job.running();
    if running {
        // The page reloads itself until the job ends: no script needed.
        page.refresh = Some(1);
    }
    page.title = job.work.label();
    let notes = match &job.outcome {
        Outcome::Done(report) => report.notes.clone(),
        _ => Vec::new(),
    };
    render(
        200,
        &JobPage {
            page,
            job: job_line(sim, &job),
            running,
            webinar: job.work.webinar().map(str::to_owned),
            notes,
        },
    )
}
