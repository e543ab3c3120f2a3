//! Reports of a webinar that ran (R8): `GET /report/webinars/{id}` and
//! its participants report, a row per join/leave segment; and the errors
//! Zoom documents for them (issue 18), from the clock and the account.
//! Zoom's retention (the first two) holds once a test turns it on
//! ([`FakeZoom::expire_reports`]): the demo's and the scenarios' webinars
//! have fixed dates, and a fake on the real clock would otherwise start
//! refusing them some months from now.
//!
//! - 400 code 12702 "Can not access webinar a year ago." for a webinar
//!   that ended more than a year ago (both reports list the code:
//!   Reports API, "Get a webinar details report", "Get webinar
//!   participant reports"; as in Zoom's generated OpenAPI clients);
//! - 404 code 3001 "Webinar {id} not found or has expired." for a
//!   participants report older than six months ("You can get webinar
//!   participant reports for the last 6 months"; the fake reads it as 180
//!   days, the harsher reading), and while the report is not made yet;
//! - 400 code 3001 for the details report of a webinar that has not ended.
//!
//! Zoom does not say how long after a webinar ends its participants report
//! appears. The fake has it at once unless told otherwise
//! ([`FakeZoom::delay_reports`], the harsher reading for a test: hours);
//! the details report comes with the end (its times are the
//! `webinar.ended` event's).

use super::*;

/// Older than this, Zoom answers 12702 (a year; the harsher reading of "a
/// year ago" is 365 days).
pub const REPORTS_KEPT_DAYS: i64 = 365;
/// Older than this, the participants report is gone (404 code 3001).
pub const PARTICIPANTS_KEPT_DAYS: i64 = 180;

/// How long before `now` (ms) `w` ended, if it ran.
fn ended_ago_ms(w: &Webinar, now: i64) -> Option<i64> {
    let end = w.ran.as_ref().and_then(|r| parse_rfc3339(&r.end_time))?;
    Some(now - end)
}

fn a_year_ago() -> FakeResponse {
    zoom_error(400, 12702, "Can not access webinar a year ago.")
}

fn expired(id: &str) -> FakeResponse {
    zoom_error(
        404,
        3001,
        &format!("Webinar {id} not found or has expired."),
    )
}

impl FakeZoom {
    /// Zoom's retention of reports holds from now on: 12702 a year after a
    /// webinar, 404 code 3001 for a participants report after six months.
    pub fn expire_reports(&self) {
        self.lock().reports_expire = true;
    }

    /// Participants reports appear `after` the webinar ended (until then
    /// 404 code 3001, as for a webinar Zoom has no report of).
    pub fn delay_reports(&self, after: Duration) {
        self.lock().report_delay_ms = after.as_millis() as i64;
    }

    /// `GET /report/webinars/{id}`: when the webinar ran.
    pub(super) fn details_report(&self, id: &str) -> FakeResponse {
        let now = self.clock.now_ms();
        let expire = self.lock().reports_expire;
        self.with_webinar(id, |w, _| {
            if expire && ended_ago_ms(w, now).is_some_and(|ago| ago > REPORTS_KEPT_DAYS * DAY_MS) {
                return a_year_ago();
            }
            match &w.ran {
                Some(ran) => FakeResponse::json(
                    200,
                    &json!({
                        "id": w.id, "uuid": w.uuid, "topic": w.topic, "user_email": w.host,
                        "start_time": ran.start_time, "end_time": ran.end_time,
                        "duration": w.duration, "participants_count": w.participants.len(),
                    }),
                ),
                // Zoom has no report for a webinar that has not happened.
                None => zoom_error(
                    400,
                    3001,
                    &format!(
                        "Webinar {} has not ended yet; no report is available.",
                        w.id
                    ),
                ),
            }
        })
    }

    /// `GET /report/webinars/{id}/participants`: a row per join/leave
    /// segment. `registrant_id` is in a row only when asked for with
    /// `include_fields=registrant_id`, as Zoom documents
    /// (<https://developers.zoom.us/docs/api/rest/reference/zoom-api/methods/#operation/reportWebinarParticipants>:
    /// "include_fields: Provide `registrant_id` as the value for this field
    /// if you would like to see the registrant ID attribute in the response").
    pub(super) fn participants_report(&self, request: &FakeRequest, id: &str) -> FakeResponse {
        let with_registrant_id = request
            .query_param("include_fields")
            .is_some_and(|fields| fields.split(',').any(|f| f.trim() == "registrant_id"));
        let (delay, expire) = {
            let state = self.lock();
            (state.report_delay_ms, state.reports_expire)
        };
        let now = self.clock.now_ms();
        self.with_webinar(id, |webinar, _| {
            match ended_ago_ms(webinar, now) {
                Some(ago) if expire && ago > REPORTS_KEPT_DAYS * DAY_MS => return a_year_ago(),
                Some(ago) if expire && ago > PARTICIPANTS_KEPT_DAYS * DAY_MS => return expired(id),
                Some(ago) if delay > 0 && ago < delay => return expired(id),
                _ => {}
            }
            let listing = format!("report/{id}/participants");
            let index = std::cell::RefCell::new(self.lock_report_index());
            let rebuilt = std::cell::Cell::new(false);
            self.page_of(
                request,
                &listing,
                participant_rows(webinar),
                MAX_PAGE_SIZE,
                "participants",
                |row| {
                    let registrant = row
                        .participant
                        .registrant
                        .as_deref()
                        .and_then(|email| index.borrow_mut().find(webinar, email, &rebuilt));
                    row.json(registrant, with_registrant_id)
                },
            )
        })
    }
}

/// One report row: a join/leave segment of one participant.
struct ReportRow<'a> {
    index: usize,
    participant: &'a model::Participant,
    join_ms: i64,
    leave_ms: i64,
}

/// A webinar's registrants by lowercase email, for its participants
/// report: kept between the report's pages, not built again for each (a
/// 100,000-person report is read 300 rows at a time, and an index a page
/// made reading it quadratic, issue 21). Every answer is checked against
/// the registrant it names, and a stale index is built again, at most
/// once a page.
#[derive(Default)]
pub(super) struct RegistrantIndex {
    webinar: u64,
    by_email: HashMap<String, usize>,
}

impl RegistrantIndex {
    fn find<'w>(
        &mut self,
        w: &'w Webinar,
        email: &str,
        rebuilt: &std::cell::Cell<bool>,
    ) -> Option<&'w Registrant> {
        if let Some(found) = self.lookup(w, email) {
            return Some(found);
        }
        if rebuilt.replace(true) {
            return None;
        }
        self.webinar = w.id;
        self.by_email = (w.registrants.iter().enumerate())
            .map(|(i, r)| (r.email.to_ascii_lowercase(), i))
            .collect();
        self.lookup(w, email)
    }

    fn lookup<'w>(&self, w: &'w Webinar, email: &str) -> Option<&'w Registrant> {
        if self.webinar != w.id {
            return None;
        }
        let at = *self.by_email.get(&email.to_ascii_lowercase())?;
        w.registrants
            .get(at)
            .filter(|r| r.email.eq_ignore_ascii_case(email))
    }
}

impl ReportRow<'_> {
    fn json(self, registrant: Option<&Registrant>, with_registrant_id: bool) -> Value {
        // Guests' emails are empty unless they registered.
        let email = if registrant.is_some() {
            self.participant.email.clone()
        } else {
            String::new()
        };
        let mut row = json!({
            "id": format!("pu{:06}", self.index + 1),
            "user_id": format!("{}", 16_778_240 + self.index),
            "name": self.participant.name,
            "user_email": email,
            "join_time": rfc3339(self.join_ms),
            "leave_time": rfc3339(self.leave_ms),
            "duration": (self.leave_ms - self.join_ms) / 1000,
            "status": "in_meeting",
        });
        if with_registrant_id {
            row["registrant_id"] = registrant.map(|r| r.id.clone()).unwrap_or_default().into();
        }
        row
    }
}

/// One report row per join/leave segment; who registered is found only
/// for the rows of the page asked for.
fn participant_rows(w: &Webinar) -> Vec<ReportRow<'_>> {
    let Some(start) = w
        .ran
        .as_ref()
        .and_then(|ran| parse_rfc3339(&ran.start_time))
    else {
        return Vec::new();
    };
    let mut rows = Vec::new();
    for (index, participant) in w.participants.iter().enumerate() {
        for (from, to) in &participant.segments {
            rows.push(ReportRow {
                index,
                participant,
                join_ms: start + i64::from(*from) * 60_000,
                leave_ms: start + i64::from(*to) * 60_000,
            });
        }
    }
    rows
}
