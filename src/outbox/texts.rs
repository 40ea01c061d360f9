//! The texts a call leads to, rendered from `prompts/sms/`, and the reminders and digests the
//! business's clock leads to, queued in the outbox.

use std::sync::Arc;

use frontdesk_engine::Engine;
use frontdesk_engine::business::{OwnerSummary, ReminderBy, WebhookEvent};
use serde_json::json;
use tokio::sync::Notify;

use super::Queued;

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

    pub fn webhook_event(self) -> WebhookEvent {
        match self {
            Change::Booked => WebhookEvent::Booked,
            Change::Rescheduled => WebhookEvent::Rescheduled,
            Change::Cancelled => WebhookEvent::Cancelled,
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

    /// Texts every on-call number about an emergency; the numbers texted.
    pub async fn alert_emergency(
        &self,
        call_id: &str,
        on_call: &[String],
        caller: Option<&str>,
        hazard: Option<&str>,
        said: &str,
    ) -> Vec<String> {
        let vars = json!({ "caller": caller, "hazard": hazard, "said": said });
        let Some(body) = self.render(call_id, "sms/emergency_alert", &vars) else {
            return Vec::new();
        };
        let mut texted = Vec::new();
        for number in on_call {
            let key = format!("emergency:{call_id}:{number}");
            if self.queue_now(call_id, number, &body, key).await {
                texted.push(number.clone());
            }
        }
        texted
    }

    /// Texts the on-call numbers about a call that reached an urgency level with
    /// `alert_on_call` (`prompts/sms/urgent_alert.j2`: `level`, `caller`, `said`, `appointment`,
    /// the booked visit if any); the numbers texted. None for a business without the prompt.
    pub async fn alert_urgent(
        &self,
        call_id: &str,
        on_call: &[String],
        vars: &serde_json::Value,
    ) -> Vec<String> {
        let Some(body) = self.render(call_id, "sms/urgent_alert", vars) else {
            return Vec::new();
        };
        let mut texted = Vec::new();
        for number in on_call {
            let key = format!("urgent:{call_id}:{number}");
            if self.queue_now(call_id, number, &body, key).await {
                texted.push(number.clone());
            }
        }
        texted
    }

    /// Texts the owner the summary of a call, when the business names an owner's number and
    /// wants a text per call.
    pub async fn send_summary(&self, call_id: &str, summary: &str) {
        let business = self.engine.business();
        if business.texts.owner_summary != OwnerSummary::EachCall {
            return;
        }
        if let Some(owner) = business.phones.owner.clone() {
            let body = format!("{}: {summary}", self.engine.business().name);
            self.queue_now(call_id, &owner, &body, format!("summary:{call_id}"))
                .await;
        }
    }

    /// Asks the human line (`to`) by text to call the caller back; whether it was queued.
    pub async fn queue_callback(
        &self,
        call_id: &str,
        to: &str,
        caller: Option<&str>,
        said: &str,
        dial_status: &str,
    ) -> bool {
        let vars = json!({ "caller": caller, "said": said, "dial_status": dial_status });
        let Some(body) = self.render(call_id, "sms/callback", &vars) else {
            return false;
        };
        self.queue_now(call_id, to, &body, format!("callback:{call_id}"))
            .await
    }

    fn render(&self, call_id: &str, prompt: &str, vars: &serde_json::Value) -> Option<String> {
        match self.engine.render_message(prompt, vars) {
            Ok(body) => Some(body),
            Err(error) => {
                tracing::error!(call_id, prompt, %error, "could not write a text");
                None
            }
        }
    }

    /// Queues one text of a call, to go at once; whether it is in the outbox.
    async fn queue_now(&self, call_id: &str, to: &str, body: &str, dedupe_key: String) -> bool {
        let text = sms(Some(call_id), to, body, dedupe_key, super::now_ms());
        self.queue(text).await != Queued::Failed
    }

    /// Queues one message. Failures are logged, never passed on.
    async fn queue(&self, message: NewMessage) -> Queued {
        super::enqueue(self.storage.as_ref(), &self.queued, &message).await
    }

    /// Queues the day-before reminder of a visit, to go out at `not_before_ms`; whether it was
    /// queued now (false when it already was).
    /// By text, or by a call that fetches its flow from `/twilio/reminder?visit=ID`
    /// (`texts.reminder_by`).
    pub async fn remind(&self, appointment: &Appointment, not_before_ms: i64) -> bool {
        let start = crate::tools::iso(appointment.start);
        let key = format!("reminder:{}:{start}", appointment.id);
        let message = match self.engine.business().texts.reminder_by {
            ReminderBy::Call => NewMessage {
                kind: super::send::CALL.into(),
                recipient: appointment.phone.clone(),
                body: format!("/twilio/reminder?visit={}", appointment.id),
                call_id: None,
                dedupe_key: key,
                not_before_ms,
            },
            ReminderBy::Text => {
                let described =
                    crate::tools::describe_appointment(self.engine.business(), appointment);
                let vars = json!({ "appointment": described });
                let Some(body) = self.render("", "sms/reminder", &vars) else {
                    return false;
                };
                sms(None, &appointment.phone, &body, key, not_before_ms)
            }
        };
        self.queue(message).await == Queued::Now
    }

    /// Queues the owner's digest of `day`, to go out at `not_before_ms`; whether it was queued
    /// now (false when it already was).
    pub async fn send_digest(
        &self,
        owner: &str,
        day: &str,
        vars: &serde_json::Value,
        not_before_ms: i64,
    ) -> bool {
        let Some(body) = self.render("", "sms/digest", vars) else {
            return false;
        };
        let key = format!("digest:{day}");
        self.queue(sms(None, owner, &body, key, not_before_ms))
            .await
            == Queued::Now
    }

    /// Queues the confirmation of `change` to the visit's phone. A failure is logged, never
    /// passed on: the visit is booked whether or not its text can be queued.
    pub async fn confirm(&self, change: Change, appointment: &Appointment, call_id: &str) {
        let described = crate::tools::describe_appointment(self.engine.business(), appointment);
        let vars = json!({ "appointment": described });
        let Some(body) = self.render(call_id, change.prompt(), &vars) else {
            return;
        };
        let key = format!("{}:{}:{call_id}", change.as_str(), appointment.id);
        self.queue_now(call_id, &appointment.phone, &body, key)
            .await;
    }
}

/// A text to queue.
fn sms(
    call_id: Option<&str>,
    to: &str,
    body: &str,
    dedupe_key: String,
    not_before_ms: i64,
) -> NewMessage {
    NewMessage {
        kind: super::send::SMS.into(),
        recipient: to.to_string(),
        body: body.to_string(),
        call_id: call_id.map(str::to_string),
        dedupe_key,
        not_before_ms,
    }
}
