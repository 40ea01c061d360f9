//! Metrics in Prometheus's text format (`GET /metrics`), through the `metrics` facade: the code
//! that knows a number records it where it happens, and the exporter renders them all. Gauges
//! that are a reading (live calls, the model's breaker, outbox depth) are set when scraped.
//! The families and what to alert on are in docs/operations.md.

use std::sync::OnceLock;
use std::time::Duration;

use metrics::{counter, gauge, histogram};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::call_event::{Event, ModelUse};

/// Histogram buckets, in seconds: a sub-millisecond turn to a 10 s model call.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process's recorder the first time (a server calls it at start, so nothing
/// recorded before the first scrape is lost); `None` if another recorder was installed first.
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets(BUCKETS)
                .ok()?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok()?;
            Some(handle)
        })
        .as_ref()
}

/// A call ended with `outcome`.
pub fn call_ended(outcome: &str) {
    counter!("frontdesk_calls_total", "outcome" => outcome.to_string()).increment(1);
}

/// A new call was turned away (`capacity`, `draining`).
pub fn call_refused(reason: &'static str) {
    counter!("frontdesk_calls_refused_total", "reason" => reason).increment(1);
}

/// One caller turn, from the caller's input to the agent's answer (`gather`: the webhook's
/// handling; `stream`: the final transcript to the first audio).
pub fn turn(mode: &'static str, took: Duration) {
    histogram!("frontdesk_turn_seconds", "mode" => mode).record(took.as_secs_f64());
}

/// One use of a dependency (`database`, `redis`, `memory`, `model`, `stt`, `tts`), and
/// whether it failed.
pub fn provider(provider: &'static str, operation: &'static str, took: Duration, failed: bool) {
    histogram!("frontdesk_provider_seconds", "provider" => provider, "operation" => operation)
        .record(took.as_secs_f64());
    if failed {
        counter!("frontdesk_provider_errors_total", "provider" => provider, "operation" => operation)
            .increment(1);
    }
}

/// A visit was booked, moved or cancelled.
pub fn booking(change: &'static str) {
    counter!("frontdesk_bookings_total", "change" => change).increment(1);
}

/// An outbox message was tried (`kind`: sms, call, webhook; `result`: sent, retry, failed,
/// skipped).
pub fn outbox_attempt(kind: &str, result: &'static str) {
    counter!("frontdesk_outbox_messages_total", "kind" => kind.to_string(), "result" => result)
        .increment(1);
}

/// What the call record says about dependencies: model uses (with their time) and timeouts.
pub fn event(event: &Event) {
    match event {
        Event::Llm(used) => {
            let (operation, failed) = match used {
                ModelUse::ExtractSlots { error, .. } => ("extract_slots", error.is_some()),
                ModelUse::Answer { report } => ("answer", report.error.is_some()),
            };
            let took = used.stats().map(|s| s.latency).unwrap_or_default();
            provider("model", operation, took, failed);
        }
        Event::DependencyTimeout { .. } => {
            counter!("frontdesk_provider_errors_total", "provider" => "database", "operation" => "timeout")
                .increment(1);
        }
        _ => {}
    }
}

/// Readings taken at scrape time.
pub struct Readings {
    pub live_calls: usize,
    /// `None` without a model.
    pub model_breaker_open: Option<bool>,
    /// Messages waiting or being sent; `None` when the database did not say.
    pub outbox_depth: Option<u64>,
    pub records_pending: usize,
}

/// The exposition, with `readings` set first.
pub fn render(readings: &Readings) -> Option<String> {
    let handle = handle()?;
    gauge!("frontdesk_calls_active").set(readings.live_calls as f64);
    if let Some(open) = readings.model_breaker_open {
        gauge!("frontdesk_breaker_open", "dependency" => "model").set(f64::from(u8::from(open)));
    }
    if let Some(depth) = readings.outbox_depth {
        gauge!("frontdesk_outbox_depth").set(depth as f64);
    }
    gauge!("frontdesk_records_pending").set(readings.records_pending as f64);
    handle.run_upkeep();
    Some(handle.render())
}
