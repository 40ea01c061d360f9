//! SQLite backend: one file, a rollback journal, a small pool.
//!
//! Journal: not WAL. WAL keeps its index in `<file>-shm`, memory-mapped by every connection, and
//! a write through that mapping to a file that can no longer be written (made immutable, a disk
//! remounted read-only) is a SIGBUS that kills the process with every live call and no log line.
//! The rollback journal writes through ordinary system calls only, so the same fault is an
//! ordinary error: tools fail, the flow apologises and transfers, call records are held. It
//! also keeps the file readable and writable by other processes (`frontdesk calls show` while
//! `serve` runs), which an in-memory WAL index (`locking_mode=EXCLUSIVE`) would not. The price
//! is a sync per commit; call records are committed in batches, so that is per batch.
//!
//! Races: every read-check-write sequence (book, reschedule, business sync) runs in a
//! `BEGIN IMMEDIATE` transaction, which takes SQLite's single write lock *before* the capacity
//! count is read. Two calls racing for the last place are therefore serialised: the second one
//! waits (busy timeout) and then counts the first one's committed booking. A plain `BEGIN` would
//! start as a reader, and the later upgrade to writer can fail with `SQLITE_BUSY` (a deadlock
//! with another would-be writer) instead of waiting.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use frontdesk_engine::business::Business;
use jiff::civil::DateTime;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqlitePool, Transaction};
use tokio::sync::OwnedMutexGuard;

mod disk;
mod records;

use disk::Disk;
use records::{call_write_error, call_write_query};

use super::{
    Appointment, AppointmentRow, CallRecord, CallRow, CallWrite, Customer, NewAppointment, Speaker,
    Storage, StorageError, appointment_from_row, appointments_from_rows, call_from_rows,
    count_to_u32, fmt_start, is_unique_violation, mask_phone, name_key, parse_time, sql,
};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Enough connections for concurrent calls; writers queue on the write lock anyway.
const MAX_CONNECTIONS: u32 = 10;
/// How long a writer waits for the write lock before giving up with "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Storage in a SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStorage {
    pool: SqlitePool,
    /// SQLite lets one writer in at a time and makes the others retry on a sleeping backoff,
    /// which under load leaves some waiting for seconds. Writers queue here instead, in order.
    writer: Arc<tokio::sync::Mutex<()>>,
    /// Whether the file takes writes (see [`Disk`]).
    disk: Arc<Disk>,
}

impl SqliteStorage {
    /// One call-record write on its own; returns the rows it touched.
    async fn execute_call_write(&self, write: CallWrite) -> Result<u64, sqlx::Error> {
        let _turn = self.writer.lock().await;
        let done = self
            .disk
            .wrote(call_write_query(&write).execute(&self.pool).await)?;
        Ok(done.rows_affected())
    }

    /// Opens (creating if needed) the database named by `url` (`sqlite://path`, `sqlite:path` or
    /// a bare path) and applies migrations.
    pub async fn open(url: &str) -> Result<Self, StorageError> {
        let path = file_path(url)?;
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            // Blocking, but this runs once at start-up.
            std::fs::create_dir_all(parent).map_err(|e| {
                StorageError::Config(format!("cannot create {}: {e}", parent.display()))
            })?;
        }
        let options = SqliteConnectOptions::new()
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Delete)
            .synchronous(SqliteSynchronous::Normal)
            // The default; said here because a memory-mapped file is what SIGBUS needs.
            .pragma("mmap_size", "0")
            .foreign_keys(true)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        tracing::info!(path = %path.display(), "sqlite storage ready");
        Ok(SqliteStorage {
            pool,
            writer: Arc::new(tokio::sync::Mutex::new(())),
            disk: Arc::new(Disk::new(path)),
        })
    }

    /// A write transaction, with this process's write turn held until it is dropped.
    async fn begin_immediate(
        &self,
    ) -> Result<(OwnedMutexGuard<()>, Transaction<'static, Sqlite>), StorageError> {
        let turn = self.writer.clone().lock_owned().await;
        Ok((turn, self.pool.begin_with("BEGIN IMMEDIATE").await?))
    }
}

/// The writes that commit, as the trait methods of the same name call them: [`Disk`] watches
/// what each one said.
impl SqliteStorage {
    async fn sync_business_unwatched(&self, business: &Business) -> Result<(), StorageError> {
        let (_turn, mut tx) = self.begin_immediate().await?;
        sqlx::query(sql::DEACTIVATE_LOCATIONS)
            .execute(&mut *tx)
            .await?;
        for location in &business.locations {
            sqlx::query(sql::UPSERT_LOCATION)
                .bind(&location.code)
                .bind(&location.name)
                .bind(i64::from(business.capacity_per_start))
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(sql::DELETE_HOURS).execute(&mut *tx).await?;
        for hours in &business.hours {
            sqlx::query(sql::INSERT_HOURS)
                .bind(i64::from(hours.day.weekday().to_monday_one_offset()))
                .bind(hours.open.strftime("%H:%M").to_string())
                .bind(hours.close.strftime("%H:%M").to_string())
                .execute(&mut *tx)
                .await
                .map_err(|e| match e {
                    e if is_unique_violation(&e) => {
                        StorageError::Conflict(format!("{:?} listed twice in hours", hours.day))
                    }
                    e => e.into(),
                })?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn upsert_customer_unwatched(
        &self,
        phone: &str,
        name: &str,
    ) -> Result<Customer, StorageError> {
        let (id, phone, name): (i64, String, String) = sqlx::query_as(sql::UPSERT_CUSTOMER)
            .bind(phone)
            .bind(name)
            .fetch_one(&self.pool)
            .await?;
        Ok(Customer { id, phone, name })
    }

    async fn book_unwatched(&self, new: &NewAppointment) -> Result<Appointment, StorageError> {
        let (_turn, mut tx) = self.begin_immediate().await?;
        // Idempotency first: a retried booking must not be refused because of itself.
        let existing: Option<AppointmentRow> = sqlx::query_as(sql::BY_CREATING_CALL)
            .bind(&new.call_id)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = existing {
            return appointment_from_row(row);
        }
        // An unknown location is refused before anything else is said about the request.
        let capacity: Option<i64> = sqlx::query_scalar(sql::LOCATION_CAPACITY)
            .bind(&new.location)
            .fetch_optional(&mut *tx)
            .await?;
        if capacity.is_none() {
            return Err(StorageError::UnknownLocation(new.location.clone()));
        }
        let same: Option<AppointmentRow> = sqlx::query_as(sql::BOOKED_BY_PHONE_AT)
            .bind(&new.phone)
            .bind(fmt_start(new.start))
            .bind(&new.location)
            .fetch_optional(&mut *tx)
            .await?;
        if let Some(row) = same {
            return Err(StorageError::AlreadyBooked(Box::new(appointment_from_row(
                row,
            )?)));
        }
        slot_check(&mut tx, &new.location, new.start, 0).await?;
        let (customer_id, _, _): (i64, String, String) = sqlx::query_as(sql::UPSERT_CUSTOMER)
            .bind(&new.phone)
            .bind(&new.name)
            .fetch_one(&mut *tx)
            .await?;
        let row: AppointmentRow = sqlx::query_as(sql::INSERT_APPOINTMENT)
            .bind(&new.location)
            .bind(fmt_start(new.start))
            .bind(customer_id)
            .bind(&new.name)
            .bind(name_key(&new.name))
            .bind(&new.phone)
            .bind(&new.issue)
            .bind(&new.call_id)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        let appointment = appointment_from_row(row)?;
        tracing::info!(id = appointment.id, location = %new.location, start = %new.start,
            phone = %mask_phone(&new.phone), "booked");
        Ok(appointment)
    }

    async fn move_appointment_unwatched(
        &self,
        id: i64,
        new_location: Option<&str>,
        new_start: DateTime,
        call_id: &str,
    ) -> Result<Appointment, StorageError> {
        let (_turn, mut tx) = self.begin_immediate().await?;
        let row: Option<AppointmentRow> = sqlx::query_as(sql::BY_ID)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        let current = row
            .map(appointment_from_row)
            .transpose()?
            .ok_or_else(|| StorageError::NotFound(format!("appointment {id}")))?;
        if current.status == super::AppointmentStatus::Cancelled {
            return Err(StorageError::Cancelled(id));
        }
        let location = new_location.unwrap_or(&current.location).to_string();
        if current.start == new_start && current.location == location {
            return Ok(current);
        }
        slot_check(&mut tx, &location, new_start, id).await?;
        let row: AppointmentRow = sqlx::query_as(sql::MOVE)
            .bind(id)
            .bind(fmt_start(new_start))
            .bind(call_id)
            .bind(&location)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        appointment_from_row(row)
    }

    async fn cancel_unwatched(&self, id: i64, call_id: &str) -> Result<Appointment, StorageError> {
        // One statement, so no explicit transaction: it either flips a booked row or nothing.
        let row: Option<AppointmentRow> = sqlx::query_as(sql::CANCEL)
            .bind(id)
            .bind(call_id)
            .fetch_optional(&self.pool)
            .await?;
        match row {
            Some(row) => appointment_from_row(row),
            None => self
                .get_appointment(id)
                .await?
                .ok_or_else(|| StorageError::NotFound(format!("appointment {id}"))),
        }
    }

    async fn write_call_records_unwatched(&self, writes: &[CallWrite]) -> Result<(), StorageError> {
        let (_turn, mut tx) = self.begin_immediate().await?;
        for write in writes {
            call_write_query(write).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// The file a SQLite URL (as [`super::open`] reads it) names; `None` for PostgreSQL and
/// unusable URLs.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let url = url.trim();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return None;
    }
    (url.starts_with("sqlite:") || !url.contains("://"))
        .then(|| file_path(url).ok())
        .flatten()
}

/// The file path inside a SQLite URL; query parameters are not supported.
fn file_path(url: &str) -> Result<PathBuf, StorageError> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    if rest.contains('?') {
        return Err(StorageError::Config(format!(
            "SQLite URL options are not supported: {url:?}"
        )));
    }
    if rest.is_empty() || rest == ":memory:" {
        return Err(StorageError::Config(
            "SQLite storage needs a file path (in-memory databases are not shared)".into(),
        ));
    }
    Ok(Path::new(rest).to_path_buf())
}

async fn slot_check(
    tx: &mut Transaction<'static, Sqlite>,
    location: &str,
    start: DateTime,
    except_id: i64,
) -> Result<(), StorageError> {
    let capacity: Option<i64> = sqlx::query_scalar(sql::LOCATION_CAPACITY)
        .bind(location)
        .fetch_optional(&mut **tx)
        .await?;
    let capacity = capacity.ok_or_else(|| StorageError::UnknownLocation(location.to_owned()))?;
    let taken: i64 = sqlx::query_scalar(sql::SLOT_COUNT)
        .bind(location)
        .bind(fmt_start(start))
        .bind(except_id)
        .fetch_one(&mut **tx)
        .await?;
    if taken >= capacity {
        return Err(StorageError::Full {
            location: location.to_owned(),
            start,
        });
    }
    Ok(())
}

#[async_trait]
impl Storage for SqliteStorage {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn sync_business(&self, business: &Business) -> Result<(), StorageError> {
        let result = self.sync_business_unwatched(business).await;
        self.disk.wrote(result)
    }

    async fn upsert_customer(&self, phone: &str, name: &str) -> Result<Customer, StorageError> {
        let result = self.upsert_customer_unwatched(phone, name).await;
        self.disk.wrote(result)
    }

    async fn find_customer(&self, phone: &str) -> Result<Option<Customer>, StorageError> {
        let row: Option<(i64, String, String)> = sqlx::query_as(sql::CUSTOMER_BY_PHONE)
            .bind(phone)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(id, phone, name)| Customer { id, phone, name }))
    }

    async fn book(&self, new: &NewAppointment) -> Result<Appointment, StorageError> {
        let result = self.book_unwatched(new).await;
        self.disk.wrote(result)
    }

    async fn booked_counts(
        &self,
        location: &str,
        from: DateTime,
        to: DateTime,
    ) -> Result<BTreeMap<DateTime, u32>, StorageError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(sql::BOOKED_COUNTS)
            .bind(location)
            .bind(fmt_start(from))
            .bind(fmt_start(to))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter()
            .map(|(start, n)| Ok((parse_time(&start)?, count_to_u32(n))))
            .collect()
    }

    async fn find_upcoming_by_phone(
        &self,
        phone: &str,
        now: DateTime,
    ) -> Result<Vec<Appointment>, StorageError> {
        let rows = sqlx::query_as(sql::UPCOMING_BY_PHONE)
            .bind(phone)
            .bind(fmt_start(now))
            .fetch_all(&self.pool)
            .await?;
        appointments_from_rows(rows)
    }

    async fn find_upcoming_by_name(
        &self,
        name: &str,
        now: DateTime,
    ) -> Result<Vec<Appointment>, StorageError> {
        let rows = sqlx::query_as(sql::UPCOMING_BY_NAME)
            .bind(name_key(name))
            .bind(fmt_start(now))
            .fetch_all(&self.pool)
            .await?;
        appointments_from_rows(rows)
    }

    async fn get_appointment(&self, id: i64) -> Result<Option<Appointment>, StorageError> {
        let row: Option<AppointmentRow> = sqlx::query_as(sql::BY_ID)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(appointment_from_row).transpose()
    }

    async fn move_appointment(
        &self,
        id: i64,
        new_location: Option<&str>,
        new_start: DateTime,
        call_id: &str,
    ) -> Result<Appointment, StorageError> {
        let result = self
            .move_appointment_unwatched(id, new_location, new_start, call_id)
            .await;
        self.disk.wrote(result)
    }

    async fn cancel(&self, id: i64, call_id: &str) -> Result<Appointment, StorageError> {
        let result = self.cancel_unwatched(id, call_id).await;
        self.disk.wrote(result)
    }

    async fn list_appointments(&self) -> Result<Vec<Appointment>, StorageError> {
        let rows = sqlx::query_as(sql::LIST).fetch_all(&self.pool).await?;
        appointments_from_rows(rows)
    }

    async fn appointments_for_call(&self, call_id: &str) -> Result<Vec<Appointment>, StorageError> {
        let rows = sqlx::query_as(sql::FOR_CALL)
            .bind(call_id)
            .fetch_all(&self.pool)
            .await?;
        appointments_from_rows(rows)
    }

    async fn start_call(
        &self,
        call_id: &str,
        caller: &str,
        called: &str,
        started_at: DateTime,
    ) -> Result<(), StorageError> {
        self.execute_call_write(CallWrite::StartCall {
            call_id: call_id.into(),
            caller: caller.into(),
            called: called.into(),
            at: started_at,
        })
        .await?;
        Ok(())
    }

    async fn add_turn(
        &self,
        call_id: &str,
        seq: u32,
        speaker: Speaker,
        text: &str,
        state: Option<&str>,
    ) -> Result<(), StorageError> {
        self.execute_call_write(CallWrite::Turn {
            call_id: call_id.into(),
            seq,
            speaker,
            text: text.into(),
            state: state.map(str::to_string),
        })
        .await
        .map_err(|e| call_write_error(e, call_id, Some(seq)))?;
        Ok(())
    }

    async fn add_event(
        &self,
        call_id: &str,
        kind: &str,
        detail: &serde_json::Value,
    ) -> Result<(), StorageError> {
        self.execute_call_write(CallWrite::Event {
            call_id: call_id.into(),
            kind: kind.into(),
            detail: detail.clone(),
        })
        .await
        .map_err(|e| call_write_error(e, call_id, None))?;
        Ok(())
    }

    async fn finish_call(
        &self,
        call_id: &str,
        outcome: &str,
        transfer_to: Option<&str>,
        ended_at: DateTime,
    ) -> Result<(), StorageError> {
        let rows = self
            .execute_call_write(CallWrite::FinishCall {
                call_id: call_id.into(),
                outcome: outcome.into(),
                transfer_to: transfer_to.map(str::to_string),
                at: ended_at,
            })
            .await?;
        if rows == 0 {
            return Err(StorageError::NotFound(format!("call {call_id}")));
        }
        Ok(())
    }

    async fn write_call_records(&self, writes: &[CallWrite]) -> Result<(), StorageError> {
        let result = self.write_call_records_unwatched(writes).await;
        self.disk.wrote(result)
    }

    async fn record_carrier_status(
        &self,
        call_id: &str,
        status: &str,
        duration_seconds: Option<i64>,
        ended_at: DateTime,
    ) -> Result<(), StorageError> {
        let rows = self
            .execute_call_write(CallWrite::CarrierStatus {
                call_id: call_id.into(),
                status: status.into(),
                duration_seconds,
                at: ended_at,
            })
            .await?;
        if rows == 0 {
            return Err(StorageError::NotFound(format!("call {call_id}")));
        }
        Ok(())
    }

    async fn get_call(&self, call_id: &str) -> Result<Option<CallRecord>, StorageError> {
        let call: Option<CallRow> = sqlx::query_as(sql::GET_CALL)
            .bind(call_id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(call) = call else {
            return Ok(None);
        };
        let turns = sqlx::query_as(sql::TURNS)
            .bind(call_id)
            .fetch_all(&self.pool)
            .await?;
        let events = sqlx::query_as(
            "SELECT id, kind, detail FROM call_events WHERE call_id = $1 ORDER BY id",
        )
        .bind(call_id)
        .fetch_all(&self.pool)
        .await?;
        call_from_rows(call, turns, events).map(Some)
    }

    async fn check(&self) -> Result<(), StorageError> {
        // The file first: its error names the file and the cause.
        self.disk.check()?;
        self.get_call("health-check").await?;
        Ok(())
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
