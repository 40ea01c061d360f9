//! `GET /health` (the process answers) and `GET /health/detailed` (every dependency answers).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::AppState;

/// 503 while draining, so a load balancer sends new calls elsewhere.
pub(super) async fn health(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    if state.calls().draining() {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "draining", "live_calls": state.live_calls() })),
        );
    }
    (StatusCode::OK, Json(json!({ "status": "ok" })))
}

pub(super) async fn detailed(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let storage = &state.driver().storage;
    // Answers queries and, where that can be told without writing, would take a write (a
    // SQLite file made immutable, or on a read-only or full disk, is not healthy storage).
    let database = match storage.check().await {
        Ok(_) => json!({ "ok": true, "backend": storage.backend() }),
        Err(e) => json!({ "ok": false, "backend": storage.backend(), "error": e.to_string() }),
    };
    let sessions = &state.sessions();
    let session_store = match sessions.ping().await {
        Ok(()) => json!({ "ok": true, "backend": sessions.name() }),
        Err(e) => json!({ "ok": false, "backend": sessions.name(), "error": e.to_string() }),
    };
    let mut providers = Vec::new();
    if let Some(stream) = state.stream() {
        providers = stream.health().await;
    }
    let providers_ok = providers.iter().all(|p| p.ok);
    let draining = state.calls().draining();
    let ok = database["ok"] == true && session_store["ok"] == true && providers_ok && !draining;
    let status = match (draining, ok) {
        (true, _) => "draining",
        (false, true) => "ok",
        (false, false) => "degraded",
    };
    let body = json!({
        "status": status,
        "mode": state.config().mode.as_str(),
        "live_calls": state.live_calls(),
        // Calls ended since the server started.
        "calls_by_outcome": state.driver().outcomes.snapshot(),
        "draining": draining,
        "signatures": state.config().auth_token.is_some(),
        "database": database,
        // Call-record writes accepted and not yet in the database (held during an outage).
        "records_pending": state.driver().recorder.pending(),
        // Of those, the ones in the spill file (beyond what memory holds, or from a run that
        // stopped during an outage).
        "records_spilled": state.driver().recorder.spilled(),
        "sessions": session_store,
        "providers": providers,
        "llm": state.driver().model.as_ref().map(|m| serde_json::json!({
            "model": m.client().config().model,
            "breaker": m.client().breaker_state(),
        })),
        "latency": {
            "turn_to_first_audio": state.latencies().turn_to_first_audio.summary(),
            "barge_in_to_clear": state.latencies().barge_in_to_clear.summary(),
            "turn_to_answer_sentence": state.latencies().turn_to_answer_sentence.summary(),
        },
    });
    let code = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body))
}

/// `GET /metrics`: Prometheus's text format (docs/operations.md lists the families).
pub async fn metrics(State(state): State<AppState>) -> Response {
    let driver = state.driver();
    let model_breaker_open = driver
        .model
        .as_ref()
        .map(|m| m.client().breaker_state().state != crate::llm::BreakerPhase::Closed);
    let outbox_depth = match driver.storage.outbox_depth().await {
        Ok(depth) => Some(depth),
        Err(error) => {
            tracing::warn!(%error, "metrics: could not count the outbox");
            None
        }
    };
    let readings = crate::telemetry::Readings {
        live_calls: state.live_calls(),
        model_breaker_open,
        outbox_depth,
        records_pending: driver.recorder.pending(),
    };
    match crate::telemetry::render(&readings) {
        Some(text) => (
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; version=0.0.4",
            )],
            text,
        )
            .into_response(),
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics are not being recorded\n",
        )
            .into_response(),
    }
}
