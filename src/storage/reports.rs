//! The owner's reads (the dashboard and its JSON API): calls with their turns and events in
//! bulk, customers and appointments searched. The SQL is shared by both backends, like
//! [`sql`](super::sql).

use std::collections::HashMap;

use jiff::civil::DateTime;

use super::sql::{self, CallRow};
use super::{AppointmentFilter, CallRecord, StorageError};

/// Calls started in `[$1, $2)`, oldest first.
pub(super) const CALLS_BETWEEN: &str = "SELECT id, caller, called, started_at, ended_at, \
     outcome, transfer_to, carrier_status, duration_seconds FROM calls \
     WHERE started_at >= $1 AND started_at < $2 ORDER BY started_at, id";
/// The turns of those calls, by call and seq.
pub(super) const TURNS_BETWEEN: &str = "SELECT t.call_id, t.seq, t.speaker, t.content, t.state \
     FROM call_turns t JOIN calls c ON c.id = t.call_id \
     WHERE c.started_at >= $1 AND c.started_at < $2 ORDER BY t.call_id, t.seq";
/// Their events as JSON text, in order (CAST reads JSONB and TEXT alike).
pub(super) const EVENTS_BETWEEN: &str = "SELECT e.call_id, e.id, e.kind, CAST(e.detail AS TEXT) \
     FROM call_events e JOIN calls c ON c.id = e.call_id \
     WHERE c.started_at >= $1 AND c.started_at < $2 ORDER BY e.id";

/// Customers whose name or phone matches the LIKE pattern `$1` (all when NULL), by name.
pub(super) const SEARCH_CUSTOMERS: &str = "SELECT id, phone, name FROM customers \
     WHERE ($1 IS NULL OR LOWER(name) LIKE $1 OR phone LIKE $1) ORDER BY name, id LIMIT $2";
pub(super) const CUSTOMER_BY_ID: &str = "SELECT id, phone, name FROM customers WHERE id = $1";

/// Appointments by start range (`$1`, `$2`), location (`$3`), a LIKE pattern on name, phone or
/// issue (`$4`) and status (`$5`), each NULL for any; by start then id, at most `$6`.
pub(super) const SEARCH_APPOINTMENTS: &str = "SELECT id, location, start_at, name, phone, \
     issue, status, created_by_call, updated_by_call FROM appointments \
     WHERE ($1 IS NULL OR start_at >= $1) AND ($2 IS NULL OR start_at < $2) \
     AND ($3 IS NULL OR location = $3) \
     AND ($4 IS NULL OR LOWER(name) LIKE $4 OR phone LIKE $4 OR LOWER(issue) LIKE $4) \
     AND ($5 IS NULL OR status = $5) ORDER BY start_at, id LIMIT $6";

/// A case-insensitive "contains" pattern for LIKE; the user's own `%` and `_` match themselves
/// only as far as LIKE allows, so they are dropped rather than read as wildcards.
pub(super) fn contains_pattern(text: &str) -> Option<String> {
    let cleaned: String = text
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| !matches!(c, '%' | '_' | '\\'))
        .collect();
    (!cleaned.is_empty()).then(|| format!("%{cleaned}%"))
}

/// The values [`SEARCH_APPOINTMENTS`] binds.
pub(super) type AppointmentBinds = (
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
);

pub(super) fn appointment_binds(filter: &AppointmentFilter) -> AppointmentBinds {
    (
        filter.from.map(sql::fmt_start),
        filter.to.map(sql::fmt_start),
        filter.location.clone(),
        filter.text.as_deref().and_then(contains_pattern),
        filter.status.map(|s| s.as_str().to_string()),
        i64::from(filter.limit),
    )
}

pub(super) type TurnRow = (String, i64, String, String, Option<String>);
pub(super) type EventRow = (String, i64, String, String);

/// Puts each call's turns and events with it.
pub(super) fn records_from_rows(
    calls: Vec<CallRow>,
    turns: Vec<TurnRow>,
    events: Vec<EventRow>,
) -> Result<Vec<CallRecord>, StorageError> {
    let mut turns_of: HashMap<String, Vec<sql::TurnRow>> = HashMap::new();
    for (call_id, seq, speaker, text, state) in turns {
        turns_of
            .entry(call_id)
            .or_default()
            .push((seq, speaker, text, state));
    }
    let mut events_of: HashMap<String, Vec<sql::EventRow>> = HashMap::new();
    for (call_id, id, kind, detail) in events {
        events_of
            .entry(call_id)
            .or_default()
            .push((id, kind, detail));
    }
    calls
        .into_iter()
        .map(|call| {
            let turns = turns_of.remove(&call.0).unwrap_or_default();
            let events = events_of.remove(&call.0).unwrap_or_default();
            sql::call_from_rows(call, turns, events)
        })
        .collect()
}

pub(super) fn range_binds(from: DateTime, to: DateTime) -> (String, String) {
    (sql::fmt_stamp(from), sql::fmt_stamp(to))
}
