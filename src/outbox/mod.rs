//! Texts, reminder calls and webhooks the business sends, through a durable outbox: a message is a row first (queued in the
//! same turn as the booking it confirms) and a worker sends it, retrying with backoff when
//! Twilio is down or rate-limits, so sending never blocks or breaks a call, and nothing queued
//! is lost to a restart. Any number of workers may share one database: a claim leases a row to
//! one worker, and a worker that dies mid-send leaves a lease that runs out (docs/design.md §8.5a).

pub mod digest;
pub mod planner;
pub mod reminders;
pub mod send;
mod texts;
pub mod webhooks;
mod worker;

pub use send::{Allowlist, CallSender, SmsSender, WebhookSender};
pub use texts::{Change, Texts};
pub use webhooks::Webhooks;
pub use worker::{OutboxWorker, Senders, WorkerOptions};

/// Wall-clock now, in Unix milliseconds, for outbox rows.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// When a message the business starts at business-local `now` (wall-clock `now_ms`) may go:
/// at once, or when quiet hours end. The wait is measured from `now` and added to `now_ms`, so
/// a server that pretends another time (`serve --now`) waits as long as one on the clock would.
pub fn after_quiet_hours(
    schedule: &frontdesk_engine::business::TextSchedule,
    zone: &jiff::tz::TimeZone,
    now: jiff::civil::DateTime,
    now_ms: i64,
) -> i64 {
    let send_at = schedule.outside_quiet_hours(now);
    let wait_ms = match (zone.to_timestamp(send_at), zone.to_timestamp(now)) {
        (Ok(send_at), Ok(now)) => send_at.as_millisecond() - now.as_millisecond(),
        _ => 0,
    };
    now_ms.saturating_add(wait_ms.max(0))
}

/// What queuing a message did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Queued {
    Now,
    /// One with the same dedupe key was queued before.
    Already,
    Failed,
}

/// Queues one message and wakes the worker. Failures are logged, never passed on: what the
/// call did stands whether or not its message could be queued.
pub(crate) async fn enqueue(
    storage: &dyn crate::storage::Storage,
    queued: &tokio::sync::Notify,
    message: &crate::storage::NewMessage,
) -> Queued {
    let call_id = message.call_id.as_deref();
    match storage.enqueue_message(message).await {
        Ok(id) => {
            queued.notify_one();
            if id.is_some() {
                Queued::Now
            } else {
                Queued::Already
            }
        }
        Err(error) => {
            tracing::error!(call_id, kind = message.kind, %error, "could not queue a message");
            Queued::Failed
        }
    }
}
