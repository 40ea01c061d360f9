//! The texts a call leads to, rendered from `prompts/sms/` and queued in the outbox.

use std::sync::Arc;

use frontdesk_engine::Engine;
use serde_json::json;
use tokio::sync::Notify;

use crate::storage::{Appointment, NewMessage, Storage};

/// What happened to a visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    Booked,
    Rescheduled,
    Cancelled,
}

impl Change {
    fn prompt(self) -> &'static str {
        match self {
            Change::Booked => "sms/booked",
            Change::Rescheduled => "sms/rescheduled",
            Change::Cancelled => "sms/cancelled",
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Change::Booked => "booked",
            Change::Rescheduled => "rescheduled",
            Change::Cancelled => "cancelled",
        }
    }
}

/// Queues texts for the outbox worker.
#[derive(Clone)]
pub struct Texts {
    engine: Arc<Engine>,
    storage: Arc<dyn Storage>,
    /// Wakes the worker when something is queued.
    queued: Arc<Notify>,
}

impl Texts {
    pub fn new(engine: Arc<Engine>, storage: Arc<dyn Storage>, queued: Arc<Notify>) -> Texts {
        Texts {
            engine,
            storage,
            queued,
        }
    }

    /// Queues the confirmation of `change` to the visit's phone. A failure is logged, never
    /// passed on: the visit is booked whether or not its text can be queued.
    pub async fn confirm(&self, change: Change, appointment: &Appointment, call_id: &str) {
        let described = crate::tools::describe_appointment(self.engine.business(), appointment);
        let body = match self
            .engine
            .render_message(change.prompt(), &json!({ "appointment": described }))
        {
            Ok(body) => body,
            Err(error) => {
                tracing::error!(call_id, %error, "could not write the confirmation text");
                return;
            }
        };
        let message = NewMessage {
            kind: "sms".into(),
            recipient: appointment.phone.clone(),
            body,
            call_id: Some(call_id.to_string()),
            dedupe_key: format!("{}:{}:{call_id}", change.as_str(), appointment.id),
            not_before_ms: super::now_ms(),
        };
        match self.storage.enqueue_message(&message).await {
            Ok(_) => self.queued.notify_one(),
            Err(error) => {
                tracing::error!(call_id, %error, "could not queue the confirmation text")
            }
        }
    }
}
