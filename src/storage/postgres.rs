//! PostgreSQL backend.
//!
//! Races: book and reschedule take a transaction-scoped advisory lock on the target
//! (schema, location, start) *before* counting booked visits (`pg_advisory_xact_lock` on a 64-bit
//! hash). Under READ COMMITTED every statement takes a fresh snapshot, so once the second of two
//! racing transactions gets the lock, its count sees the first one's committed booking. The lock
//! is per slot, so bookings for different slots never wait for each other; a hash collision only
//! costs a little extra waiting. Reschedule and cancel also lock the appointment row
//! (`FOR UPDATE`) so concurrent changes to one visit are serialised. Lock order is always
//! appointment row, then slot, then customer row, so these transactions cannot deadlock.

use std::time::Duration;

use jiff::civil::DateTime;
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgPool, Postgres, Transaction};

use super::body::{Dialect, storage_body};
use super::sql;
use super::sql::AppointmentRow;
use super::{Appointment, NewAppointment, StorageError};

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

const MAX_CONNECTIONS: u32 = 10;
/// Fail fast (with the server's address in the error) when PostgreSQL is not reachable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Storage in a PostgreSQL database (the schema is whatever `search_path` selects).
#[derive(Debug, Clone)]
pub struct PgStorage {
    pool: PgPool,
}

impl PgStorage {
    /// Connects to `url` (`postgres://…`) and applies migrations.
    pub async fn connect(url: &str) -> Result<Self, StorageError> {
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect(url)
            .await?;
        MIGRATOR.run(&pool).await?;
        tracing::info!("postgres storage ready");
        Ok(PgStorage { pool })
    }
}

impl Dialect for PgStorage {
    type Db = Postgres;
    /// Transactions and locks serialise writers; the process need not.
    type WriteTurn = ();

    const NAME: &'static str = "postgres";
    const APPOINTMENT_FOR_CHANGE: &'static str = sql::BY_ID_FOR_UPDATE;
    const ADD_EVENT: &'static str =
        "INSERT INTO call_events (call_id, kind, detail) VALUES ($1, $2, $3::jsonb)";
    const EVENTS: &'static str =
        "SELECT id, kind, detail::text FROM call_events WHERE call_id = $1 ORDER BY id";
    const SKIP_LOCKED: &'static str = " FOR UPDATE SKIP LOCKED";

    fn pool(&self) -> &PgPool {
        &self.pool
    }

    async fn write_turn(&self) {}

    async fn begin_write(&self) -> Result<((), Transaction<'static, Postgres>), StorageError> {
        Ok(((), self.pool.begin().await?))
    }

    async fn lock_for_sync(tx: &mut Transaction<'static, Postgres>) -> Result<(), StorageError> {
        // Concurrent syncs (several app instances starting) would otherwise interleave.
        sqlx::query("LOCK TABLE locations, business_hours IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    async fn lock_slot(
        tx: &mut Transaction<'static, Postgres>,
        location: &str,
        start: DateTime,
    ) -> Result<(), StorageError> {
        let key = format!(
            "frontdesk-slot\u{1f}{location}\u{1f}{}",
            sql::fmt_start(start)
        );
        sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || $1, 0))")
            .bind(key)
            .execute(&mut **tx)
            .await?;
        Ok(())
    }

    fn wrote<T>(&self, result: Result<T, StorageError>) -> Result<T, StorageError> {
        result
    }

    fn check_writable(&self) -> Result<(), StorageError> {
        Ok(())
    }

    /// Row locks let bookings of different starts commit side by side.
    async fn book(&self, new: &NewAppointment) -> Result<Appointment, StorageError> {
        self.book_once(new).await
    }
}

storage_body!(PgStorage);

impl PgStorage {
    /// One booking in its own transaction.
    async fn book_once(&self, new: &NewAppointment) -> Result<Appointment, StorageError> {
        use crate::storage::body::BookStep;
        let (_turn, mut tx) = self.begin_write().await?;
        let row = match Self::book_steps(&mut tx, new).await? {
            BookStep::Existing(row) => return sql::appointment_from_row(row),
            BookStep::SameCallRaced(e) => {
                // Answer with the booking the call already has.
                tx.rollback().await?;
                let row: Option<AppointmentRow> = sqlx::query_as(sql::BY_CREATING_CALL)
                    .bind(&new.call_id)
                    .fetch_optional(self.pool())
                    .await?;
                return match row {
                    Some(row) => sql::appointment_from_row(row),
                    None => Err(e.into()),
                };
            }
            BookStep::Booked(row) => row,
        };
        tx.commit().await?;
        let appointment = sql::appointment_from_row(row)?;
        crate::storage::body::log_booked(&appointment);
        Ok(appointment)
    }
}
