//! A webinar's page: where it stands, "Sync now", and its audit log (R19)
//! newest first, filtered by kind, each entry with the records it names,
//! and the emails left out with their reasons (R17, R19e).

use std::sync::Arc;

use askama::Template;

use super::jobs::Jobs;
use super::webinars::{self, KnownWebinar, Row};
use super::{Chrome, render};
use crate::api;
use crate::bindings::settings::{AuditEntry, AuditKind};
use crate::exchange::Reply;
use crate::sim::Simulator;

/// The audit kinds, as the filter offers them: the name `serve` and the
/// CLI use, and a label that cites R19's categories.
pub const KINDS: [(AuditKind, &str); 7] = [
    (AuditKind::SyncSettingOff, "Sync setting off (R19a)"),
    (
        AuditKind::RecordingNotSynced,
        "Recording or transcript not synced (R19b)",
    ),
    (
        AuditKind::ParticipantsNotSynced,
        "Participants not synced (R19c)",
    ),
    (
        AuditKind::WebinarDataNotSynced,
        "Webinar data not synced (R19d)",
    ),
    (AuditKind::EmailsExcluded, "Emails excluded (R19e)"),
    (AuditKind::Error, "Error (R19f)"),
    (AuditKind::Synced, "Synced"),
];

fn label(kind: AuditKind) -> &'static str {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or("", |(_, l)| l)
}

pub struct EntryView {
    pub sequence: u64,
    pub at: String,
    pub kind: &'static str,
    pub label: &'static str,
    pub message: String,
    pub records: Vec<String>,
}

pub struct KindOption {
    pub name: &'static str,
    pub label: &'static str,
    pub selected: bool,
    /// How many entries of this kind the log holds.
    pub count: usize,
}

struct LogView {
    kinds: Vec<KindOption>,
    filter: Option<&'static str>,
    entries: Vec<EntryView>,
    excluded: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    page: Chrome,
    row: Row,
    kinds: Vec<KindOption>,
    filter: Option<&'static str>,
    total: usize,
    entries: Vec<EntryView>,
    /// Each email left out, with the reason the plugin gave (newest kept).
    excluded: Vec<(String, String)>,
}

/// The reason of an "emails excluded" entry, without its count
/// ("3 email(s) left out: in an excluded domain." → "in an excluded domain.").
fn reason(message: &str) -> &str {
    message
        .split_once("left out: ")
        .map_or(message, |(_, reason)| reason)
}

pub async fn page(
    sim: &Arc<Simulator>,
    jobs: &Jobs,
    page: Chrome,
    webinar: &str,
    query: &str,
) -> Reply {
    if webinar.is_empty() || webinar.len() > 20 || !webinar.bytes().all(|b| b.is_ascii_digit()) {
        return super::message(
            404,
            page,
            format!(
                "{webinar:?} is not a Zoom webinar id: use its digits only, without spaces or dashes."
            ),
        );
    }
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
    let known = webinars::known(sim, &[webinar.to_owned()])
        .await
        .into_iter()
        .find(|w| w.id == webinar)
        .unwrap_or_else(|| KnownWebinar {
            id: webinar.to_owned(),
            ..KnownWebinar::default()
        });
    let audit = webinars::audit_newest_first(sim, webinar).await;
    let counts = webinars::counts(sim)
        .await
        .get(webinar)
        .copied()
        .unwrap_or_default();
    let row = webinars::row(sim, jobs, known, &global, counts, &audit).await;

    let LogView {
        kinds,
        filter,
        entries,
        excluded,
    } = log_view(&audit, query);
    render(
        200,
        &AuditPage {
            page,
            row,
            kinds,
            filter,
            total: audit.len(),
            entries,
            excluded,
        },
    )
}

/// What the log shows of `audit` (newest first) for the query's `kind`:
/// the filter's options, the filter, the entries, and the excluded emails.
fn log_view(audit: &[AuditEntry], query: &str) -> LogView {
    let wanted = crate::query::param(query.as_bytes(), "kind");
    let filter = KINDS
        .iter()
        .map(|(k, _)| api::audit_kind_name(*k))
        .find(|name| wanted.as_deref() == Some(*name));
    let kinds = KINDS
        .iter()
        .map(|(kind, label)| KindOption {
            name: api::audit_kind_name(*kind),
            label,
            selected: filter == Some(api::audit_kind_name(*kind)),
            count: audit.iter().filter(|e| e.kind == *kind).count(),
        })
        .collect();
    let mut excluded: Vec<(String, String)> = Vec::new();
    for e in audit.iter().filter(|e| e.kind == AuditKind::EmailsExcluded) {
        for email in &e.records {
            if !excluded.iter().any(|(known, _)| known == email) {
                excluded.push((email.clone(), reason(&e.message).to_owned()));
            }
        }
    }
    let entries: Vec<EntryView> = audit
        .iter()
        .filter(|e| filter.is_none_or(|f| api::audit_kind_name(e.kind) == f))
        .map(|e| EntryView {
            sequence: e.sequence,
            at: super::when(e.at),
            kind: api::audit_kind_name(e.kind),
            label: label(e.kind),
            message: e.message.clone(),
            records: e.records.clone(),
        })
        .collect();
    LogView {
        kinds,
        filter,
        entries,
        excluded,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn r19e_an_exclusion_reason_is_read_without_its_count() {
        assert_eq!(
            super::reason("2 email(s) left out: in an excluded domain (R5)."),
            "in an excluded domain (R5)."
        );
        assert_eq!(super::reason("something else"), "something else");
    }
}
