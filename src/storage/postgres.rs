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

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use frontdesk_engine::business::Business;
use jiff::civil::DateTime;
use sqlx::postgres::PgPoolOptions;
use sqlx::query::Query;
use sqlx::{PgPool, Postgres, Transaction};

use super::{
    Appointment, AppointmentRow, CallRecord, CallRow, CallWrite, Customer, NewAppointment, Speaker,
    Storage, StorageError, appointment_from_row, appointments_from_rows, call_from_rows,
    count_to_u32, fmt_stamp, fmt_start, is_foreign_key_violation, is_unique_violation, mask_phone,
    name_key, parse_time, sql,
};

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
    /// One call-record write on its own; returns the rows it touched.
    async fn execute_call_write(&self, write: CallWrite) -> Result<u64, sqlx::Error> {
        let done = call_write_query(&write).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }

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

/// Serialises writers of one (schema, location, start) until the transaction ends.
async fn lock_slot(
    tx: &mut Transaction<'static, Postgres>,
    location: &str,
    start: DateTime,
) -> Result<(), StorageError> {
    let key = format!("frontdesk-slot\u{1f}{location}\u{1f}{}", fmt_start(start));
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended(current_schema() || $1, 0))")
        .bind(key)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

async fn slot_check(
    tx: &mut Transaction<'static, Postgres>,
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
impl Storage for PgStorage {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn sync_business(&self, business: &Business) -> Result<(), StorageError> {
        let mut tx = self.pool.begin().await?;
        // Concurrent syncs (several app instances starting) would otherwise interleave.
        sqlx::query("LOCK TABLE locations, business_hours IN SHARE ROW EXCLUSIVE MODE")
            .execute(&mut *tx)
            .await?;
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

    async fn upsert_customer(&self, phone: &str, name: &str) -> Result<Customer, StorageError> {
        let (id, phone, name): (i64, String, String) = sqlx::query_as(sql::UPSERT_CUSTOMER)
            .bind(phone)
            .bind(name)
            .fetch_one(&self.pool)
            .await?;
        Ok(Customer { id, phone, name })
    }

    async fn find_customer(&self, phone: &str) -> Result<Option<Customer>, StorageError> {
        let row: Option<(i64, String, String)> = sqlx::query_as(sql::CUSTOMER_BY_PHONE)
            .bind(phone)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|(id, phone, name)| Customer { id, phone, name }))
    }

    async fn book(&self, new: &NewAppointment) -> Result<Appointment, StorageError> {
        let mut tx = self.pool.begin().await?;
        lock_slot(&mut tx, &new.location, new.start).await?;
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
        let inserted: Result<AppointmentRow, sqlx::Error> = sqlx::query_as(sql::INSERT_APPOINTMENT)
            .bind(&new.location)
            .bind(fmt_start(new.start))
            .bind(customer_id)
            .bind(&new.name)
            .bind(name_key(&new.name))
            .bind(&new.phone)
            .bind(&new.issue)
            .bind(&new.call_id)
            .fetch_one(&mut *tx)
            .await;
        let row = match inserted {
            Ok(row) => row,
            // The same call booked a *different* slot concurrently (the slot lock did not
            // serialise us): the unique creating-call id caught it; answer with that booking.
            Err(e) if is_unique_violation(&e) => {
                tx.rollback().await?;
                let row: Option<AppointmentRow> = sqlx::query_as(sql::BY_CREATING_CALL)
                    .bind(&new.call_id)
                    .fetch_optional(&self.pool)
                    .await?;
                return match row {
                    Some(row) => appointment_from_row(row),
                    None => Err(e.into()),
                };
            }
            Err(e) => return Err(e.into()),
        };
        tx.commit().await?;
        let appointment = appointment_from_row(row)?;
        tracing::info!(id = appointment.id, location = %new.location, start = %new.start,
            phone = %mask_phone(&new.phone), "booked");
        Ok(appointment)
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
        let mut tx = self.pool.begin().await?;
        let row: Option<AppointmentRow> = sqlx::query_as(sql::BY_ID_FOR_UPDATE)
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
        lock_slot(&mut tx, &location, new_start).await?;
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

    async fn cancel(&self, id: i64, call_id: &str) -> Result<Appointment, StorageError> {
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
        let mut tx = self.pool.begin().await?;
        for write in writes {
            call_write_query(write).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(())
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
            "SELECT id, kind, detail::text FROM call_events WHERE call_id = $1 ORDER BY id",
        )
        .bind(call_id)
        .fetch_all(&self.pool)
        .await?;
        call_from_rows(call, turns, events).map(Some)
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

/// The statement for one call-record write, its values bound: the one place that knows how
/// each kind of write maps onto SQL, for single writes and batches alike.
fn call_write_query(
    write: &CallWrite,
) -> Query<'_, Postgres, <Postgres as sqlx::Database>::Arguments> {
    match write {
        CallWrite::StartCall {
            call_id,
            caller,
            called,
            at,
        } => sqlx::query(sql::START_CALL)
            .bind(call_id)
            .bind(caller)
            .bind(called)
            .bind(fmt_stamp(*at)),
        CallWrite::Turn {
            call_id,
            seq,
            speaker,
            text,
            state,
        } => sqlx::query(sql::ADD_TURN)
            .bind(call_id)
            .bind(i64::from(*seq))
            .bind(speaker.as_str())
            .bind(text)
            .bind(state),
        CallWrite::Event {
            call_id,
            kind,
            detail,
        } => sqlx::query(sql::ADD_EVENT_JSONB)
            .bind(call_id)
            .bind(kind)
            .bind(detail.to_string()),
        CallWrite::FinishCall {
            call_id,
            outcome,
            transfer_to,
            at,
        } => sqlx::query(sql::FINISH_CALL)
            .bind(call_id)
            .bind(outcome)
            .bind(transfer_to)
            .bind(fmt_stamp(*at)),
        CallWrite::CarrierStatus {
            call_id,
            status,
            duration_seconds,
            at,
        } => sqlx::query(sql::CARRIER_STATUS)
            .bind(call_id)
            .bind(status)
            .bind(duration_seconds)
            .bind(fmt_stamp(*at)),
    }
}

/// Maps constraint failures on call child rows to domain errors.
fn call_write_error(err: sqlx::Error, call_id: &str, seq: Option<u32>) -> StorageError {
    if is_foreign_key_violation(&err) {
        StorageError::NotFound(format!("call {call_id}"))
    } else if let (true, Some(seq)) = (is_unique_violation(&err), seq) {
        StorageError::Conflict(format!("turn {seq} of call {call_id} already recorded"))
    } else {
        err.into()
    }
}
