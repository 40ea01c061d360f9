//! What a call record notes besides its turns. The application's own events are typed, so the
//! driver, the server and the model totals write and read one shape instead of picking JSON
//! apart by string keys; the engine's events (flow started, slot filled, hazard, ...) are kept
//! as the engine reports them.
//!
//! Storage keeps an event as a kind and a JSON detail ([`CallEvent`]); [`Event::stored`] and
//! [`Event::from_stored`] convert, so a record written by an older version still reads (an event
//! whose detail no longer fits its type reads as an engine event of that kind).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::llm::CallStats;
use crate::llm::answers::AnswerReport;
use crate::storage::CallEvent;

/// One event of a call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum Event {
    /// A tool the flow called, with its arguments and result.
    Tool {
        tool: String,
        args: Value,
        result: Value,
    },
    /// One use of the language model.
    Llm(ModelUse),
    /// A dependency did not answer within its deadline; the flow took its failure path.
    DependencyTimeout {
        dependency: String,
        tool: String,
        deadline_ms: u64,
    },
    /// A dependency failed and the call went to a person.
    DependencyFailed {
        dependency: String,
        operation: String,
        error: String,
    },
    /// The transfer to a person did not connect (Twilio's `DialCallStatus`).
    TransferFailed { dial_status: String },
    /// The on-call numbers were texted about an emergency.
    EmergencyAlert { to: Vec<String> },
    /// A person was asked by text to call the caller back.
    CallbackQueued { to: String },
    /// The call in one line, for the owner (`prompts/summary/call.j2`).
    Summary { text: String },
    /// Recording began, after the caller heard the notice.
    RecordingStarted { recording_sid: String },
    /// A finished recording (Twilio's recording status callback).
    Recording {
        recording_sid: String,
        url: String,
        duration_seconds: Option<u32>,
        status: String,
    },
    /// An outbound reminder call of a visit was answered, by a person or a machine
    /// (Twilio's `AnsweredBy`).
    ReminderAnswered {
        appointment_id: i64,
        answered_by: String,
    },
    /// The call's media stream was lost (its server died, the socket broke) and a new one
    /// went on with the conversation from the stored session.
    StreamResumed { stream_sid: String },
    /// An event the flow engine reported, as it reported it.
    #[serde(untagged)]
    Engine { kind: String, detail: Value },
}

/// What the model was asked to do, and how it went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "purpose", rename_all = "snake_case")]
pub enum ModelUse {
    /// Reading slot values the rules missed.
    ExtractSlots {
        stats: Option<CallStats>,
        error: Option<String>,
        #[serde(default)]
        values: BTreeMap<String, String>,
    },
    /// Phrasing a knowledge answer.
    Answer { report: AnswerReport },
}

impl ModelUse {
    /// The call's accounting, when the call was made.
    pub fn stats(&self) -> Option<&CallStats> {
        match self {
            ModelUse::ExtractSlots { stats, .. } => stats.as_ref(),
            ModelUse::Answer { report } => report.stats.as_ref(),
        }
    }

    /// Whether the caller cut the answer off before the model finished.
    pub fn cancelled(&self) -> bool {
        matches!(self, ModelUse::Answer { report } if report.cancelled)
    }
}

impl Event {
    /// The kind and detail storage keeps.
    pub fn stored(&self) -> (String, Value) {
        if let Event::Engine { kind, detail } = self {
            return (kind.clone(), detail.clone());
        }
        match serde_json::to_value(self) {
            Ok(Value::Object(mut fields)) => {
                let kind = match fields.remove("kind") {
                    Some(Value::String(kind)) => kind,
                    _ => String::new(),
                };
                (kind, fields.remove("detail").unwrap_or(Value::Null))
            }
            // Every variant is a map with a kind; this is unreachable in practice, and a
            // record is better kept with a note than dropped.
            other => ("unrecorded".into(), Value::String(format!("{other:?}"))),
        }
    }

    /// The event storage kept.
    pub fn from_stored(kind: &str, detail: &Value) -> Event {
        let stored = serde_json::json!({ "kind": kind, "detail": detail });
        serde_json::from_value(stored).unwrap_or_else(|_| Event::Engine {
            kind: kind.to_string(),
            detail: detail.clone(),
        })
    }
}

impl CallEvent {
    /// This stored event, typed.
    pub fn event(&self) -> Event {
        Event::from_stored(&self.kind, &self.detail)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn typed_events_keep_their_stored_shape() {
        let timeout = Event::DependencyTimeout {
            dependency: "database".into(),
            tool: "book_appointment".into(),
            deadline_ms: 2500,
        };
        let (kind, detail) = timeout.stored();
        assert_eq!(kind, "dependency_timeout");
        assert_eq!(
            detail,
            json!({ "dependency": "database", "tool": "book_appointment", "deadline_ms": 2500 })
        );
        assert_eq!(Event::from_stored(&kind, &detail), timeout);
    }

    #[test]
    fn engine_events_pass_through_unchanged() {
        let detail = json!({ "flow": "booking" });
        let event = Event::from_stored("flow_started", &detail);
        assert_eq!(
            event,
            Event::Engine {
                kind: "flow_started".into(),
                detail: detail.clone()
            }
        );
        assert_eq!(event.stored(), ("flow_started".to_string(), detail));
    }

    #[test]
    fn a_detail_that_no_longer_fits_its_type_still_reads() {
        let detail = json!({ "status": "busy" });
        assert_eq!(
            Event::from_stored("transfer_failed", &detail),
            Event::Engine {
                kind: "transfer_failed".into(),
                detail
            }
        );
    }

    #[test]
    fn model_uses_round_trip() {
        let extraction = Event::Llm(ModelUse::ExtractSlots {
            stats: None,
            error: Some("Timeout".into()),
            values: BTreeMap::from([("name".to_string(), "Ana".to_string())]),
        });
        let (kind, detail) = extraction.stored();
        assert_eq!(kind, "llm");
        assert_eq!(detail["purpose"], "extract_slots");
        assert_eq!(Event::from_stored(&kind, &detail), extraction);
    }
}
