//! The fake Zoom's Server-to-Server OAuth and the tokens it issues.

use super::*;

#[test]
fn oauth_checks_basic_auth_grant_and_account() {
    let (zoom, _) = zoom();
    let wrong = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("id:nope")
    );
    let answer = zoom.handle(&request(
        "POST",
        "https://zoom.us/oauth/token?grant_type=account_credentials&account_id=acct",
        Some(&wrong),
        None,
    ));
    assert_eq!(
        (answer.status, body(&answer)["error"].as_str()),
        (400, Some("invalid_client"))
    );
    let right = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("id:secret")
    );
    let answer = zoom.handle(&request(
        "POST",
        "https://zoom.us/oauth/token?grant_type=account_credentials&account_id=other",
        Some(&right),
        None,
    ));
    assert_eq!(answer.status, 400);
    let answer = zoom.handle(&request(
        "POST",
        "https://zoom.us/oauth/token?grant_type=account_credentials&account_id=acct",
        Some(&right),
        None,
    ));
    assert_eq!(
        (
            body(&answer)["token_type"].as_str(),
            body(&answer)["expires_in"].as_u64()
        ),
        (Some("bearer"), Some(3600))
    );
}

#[test]
fn tokens_expire_and_bad_tokens_get_code_124() {
    let (zoom, clock) = zoom();
    let auth = token(&zoom);
    assert_eq!(get(&zoom, &auth, "/users").status, 200);
    for bad in ["Bearer nope", ""] {
        let answer = get(&zoom, bad, "/users");
        assert_eq!(
            (answer.status, body(&answer)["code"].as_u64()),
            (401, Some(124))
        );
    }
    clock.advance(Duration::from_secs(3601));
    assert_eq!(
        get(&zoom, &auth, "/users").status,
        401,
        "expired after an hour"
    );
}
