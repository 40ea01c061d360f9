//! The outbox as storage sees it: messages queued, leased to one worker at a time, and marked
//! with how sending went. Times are wall-clock Unix milliseconds handed in by the caller.

use serde::{Deserialize, Serialize};

use super::StorageError;

/// A message to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// What it is (`sms`).
    pub kind: String,
    /// E.164 number.
    pub recipient: String,
    pub body: String,
    /// The call that led to it.
    pub call_id: Option<String>,
    /// Queuing the same key again queues nothing (a retried turn, a repeated webhook).
    pub dedupe_key: String,
    /// Not before this instant.
    pub not_before_ms: i64,
}

/// Where a message is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageState {
    /// Waiting for its next attempt.
    Pending,
    /// Leased by a worker that is sending it.
    Sending,
    Sent,
    /// Given up on: refused for good, or out of attempts.
    Failed,
    /// Not sent on purpose (the number opted out, or is not allowed).
    Skipped,
}

impl MessageState {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageState::Pending => "pending",
            MessageState::Sending => "sending",
            MessageState::Sent => "sent",
            MessageState::Failed => "failed",
            MessageState::Skipped => "skipped",
        }
    }

    pub(super) fn parse(text: &str) -> Result<MessageState, StorageError> {
        Ok(match text {
            "pending" => MessageState::Pending,
            "sending" => MessageState::Sending,
            "sent" => MessageState::Sent,
            "failed" => MessageState::Failed,
            "skipped" => MessageState::Skipped,
            other => return Err(StorageError::Corrupt(format!("outbox state {other:?}"))),
        })
    }
}

/// A message as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    pub body: String,
    pub call_id: Option<String>,
    pub state: MessageState,
    /// Attempts begun (a lease counts as one).
    pub attempts: u32,
    pub last_error: Option<String>,
    /// The provider's id for the sent message (Twilio's `SM…`).
    pub provider_id: Option<String>,
}

/// How one attempt went, for [`super::Storage::finish_message`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Sent {
        provider_id: String,
    },
    /// Try again at this instant.
    Retry {
        error: String,
        at_ms: i64,
    },
    Failed {
        error: String,
    },
    Skipped {
        reason: String,
    },
}
