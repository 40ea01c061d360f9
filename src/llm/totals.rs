//! One call's language-model use, summed from the `llm` events in its record: how many model
//! calls, how many failed, tokens and time spent. What an operator reads to see what the model
//! costs and how it behaves, call by call.

use serde::Serialize;

use crate::call_event::Event;
use crate::llm::Outcome;
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
        for event in events {
            let Event::Llm(used) = event.event() else {
                continue;
            };
            totals.calls += 1;
            let stats = used.stats();
            match stats.map(|s| s.outcome) {
                Some(Outcome::Ok) => {}
                Some(Outcome::Cancelled) => totals.cancelled += 1,
                _ if used.cancelled() => totals.cancelled += 1,
                _ => totals.failed += 1,
            }
            if let Some(stats) = stats {
                totals.prompt_tokens += u64::from(stats.prompt_tokens);
                totals.completion_tokens += u64::from(stats.completion_tokens);
                totals.latency_ms += stats.latency.as_secs_f64() * 1000.0;
            }
        }
        totals
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;
    use crate::call_event::ModelUse;
    use crate::llm::CallStats;
    use crate::llm::answers::AnswerReport;

    /// The event as the recorder stores it.
    fn stored(id: i64, event: Event) -> CallEvent {
        let (kind, detail) = event.stored();
        CallEvent { id, kind, detail }
    }

    fn ok(prompt_tokens: u32, completion_tokens: u32, ms: u64) -> Option<CallStats> {
        Some(CallStats {
            model: "small".into(),
            prompt_tokens,
            completion_tokens,
            latency: Duration::from_micros(ms),
            time_to_first_token: None,
            attempts: 1,
            outcome: Outcome::Ok,
        })
    }

    #[test]
    fn sums_extractions_and_answers_and_counts_failures() {
        let answer = |report: AnswerReport| Event::Llm(ModelUse::Answer { report });
        let events = [
            stored(
                1,
                Event::Engine {
                    kind: "flow_started".into(),
                    detail: json!({ "flow": "booking" }),
                },
            ),
            stored(
                2,
                Event::Llm(ModelUse::ExtractSlots {
                    stats: ok(200, 12, 310_000),
                    error: None,
                    values: Default::default(),
                }),
            ),
            stored(
                3,
                Event::Llm(ModelUse::ExtractSlots {
                    stats: None,
                    error: Some("Timeout: the model took longer than 2.5s".into()),
                    values: Default::default(),
                }),
            ),
            stored(
                4,
                answer(AnswerReport {
                    stats: ok(180, 30, 640_500),
                    ..AnswerReport::default()
                }),
            ),
            stored(
                5,
                answer(AnswerReport {
                    cancelled: true,
                    ..AnswerReport::default()
                }),
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
