//! The fake Zoom's reports: the participants report and the Dashboard's
//! past webinars.

use super::*;

#[test]
fn the_participants_report_has_a_row_per_segment_and_hides_guests_emails() {
    let (zoom, _) = zoom();
    let auth = token(&zoom);
    let report = body(&get(
        &zoom,
        &auth,
        "/report/webinars/81234567890/participants?page_size=300&include_fields=registrant_id",
    ));
    let rows = report["participants"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["user_email"], "person0@example.com");
    assert_eq!(
        rows[0]["registrant_id"],
        zoom.account().webinars[0].registrants[0].id
    );
    assert_eq!(
        (rows[1]["join_time"].as_str(), rows[1]["duration"].as_i64()),
        (Some("2026-11-20T15:40:00Z"), Some(1200))
    );
    assert_eq!(rows[2]["user_email"], "", "a guest who did not register");
    assert_eq!(rows[2]["registrant_id"], "");
}

/// Issue 21: the report's registrant index is kept between pages, and is
/// never trusted when the registrants changed under it.
#[test]
fn the_participants_report_finds_registrants_after_they_change_between_reads() {
    let (zoom, _) = zoom();
    let auth = token(&zoom);
    let path = "/report/webinars/81234567890/participants?page_size=1&include_fields=registrant_id";
    let first = body(&get(&zoom, &auth, path));
    let id = zoom.account().webinars[0].registrants[0].id.clone();
    assert_eq!(first["participants"][0]["registrant_id"], id);
    // The registrants reordered and a stranger put where the index says.
    let mut account = zoom.account();
    let registrants = &mut account.webinars[0].registrants;
    registrants.reverse();
    let mut stranger = registrants[0].clone();
    stranger.email = "stranger@example.com".into();
    stranger.id = "stranger".into();
    registrants.push(stranger);
    zoom.seed(account);
    let again = body(&get(&zoom, &auth, path));
    assert_eq!(again["participants"][0]["registrant_id"], id);
}

/// R8: Zoom adds `registrant_id` to the report's rows only when asked.
#[test]
fn r8_the_participants_report_has_registrant_ids_only_with_include_fields() {
    let (zoom, _) = zoom();
    let auth = token(&zoom);
    let report = body(&get(
        &zoom,
        &auth,
        "/report/webinars/81234567890/participants?page_size=300",
    ));
    let rows = report["participants"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    assert!(
        rows.iter().all(|r| r.get("registrant_id").is_none()),
        "{rows:?}"
    );
    assert_eq!(rows[0]["user_email"], "person0@example.com");
}

/// R1: past webinars come from the Dashboard, a month at a time within the
/// last six months, paged; a plan without the Dashboard is refused.
#[test]
fn the_dashboard_lists_past_webinars_a_month_at_a_time_within_six_months() {
    let (zoom, _) = zoom();
    let auth = token(&zoom);
    let past = body(&get(
        &zoom,
        &auth,
        "/metrics/webinars?type=past&from=2026-11-01&to=2026-11-30&page_size=300",
    ));
    assert_eq!(past["from"], "2026-11-01");
    let listed = past["webinars"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{past}");
    assert_eq!(listed[0]["id"], 81234567890u64);
    assert_eq!(listed[0]["email"], "host@acme.example");
    assert_eq!(listed[0]["start_time"], START);
    assert_eq!(listed[0]["end_time"], "2026-11-20T16:00:00Z");
    assert_eq!(listed[0]["duration"], "01:00:00");
    assert_eq!(past["next_page_token"], "");
    // `type` defaults to live.
    let live = body(&get(
        &zoom,
        &auth,
        "/metrics/webinars?from=2026-11-01&to=2026-11-30",
    ));
    assert_eq!(live["webinars"], json!([]));
    // Another month: none.
    let october = body(&get(
        &zoom,
        &auth,
        "/metrics/webinars?type=past&from=2026-10-01&to=2026-10-31",
    ));
    assert_eq!(october["webinars"], json!([]));
    for (query, why) in [
        (
            "type=past&from=2026-09-01&to=2026-11-30",
            "more than a month",
        ),
        (
            "type=past&from=2026-05-01&to=2026-05-30",
            "older than six months",
        ),
        ("type=past&to=2026-11-30", "no from"),
        ("type=past&from=2026-11-30&to=2026-11-01", "to before from"),
    ] {
        let refused = get(&zoom, &auth, &format!("/metrics/webinars?{query}"));
        assert_eq!(
            (refused.status, body(&refused)["code"].as_u64()),
            (400, Some(300)),
            "{why}"
        );
    }
    zoom.remove_dashboard();
    let refused = get(
        &zoom,
        &auth,
        "/metrics/webinars?type=past&from=2026-11-01&to=2026-11-30",
    );
    assert_eq!(
        (refused.status, body(&refused)["code"].as_u64()),
        (400, Some(200))
    );
}
