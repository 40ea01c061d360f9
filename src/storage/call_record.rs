//! The call record's types: turns, events, a call with both, the call list and its filter, and
//! the writes the recorder batches.

use jiff::civil::DateTime;
use serde::{Deserialize, Serialize};

use super::{Storage, StorageError};

/// Who said a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Speaker {
    Caller,
    Agent,
}

impl Speaker {
    pub fn as_str(self) -> &'static str {
        match self {
            Speaker::Caller => "caller",
            Speaker::Agent => "agent",
        }
    }

    pub(super) fn parse(text: &str) -> Result<Self, StorageError> {
        match text {
            "caller" => Ok(Speaker::Caller),
            "agent" => Ok(Speaker::Agent),
            other => Err(StorageError::Corrupt(format!("speaker {other:?}"))),
        }
    }
}

/// One utterance in a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    /// Order within the call, chosen by the caller of [`Storage::add_turn`]; unique per call.
    pub seq: u32,
    pub speaker: Speaker,
    pub text: String,
    /// The engine state after this turn (free-form, e.g. a flow step name).
    pub state: Option<String>,
}

/// Something notable that happened during a call (a tool call, an error, a transfer...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallEvent {
    /// Increasing in insertion order.
    pub id: i64,
    pub kind: String,
    pub detail: serde_json::Value,
}

/// A call with everything recorded about it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallRecord {
    pub call_id: String,
    /// Who called (E.164 when known).
    pub caller: String,
    /// The number they dialled.
    pub called: String,
    pub started_at: DateTime,
    pub ended_at: Option<DateTime>,
    /// Free-form outcome chosen by the engine ("booked", "transferred", "hung_up"...).
    pub outcome: Option<String>,
    pub transfer_to: Option<String>,
    /// Twilio's final `CallStatus` ("completed", "busy", "failed", ...).
    pub carrier_status: Option<String>,
    /// Twilio's `CallDuration`, in whole seconds.
    pub duration_seconds: Option<i64>,
    pub turns: Vec<Turn>,
    pub events: Vec<CallEvent>,
}

/// Which calls [`Storage::list_calls`] returns, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallFilter {
    /// Calls started at or after this business-local time.
    pub since: Option<DateTime>,
    /// Calls that ended with this outcome (`booked`, `transferred`, `hung_up`, ...).
    pub outcome: Option<String>,
    /// Calls from a number ending with these digits.
    pub caller_digits: Option<String>,
    /// Calls started before this business-local time.
    pub until: Option<DateTime>,
    /// Calls that went through this flow (a turn in one of its states).
    pub flow: Option<String>,
    /// Calls where someone said this (case-insensitive, part of a line).
    pub text: Option<String>,
    /// At most this many calls.
    pub limit: u32,
}

impl CallFilter {
    /// The newest `limit` calls, unfiltered.
    pub fn latest(limit: u32) -> CallFilter {
        CallFilter {
            since: None,
            outcome: None,
            caller_digits: None,
            until: None,
            flow: None,
            text: None,
            limit,
        }
    }
}

/// One call, without its turns and events: a line of a call list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallSummary {
    pub call_id: String,
    pub caller: String,
    pub called: String,
    pub started_at: DateTime,
    pub ended_at: Option<DateTime>,
    pub outcome: Option<String>,
    pub transfer_to: Option<String>,
    /// Turns recorded, caller's and agent's.
    pub turns: u32,
    /// The most urgent level the call reached, for a business with urgency levels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub urgency: Option<String>,
}

/// One write to the call record, for [`Storage::write_call_records`]. Serialized (one JSON line
/// each) when the recorder spills writes to a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "write", rename_all = "snake_case")]
pub enum CallWrite {
    StartCall {
        call_id: String,
        caller: String,
        called: String,
        at: DateTime,
    },
    Turn {
        call_id: String,
        seq: u32,
        speaker: Speaker,
        text: String,
        state: Option<String>,
    },
    Event {
        call_id: String,
        kind: String,
        detail: serde_json::Value,
    },
    FinishCall {
        call_id: String,
        outcome: String,
        transfer_to: Option<String>,
        at: DateTime,
    },
    CarrierStatus {
        call_id: String,
        status: String,
        duration_seconds: Option<i64>,
        at: DateTime,
    },
}

impl CallWrite {
    pub fn call_id(&self) -> &str {
        match self {
            CallWrite::StartCall { call_id, .. }
            | CallWrite::Turn { call_id, .. }
            | CallWrite::Event { call_id, .. }
            | CallWrite::FinishCall { call_id, .. }
            | CallWrite::CarrierStatus { call_id, .. } => call_id,
        }
    }

    /// Performs this write on its own (the fallback when a batch fails).
    pub async fn apply(&self, storage: &dyn Storage) -> Result<(), StorageError> {
        match self {
            CallWrite::StartCall {
                call_id,
                caller,
                called,
                at,
            } => storage.start_call(call_id, caller, called, *at).await,
            CallWrite::Turn {
                call_id,
                seq,
                speaker,
                text,
                state,
            } => {
                storage
                    .add_turn(call_id, *seq, *speaker, text, state.as_deref())
                    .await
            }
            CallWrite::Event {
                call_id,
                kind,
                detail,
            } => storage.add_event(call_id, kind, detail).await,
            CallWrite::FinishCall {
                call_id,
                outcome,
                transfer_to,
                at,
            } => {
                storage
                    .finish_call(call_id, outcome, transfer_to.as_deref(), *at)
                    .await
            }
            CallWrite::CarrierStatus {
                call_id,
                status,
                duration_seconds,
                at,
            } => {
                storage
                    .record_carrier_status(call_id, status, *duration_seconds, *at)
                    .await
            }
        }
    }
}
