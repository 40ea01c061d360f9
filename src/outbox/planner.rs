//! What the business starts on its own clock: every minute, `serve` and `worker` plan the
//! day-before reminders and the owner's daily digest. Planning is idempotent (each message has
//! a dedupe key), so any number of servers may plan at once.

use std::sync::Arc;
use std::time::Duration;

use frontdesk_engine::business::Business;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use tokio::sync::watch;

use super::{Texts, digest, reminders};
use crate::storage::Storage;

/// How often the business's own messages are planned.
const EVERY: Duration = Duration::from_secs(60);

/// Plans every minute until `stop` turns true, at business-local `fixed_now` when given (a
/// server pretending another time, for demos) or by the clock.
pub async fn run(
    texts: Texts,
    storage: Arc<dyn Storage>,
    business: Arc<Business>,
    zone: TimeZone,
    fixed_now: Option<DateTime>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let clock = jiff::Timestamp::now();
        let now = fixed_now.unwrap_or_else(|| zone.to_datetime(clock));
        let now_ms = clock.as_millisecond();
        if let Err(error) =
            reminders::plan(&texts, storage.as_ref(), &business, &zone, now, now_ms).await
        {
            tracing::warn!(%error, "could not plan reminders; trying again in a minute");
        }
        if let Err(error) =
            digest::plan(&texts, storage.as_ref(), &business, &zone, now, now_ms).await
        {
            tracing::warn!(%error, "could not plan the daily digest; trying again in a minute");
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = stop.changed() => return,
        }
    }
}
