use super::*;
use crate::llm::{BreakerPhase, LlmError, Outcome};
use frontdesk_testkit::fake_openai::Reply;

fn slots() -> Reply {
    Reply::Json(json!({"party_size": 4, "date": null}))
}

#[tokio::test]
async fn rate_limit_with_retry_after_is_retried_once() {
    let fake = fake().await;
    fake.push(Reply::rate_limited(Some(1)));
    fake.push(slots());
    let (client, _) = client(config(&fake));

    let completion = within(client.extract(extract_request()))
        .await
        .expect("extracted");

    assert_eq!(completion.stats.attempts, 2);
    let arrivals = fake.arrivals();
    assert_eq!(arrivals.len(), 2);
    assert!(
        arrivals[1] - arrivals[0] >= Duration::from_secs(1),
        "retry-after honoured"
    );
}

#[tokio::test]
async fn server_errors_then_success_within_max_retries() {
    let fake = fake().await;
    fake.push(Reply::server_error());
    fake.push(Reply::overloaded());
    fake.push(slots());
    let (client, _) = client(config(&fake));

    let completion = within(client.extract(extract_request()))
        .await
        .expect("extracted");

    assert_eq!(completion.stats.attempts, 3);
    assert_eq!(completion.stats.outcome, Outcome::Ok);
}

#[tokio::test]
async fn server_errors_beyond_max_retries_fail() {
    let fake = fake().await;
    for _ in 0..3 {
        fake.push(Reply::server_error());
    }
    fake.push(slots());
    let (client, seen) = client(config(&fake));

    let error = within(client.extract(extract_request()))
        .await
        .expect_err("fails");

    assert!(
        matches!(error, LlmError::Api { status: 500, .. }),
        "{error}"
    );
    assert_eq!(fake.request_count(), 3);
    let stats = last_stats(&seen);
    assert_eq!(
        (stats.attempts, stats.outcome),
        (3, Outcome::ServerError(500))
    );
}

#[tokio::test]
async fn insufficient_quota_is_not_retried() {
    let fake = fake().await;
    fake.push(Reply::insufficient_quota());
    fake.push(slots());
    let (client, seen) = client(config(&fake));

    let error = within(client.extract(extract_request()))
        .await
        .expect_err("fails");

    assert!(
        matches!(&error, LlmError::Api { status: 429, error, .. } if error.is_quota_exhausted())
    );
    assert_eq!(fake.request_count(), 1);
    assert_eq!(last_stats(&seen).outcome, Outcome::QuotaExhausted);
}

#[tokio::test]
async fn a_hanging_server_times_out_without_retry() {
    let fake = fake().await;
    fake.push(Reply::Hang);
    fake.push(slots());
    let mut config = config(&fake);
    config.timeout_per_request = Duration::from_millis(200);
    let (client, seen) = client(config);

    let error = within(client.extract(extract_request()))
        .await
        .expect_err("times out");

    assert!(matches!(error, LlmError::Timeout(limit) if limit == Duration::from_millis(200)));
    assert_eq!(fake.request_count(), 1);
    let stats = last_stats(&seen);
    assert_eq!((stats.attempts, stats.outcome), (1, Outcome::Timeout));
}

#[tokio::test]
async fn the_deadline_cuts_an_attempt_short() {
    let fake = fake().await;
    fake.push(Reply::Hang);
    let (client, _) = client(config(&fake));
    let mut request = extract_request();
    request.deadline = Some(tokio::time::Instant::now() + Duration::from_millis(200));

    let error = within(client.extract(request))
        .await
        .expect_err("times out");

    assert!(matches!(error, LlmError::Timeout(limit) if limit <= Duration::from_millis(200)));
}

#[tokio::test]
async fn no_retry_is_started_that_cannot_finish_before_the_deadline() {
    let fake = fake().await;
    fake.push(Reply::server_error());
    fake.push(Reply::rate_limited(Some(1)));
    fake.push(slots());
    let (patient, _) = client(config(&fake));

    // A retry would need a full 5 s attempt: it does not fit in 2 s.
    let mut request = extract_request();
    request.deadline = Some(tokio::time::Instant::now() + Duration::from_secs(2));
    let error = within(patient.extract(request))
        .await
        .expect_err("no retry");
    assert!(
        matches!(error, LlmError::Api { status: 500, .. }),
        "{error}"
    );
    assert_eq!(fake.request_count(), 1);

    // Without the deadline problem, a retry-after longer than the time left still stops it.
    let mut short = config(&fake);
    short.timeout_per_request = Duration::from_millis(100);
    let (quick, _) = client(short);
    let mut request = extract_request();
    request.deadline = Some(tokio::time::Instant::now() + Duration::from_millis(800));
    let error = within(quick.extract(request)).await.expect_err("no retry");
    assert!(
        matches!(error, LlmError::Api { status: 429, .. }),
        "{error}"
    );
    assert_eq!(fake.request_count(), 2);
}

#[tokio::test]
async fn connection_failures_are_retried() {
    // A port that was free a moment ago: connections are refused.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let mut config = LlmConfig::new(format!("http://127.0.0.1:{port}/v1"), "llama3.2");
    config.backoff_base = Duration::from_millis(10);
    let (client, seen) = client(config);

    let error = within(client.extract(extract_request()))
        .await
        .expect_err("unreachable");

    assert!(matches!(error, LlmError::Network(_)), "{error}");
    let stats = last_stats(&seen);
    assert_eq!((stats.attempts, stats.outcome), (3, Outcome::Network));
}

#[tokio::test]
async fn the_breaker_opens_fails_fast_and_recovers_through_a_probe() {
    let fake = fake().await;
    let mut config = config(&fake);
    config.max_retries = 0;
    config.breaker_failures = 2;
    config.breaker_cooldown = Duration::from_secs(1);
    let (client, seen) = client(config);

    for _ in 0..2 {
        fake.push(Reply::server_error());
        within(client.extract(extract_request()))
            .await
            .expect_err("500");
    }
    let state = client.breaker_state();
    assert_eq!(state.state, BreakerPhase::Open);
    assert_eq!(state.consecutive_failures, 2);
    assert!(state.half_open_in_ms.is_some());

    // Open: fails at once, and the server sees nothing.
    fake.push(slots());
    let error = within(client.extract(extract_request()))
        .await
        .expect_err("open");
    assert!(matches!(error, LlmError::BreakerOpen), "{error}");
    assert_eq!(fake.request_count(), 2);
    let stats = last_stats(&seen);
    assert_eq!((stats.attempts, stats.outcome), (0, Outcome::BreakerOpen));

    // After the cooldown one probe goes through; its success closes the breaker.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(client.breaker_state().state, BreakerPhase::HalfOpen);
    let completion = within(client.extract(extract_request()))
        .await
        .expect("probe");
    assert_eq!(completion.stats.attempts, 1);
    assert_eq!(fake.request_count(), 3);
    let state = client.breaker_state();
    assert_eq!(
        (state.state, state.consecutive_failures),
        (BreakerPhase::Closed, 0)
    );
}

#[tokio::test]
async fn a_failed_probe_opens_the_breaker_again() {
    let fake = fake().await;
    let mut config = config(&fake);
    config.max_retries = 0;
    config.breaker_failures = 1;
    config.breaker_cooldown = Duration::from_millis(300);
    let (client, _) = client(config);

    fake.push(Reply::server_error());
    within(client.extract(extract_request()))
        .await
        .expect_err("500");
    tokio::time::sleep(Duration::from_millis(400)).await;
    fake.push(Reply::overloaded());
    let error = within(client.extract(extract_request()))
        .await
        .expect_err("probe fails");
    assert!(
        matches!(error, LlmError::Api { status: 503, .. }),
        "{error}"
    );
    assert_eq!(client.breaker_state().consecutive_failures, 2);

    tokio::time::sleep(Duration::from_millis(400)).await;
    fake.push(slots());
    within(client.extract(extract_request()))
        .await
        .expect("second probe");
    assert_eq!(client.breaker_state().state, BreakerPhase::Closed);
    assert_eq!(fake.request_count(), 3);
}
