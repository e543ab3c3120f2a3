//! What every call to the fake CRM passes first: the access token, the
//! rate limits and the injected faults.

use super::*;

#[test]
fn a_wrong_token_is_a_401_in_hubspot_shape() {
    let (crm, _) = crm();
    let answer = crm.handle(&request(
        "GET",
        "https://api.hubapi.com/crm/v3/owners",
        Some("Bearer wrong"),
        None,
    ));
    assert_eq!(answer.status, 401);
    let b = body(&answer);
    assert_eq!(
        (b["status"].as_str(), b["category"].as_str()),
        (Some("error"), Some("INVALID_AUTHENTICATION"))
    );
    assert!(b["correlationId"].is_string());
}

#[test]
fn requests_past_the_ten_second_limit_get_429_with_the_policy() {
    let clock = Clock::manual(0);
    let crm = FakeCrm::new("t", clock.clone()).with_rate_limits(CrmRateLimits::STARTER);
    for _ in 0..100 {
        assert_eq!(get(&crm, "/crm/v3/owners").status, 200);
    }
    let limited = get(&crm, "/crm/v3/owners");
    assert_eq!(limited.status, 429);
    assert_eq!(body(&limited)["policyName"], "TEN_SECONDLY_ROLLING");
    clock.advance(Duration::from_secs(10));
    assert_eq!(get(&crm, "/crm/v3/owners").status, 200);
    for _ in 0..5 {
        assert_eq!(
            post(&crm, "/crm/v3/objects/contacts/search", json!({})).status,
            200
        );
    }
    let searching = post(&crm, "/crm/v3/objects/contacts/search", json!({}));
    assert_eq!(
        (searching.status, body(&searching)["policyName"].as_str()),
        (429, Some("SECONDLY"))
    );
}

#[test]
fn injected_faults_are_bad_gateways_or_timeouts() {
    let crm = FakeCrm::new("t", Clock::manual(0)).with_faults(FaultPlan {
        error_rate: 1.0,
        ..FaultPlan::default()
    });
    let answer = get(&crm, "/crm/v3/owners");
    assert_eq!(
        (answer.status, body(&answer)["status"].as_str()),
        (502, Some("error"))
    );
    let crm = FakeCrm::new("t", Clock::manual(0)).with_faults(FaultPlan {
        timeout_rate: 1.0,
        ..FaultPlan::default()
    });
    assert!(get(&crm, "/crm/v3/owners").timed_out);
}
