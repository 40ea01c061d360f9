//! `GET /metrics` after calls: the Prometheus families an operator alerts on.

use crate::support::replay::TestServer;
use crate::twilio_gather::{engine, script};

/// The value of the sample whose line starts with `series` (name and labels as rendered).
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find(|line| line.starts_with(series))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_calls_turns_bookings_and_dependencies() {
    let booking = script("booking_all_in_one");
    let server = TestServer::start_fitted(engine(), &booking, |driver, _| driver)
        .await
        .unwrap();
    server.call(&booking, None).await;
    server.call(&script("emergency_gas"), None).await;
    server.call(&script("faq_fee"), None).await;
    server.settle().await;
    let response = frontdesk_testkit::phone::http_client()
        .get(format!("{}/metrics", server.line.server))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = response.text().await.unwrap();
    for (series, at_least) in [
        ("frontdesk_calls_total{outcome=\"booked\"}", 1.0),
        ("frontdesk_calls_total{outcome=\"emergency\"}", 1.0),
        ("frontdesk_calls_total{outcome=\"answered\"}", 1.0),
        ("frontdesk_bookings_total{change=\"booked\"}", 1.0),
        ("frontdesk_turn_seconds_count{mode=\"gather\"}", 5.0),
        (
            "frontdesk_provider_seconds_count{provider=\"database\",operation=\"tool\"}",
            2.0,
        ),
        (
            "frontdesk_provider_seconds_count{provider=\"memory\",operation=\"save\"}",
            5.0,
        ),
    ] {
        let value = sample(&text, series).unwrap_or_else(|| panic!("no {series} in:\n{text}"));
        assert!(value >= at_least, "{series} = {value}");
    }
    assert_eq!(
        sample(&text, "frontdesk_calls_active "),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "frontdesk_outbox_depth "),
        Some(0.0),
        "{text}"
    );
    assert!(
        text.contains("# TYPE frontdesk_turn_seconds histogram"),
        "{text}"
    );
    assert!(
        text.contains("frontdesk_turn_seconds_bucket{mode=\"gather\",le=\"0.005\"}"),
        "{text}"
    );
    server.shutdown().await;
}
