//! Persistence: customers, appointments and call records, on SQLite (a file, the default) or
//! PostgreSQL. Both backends share one schema shape, the same SQL where the dialects agree, and the
//! same behaviour; the integration tests run one body against each.
//!
//! Time conventions (see also the migrations):
//! - Appointment starts are business-local civil times stored as TEXT `YYYY-MM-DDTHH:MM`, which
//!   sorts and compares correctly as text on both backends.
//! - Call timestamps (`started_at`, `ended_at`) are business-local civil times too, stored as
//!   `YYYY-MM-DDTHH:MM:SS`. The application hands in the business-local "now"; storage never reads
//!   the clock, so tests and replays are deterministic.
//!
//! The application calls [`Storage::sync_business`] at start-up: booking reads each location's
//! capacity from the `locations` table, inside the booking transaction.

mod body;
#[macro_use]
mod sql;
mod booking_sql;
mod call_record;
mod outbox;
mod postgres;
mod reports;
mod sqlite;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use frontdesk_engine::business::Business;
use jiff::civil::DateTime;
use serde::{Deserialize, Serialize};

pub use call_record::{CallEvent, CallFilter, CallRecord, CallSummary, CallWrite, Speaker, Turn};
pub use outbox::{Attempt, MessageState, NewMessage, OutboxMessage};
pub use postgres::PgStorage;
pub use sqlite::{SqliteStorage, sqlite_file};

/// Everything that can go wrong in storage, typed so that callers can answer the caller well.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The (location, start) already holds as many booked visits as the location has capacity.
    #[error("no free place at {location} {start}")]
    Full { location: String, start: DateTime },
    /// The thing named does not exist ("appointment 7", "call CA12").
    #[error("{0} not found")]
    NotFound(String),
    /// The location code is not (or no longer) in the synced business configuration.
    #[error("unknown location {0:?}")]
    UnknownLocation(String),
    /// The appointment is cancelled and cannot be changed any more.
    #[error("appointment {0} is cancelled")]
    Cancelled(i64),
    /// The phone number already has a booked visit at that location and start (a second call
    /// asking for the same thing): the existing visit.
    #[error("already booked: appointment {}", .0.id)]
    AlreadyBooked(Box<Appointment>),
    /// The write clashes with existing data (e.g. a turn number used twice).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The storage URL or options are unusable.
    #[error("storage configuration: {0}")]
    Config(String),
    /// A stored value could not be read back (hand-edited database, wrong schema).
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
    /// The database file refuses writes (made immutable, a read-only or full disk).
    #[error("{} cannot be written: {cause}", path.display())]
    Unwritable {
        path: std::path::PathBuf,
        cause: String,
    },
    // Not sources: their messages already say it all, and an error chain would repeat them.
    #[error("database: {0}")]
    Database(sqlx::Error),
    #[error("migration: {0}")]
    Migrate(sqlx::migrate::MigrateError),
    /// The database could not be opened; `database` is its URL with any password hidden.
    #[error("cannot open the database {database}: {message}")]
    Open { database: String, message: String },
}

impl From<sqlx::Error> for StorageError {
    fn from(error: sqlx::Error) -> Self {
        StorageError::Database(error)
    }
}

impl From<sqlx::migrate::MigrateError> for StorageError {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        StorageError::Migrate(error)
    }
}

/// A database URL fit for logs and messages: `postgres://user:***@host:5432/db`.
pub fn redacted(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let Some((credentials, place)) = rest.rsplit_once('@') else {
        return url.to_string();
    };
    match credentials.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{place}"),
        None => url.to_string(),
    }
}

impl StorageError {
    /// Whether the database could not be reached, was busy or could not be written (down,
    /// restarting, locked by another process, a read-only or full disk), as opposed to refusing
    /// this write: the same write may succeed later.
    pub fn is_unavailable(&self) -> bool {
        let error = match self {
            StorageError::Database(error) => error,
            StorageError::Unwritable { .. } => return true,
            _ => return false,
        };
        match error {
            sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => db.code().is_some_and(|code| {
                if code.len() == 5 {
                    // PostgreSQL: connection exceptions, shutdown, too many connections.
                    code.starts_with("08") || code.starts_with("57P") || code == "53300"
                } else {
                    // SQLite, extended codes included: SQLITE_BUSY (5), SQLITE_LOCKED (6), and
                    // a file that cannot be written: SQLITE_READONLY (8), SQLITE_IOERR (10),
                    // SQLITE_FULL (13), SQLITE_CANTOPEN (14).
                    code.parse::<i32>()
                        .is_ok_and(|c| matches!(c & 0xff, 5 | 6 | 8 | 10 | 13 | 14))
                }
            }),
            _ => false,
        }
    }
}

/// Whether a visit is still going to happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AppointmentStatus {
    Booked,
    Cancelled,
}

impl AppointmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AppointmentStatus::Booked => "booked",
            AppointmentStatus::Cancelled => "cancelled",
        }
    }

    fn parse(text: &str) -> Result<Self, StorageError> {
        match text {
            "booked" => Ok(AppointmentStatus::Booked),
            "cancelled" => Ok(AppointmentStatus::Cancelled),
            other => Err(StorageError::Corrupt(format!(
                "appointment status {other:?}"
            ))),
        }
    }
}

/// A visit, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appointment {
    pub id: i64,
    /// Location code, e.g. "DAL".
    pub location: String,
    /// Business-local start of the visit.
    pub start: DateTime,
    /// The name given for this visit.
    pub name: String,
    /// E.164 phone number.
    pub phone: String,
    pub issue: String,
    pub status: AppointmentStatus,
    /// The call that booked it (unique: one booking per call).
    pub created_by_call: String,
    /// The call that last rescheduled or cancelled it.
    pub updated_by_call: Option<String>,
}

/// A booking request. `call_id` makes it idempotent: one call books at most one appointment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAppointment {
    pub call_id: String,
    pub location: String,
    pub start: DateTime,
    pub name: String,
    pub phone: String,
    pub issue: String,
    /// How long the visit lasts, for a business whose services have their own lengths: the
    /// booking then needs a free place at every moment of it, not only at its start. `None`:
    /// a visit of the business's own length, checked at its start.
    #[serde(default)]
    pub minutes: Option<u32>,
}

/// The most visits running at once at any moment of `[start, end)`, of `visits` given as
/// (start, minutes; `None` counts at its start only, as one minute).
pub(crate) fn peak_overlap(
    visits: &[(DateTime, Option<u32>)],
    start: DateTime,
    end: DateTime,
) -> u32 {
    let spans: Vec<(DateTime, DateTime)> = visits
        .iter()
        .filter_map(|(s, minutes)| {
            let length = i64::from(minutes.unwrap_or(1).max(1));
            Some((*s, s.checked_add(jiff::Span::new().minutes(length)).ok()?))
        })
        .filter(|(s, e)| *s < end && *e > start)
        .collect();
    // The count only rises where a visit begins: at `start` and at each start inside.
    std::iter::once(start)
        .chain(spans.iter().map(|(s, _)| *s).filter(|s| *s > start))
        .map(|at| {
            let running = spans.iter().filter(|(s, e)| *s <= at && at < *e).count();
            u32::try_from(running).unwrap_or(u32::MAX)
        })
        .max()
        .unwrap_or(0)
}

/// A known caller, keyed by phone number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub id: i64,
    pub phone: String,
    pub name: String,
}

/// A vehicle a customer has brought in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VehicleRecord {
    pub year: Option<i64>,
    pub make: String,
    pub model: Option<String>,
}

impl VehicleRecord {
    /// "2019 Mazda Miata", "Mazda Miata", "Mazda".
    pub fn label(&self) -> String {
        let year = self.year.map(|y| y.to_string());
        [
            year.as_deref(),
            Some(self.make.as_str()),
            self.model.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ")
    }
}

/// A customer and their vehicles, for [`Storage::seed_customers`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCustomer {
    pub phone: String,
    pub name: String,
    pub vehicles: Vec<VehicleRecord>,
}

/// Which appointments [`Storage::search_appointments`] returns, by start then id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppointmentFilter {
    /// Starting at or after.
    pub from: Option<DateTime>,
    /// Starting before.
    pub to: Option<DateTime>,
    /// At this location code.
    pub location: Option<String>,
    /// Whose name, phone or issue contains this (case-insensitive).
    pub text: Option<String>,
    pub status: Option<AppointmentStatus>,
    /// At most this many.
    pub limit: u32,
}

/// The storage operations the application needs. Object-safe: the app holds `Arc<dyn Storage>`.
#[async_trait]
pub trait Storage: Send + Sync {
    /// "sqlite" or "postgres", for logs and diagnostics.
    fn backend(&self) -> &'static str;

    /// Makes `locations` (code, name, capacity) and `business_hours` reflect the configuration.
    /// Locations missing from the configuration are deactivated, not deleted, because old
    /// appointments still point at them; booking into them fails with `UnknownLocation`.
    async fn sync_business(&self, business: &Business) -> Result<(), StorageError>;

    /// Finds the customer with this phone number, creating it; the name is updated to `name`.
    async fn upsert_customer(&self, phone: &str, name: &str) -> Result<Customer, StorageError>;

    async fn find_customer(&self, phone: &str) -> Result<Option<Customer>, StorageError>;

    /// A customer's vehicles, the latest added first.
    async fn customer_vehicles(&self, customer_id: i64)
    -> Result<Vec<VehicleRecord>, StorageError>;

    /// Adds a vehicle to the customer with this phone (created with `name` if new); one they
    /// already have is kept as it is.
    async fn add_vehicle(
        &self,
        phone: &str,
        name: &str,
        vehicle: &VehicleRecord,
    ) -> Result<(), StorageError>;

    /// Writes customers and their vehicles in one transaction (an existing phone gets the new
    /// name and any vehicles it lacks). Returns how many customers were written.
    async fn seed_customers(&self, customers: &[NewCustomer]) -> Result<usize, StorageError>;

    /// Books a visit if the (location, start) is under capacity, atomically. Idempotent per call
    /// id: if this call already booked, that appointment is returned unchanged (even if the new
    /// request differs), so a retried request never books twice. A phone number that already
    /// has a booked visit at that location and start gets `AlreadyBooked` with it.
    async fn book(&self, new: &NewAppointment) -> Result<Appointment, StorageError>;

    /// Booked visits starting in `[from, to)` at a location, as (start, minutes, how many);
    /// `None` minutes: a visit of the business's own length.
    async fn booked_spans(
        &self,
        location: &str,
        from: DateTime,
        to: DateTime,
    ) -> Result<Vec<(DateTime, Option<u32>, u32)>, StorageError>;

    /// Booked visits per start in `[from, to)` at a location; starts with none are absent.
    async fn booked_counts(
        &self,
        location: &str,
        from: DateTime,
        to: DateTime,
    ) -> Result<BTreeMap<DateTime, u32>, StorageError>;

    /// Booked visits for this phone starting at or after `now`, soonest first.
    async fn find_upcoming_by_phone(
        &self,
        phone: &str,
        now: DateTime,
    ) -> Result<Vec<Appointment>, StorageError>;

    /// Booked visits under this name (case- and spacing-insensitive) at or after `now`.
    async fn find_upcoming_by_name(
        &self,
        name: &str,
        now: DateTime,
    ) -> Result<Vec<Appointment>, StorageError>;

    async fn get_appointment(&self, id: i64) -> Result<Option<Appointment>, StorageError>;

    /// Moves a booked visit to `new_start` at the same location under the same capacity rule,
    /// atomically. Refuses cancelled visits (`Cancelled`). Moving to its own start is a no-op.
    async fn reschedule(
        &self,
        id: i64,
        new_start: DateTime,
        call_id: &str,
    ) -> Result<Appointment, StorageError> {
        self.move_appointment(id, None, new_start, call_id).await
    }

    /// Moves a booked visit to `new_start`, and to `new_location` when given, under the
    /// capacity rule of the location it lands in, atomically. Refuses cancelled visits
    /// (`Cancelled`) and unknown locations. Moving to where it already is is a no-op.
    async fn move_appointment(
        &self,
        id: i64,
        new_location: Option<&str>,
        new_start: DateTime,
        call_id: &str,
    ) -> Result<Appointment, StorageError>;

    /// Cancels a visit. Cancelling a cancelled visit returns it unchanged.
    async fn cancel(&self, id: i64, call_id: &str) -> Result<Appointment, StorageError>;

    /// Booked visits starting in `[from, to)`, at every location, by start then id.
    async fn booked_between(
        &self,
        from: DateTime,
        to: DateTime,
    ) -> Result<Vec<Appointment>, StorageError>;

    /// Every appointment, by start then id (tooling).
    async fn list_appointments(&self) -> Result<Vec<Appointment>, StorageError>;

    /// Appointments booked or last changed by this call, by start then id.
    async fn appointments_for_call(&self, call_id: &str) -> Result<Vec<Appointment>, StorageError>;

    /// Records the start of a call. Idempotent: a repeated start (webhook retry) is ignored.
    async fn start_call(
        &self,
        call_id: &str,
        caller: &str,
        called: &str,
        started_at: DateTime,
    ) -> Result<(), StorageError>;

    /// Appends a turn. `NotFound` if the call was not started, `Conflict` if `seq` is taken.
    async fn add_turn(
        &self,
        call_id: &str,
        seq: u32,
        speaker: Speaker,
        text: &str,
        state: Option<&str>,
    ) -> Result<(), StorageError>;

    /// Appends an event with a JSON detail. `NotFound` if the call was not started.
    async fn add_event(
        &self,
        call_id: &str,
        kind: &str,
        detail: &serde_json::Value,
    ) -> Result<(), StorageError>;

    /// Records how the call ended. `NotFound` if the call was not started.
    async fn finish_call(
        &self,
        call_id: &str,
        outcome: &str,
        transfer_to: Option<&str>,
        ended_at: DateTime,
    ) -> Result<(), StorageError>;

    /// The call with its turns (by seq) and events (in order), if it exists.
    async fn get_call(&self, call_id: &str) -> Result<Option<CallRecord>, StorageError>;

    /// Queues a message; `None` when one with the same dedupe key is already queued.
    async fn enqueue_message(&self, message: &NewMessage) -> Result<Option<i64>, StorageError>;

    /// Leases the oldest message of one of `kinds` due at `now_ms` (pending and due, or leased
    /// by a worker whose lease ran out) until `lease_until_ms`, counting the attempt. Two
    /// workers never hold one message at once.
    async fn claim_message(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        kinds: &[&str],
    ) -> Result<Option<OutboxMessage>, StorageError>;

    /// Records how the attempt on a leased message went.
    async fn finish_message(
        &self,
        id: i64,
        attempt: &Attempt,
        now_ms: i64,
    ) -> Result<(), StorageError>;

    /// Messages waiting to be sent or being sent: the outbox's depth.
    async fn outbox_depth(&self) -> Result<u64, StorageError>;

    /// Messages queued for a call (or every message), oldest first.
    async fn messages(&self, call_id: Option<&str>) -> Result<Vec<OutboxMessage>, StorageError>;

    /// Records that `phone` texted STOP (`true`) or START (`false`).
    async fn set_opted_out(
        &self,
        phone: &str,
        opted_out: bool,
        now_ms: i64,
    ) -> Result<(), StorageError>;

    async fn is_opted_out(&self, phone: &str) -> Result<bool, StorageError>;

    /// Calls matching `filter`, newest first.
    async fn list_calls(&self, filter: &CallFilter) -> Result<Vec<CallSummary>, StorageError>;

    /// Calls started in `[from, to)` with their turns and events, oldest first: what the
    /// owner's reports are computed from, in three queries however many calls there are.
    async fn call_records_between(
        &self,
        from: DateTime,
        to: DateTime,
    ) -> Result<Vec<CallRecord>, StorageError>;

    /// Customers whose name or phone contains `text` (every one when `None`), by name.
    async fn search_customers(
        &self,
        text: Option<&str>,
        limit: u32,
    ) -> Result<Vec<Customer>, StorageError>;

    async fn get_customer(&self, id: i64) -> Result<Option<Customer>, StorageError>;

    /// Appointments matching `filter`, by start then id.
    async fn search_appointments(
        &self,
        filter: &AppointmentFilter,
    ) -> Result<Vec<Appointment>, StorageError>;

    /// Writes many call-record rows in one transaction (all or nothing): one commit instead of
    /// one per row is what lets a single SQLite file keep up with thousands of turns a second.
    async fn write_call_records(&self, writes: &[CallWrite]) -> Result<(), StorageError>;

    /// Records the carrier's final status and duration, closing the call if still open.
    async fn record_carrier_status(
        &self,
        call_id: &str,
        status: &str,
        duration_seconds: Option<i64>,
        ended_at: DateTime,
    ) -> Result<(), StorageError>;

    /// For health checks: whether the database answers a query and, where that can be told
    /// without writing, would take a write.
    async fn check(&self) -> Result<(), StorageError> {
        // A lookup of a call that cannot exist: proves the database answers queries.
        self.get_call("health-check").await.map(|_| ())
    }

    /// Closes the pool (waits for connections in use to be returned).
    async fn close(&self);
}

/// Opens storage from a URL and brings its schema up to date.
///
/// - `postgres://…` / `postgresql://…`: PostgreSQL (options such as `?options=-c search_path=x`
///   are passed through).
/// - `sqlite://path`, `sqlite:path` or a bare path: a SQLite file, created with its parent
///   directory if missing. In-memory SQLite is refused: each pooled connection would get its own
///   empty database.
pub async fn open(url: &str) -> Result<Arc<dyn Storage>, StorageError> {
    let url = url.trim();
    // A URL that cannot work stays a configuration error; a database that will not open says
    // which one.
    let unavailable = |error: StorageError| match error {
        StorageError::Config(_) => error,
        other => StorageError::Open {
            database: redacted(url),
            message: other.to_string(),
        },
    };
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let storage = PgStorage::connect(url).await.map_err(unavailable)?;
        Ok(Arc::new(storage))
    } else if url.starts_with("sqlite:") || !url.contains("://") {
        let storage = SqliteStorage::open(url).await.map_err(unavailable)?;
        Ok(Arc::new(storage))
    } else {
        let scheme = url.split("://").next().unwrap_or_default();
        Err(StorageError::Config(format!(
            "unsupported storage URL scheme {scheme:?} (use sqlite:// or postgres://)"
        )))
    }
}

#[cfg(test)]
mod overlap_tests {
    use jiff::civil::date;

    use super::peak_overlap;

    #[test]
    fn the_peak_counts_visits_running_at_the_same_moment() {
        let at = |h, m| date(2026, 6, 1).at(h, m, 0, 0);
        // 09:00-11:00 and 10:30-11:00 overlap; 11:00-11:30 starts as they end.
        let visits = [
            (at(9, 0), Some(120)),
            (at(10, 30), Some(30)),
            (at(11, 0), Some(30)),
            // A visit of the business's own length counts at its start only.
            (at(8, 0), None),
        ];
        assert_eq!(peak_overlap(&visits, at(10, 0), at(11, 0)), 2);
        assert_eq!(peak_overlap(&visits, at(11, 0), at(12, 0)), 1);
        assert_eq!(peak_overlap(&visits, at(8, 0), at(8, 30)), 1);
        assert_eq!(peak_overlap(&visits, at(8, 1), at(9, 0)), 0);
        assert_eq!(peak_overlap(&visits, at(7, 0), at(12, 0)), 2);
    }
}
