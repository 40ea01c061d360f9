//! One call's language-model use, summed from the `llm` events in its record: how many model
//! calls, how many failed, tokens and time spent. What an operator reads to see what the model
//! costs and how it behaves, call by call.

use serde::Serialize;
use serde_json::Value;

use crate::storage::CallEvent;

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LlmTotals {
    /// Model calls made (extractions and answers).
    pub calls: u32,
    /// Calls that ended in an error (timeouts, refusals, server errors, an open breaker).
    pub failed: u32,
    /// Answers the caller cut off before the model finished.
    pub cancelled: u32,
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Wall time spent waiting on the model, summed.
    pub latency_ms: f64,
}

impl LlmTotals {
    pub fn from_events(events: &[CallEvent]) -> LlmTotals {
        let mut totals = LlmTotals::default();
        for event in events.iter().filter(|e| e.kind == "llm") {
            // Extractions keep their figures at the top, answers inside their report.
            let detail = match event.detail.get("report") {
                Some(report) => report,
                None => &event.detail,
            };
            totals.calls += 1;
            let stats = detail.get("stats").filter(|s| !s.is_null());
            let outcome = stats
                .and_then(|s| s.pointer("/outcome/kind"))
                .and_then(Value::as_str);
            match outcome {
                Some("ok") => {}
                Some("cancelled") => totals.cancelled += 1,
                _ if detail.get("cancelled") == Some(&Value::Bool(true)) => totals.cancelled += 1,
                _ => totals.failed += 1,
            }
            let number = |key: &str| stats.and_then(|s| s.get(key));
            totals.prompt_tokens += number("prompt_tokens").and_then(Value::as_u64).unwrap_or(0);
            totals.completion_tokens += number("completion_tokens")
                .and_then(Value::as_u64)
                .unwrap_or(0);
            totals.latency_ms += number("latency_ms").and_then(Value::as_f64).unwrap_or(0.0);
        }
        totals
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event(id: i64, kind: &str, detail: Value) -> CallEvent {
        CallEvent {
            id,
            kind: kind.into(),
            detail,
        }
    }

    #[test]
    fn sums_extractions_and_answers_and_counts_failures() {
        let ok = |p: u64, c: u64, ms: f64| {
            json!({ "prompt_tokens": p, "completion_tokens": c, "latency_ms": ms,
                    "outcome": { "kind": "ok" } })
        };
        let events = [
            event(1, "flow_started", json!({ "flow": "booking" })),
            event(
                2,
                "llm",
                json!({ "purpose": "extract_slots", "stats": ok(200, 12, 310.0) }),
            ),
            event(
                3,
                "llm",
                json!({ "purpose": "extract_slots", "stats": null,
                        "error": "Timeout: the model took longer than 2.5s" }),
            ),
            event(
                4,
                "llm",
                json!({ "purpose": "answer", "report": { "stats": ok(180, 30, 640.5) } }),
            ),
            event(
                5,
                "llm",
                json!({ "purpose": "answer", "report": { "cancelled": true, "stats": null } }),
            ),
        ];
        assert_eq!(
            LlmTotals::from_events(&events),
            LlmTotals {
                calls: 4,
                failed: 1,
                cancelled: 1,
                prompt_tokens: 380,
                completion_tokens: 42,
                latency_ms: 950.5,
            }
        );
    }
}
