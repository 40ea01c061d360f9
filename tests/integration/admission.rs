//! What reaches a call: `--max-calls` turns new calls away with 503 (Twilio then uses the
//! number's fallback URL) and never cuts a live one; and requests a Twilio Webhooks Rule signs
//! with its shared key (HMAC-SHA256) are accepted beside the auth token's classic signature.

use frontdesk_telephony::signature::{self, Algorithm};
use frontdesk_testkit::phone::{http_client, new_call_sid};

use crate::support::replay::{AUTH_TOKEN, TestServer};
use crate::twilio_gather::{engine, post_signed, script, webhook_fields};

const SHARED_KEY: &str = "whsk_rule_shared_key";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beyond_max_calls_new_calls_get_503_and_live_ones_go_on() {
    let script = script("booking_all_in_one");
    let server = TestServer::start_configured(
        engine(),
        &script,
        |config| config.max_calls = Some(1),
        |driver, _| driver,
    )
    .await
    .unwrap();
    let base = &server.line.server;
    let voice = format!("{base}/twilio/voice");
    let first = new_call_sid();
    assert_eq!(
        post_signed(&voice, &webhook_fields(&first, &[]))
            .await
            .status(),
        200
    );
    // A retry of the first call's webhook is not a new call.
    assert_eq!(
        post_signed(&voice, &webhook_fields(&first, &[]))
            .await
            .status(),
        200
    );
    let second = new_call_sid();
    let refused = post_signed(&voice, &webhook_fields(&second, &[])).await;
    assert_eq!(refused.status(), 503);
    // The live call is not cut: its next turn is answered.
    let gather = format!("{base}/twilio/gather");
    let turn = webhook_fields(
        &first,
        &[
            ("SpeechResult", "what are your hours"),
            ("Confidence", "0.9"),
        ],
    );
    let answered = post_signed(&gather, &turn).await;
    assert_eq!(answered.status(), 200);
    assert!(answered.text().await.unwrap().contains("<Say"));
    // Once it ends, a new call is taken.
    let status = format!("{base}/twilio/status");
    let done = webhook_fields(
        &first,
        &[("CallStatus", "completed"), ("CallDuration", "30")],
    );
    assert!(post_signed(&status, &done).await.status().is_success());
    assert_eq!(
        post_signed(&voice, &webhook_fields(&second, &[]))
            .await
            .status(),
        200
    );
    server.shutdown().await;
}

/// POSTs `fields` signed with a Webhooks Rule's shared key, as Twilio does for such a rule.
async fn post_rule_signed(
    url: &str,
    fields: &[(String, String)],
    key: &str,
) -> reqwest::StatusCode {
    http_client()
        .post(url)
        .header(
            "X-Twilio-Signature",
            signature::compute_with(Algorithm::HmacSha256, key, url, fields),
        )
        .header(
            "X-Twilio-Webhooks-Signature-Settings",
            "key=KS00000000000000000000000000000000,algorithm=HMAC_SHA256",
        )
        .form(fields)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_webhooks_rule_signature_is_checked_with_its_shared_key() {
    let script = script("booking_all_in_one");
    let server = TestServer::start_configured(
        engine(),
        &script,
        |config| config.webhook_shared_key = Some(SHARED_KEY.into()),
        |driver, _| driver,
    )
    .await
    .unwrap();
    let voice = format!("{}/twilio/voice", server.line.server);
    let call = webhook_fields(&new_call_sid(), &[]);
    assert_eq!(post_rule_signed(&voice, &call, SHARED_KEY).await, 200);
    // The classic signature still works beside it.
    assert_eq!(
        post_signed(&voice, &webhook_fields(&new_call_sid(), &[]))
            .await
            .status(),
        200
    );
    // Signed with another key, or with the auth token under the rule's header: refused.
    let other = webhook_fields(&new_call_sid(), &[]);
    assert_eq!(post_rule_signed(&voice, &other, "another key").await, 403);
    assert_eq!(post_rule_signed(&voice, &other, AUTH_TOKEN).await, 403);
    server.shutdown().await;

    // A server with no shared key refuses what a rule signed, whatever the signature.
    let keyless = TestServer::start_fitted(engine(), &script, |driver, _| driver)
        .await
        .unwrap();
    let voice = format!("{}/twilio/voice", keyless.line.server);
    let call = webhook_fields(&new_call_sid(), &[]);
    assert_eq!(post_rule_signed(&voice, &call, SHARED_KEY).await, 403);
    keyless.shutdown().await;
}
