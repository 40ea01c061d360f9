//! The wall clock, read once per turn and turned into business-local time for the engine.

use anyhow::{Context, Result};
use frontdesk_engine::business::Business;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

/// The business's time zone, from configuration.
pub fn business_zone(business: &Business) -> Result<TimeZone> {
    TimeZone::get(&business.time_zone).with_context(|| {
        format!(
            "unknown time zone `{}` in the business config",
            business.time_zone
        )
    })
}

/// Now, on the business's clock.
pub fn business_now(business: &Business) -> Result<DateTime> {
    Ok(business_zone(business)?.to_datetime(jiff::Timestamp::now()))
}
