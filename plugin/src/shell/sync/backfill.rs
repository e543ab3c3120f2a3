//! The backfill (R1): every webinar of the account that ended at or after
//! `since`, found three ways and merged by webinar id: each user's
//! scheduled and upcoming webinars (`GET /users/{userId}/webinars`, which
//! lists no past ones), the account's past webinars from Zoom's Dashboard
//! (`GET /metrics/webinars?type=past`, Business plans and up), and every
//! webinar the plugin heard of (webhooks, sync now). What Zoom will not
//! list (a user without a webinar licence, a plan without the Dashboard)
//! is said in the report, and the backfill goes on with the rest.

use std::collections::BTreeSet;

use super::schedule::run_into;
use super::{Env, Mode, PluginError, Report, Sides};
use crate::core::time::parse_rfc3339;
use crate::shell::{all_keys, schema};

/// Syncs every webinar of the account (that ended at or after `since`)
/// and every webinar the plugin has heard of: what was missed while sync
/// was off, or before the plugin was installed (R1).
pub fn backfill(env: &Env<'_>, since: Option<i64>) -> Result<Report, PluginError> {
    let mut run = Sides::new(env)?;
    let mut webinars = BTreeSet::new();
    let mut total = Report::default();
    let users: Vec<String> = run.zoom.users()?.keys().cloned().collect();
    for user in users {
        // A user whose webinars Zoom will not list (no webinar licence, a
        // missing scope) is skipped and said; the backfill goes on.
        let listed = match run.zoom.port.user_webinars(&user)? {
            Ok(listed) => listed,
            Err(why) => {
                total.notes.push(format!(
                    "Zoom user {user} was skipped: {why}. Their webinars are synced when Zoom's webhooks tell of them."
                ));
                continue;
            }
        };
        // Upcoming webinars have not ended: their start stands for the end.
        webinars.extend(listed.into_iter().filter_map(|w| {
            let start = w.start_ms.unwrap_or_default();
            let wanted = since.is_none_or(|since| start >= since) && !w.id.is_empty();
            wanted.then_some(w.id)
        }));
    }
    // Past webinars: the WIT's `since` is when they ended.
    let past = run.zoom.port.past_webinars(since)?;
    total.notes.extend(past.notes);
    webinars.extend(past.webinars.into_iter().filter_map(|w| {
        let ended = parse_rfc3339(&w.end_time).or_else(|| parse_rfc3339(&w.start_time));
        let wanted = since.is_none_or(|since| ended.is_some_and(|e| e >= since));
        (wanted && !w.id.is_empty()).then_some(w.id)
    }));
    for key in all_keys(env.store, schema::KNOWN_PREFIX)? {
        webinars.insert(key.trim_start_matches(schema::KNOWN_PREFIX).to_owned());
    }
    for webinar in webinars {
        run_into(&mut total, &mut run, &webinar, Mode::ON_DEMAND)?;
    }
    Ok(total)
}
