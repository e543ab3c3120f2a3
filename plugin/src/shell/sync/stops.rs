//! How a webinar's sync that stopped on an error ends (R32, R19f; issue
//! 18): never in a retry without end, never in silence, and never by
//! stopping the other webinars of the run.
//!
//! - An outage (Zoom, the CRM or storage failing, a rate limit): retried
//!   with a back-off (30 s doubling to an hour, or when Zoom says its
//!   limit lifts), each stop in the audit log, as before.
//! - The installation must change (the Zoom app's token refused or a scope
//!   removed, a credential unusable, install not run): every webinar stops
//!   the same way until someone fixes it, so it is retried with the same
//!   back-off (the sync resumes by itself once it is fixed) and explained
//!   once, in one line saying what to change.
//! - This webinar cannot be synced (Zoom refused it for good): explained
//!   once, not retried; a webhook about it, or sync now, tries again.
//!
//! Retries end: a webinar whose sync has failed at every try for
//! [`GIVE_UP_AFTER_MS`] is given up, with an audit entry saying so and how
//! to resume.

use super::{Mode, Sides};
use crate::core::audit::AuditKind;
use crate::core::time::rfc3339;
use crate::shell::intake::{self, Pending};
use crate::shell::{PluginError, Store, audit, encode, schema};

/// How long a webinar is tried again while every try fails.
pub const GIVE_UP_AFTER_MS: i64 = 3 * 86_400_000;

/// What a stop means for what comes next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Stop {
    /// It will answer later: retried, each stop said.
    Outage,
    /// The installation must change: retried, explained once.
    Setup,
    /// Not this webinar, not by asking again: explained once, not retried.
    Webinar,
}

pub(super) fn stop_of(e: &PluginError) -> Stop {
    match e {
        PluginError::ZoomUnavailable(_)
        | PluginError::CrmUnavailable(_)
        | PluginError::Storage(_) => Stop::Outage,
        PluginError::Configuration(_) | PluginError::NotInstalled(_) => Stop::Setup,
        PluginError::ZoomRefused(_)
        | PluginError::InvalidInput(_)
        | PluginError::NotImplemented(_) => Stop::Webinar,
    }
}

/// What to change, for a stop the installation must fix: the words
/// without the error's kind.
pub(super) fn what_to_change(e: &PluginError) -> String {
    match e {
        PluginError::Configuration(why) => why.clone(),
        other => other.to_string(),
    }
}

/// Appends `message` unless it is the webinar's last entry already: what
/// is explained once is not said again at every try.
fn explain_once(
    store: &dyn crate::shell::Store,
    webinar: &str,
    now_ms: i64,
    message: &str,
) -> Result<(), PluginError> {
    if audit::last(store, webinar)?.is_some_and(|last| last.message == message) {
        return Ok(());
    }
    audit::append(
        store,
        webinar,
        now_ms,
        AuditKind::Error,
        message,
        Vec::new(),
    )
    .map(drop)
}

/// Zoom refused this webinar for good: said once, and not tried again
/// unless a webhook marked it since (its facts may change the outcome).
fn stopped_for_good(
    store: &dyn Store,
    webinar: &str,
    now_ms: i64,
    e: &PluginError,
    started: Option<&[u8]>,
) -> Result<(), PluginError> {
    explain_once(
        store,
        webinar,
        now_ms,
        &format!(
            "The sync of this webinar stopped and is not tried again: {e}. A change Zoom tells of, or sync now, tries again."
        ),
    )?;
    let cleared = match started {
        Some(seen) => intake::clear_pending(store, webinar, seen)?,
        None => false,
    };
    if !cleared {
        intake::update_pending_if_marked(store, webinar, run_ended)?;
    }
    Ok(())
}

/// The sync of `webinar` stopped on `e`: its pending mark and its audit
/// log say what comes next. `started` is the mark as the run began.
pub(super) fn stopped(
    run: &Sides<'_>,
    webinar: &str,
    mode: Mode,
    e: &PluginError,
    started: Option<&[u8]>,
) -> Result<(), PluginError> {
    let store = run.book.store;
    let now_ms = run.book.now_ms;
    let stop = stop_of(e);
    if stop == Stop::Webinar {
        return stopped_for_good(store, webinar, now_ms, e, started);
    }
    // R32: a rate limit Zoom says lifts later (its daily limit) is waited
    // for, not retried before.
    let wait_until = run.zoom.port.take_wait_until_ms();
    let written = intake::update_pending(store, webinar, |pending| {
        run_ended(pending);
        pending.reconcile |= mode.reconcile;
        pending.attempts += 1;
        pending.failing_since_ms.get_or_insert(now_ms);
        pending.not_before_ms =
            (now_ms + retry_backoff_s(pending.attempts) * 1000).max(wait_until.unwrap_or_default());
    })?;
    let Pending { attempts, .. } = written;
    let since = written.failing_since_ms.unwrap_or(now_ms);
    if now_ms - since >= GIVE_UP_AFTER_MS {
        audit::append(
            store,
            webinar,
            now_ms,
            AuditKind::Error,
            &format!(
                "The sync of this webinar was given up: it failed at every try since {} ({attempts} tries). The last reason: {e}. A change Zoom tells of, or sync now, tries again.",
                rfc3339(since)
            ),
            Vec::new(),
        )?;
        // A webhook's mark since stays, for the facts it brought.
        let key = schema::pending(webinar);
        intake::clear_pending(store, webinar, &encode(&key, &written)?)?;
        return Ok(());
    }
    if stop == Stop::Setup {
        // The same words at every try of the streak: said once.
        return explain_once(
            store,
            webinar,
            now_ms,
            &format!(
                "The sync of this webinar waits for a change to the installation and is tried again, less and less often, until {}: {}",
                rfc3339(since + GIVE_UP_AFTER_MS),
                what_to_change(e)
            ),
        );
    }
    let backoff_s = retry_backoff_s(attempts);
    let when = match wait_until {
        Some(at) if at > now_ms + backoff_s * 1000 => format!("at {}", rfc3339(at)),
        _ => format!("in {backoff_s} s"),
    };
    audit::append(
        store,
        webinar,
        now_ms,
        AuditKind::Error,
        &format!("The sync stopped and will be retried {when} (attempt {attempts}): {e}"),
        Vec::new(),
    )
    .map(drop)
}

/// The run of a webinar ended, whichever way: no longer counted as begun.
pub(super) fn run_ended(pending: &mut Pending) {
    if pending.unfinished > UNFINISHED_BEFORE_BACKOFF {
        pending.not_before_ms = 0;
    }
    pending.unfinished = 0;
}

/// Runs of a webinar that may end without ending (the host stopped the
/// plugin) before the next waits a back-off: two, so that a host killed
/// once during "sync now" and once during the tick that resumed it still
/// finishes at the next tick.
pub(super) const UNFINISHED_BEFORE_BACKOFF: u32 = 2;

/// How long a webinar whose sync failed `attempts` times in a row waits:
/// 30 s, 1, 2, 4 ... minutes, at most an hour.
pub(super) fn retry_backoff_s(attempts: u32) -> i64 {
    (30i64 << attempts.min(7).saturating_sub(1)).min(3600)
}

#[cfg(test)]
mod tests;
