//! The Zoom errors the plugin must end (issue 18), as the fake produces
//! them: a removed scope, a report not made yet, gone after six months, a
//! year on, and the codes a test asks for.

use std::time::Duration;

use super::tests::{get, token, zoom};
use crate::fakes::testing::json as body;

const REPORT: &str = "/report/webinars/81234567890/participants?include_fields=registrant_id";

#[test]
fn issue_18_a_scope_removed_after_install_is_refused_with_code_4711_naming_it() {
    let (zoom, _) = zoom();
    let auth = token(&zoom);
    assert_eq!(get(&zoom, &auth, REPORT).status, 200);
    zoom.remove_scope("report:read:admin");
    let refused = get(&zoom, &auth, REPORT);
    assert_eq!(refused.status, 400);
    assert_eq!(body(&refused)["code"], 4711);
    assert_eq!(
        body(&refused)["message"],
        "Invalid access token, does not contain scopes:[report:read:list_webinar_participants:admin, report:read:admin]."
    );
    // The others still answer; the token answer lists what is left.
    assert_eq!(get(&zoom, &auth, "/webinars/81234567890").status, 200);
    // The granular scope alone grants it again.
    zoom.update(|a| {
        a.scopes
            .as_mut()
            .unwrap()
            .push("report:read:list_webinar_participants:admin".into())
    });
    assert_eq!(get(&zoom, &auth, REPORT).status, 200);
}

#[test]
fn issue_18_a_participants_report_not_made_yet_is_404_code_3001_until_it_is() {
    let (zoom, clock) = zoom();
    let auth = token(&zoom);
    // The webinar ended an hour ago; its report comes two hours after the end.
    zoom.delay_reports(Duration::from_secs(2 * 3600));
    let early = get(&zoom, &auth, REPORT);
    assert_eq!(
        (early.status, body(&early)["code"].as_u64()),
        (404, Some(3001))
    );
    // The details report comes with the end.
    assert_eq!(
        get(&zoom, &auth, "/report/webinars/81234567890").status,
        200
    );
    clock.advance(Duration::from_secs(3600));
    let auth = token(&zoom);
    assert_eq!(get(&zoom, &auth, REPORT).status, 200);
}

#[test]
fn issue_18_reports_expire_after_six_months_and_a_year_on_answer_12702() {
    let (zoom, clock) = zoom();
    clock.advance(Duration::from_secs(181 * 86_400));
    let auth = token(&zoom);
    assert_eq!(get(&zoom, &auth, REPORT).status, 200, "kept unless asked");
    zoom.expire_reports();
    let auth = token(&zoom);
    let gone = get(&zoom, &auth, REPORT);
    assert_eq!(
        (gone.status, body(&gone)["code"].as_u64()),
        (404, Some(3001))
    );
    assert_eq!(
        get(&zoom, &auth, "/report/webinars/81234567890").status,
        200
    );
    clock.advance(Duration::from_secs(185 * 86_400));
    let auth = token(&zoom);
    for path in [REPORT, "/report/webinars/81234567890"] {
        let old = get(&zoom, &auth, path);
        assert_eq!(old.status, 400, "{path}");
        assert_eq!(body(&old)["code"], 12702);
        assert_eq!(body(&old)["message"], "Can not access webinar a year ago.");
    }
}

#[test]
fn issue_18_a_test_can_have_zoom_answer_any_documented_code() {
    let (zoom, _) = zoom();
    let auth = token(&zoom);
    zoom.refuse(
        "/v2/report/webinars/81234567890",
        400,
        1010,
        "User does not belong to this account: acct.",
    );
    let refused = get(&zoom, &auth, REPORT);
    assert_eq!(
        (refused.status, body(&refused)["code"].as_u64()),
        (400, Some(1010))
    );
    assert_eq!(get(&zoom, &auth, "/webinars/81234567890").status, 200);
}
