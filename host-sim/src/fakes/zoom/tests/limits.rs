//! The fake Zoom's rate limits, with Zoom's headers, and its injected
//! faults.

use super::*;

fn header<'a>(answer: &'a FakeResponse, name: &str) -> Option<&'a str> {
    answer
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// R32: Zoom's rate-limit headers: the category on every answer; the
/// type, limit and remaining on a 429; `Retry-After` on a daily limit
/// (the next 00:00 UTC) and, here, on a limit another app spent.
#[test]
fn r32_rate_limited_answers_carry_zooms_headers() {
    let (zoom, clock) = zoom();
    let auth = token(&zoom);
    let ok = get(&zoom, &auth, "/report/webinars/81234567890/participants");
    assert_eq!(header(&ok, "X-RateLimit-Category"), Some("Heavy"));
    for _ in 0..9 {
        get(&zoom, &auth, "/report/webinars/81234567890/participants");
    }
    let qps = get(&zoom, &auth, "/report/webinars/81234567890/participants");
    assert_eq!(qps.status, 429);
    assert_eq!(header(&qps, "X-RateLimit-Type"), Some("QPS"));
    assert_eq!(header(&qps, "X-RateLimit-Limit"), Some("10"));
    assert_eq!(header(&qps, "X-RateLimit-Remaining"), Some("0"));
    assert_eq!(
        header(&qps, "Retry-After"),
        None,
        "Zoom documents none here"
    );

    clock.advance(Duration::from_secs(1));
    zoom.set_daily_heavy_limit(12);
    assert_eq!(
        get(&zoom, &auth, "/meetings/81234567890/recordings").status,
        200
    );
    let daily = get(&zoom, &auth, "/report/webinars/81234567890/participants");
    assert_eq!(
        daily.status, 429,
        "the 11 heavy requests above and this one"
    );
    assert_eq!(header(&daily, "X-RateLimit-Type"), Some("Daily-limit"));
    assert_eq!(header(&daily, "X-RateLimit-Limit"), Some("12"));
    assert_eq!(header(&daily, "Retry-After"), Some("2026-11-21T00:00:00Z"));
    assert!(
        body(&daily)["message"]
            .as_str()
            .unwrap()
            .contains("daily rate limit (12)")
    );
    assert_eq!(
        get(&zoom, &auth, "/webinars/81234567890").status,
        200,
        "light APIs have no daily limit"
    );
    clock.advance(Duration::from_secs(7 * 3600));
    let auth = token(&zoom);
    assert_eq!(
        get(&zoom, &auth, "/meetings/81234567890/recordings").status,
        200,
        "a new day"
    );

    zoom.throttle("/v2/webinars/", Duration::from_millis(6_500));
    let throttled = get(&zoom, &auth, "/webinars/81234567890");
    assert_eq!(throttled.status, 429);
    assert_eq!(header(&throttled, "Retry-After"), Some("7"));
    clock.advance(Duration::from_millis(6_500));
    assert_eq!(get(&zoom, &auth, "/webinars/81234567890").status, 200);
}

#[test]
fn heavy_apis_are_limited_to_ten_a_second() {
    let (zoom, clock) = zoom();
    let auth = token(&zoom);
    for _ in 0..10 {
        assert_eq!(
            get(&zoom, &auth, "/report/webinars/81234567890/participants").status,
            200
        );
    }
    let limited = get(&zoom, &auth, "/report/webinars/81234567890/participants");
    assert_eq!(limited.status, 429);
    assert!(
        body(&limited)["message"]
            .as_str()
            .unwrap()
            .contains("rate limit")
    );
    assert_eq!(
        get(&zoom, &auth, "/webinars/81234567890").status,
        200,
        "light APIs have their own budget"
    );
    clock.advance(Duration::from_secs(1));
    assert_eq!(
        get(&zoom, &auth, "/report/webinars/81234567890/participants").status,
        200
    );
}

#[test]
fn injected_faults_answer_5xx_or_time_out() {
    let clock = Clock::manual(0);
    let app = ZoomApp {
        account_id: "a".into(),
        client_id: "i".into(),
        client_secret: "s".into(),
    };
    let failing = FakeZoom::new(app.clone(), clock.clone()).with_faults(FaultPlan {
        error_rate: 1.0,
        ..FaultPlan::default()
    });
    assert_eq!(
        failing
            .handle(&request("GET", "https://api.zoom.us/v2/users", None, None))
            .status,
        503
    );
    let hanging = FakeZoom::new(app.clone(), clock.clone()).with_faults(FaultPlan {
        timeout_rate: 1.0,
        ..FaultPlan::default()
    });
    let answer = hanging.handle(&request("GET", "https://api.zoom.us/v2/users", None, None));
    assert!(answer.timed_out);
    let slow = FakeZoom::new(app, clock).with_faults(FaultPlan {
        latency_ms: 250,
        ..FaultPlan::default()
    });
    let answer = slow.handle(&request("GET", "https://api.zoom.us/v2/users", None, None));
    assert_eq!(
        (answer.status, answer.delay),
        (401, Duration::from_millis(250)),
        "a slow refusal"
    );
}
