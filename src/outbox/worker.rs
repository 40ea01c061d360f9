//! Sends what the outbox holds: claims the oldest due message, checks the number may be texted,
//! sends it through Twilio, and records how it went.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};

use crate::logging::mask_phone;
use crate::storage::{Attempt, OutboxMessage, Storage};
use crate::twilio::rest::{RestError, TwilioRest, is_transient};

/// How a worker sends.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// The number texts come from (the business's published number).
    pub from: String,
    /// Outside production, the only numbers that may be texted; `None` allows every number.
    pub allow: Option<Vec<String>>,
    /// How long a claimed message is this worker's before another may take it over.
    pub lease: Duration,
    /// How often to look for due messages when nothing wakes the worker.
    pub poll: Duration,
    /// Attempts before a message is given up on.
    pub max_attempts: u32,
}

impl WorkerOptions {
    pub fn new(from: String) -> WorkerOptions {
        WorkerOptions {
            from,
            allow: None,
            lease: Duration::from_secs(60),
            poll: Duration::from_secs(1),
            max_attempts: 8,
        }
    }
}

/// One outbox worker. Run several (in one process or many) on one database safely.
pub struct OutboxWorker {
    storage: Arc<dyn Storage>,
    twilio: Arc<TwilioRest>,
    options: WorkerOptions,
    queued: Arc<Notify>,
}

impl OutboxWorker {
    pub fn new(
        storage: Arc<dyn Storage>,
        twilio: Arc<TwilioRest>,
        options: WorkerOptions,
        queued: Arc<Notify>,
    ) -> OutboxWorker {
        OutboxWorker {
            storage,
            twilio,
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
        let now = super::now_ms();
        let lease_until = now.saturating_add(millis(self.options.lease));
        let Some(message) = self.storage.claim_message(now, lease_until).await? else {
            return Ok(false);
        };
        let attempt = self.attempt(&message).await;
        match &attempt {
            Attempt::Sent { provider_id } => {
                tracing::info!(id = message.id, call_id = message.call_id.as_deref().unwrap_or(""),
                    to = %mask_phone(&message.recipient), provider_id, "text sent")
            }
            Attempt::Retry { error, .. } => {
                tracing::warn!(
                    id = message.id,
                    attempts = message.attempts,
                    error,
                    "text not sent; will retry"
                )
            }
            Attempt::Failed { error } => {
                tracing::error!(
                    id = message.id,
                    attempts = message.attempts,
                    error,
                    "text given up on"
                )
            }
            Attempt::Skipped { reason } => {
                tracing::info!(id = message.id, to = %mask_phone(&message.recipient), reason, "text not sent")
            }
        }
        self.storage
            .finish_message(message.id, &attempt, super::now_ms())
            .await?;
        Ok(true)
    }

    async fn attempt(&self, message: &OutboxMessage) -> Attempt {
        if let Some(allow) = &self.options.allow
            && !allow.contains(&message.recipient)
        {
            return Attempt::Skipped {
                reason: "not on the allowlist".into(),
            };
        }
        match self.storage.is_opted_out(&message.recipient).await {
            Ok(true) => {
                return Attempt::Skipped {
                    reason: "the number opted out (STOP)".into(),
                };
            }
            Ok(false) => {}
            Err(error) => return self.retry(message, error.to_string()),
        }
        match self
            .twilio
            .send_sms(&self.options.from, &message.recipient, &message.body)
            .await
        {
            Ok(provider_id) => Attempt::Sent { provider_id },
            Err(error) if is_transient(&error) => self.retry(message, error.to_string()),
            Err(error) => Attempt::Failed {
                error: refusal(&error),
            },
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

/// 2 s after the first attempt, doubling, at most 10 minutes.
fn backoff(attempts: u32) -> Duration {
    let seconds = 2u64.saturating_pow(attempts.clamp(1, 20));
    Duration::from_secs(seconds.min(600))
}

fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis()).unwrap_or(i64::MAX)
}

fn refusal(error: &RestError) -> String {
    format!("refused: {error}")
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
