//! Sends what the outbox holds: claims the oldest due message of a kind it can send, hands it
//! to that kind's sender, and records how it went.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};

use super::send::{self, CallSender, Delivery, SmsSender, WebhookSender};
use crate::logging::mask_phone;
use crate::storage::{Attempt, OutboxMessage, Storage};

/// How a worker sends.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// How long a claimed message is this worker's before another may take it over.
    pub lease: Duration,
    /// How often to look for due messages when nothing wakes the worker.
    pub poll: Duration,
    /// Attempts before a message is given up on.
    pub max_attempts: u32,
}

impl Default for WorkerOptions {
    fn default() -> WorkerOptions {
        WorkerOptions {
            lease: Duration::from_secs(60),
            poll: Duration::from_secs(1),
            max_attempts: 8,
        }
    }
}

/// What a worker can send. A worker claims only the kinds it has a sender for, so a process
/// without (say) the webhook secret leaves webhooks to one that has it.
#[derive(Clone, Default)]
pub struct Senders {
    pub sms: Option<SmsSender>,
    pub calls: Option<CallSender>,
    pub webhooks: Option<WebhookSender>,
}

impl Senders {
    fn kinds(&self) -> Vec<&'static str> {
        let mut kinds = Vec::new();
        if self.sms.is_some() {
            kinds.push(send::SMS);
        }
        if self.calls.is_some() {
            kinds.push(send::CALL);
        }
        if self.webhooks.is_some() {
            kinds.push(send::WEBHOOK);
        }
        kinds
    }
}

/// One outbox worker. Run several (in one process or many) on one database safely.
pub struct OutboxWorker {
    storage: Arc<dyn Storage>,
    senders: Senders,
    kinds: Vec<&'static str>,
    options: WorkerOptions,
    queued: Arc<Notify>,
}

impl OutboxWorker {
    pub fn new(
        storage: Arc<dyn Storage>,
        senders: Senders,
        options: WorkerOptions,
        queued: Arc<Notify>,
    ) -> OutboxWorker {
        OutboxWorker {
            storage,
            kinds: senders.kinds(),
            senders,
            options,
            queued,
        }
    }

    /// Sends until `stop` turns true, then finishes the message in hand.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        loop {
            if *stop.borrow() {
                return;
            }
            match self.send_next().await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(error) => tracing::warn!(%error, "the outbox could not be read; trying again"),
            }
            tokio::select! {
                _ = self.queued.notified() => {}
                _ = tokio::time::sleep(self.options.poll) => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// Sends the oldest due message, if any; whether there was one.
    pub async fn send_next(&self) -> Result<bool, crate::storage::StorageError> {
        if self.kinds.is_empty() {
            return Ok(false);
        }
        let now = super::now_ms();
        let lease_until = now.saturating_add(millis(self.options.lease));
        let Some(message) = self
            .storage
            .claim_message(now, lease_until, &self.kinds)
            .await?
        else {
            return Ok(false);
        };
        let attempt = self.attempt(&message).await;
        log(&message, &attempt);
        self.storage
            .finish_message(message.id, &attempt, super::now_ms())
            .await?;
        Ok(true)
    }

    async fn attempt(&self, message: &OutboxMessage) -> Attempt {
        let delivery = match message.kind.as_str() {
            send::SMS if let Some(sms) = &self.senders.sms => {
                match self.storage.is_opted_out(&message.recipient).await {
                    Ok(opted_out) => sms.send(message, opted_out).await,
                    Err(error) => Delivery::Transient(error.to_string()),
                }
            }
            send::CALL if let Some(calls) = &self.senders.calls => calls.send(message).await,
            send::WEBHOOK if let Some(webhooks) = &self.senders.webhooks => {
                webhooks.send(message).await
            }
            other => Delivery::Refused(format!("no sender for `{other}` messages")),
        };
        match delivery {
            Delivery::Sent(provider_id) => Attempt::Sent { provider_id },
            Delivery::Transient(error) => self.retry(message, error),
            Delivery::Refused(error) => Attempt::Failed { error },
            Delivery::Skipped(reason) => Attempt::Skipped { reason },
        }
    }

    /// Another attempt later, backing off, until attempts run out.
    fn retry(&self, message: &OutboxMessage, error: String) -> Attempt {
        if message.attempts >= self.options.max_attempts {
            return Attempt::Failed { error };
        }
        let delay = backoff(message.attempts);
        Attempt::Retry {
            error,
            at_ms: super::now_ms().saturating_add(millis(delay)),
        }
    }
}

/// Says how an attempt went; numbers masked, webhook URLs in full (they are not personal).
fn log(message: &OutboxMessage, attempt: &Attempt) {
    let to = if message.kind == send::WEBHOOK {
        message.recipient.clone()
    } else {
        mask_phone(&message.recipient)
    };
    let (id, kind, attempts) = (message.id, message.kind.as_str(), message.attempts);
    let result = match attempt {
        Attempt::Sent { .. } => "sent",
        Attempt::Retry { .. } => "retry",
        Attempt::Failed { .. } => "failed",
        Attempt::Skipped { .. } => "skipped",
    };
    crate::telemetry::outbox_attempt(kind, result);
    let call_id = message.call_id.as_deref().unwrap_or("");
    match attempt {
        Attempt::Sent { provider_id } => {
            tracing::info!(id, kind, call_id, %to, provider_id, "outbox message sent")
        }
        Attempt::Retry { error, .. } => {
            tracing::warn!(id, kind, attempts, %to, error, "outbox message not sent; will retry")
        }
        Attempt::Failed { error } => {
            tracing::error!(id, kind, attempts, %to, error, "outbox message given up on")
        }
        Attempt::Skipped { reason } => {
            tracing::info!(id, kind, %to, reason, "outbox message not sent")
        }
    }
}

/// 2 s after the first attempt, doubling, at most 10 minutes.
fn backoff(attempts: u32) -> Duration {
    let seconds = 2u64.saturating_pow(attempts.clamp(1, 20));
    Duration::from_secs(seconds.min(600))
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_ten_minutes() {
        assert_eq!(backoff(1), Duration::from_secs(2));
        assert_eq!(backoff(2), Duration::from_secs(4));
        assert_eq!(backoff(5), Duration::from_secs(32));
        assert_eq!(backoff(12), Duration::from_secs(600));
    }
}
