//! Long work started from the console (a "Sync now", a backfill, a tick)
//! runs as a background task, so the page that started it answers at once
//! and every other page stays usable; the job's own page shows how far it
//! got (time, requests made to Zoom and the CRM so far) and then its
//! result. The plugin runs one sync of an installation at a time
//! (`Installation::syncs`), so a job started beside another waits for it,
//! and its page says it is running all the same.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::api;
use crate::bindings::SyncReport;
use crate::sim::Simulator;

/// What a job does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    /// R20: one webinar re-synced from Zoom's lists.
    SyncNow(String),
    /// R1: every webinar ended since the date (RFC 3339), or all.
    Backfill(Option<String>),
    /// What webhooks recorded and retries waiting.
    Tick,
}

impl Work {
    pub fn label(&self) -> String {
        match self {
            Work::SyncNow(webinar) => format!("Sync now of webinar {webinar}"),
            Work::Backfill(Some(since)) => format!("Backfill of webinars ended since {since}"),
            Work::Backfill(None) => "Backfill of every webinar".to_owned(),
            Work::Tick => "Sync of what webhooks recorded".to_owned(),
        }
    }

    pub fn webinar(&self) -> Option<&str> {
        match self {
            Work::SyncNow(webinar) => Some(webinar),
            _ => None,
        }
    }
}

/// Where a job stands.
#[derive(Debug, Clone)]
pub enum Outcome {
    Running,
    Done(SyncReport),
    /// The plugin refused or could not be run; the reason, for the operator.
    Failed(String),
}

/// One job as its page shows it.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: u64,
    pub work: Work,
    pub started: Instant,
    /// When it ended (for the elapsed time of a finished job).
    pub ended: Option<Instant>,
    /// How many outbound requests the host had logged when it started.
    pub requests_before: usize,
    pub outcome: Outcome,
}

impl Job {
    pub fn running(&self) -> bool {
        matches!(self.outcome, Outcome::Running)
    }

    pub fn elapsed_s(&self) -> f64 {
        let end = self.ended.unwrap_or_else(Instant::now);
        (end - self.started).as_secs_f64()
    }
}

/// Jobs this process started, the newest kept; older ones are dropped.
#[derive(Default)]
pub struct Jobs {
    map: Mutex<BTreeMap<u64, Job>>,
}

/// Finished jobs kept for their pages.
const KEPT: usize = 50;

impl Jobs {
    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<u64, Job>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Starts `work` in the background; its id, for its page.
    pub fn start(self: &Arc<Self>, sim: &Arc<Simulator>, work: Work) -> u64 {
        let id = {
            let mut map = self.lock();
            let id = map.keys().next_back().map_or(1, |last| last + 1);
            while map.len() >= KEPT {
                let Some(oldest) = map.iter().find(|(_, j)| !j.running()).map(|(k, _)| *k) else {
                    break;
                };
                map.remove(&oldest);
            }
            map.insert(
                id,
                Job {
                    id,
                    work: work.clone(),
                    started: Instant::now(),
                    ended: None,
                    requests_before: sim.installation.outbound.log().len(),
                    outcome: Outcome::Running,
                },
            );
            id
        };
        let jobs = self.clone();
        let sim = sim.clone();
        tokio::spawn(async move {
            let result = match &work {
                Work::SyncNow(webinar) => api::sync_now(&sim, webinar).await,
                Work::Backfill(since) => api::backfill(&sim, since.as_deref()).await,
                Work::Tick => api::tick(&sim).await,
            };
            let outcome = match result {
                Ok(report) => Outcome::Done(report),
                Err(e) => Outcome::Failed(e.to_string()),
            };
            if let Some(job) = jobs.lock().get_mut(&id) {
                job.outcome = outcome;
                job.ended = Some(Instant::now());
            }
        });
        id
    }

    pub fn get(&self, id: u64) -> Option<Job> {
        self.lock().get(&id).cloned()
    }

    /// Every kept job, newest first.
    pub fn all(&self) -> Vec<Job> {
        self.lock().values().rev().cloned().collect()
    }

    /// The newest job that synced `webinar`.
    pub fn last_for(&self, webinar: &str) -> Option<Job> {
        self.lock()
            .values()
            .rev()
            .find(|j| j.work.webinar() == Some(webinar))
            .cloned()
    }
}
