//! The owner's daily digest: with `texts.owner_summary: daily`, once `texts.digest_at` has
//! passed, one text to `phones.owner` counting the day's calls by outcome. Queued once a day
//! however often (and by however many servers) it is planned.

use std::collections::BTreeMap;

use frontdesk_engine::business::{Business, OwnerSummary};
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use serde_json::json;

use super::Texts;
use crate::storage::{CallFilter, Storage, StorageError};

/// More calls than a small business takes in a day; the digest counts at most this many.
const MOST_CALLS: u32 = 100_000;

/// Queues the day's digest when it is due at business-local `now` (`now_ms` on the wall
/// clock); whether it was queued now.
pub async fn plan(
    texts: &Texts,
    storage: &dyn Storage,
    business: &Business,
    zone: &TimeZone,
    now: DateTime,
    now_ms: i64,
) -> Result<bool, StorageError> {
    let schedule = &business.texts;
    let Some(owner) = &business.phones.owner else {
        return Ok(false);
    };
    if schedule.owner_summary != OwnerSummary::Daily || now.time() < schedule.digest_at {
        return Ok(false);
    }
    let day = now.date();
    let filter = CallFilter {
        since: Some(day.to_datetime(jiff::civil::time(0, 0, 0, 0))),
        ..CallFilter::latest(MOST_CALLS)
    };
    let calls = storage.list_calls(&filter).await?;
    // Every outcome named, so the prompt can test any of them.
    let mut outcomes: BTreeMap<String, u32> = frontdesk_engine::Outcome::ALL
        .iter()
        .map(|o| (o.as_str().to_string(), 0))
        .chain([("open".to_string(), 0)])
        .collect();
    let mut emergencies = Vec::new();
    for call in calls.iter().filter(|c| c.started_at.date() == day) {
        let outcome = call.outcome.clone().unwrap_or_else(|| "open".into());
        if outcome == "emergency" {
            emergencies.push(call.caller.clone());
        }
        *outcomes.entry(outcome).or_default() += 1;
    }
    let total: u32 = outcomes.values().sum();
    let vars = json!({
        "day": day.to_string(),
        "total": total,
        "outcomes": outcomes,
        "emergencies": emergencies,
    });
    let not_before_ms = super::after_quiet_hours(schedule, zone, now, now_ms);
    Ok(texts
        .send_digest(owner, &day.to_string(), &vars, not_before_ms)
        .await)
}
