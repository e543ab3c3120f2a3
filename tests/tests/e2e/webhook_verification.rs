//! R29 through the real component: Zoom's URL validation is answered, and
//! forged, unsigned and stale deliveries are refused with a reason.

use crate::common::*;

const NOW_S: i64 = 1_764_200_000;

#[tokio::test]
async fn r29_url_validation_answers_the_hmac_of_the_plain_token() {
    let sim = simulator();
    let answer = sim
        .deliver(&signed(URL_VALIDATION, NOW_S, 800))
        .await
        .unwrap();
    assert_eq!(answer.status, 200);
    let body = json(&answer.body);
    assert_eq!(body["plainToken"], "qgg8vlvZRS6UYooatFL8Aw");
    assert_eq!(
        body["encryptedToken"],
        hmac_hex(SECRET_TOKEN, b"qgg8vlvZRS6UYooatFL8Aw")
    );
    assert!(
        answer
            .headers
            .iter()
            .any(|h| h.name == "content-type" && h.value == "application/json"),
        "{:?}",
        answer.headers
    );
}

async fn refusal(delivery: host_sim::bindings::webhooks::Delivery) -> (u16, String) {
    let answer = simulator().deliver(&delivery).await.unwrap();
    let body = json(&answer.body);
    (
        answer.status,
        body["reason"].as_str().unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn r29_a_forged_signature_is_refused() {
    let mut forged = signed(URL_VALIDATION, NOW_S, 0);
    forged.headers[1].value = format!("v0={}", hmac_hex("not-the-secret", b"v0:1764200000:{}"));
    let (status, reason) = refusal(forged).await;
    assert_eq!(status, 401);
    assert!(reason.contains("signature does not match"), "{reason}");
}

#[tokio::test]
async fn r29_an_altered_body_is_refused() {
    let mut altered = signed(URL_VALIDATION, NOW_S, 0);
    altered.body =
        br#"{"event":"endpoint.url_validation","payload":{"plainToken":"attacker"}}"#.to_vec();
    assert_eq!(refusal(altered).await.0, 401);
}

#[tokio::test]
async fn r29_an_unsigned_delivery_is_refused() {
    let unsigned = delivery(URL_VALIDATION, &[], NOW_S * 1000);
    let (status, reason) = refusal(unsigned).await;
    assert_eq!(status, 401);
    assert!(reason.contains("x-zm-request-timestamp"), "{reason}");

    let timestamp_only = delivery(
        URL_VALIDATION,
        &[("x-zm-request-timestamp", NOW_S.to_string())],
        NOW_S * 1000,
    );
    let (status, reason) = refusal(timestamp_only).await;
    assert_eq!(status, 401);
    assert!(reason.contains("x-zm-signature"), "{reason}");
}

#[tokio::test]
async fn r29_a_stale_delivery_is_refused_as_a_replay() {
    // Correctly signed, but received six minutes after it was signed.
    let (status, reason) = refusal(signed(URL_VALIDATION, NOW_S, 6 * 60 * 1000)).await;
    assert_eq!(status, 401);
    assert!(reason.contains("stale"), "{reason}");
}

#[tokio::test]
async fn a_malformed_body_is_a_400_with_a_reason() {
    let (status, reason) = refusal(signed(b"not json at all", NOW_S, 0)).await;
    assert_eq!(status, 400);
    assert!(reason.contains("not a Zoom webhook event"), "{reason}");
}
