//! The SQL both backends share verbatim (SQLite accepts `$n` placeholders too), and the rows it
//! reads. Only locking, transactions and JSON columns differ; those are each backend's
//! [`Dialect`](super::body::Dialect).

use jiff::civil::DateTime;

use super::{
    Appointment, AppointmentStatus, CallEvent, CallFilter, CallRecord, CallSummary, MessageState,
    OutboxMessage, Speaker, StorageError, Turn,
};

/// Columns of an appointment row, in the order of [`AppointmentRow`].
macro_rules! appt_cols {
    () => {
        "id, location, start_at, name, phone, issue, status, created_by_call, updated_by_call"
    };
}

pub(super) const DEACTIVATE_LOCATIONS: &str = "UPDATE locations SET active = FALSE";
pub(super) const UPSERT_LOCATION: &str = "INSERT INTO locations (code, name, capacity, active) \
     VALUES ($1, $2, $3, TRUE) \
     ON CONFLICT (code) DO UPDATE SET name = excluded.name, capacity = excluded.capacity, \
     active = TRUE";
pub(super) const DELETE_HOURS: &str = "DELETE FROM business_hours";
pub(super) const INSERT_HOURS: &str =
    "INSERT INTO business_hours (weekday, open_time, close_time) VALUES ($1, $2, $3)";

pub(super) const UPSERT_CUSTOMER: &str = "INSERT INTO customers (phone, name) VALUES ($1, $2) \
     ON CONFLICT (phone) DO UPDATE SET name = excluded.name RETURNING id, phone, name";
pub(super) const CUSTOMER_BY_PHONE: &str = "SELECT id, phone, name FROM customers WHERE phone = $1";
/// A customer's vehicles (`$1` = customer id), the latest added first.
pub(super) const CUSTOMER_VEHICLES: &str = "SELECT year, make, model FROM customer_vehicles \
     WHERE customer_id = $1 ORDER BY id DESC";
/// Adds a vehicle to a customer (`$1` customer id, `$2` year, `$3` make, `$4` model, `$5`
/// label); one they have already is kept as it is.
pub(super) const ADD_VEHICLE: &str = "INSERT INTO customer_vehicles \
     (customer_id, year, make, model, label) VALUES ($1, $2, $3, $4, $5) \
     ON CONFLICT (customer_id, label) DO NOTHING";

pub(super) const LOCATION_CAPACITY: &str =
    "SELECT capacity FROM locations WHERE code = $1 AND active";
/// Booked visits at (location, start), not counting appointment `$3` (0 when booking).
pub(super) const SLOT_COUNT: &str = "SELECT COUNT(*) FROM appointments \
     WHERE location = $1 AND start_at = $2 AND status = 'booked' AND id <> $3";
/// Everything a booking checks, in one round trip: the call's own booking (`$1`), the
/// location's capacity (`$2`; none for an unknown location), the phone's booking at that
/// start (`$3`, `$4`), and the visits booked there.
pub(super) const BOOKING_CHECK: &str = "SELECT \
     (SELECT id FROM appointments WHERE created_by_call = $1), \
     (SELECT capacity FROM locations WHERE code = $2 AND active), \
     (SELECT id FROM appointments WHERE phone = $3 AND start_at = $4 AND location = $2 \
        AND status = 'booked' ORDER BY id LIMIT 1), \
     (SELECT COUNT(*) FROM appointments WHERE location = $2 AND start_at = $4 \
        AND status = 'booked')";
pub(super) const BY_CREATING_CALL: &str = concat!(
    "SELECT ",
    appt_cols!(),
    " FROM appointments WHERE created_by_call = $1"
);
pub(super) const INSERT_APPOINTMENT: &str = concat!(
    "INSERT INTO appointments (location, start_at, customer_id, name, name_key, phone, issue, \
     status, created_by_call) VALUES ($1, $2, $3, $4, $5, $6, $7, 'booked', $8) RETURNING ",
    appt_cols!()
);
/// Booked visits by start and length (`$1` location, starts in [`$2`, `$3`)).
pub(super) const BOOKED_SPANS: &str = "SELECT start_at, minutes, COUNT(*) FROM appointments \
     WHERE location = $1 AND status = 'booked' AND start_at >= $2 AND start_at < $3 \
     GROUP BY start_at, minutes ORDER BY start_at";
/// [`BOOKED_SPANS`] without the visit booked by call `$4` and appointment `$5`.
pub(super) const DAY_SPANS_OF_OTHERS: &str = "SELECT start_at, minutes, COUNT(*) FROM appointments \
     WHERE location = $1 AND status = 'booked' AND start_at >= $2 AND start_at < $3 \
     AND created_by_call <> $4 AND id <> $5 GROUP BY start_at, minutes ORDER BY start_at";
/// How long appointment `$1` lasts (NULL: the business's own visit length).
pub(super) const VISIT_MINUTES: &str = "SELECT minutes FROM appointments WHERE id = $1";
/// Records a booked visit's length (`$1` id, `$2` minutes).
pub(super) const SET_MINUTES: &str = "UPDATE appointments SET minutes = $2 WHERE id = $1";
pub(super) const BOOKED_COUNTS: &str = "SELECT start_at, COUNT(*) FROM appointments \
     WHERE location = $1 AND status = 'booked' AND start_at >= $2 AND start_at < $3 \
     GROUP BY start_at ORDER BY start_at";
pub(super) const UPCOMING_BY_PHONE: &str = concat!(
    "SELECT ",
    appt_cols!(),
    " FROM appointments WHERE phone = $1 AND status = 'booked' AND start_at >= $2 \
     ORDER BY start_at, id"
);
pub(super) const UPCOMING_BY_NAME: &str = concat!(
    "SELECT ",
    appt_cols!(),
    " FROM appointments WHERE name_key = $1 AND status = 'booked' AND start_at >= $2 \
     ORDER BY start_at, id"
);
pub(super) const BY_ID: &str = concat!("SELECT ", appt_cols!(), " FROM appointments WHERE id = $1");
/// PostgreSQL only (SQLite has no row locks; its write lock covers this).
pub(super) const BY_ID_FOR_UPDATE: &str = concat!(
    "SELECT ",
    appt_cols!(),
    " FROM appointments WHERE id = $1 FOR UPDATE"
);
pub(super) const MOVE: &str = concat!(
    "UPDATE appointments SET start_at = $2, updated_by_call = $3, location = $4 \
     WHERE id = $1 RETURNING ",
    appt_cols!()
);
pub(super) const CANCEL: &str = concat!(
    "UPDATE appointments SET status = 'cancelled', updated_by_call = $2 \
     WHERE id = $1 AND status = 'booked' RETURNING ",
    appt_cols!()
);
pub(super) const BOOKED_BETWEEN: &str = concat!(
    "SELECT ",
    appt_cols!(),
    " FROM appointments WHERE status = 'booked' AND start_at >= $1 AND start_at < $2 \
     ORDER BY start_at, id"
);
pub(super) const LIST: &str = concat!(
    "SELECT ",
    appt_cols!(),
    " FROM appointments ORDER BY start_at, id"
);
pub(super) const FOR_CALL: &str = concat!(
    "SELECT ",
    appt_cols!(),
    " FROM appointments WHERE created_by_call = $1 OR updated_by_call = $1 \
     ORDER BY start_at, id"
);

pub(super) const START_CALL: &str = "INSERT INTO calls (id, caller, called, started_at) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING";
/// A turn replayed by another replica after a crash has the same number: written once.
pub(super) const ADD_TURN: &str = "INSERT INTO call_turns (call_id, seq, speaker, content, state) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (call_id, seq) DO NOTHING";
pub(super) const FINISH_CALL: &str =
    "UPDATE calls SET outcome = $2, transfer_to = $3, ended_at = $4 WHERE id = $1";
pub(super) const GET_CALL: &str = "SELECT id, caller, called, started_at, ended_at, outcome, \
     transfer_to, carrier_status, duration_seconds FROM calls WHERE id = $1";
/// The carrier's last word on a call. A call the engine never closed (the caller hung up
/// mid-sentence, the server restarted) is closed here.
pub(super) const CARRIER_STATUS: &str = "UPDATE calls SET carrier_status = $2, \
     duration_seconds = $3, ended_at = COALESCE(ended_at, $4), \
     outcome = COALESCE(outcome, 'hung_up') WHERE id = $1";
/// Calls matching the filter (`$1` since, `$2` outcome, `$3` caller LIKE pattern, `$5` until,
/// `$6` a flow's state pattern, `$7` a line's LIKE pattern; each may be NULL), newest first, at
/// most `$4`. A call's urgency is its last `urgency` event (the engine only ever raises it).
pub(super) const LIST_CALLS: &str = "SELECT c.id, c.caller, c.called, c.started_at, c.ended_at, \
     c.outcome, c.transfer_to, (SELECT COUNT(*) FROM call_turns t WHERE t.call_id = c.id), \
     (SELECT CAST(e.detail AS TEXT) FROM call_events e WHERE e.call_id = c.id \
     AND e.kind = 'urgency' ORDER BY e.id DESC LIMIT 1) \
     FROM calls c WHERE ($1 IS NULL OR c.started_at >= $1) AND ($2 IS NULL OR c.outcome = $2) \
     AND ($3 IS NULL OR c.caller LIKE $3) AND ($5 IS NULL OR c.started_at < $5) \
     AND ($6 IS NULL OR EXISTS (SELECT 1 FROM call_turns f WHERE f.call_id = c.id \
        AND f.state LIKE $6)) \
     AND ($7 IS NULL OR EXISTS (SELECT 1 FROM call_turns s WHERE s.call_id = c.id \
        AND LOWER(s.content) LIKE $7)) \
     ORDER BY c.started_at DESC, c.id DESC LIMIT $4";
pub(super) const TURNS: &str =
    "SELECT seq, speaker, content, state FROM call_turns WHERE call_id = $1 ORDER BY seq";

/// Names are matched case- and whitespace-insensitively; normalising in Rust (not SQL `lower`)
/// gives the same Unicode-aware behaviour on both backends.
pub(super) fn name_key(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

const START_FORMAT: &str = "%Y-%m-%dT%H:%M";
const STAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";

pub(super) fn fmt_start(start: DateTime) -> String {
    start.strftime(START_FORMAT).to_string()
}

pub(super) fn fmt_stamp(at: DateTime) -> String {
    at.strftime(STAMP_FORMAT).to_string()
}

pub(super) fn parse_time(text: &str) -> Result<DateTime, StorageError> {
    text.parse::<DateTime>()
        .map_err(|e| StorageError::Corrupt(format!("date-time {text:?}: {e}")))
}

pub(super) type AppointmentRow = (
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
);

pub(super) fn appointment_from_row(row: AppointmentRow) -> Result<Appointment, StorageError> {
    let (id, location, start, name, phone, issue, status, created_by_call, updated_by_call) = row;
    Ok(Appointment {
        id,
        location,
        start: parse_time(&start)?,
        name,
        phone,
        issue,
        status: AppointmentStatus::parse(&status)?,
        created_by_call,
        updated_by_call,
    })
}

pub(super) fn appointments_from_rows(
    rows: Vec<AppointmentRow>,
) -> Result<Vec<Appointment>, StorageError> {
    rows.into_iter().map(appointment_from_row).collect()
}

pub(super) type CallRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
);

/// A turn row: seq, speaker, text, state.
pub(super) type TurnRow = (i64, String, String, Option<String>);
/// An event row: id, kind, detail as JSON text.
pub(super) type EventRow = (i64, String, String);

pub(super) fn call_from_rows(
    call: CallRow,
    turns: Vec<TurnRow>,
    events: Vec<EventRow>,
) -> Result<CallRecord, StorageError> {
    let (
        call_id,
        caller,
        called,
        started_at,
        ended_at,
        outcome,
        transfer_to,
        carrier_status,
        duration_seconds,
    ) = call;
    let turns = turns
        .into_iter()
        .map(|(seq, speaker, text, state)| {
            Ok(Turn {
                seq: u32::try_from(seq)
                    .map_err(|_| StorageError::Corrupt(format!("turn seq {seq}")))?,
                speaker: Speaker::parse(&speaker)?,
                text,
                state,
            })
        })
        .collect::<Result<_, StorageError>>()?;
    let events = events
        .into_iter()
        .map(|(id, kind, detail)| {
            let detail = serde_json::from_str(&detail)
                .map_err(|e| StorageError::Corrupt(format!("event {id} detail: {e}")))?;
            Ok(CallEvent { id, kind, detail })
        })
        .collect::<Result<_, StorageError>>()?;
    Ok(CallRecord {
        call_id,
        caller,
        called,
        started_at: parse_time(&started_at)?,
        ended_at: ended_at.as_deref().map(parse_time).transpose()?,
        outcome,
        transfer_to,
        carrier_status,
        duration_seconds,
        turns,
        events,
    })
}

pub(super) fn count_to_u32(count: i64) -> u32 {
    u32::try_from(count).unwrap_or(u32::MAX)
}

pub(super) fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.is_unique_violation())
}

pub(super) fn is_foreign_key_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(e) if e.is_foreign_key_violation())
}

/// Maps constraint failures on call child rows to domain errors.
pub(super) fn call_write_error(err: StorageError, call_id: &str, seq: Option<u32>) -> StorageError {
    let StorageError::Database(cause) = &err else {
        return err;
    };
    if is_foreign_key_violation(cause) {
        StorageError::NotFound(format!("call {call_id}"))
    } else if let (true, Some(seq)) = (is_unique_violation(cause), seq) {
        StorageError::Conflict(format!("turn {seq} of call {call_id} already recorded"))
    } else {
        err
    }
}

/// A call-list row, in the order of [`LIST_CALLS`].
pub(super) type CallSummaryRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    i64,
    Option<String>,
);

pub(super) fn call_summary_from_row(row: CallSummaryRow) -> Result<CallSummary, StorageError> {
    let (call_id, caller, called, started_at, ended_at, outcome, transfer_to, turns, urgency) = row;
    // The event's detail, `{"level": "high"}`.
    let urgency = urgency
        .and_then(|detail| serde_json::from_str::<serde_json::Value>(&detail).ok())
        .and_then(|detail| detail.get("level")?.as_str().map(str::to_string));
    Ok(CallSummary {
        call_id,
        caller,
        called,
        started_at: parse_time(&started_at)?,
        ended_at: ended_at.as_deref().map(parse_time).transpose()?,
        outcome,
        transfer_to,
        turns: count_to_u32(turns),
        urgency,
    })
}

/// The values [`LIST_CALLS`] binds for a filter, `$1` to `$7`.
pub(super) struct CallFilterBinds {
    pub since: Option<String>,
    pub outcome: Option<String>,
    pub caller: Option<String>,
    pub limit: i64,
    pub until: Option<String>,
    pub flow: Option<String>,
    pub text: Option<String>,
}

pub(super) fn call_filter_binds(filter: &CallFilter) -> CallFilterBinds {
    CallFilterBinds {
        since: filter.since.map(fmt_stamp),
        outcome: filter.outcome.clone(),
        caller: filter
            .caller_digits
            .as_ref()
            .map(|digits| format!("%{digits}")),
        limit: i64::from(filter.limit),
        until: filter.until.map(fmt_stamp),
        // States are recorded as `flow/state`.
        flow: filter.flow.as_ref().map(|flow| format!("{flow}/%")),
        text: filter
            .text
            .as_deref()
            .and_then(super::reports::contains_pattern),
    }
}

pub(super) const ENQUEUE_MESSAGE: &str = "INSERT INTO outbox (kind, recipient, body, call_id, \
     dedupe_key, next_attempt_ms, created_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) \
     ON CONFLICT (dedupe_key) DO NOTHING RETURNING id";
/// The columns of an [`OutboxRow`].
macro_rules! outbox_cols {
    () => {
        "id, kind, recipient, body, call_id, state, attempts, last_error, provider_id"
    };
}
/// The claim without its row lock; each dialect finishes the inner SELECT.
pub(super) const CLAIM_MESSAGE_HEAD: &str = "UPDATE outbox SET state = 'sending', \
     attempts = attempts + 1, lease_until_ms = $2 \
     WHERE id = (SELECT id FROM outbox WHERE ((state = 'pending' AND next_attempt_ms <= $1) \
     OR (state = 'sending' AND lease_until_ms <= $1)) AND $3 LIKE '%,' || kind || ',%' \
     ORDER BY next_attempt_ms, id LIMIT 1";
pub(super) const CLAIM_MESSAGE_TAIL: &str = concat!(") RETURNING ", outbox_cols!());
pub(super) const MESSAGE_SENT: &str = "UPDATE outbox SET state = 'sent', provider_id = $2, \
     sent_ms = $3, lease_until_ms = NULL, last_error = NULL WHERE id = $1";
pub(super) const MESSAGE_RETRY: &str = "UPDATE outbox SET state = 'pending', last_error = $2, \
     next_attempt_ms = $3, lease_until_ms = NULL WHERE id = $1";
pub(super) const MESSAGE_GIVEN_UP: &str = "UPDATE outbox SET state = $2, last_error = $3, \
     lease_until_ms = NULL WHERE id = $1";
pub(super) const MESSAGES_FOR_CALL: &str = concat!(
    "SELECT ",
    outbox_cols!(),
    " FROM outbox WHERE call_id = $1 ORDER BY id"
);
pub(super) const OUTBOX_DEPTH: &str =
    "SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'sending')";
pub(super) const ALL_MESSAGES: &str =
    concat!("SELECT ", outbox_cols!(), " FROM outbox ORDER BY id");
pub(super) const OPT_OUT: &str = "INSERT INTO opt_outs (phone, opted_out_ms) VALUES ($1, $2) \
     ON CONFLICT (phone) DO UPDATE SET opted_out_ms = excluded.opted_out_ms";
pub(super) const OPT_IN: &str = "DELETE FROM opt_outs WHERE phone = $1";
pub(super) const IS_OPTED_OUT: &str = "SELECT COUNT(*) FROM opt_outs WHERE phone = $1";

/// An outbox row, in the order of `outbox_cols!`.
pub(super) type OutboxRow = (
    i64,
    String,
    String,
    String,
    Option<String>,
    String,
    i64,
    Option<String>,
    Option<String>,
);

pub(super) fn message_from_row(row: OutboxRow) -> Result<OutboxMessage, StorageError> {
    let (id, kind, recipient, body, call_id, state, attempts, last_error, provider_id) = row;
    Ok(OutboxMessage {
        id,
        kind,
        recipient,
        body,
        call_id,
        state: MessageState::parse(&state)?,
        attempts: count_to_u32(attempts),
        last_error,
        provider_id,
    })
}
