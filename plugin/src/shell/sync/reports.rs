//! Zoom's reports of a webinar that ran (R8, R19c; issue 18): when it ran
//! (`GET /report/webinars/{id}`) and who attended (`GET
//! /report/webinars/{id}/participants`), or why Zoom has neither.
//!
//! Every answer ends: a report Zoom has not made yet (404, code 3001) is
//! looked for again until [`REPORT_WAIT_MS`] after the webinar ended, then
//! explained; a report Zoom refuses (12702 "a year ago", 200 "no
//! permission", 1010 ...) is explained at once. Either way once in the
//! webinar's audit log, and the rest of the webinar (its registrations) is
//! synced. Zoom does not document how long after a webinar its report
//! appears: the harsher reading is that it may take hours, so a day.

use super::Report;
use super::stage::Stage;
use super::{Book, ZoomSide, checkpoint};
use crate::core::audit::AuditKind;
use crate::core::ledger::{Ledger, applied};
use crate::core::plan::Webinar;
use crate::shell::ports::ZoomReport;
use crate::shell::zoom::refusal;
use crate::shell::{PluginError, Store, save, schema};

/// How long after a webinar ended its participants report is waited for.
pub const REPORT_WAIT_MS: i64 = 24 * 3_600_000;
/// Looks again this often in the first hours after the end ...
const EARLY_CHECK_MS: i64 = 15 * 60_000;
const EARLY_MS: i64 = 2 * 3_600_000;
/// ... and then hourly.
const LATE_CHECK_MS: i64 = 3_600_000;

/// When to look for the participants report of a webinar that ended at
/// `end_ms` again; none once the wait is over (then it is explained).
pub fn report_retry_at(end_ms: i64, now_ms: i64) -> Option<i64> {
    let since_end = now_ms - end_ms;
    if since_end >= REPORT_WAIT_MS {
        return None;
    }
    let wait = if since_end < EARLY_MS {
        EARLY_CHECK_MS
    } else {
        LATE_CHECK_MS
    };
    Some((now_ms + wait).min(end_ms + REPORT_WAIT_MS))
}

/// Zoom's refusal of a `report` in a marketer's words.
fn refused_because(report: &str, why: &str) -> String {
    if why.contains(&format!("code {}", refusal::YEAR_AGO)) {
        format!("Zoom keeps webinar reports for a year and this webinar is older ({why})")
    } else {
        format!("Zoom will not give this webinar's {report} ({why})")
    }
}

impl ZoomSide<'_> {
    /// When the webinar actually ran: from the ended event, else Zoom's
    /// details report on a reconcile. Returns Zoom's refusal, if it
    /// refused the report, for [`ZoomSide::attendance`] to explain.
    pub(super) fn ran(
        &mut self,
        webinar: &mut Webinar,
        ended: Option<(Option<i64>, Option<i64>)>,
        reconcile: bool,
        store: &dyn Store,
    ) -> Result<Option<String>, PluginError> {
        let mut refused = None;
        if let Some((Some(start), Some(end))) = ended {
            webinar.ran = Some((start, end));
        } else if reconcile {
            match self.port.ran(&webinar.id)? {
                ZoomReport::Ready(ran) => webinar.ran = ran.or(webinar.ran),
                // Not made: the webinar has not ended.
                ZoomReport::NotYet => {}
                // When it ran is known from an earlier sync: kept.
                ZoomReport::Refused(_) if webinar.ran.is_some() => {}
                ZoomReport::Refused(why) => refused = Some(why),
            }
        }
        save(store, &schema::webinar_meta(&webinar.id), webinar)?;
        Ok(refused)
    }

    /// The participants report's rows of a webinar that ended (R8); none
    /// while attendance waits for Zoom to make the report (`report` then
    /// says when to look again). What keeps attendance from being synced
    /// is said once in the webinar's audit log (R19c).
    ///
    /// A report gone from Zoom after attendance was synced from it (a sync
    /// now a year on) stops the webinar's sync instead, before it writes:
    /// planned without the report's rows, the contacts' properties would
    /// lose the attendance they have (R12, R32: nothing is lost).
    ///
    /// The rows are staged as they are read; the answer says whether they
    /// are the report (`Some(true)`), there is none (`Some(false)`), or
    /// attendance waits (`None`).
    pub(super) fn attendance(
        &mut self,
        webinar: &Webinar,
        details_refused: Option<String>,
        stage: &mut Stage,
        book: &Book,
        (ledger, report): (&mut Ledger, &mut Report),
    ) -> Result<Option<bool>, PluginError> {
        let id = webinar.id.as_str();
        let kind = AuditKind::ParticipantsNotSynced;
        if let Some(why) = details_refused {
            let message = format!(
                "Attendance was not synced: {}, so when it ran is not known. Its registrations were synced.",
                refused_because("reports", &why)
            );
            book.note_that(ledger, id, kind, message, Vec::new())?;
            return Ok(Some(false));
        }
        let Some((_, end_ms)) = webinar.ran else {
            return Ok(Some(false));
        };
        let answer = self.port.participants(id, &mut |page| {
            page.into_iter().try_for_each(|r| stage.row(r))
        })?;
        if !matches!(answer, ZoomReport::Ready(_))
            && checkpoint::anyone_has(book.store, id, ledger, applied::ATTENDED)?
        {
            let kept = "the attendance synced from it before is kept and nothing was changed";
            return Err(match &answer {
                ZoomReport::Refused(why) => PluginError::ZoomRefused(format!(
                    "{}; {kept}",
                    refused_because("participants report", why)
                )),
                _ if report_retry_at(end_ms, book.now_ms).is_none() => {
                    PluginError::ZoomRefused(format!(
                        "Zoom no longer has this webinar's participants report (Zoom keeps them for six months); {kept}"
                    ))
                }
                // Gone for now (a recurring webinar's next instance, say):
                // an outage, retried with the back-off and its bound.
                _ => PluginError::ZoomUnavailable(format!(
                    "Zoom has no participants report for this webinar just now (404, code 3001); {kept}"
                )),
            });
        }
        match answer {
            ZoomReport::Ready(()) => Ok(Some(true)),
            ZoomReport::Refused(why) => {
                let message = format!(
                    "Attendance was not synced: {}. Its registrations were synced.",
                    refused_because("participants report", &why)
                );
                book.note_that(ledger, id, kind, message, Vec::new())?;
                Ok(Some(false))
            }
            ZoomReport::NotYet => match report_retry_at(end_ms, book.now_ms) {
                Some(at) => {
                    book.note_that(
                        ledger,
                        id,
                        kind,
                        "Attendance is not synced yet: Zoom has not made this webinar's participants report. Its registrations were synced; the sync looks for the report again until 24 hours after the webinar ended.".into(),
                        Vec::new(),
                    )?;
                    report.retry_at_ms = Some(report.retry_at_ms.map_or(at, |r| r.min(at)));
                    Ok(None)
                }
                None => {
                    book.note_that(
                        ledger,
                        id,
                        kind,
                        "Attendance was not synced: Zoom had no participants report for this webinar 24 hours after it ended (Zoom keeps them for six months). Its registrations were synced; use sync now if the report appears in Zoom later.".into(),
                        Vec::new(),
                    )?;
                    Ok(Some(false))
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3_600_000;

    #[test]
    fn issue_18_a_report_not_made_yet_is_looked_for_again_until_a_day_after_the_end() {
        let end = 1_795_000_000_000;
        assert_eq!(report_retry_at(end, end + 60_000), Some(end + 16 * 60_000));
        assert_eq!(report_retry_at(end, end + 3 * HOUR), Some(end + 4 * HOUR));
        // Never past the day, and then no more.
        assert_eq!(
            report_retry_at(end, end + 23 * HOUR + 30 * 60_000),
            Some(end + 24 * HOUR)
        );
        assert_eq!(report_retry_at(end, end + 24 * HOUR), None);
        // The checks a day holds are few: bounded, not hourly for ever.
        let mut now = end;
        let mut checks = 0;
        while let Some(at) = report_retry_at(end, now) {
            assert!(at > now);
            now = at;
            checks += 1;
        }
        assert!(checks <= 8 + 22, "{checks}");
    }

    #[test]
    fn a_refusal_a_year_on_is_said_in_a_marketers_words() {
        let why =
            "Zoom refused /report/webinars/1 (400 code 12702: Can not access webinar a year ago.)";
        assert!(
            refused_because("reports", why).starts_with("Zoom keeps webinar reports for a year")
        );
        let why = "Zoom refused /report/webinars/1 (400 code 200: No permission.)";
        assert!(
            refused_because("participants report", why)
                .starts_with("Zoom will not give this webinar's participants report (")
        );
    }
}
