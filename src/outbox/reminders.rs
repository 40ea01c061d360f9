//! The day-before reminders: once the business's reminder time has passed, every visit booked
//! for tomorrow gets a reminder text, sent outside quiet hours. Planning runs every minute in
//! `serve` and `worker`; a reminder is queued once however often (and by however many servers)
//! it is planned.

use frontdesk_engine::business::Business;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use super::Texts;
use crate::storage::{Storage, StorageError};

/// Queues the reminders due at business-local `now` (`now_ms` on the wall clock); how many
/// were newly queued.
pub async fn plan(
    texts: &Texts,
    storage: &dyn Storage,
    business: &Business,
    zone: &TimeZone,
    now: DateTime,
    now_ms: i64,
) -> Result<usize, StorageError> {
    let Some(at) = business.texts.reminder_at else {
        return Ok(0);
    };
    if now.time() < at {
        return Ok(0);
    }
    let midnight = jiff::civil::time(0, 0, 0, 0);
    let (Ok(tomorrow), Ok(after)) = (
        now.date().tomorrow(),
        now.date().checked_add(jiff::Span::new().days(2)),
    ) else {
        return Ok(0);
    };
    let visits = storage
        .booked_between(tomorrow.to_datetime(midnight), after.to_datetime(midnight))
        .await?;
    let not_before_ms = super::after_quiet_hours(&business.texts, zone, now, now_ms);
    let mut queued = 0;
    for visit in &visits {
        if texts.remind(visit, not_before_ms).await {
            queued += 1;
        }
    }
    if queued > 0 {
        tracing::info!(queued, "reminders queued for tomorrow's visits");
    }
    Ok(queued)
}
