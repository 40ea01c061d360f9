//! The one body of [`Storage`](super::Storage): every operation written once, for both backends.
//! What really differs between SQLite and PostgreSQL (how a write transaction begins, how a slot
//! and a visit are locked, how JSON is stored, what a write says about a file) is the small
//! [`Dialect`] each backend implements; [`storage_body!`] then writes the trait implementation
//! for it. sqlx's `Database` trait cannot carry the bounds every bind and row needs, so the body
//! is a macro over the backend type rather than a generic function.

use jiff::civil::DateTime;
use sqlx::Transaction;

use super::StorageError;

/// What a booking's statements found.
pub(super) enum BookStep<Row> {
    /// Inserted: commit it.
    Booked(Row),
    /// This call had already booked (a retried turn): that booking.
    Existing(Row),
    /// The same call booked another start at the same moment; its booking wins.
    SameCallRaced(sqlx::Error),
}

pub(super) fn log_booked(appointment: &super::Appointment) {
    tracing::info!(id = appointment.id, location = %appointment.location,
        start = %appointment.start, phone = %crate::logging::mask_phone(&appointment.phone),
        "booked");
}

/// What differs between the backends.
pub(super) trait Dialect {
    /// The sqlx database.
    type Db: sqlx::Database;
    /// Held while this process writes (SQLite: its turn at the single write lock).
    type WriteTurn: Send;

    /// "sqlite" or "postgres".
    const NAME: &'static str;
    /// Reads an appointment about to change (`$1` = id), locking its row where rows can be
    /// locked.
    const APPOINTMENT_FOR_CHANGE: &'static str;
    /// Inserts an event (`$1` call, `$2` kind, `$3` detail as JSON text).
    const ADD_EVENT: &'static str;
    /// A call's events as (id, kind, detail as JSON text), in order (`$1` = call id).
    const EVENTS: &'static str;
    /// Ends the SELECT that picks the message to claim: where rows can be locked, lock it and
    /// skip rows another worker holds.
    const SKIP_LOCKED: &'static str;

    fn pool(&self) -> &sqlx::Pool<Self::Db>;

    /// Waits for this process's turn to write.
    async fn write_turn(&self) -> Self::WriteTurn;

    /// A transaction that will write, begun so that a read-check-write inside it cannot race.
    async fn begin_write(
        &self,
    ) -> Result<(Self::WriteTurn, Transaction<'static, Self::Db>), StorageError>;

    /// Keeps other processes from syncing the business at the same time.
    async fn lock_for_sync(tx: &mut Transaction<'static, Self::Db>) -> Result<(), StorageError>;

    /// Serialises writers of one (location, start) until the transaction ends.
    async fn lock_slot(
        tx: &mut Transaction<'static, Self::Db>,
        location: &str,
        start: DateTime,
    ) -> Result<(), StorageError>;

    /// Passes a write's result through, noting what it says about the database's health.
    fn wrote<T>(&self, result: Result<T, StorageError>) -> Result<T, StorageError>;

    /// Whether the database could take a write, as far as can be told without writing.
    fn check_writable(&self) -> Result<(), StorageError>;

    /// Books a visit: in its own transaction, or with others in one commit.
    async fn book(&self, new: &super::NewAppointment) -> Result<super::Appointment, StorageError>;
}

/// Implements [`Storage`](super::Storage) for a backend type that implements [`Dialect`].
macro_rules! storage_body {
    ($backend:ty) => {
        const _: () = {
            use std::collections::BTreeMap;

            use async_trait::async_trait;
            use frontdesk_engine::business::Business;
            use jiff::civil::DateTime;
            use sqlx::Transaction;

            use $crate::storage::body::Dialect;
            use $crate::storage::reports;
            use $crate::storage::sql::{self, AppointmentRow, CallRow};
            use $crate::storage::{
                Appointment, AppointmentFilter, AppointmentStatus, CallFilter, CallRecord,
                CallSummary, CallWrite, Customer, NewAppointment, NewCustomer, Speaker, Storage,
                StorageError, VehicleRecord,
            };

            type Db = <$backend as Dialect>::Db;

            static CLAIM_MESSAGE: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
                format!(
                    "{}{}{}",
                    sql::CLAIM_MESSAGE_HEAD,
                    <$backend as Dialect>::SKIP_LOCKED,
                    sql::CLAIM_MESSAGE_TAIL
                )
            });
            type Query<'q> = sqlx::query::Query<'q, Db, <Db as sqlx::Database>::Arguments>;

            /// The statement for one call-record write, its values bound: the one place that
            /// knows how each kind of write maps onto SQL, for single writes and batches alike.
            fn call_write_query(write: &CallWrite) -> Query<'_> {
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
                        .bind(sql::fmt_stamp(*at)),
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
                    } => sqlx::query(<$backend as Dialect>::ADD_EVENT)
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
                        .bind(sql::fmt_stamp(*at)),
                    CallWrite::CarrierStatus {
                        call_id,
                        status,
                        duration_seconds,
                        at,
                    } => sqlx::query(sql::CARRIER_STATUS)
                        .bind(call_id)
                        .bind(status)
                        .bind(duration_seconds)
                        .bind(sql::fmt_stamp(*at)),
                }
            }

            /// Refuses a start that is full or at an unknown location (`except_id` is the
            /// visit being moved, 0 when booking).
            async fn slot_check(
                tx: &mut Transaction<'static, Db>,
                location: &str,
                start: DateTime,
                except_id: i64,
            ) -> Result<(), StorageError> {
                let capacity: Option<i64> = sqlx::query_scalar(sql::LOCATION_CAPACITY)
                    .bind(location)
                    .fetch_optional(&mut **tx)
                    .await?;
                let capacity =
                    capacity.ok_or_else(|| StorageError::UnknownLocation(location.to_owned()))?;
                let taken: i64 = sqlx::query_scalar(sql::SLOT_COUNT)
                    .bind(location)
                    .bind(sql::fmt_start(start))
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

            /// Whether a visit of `minutes` from `start` would exceed the location's capacity at
            /// some moment, counting the day's booked visits except the one booked by call
            /// `except_call` (a retried booking) and appointment `except_id` (the visit being
            /// moved). An unknown location is left to the usual checks.
            async fn span_is_full(
                tx: &mut Transaction<'static, Db>,
                location: &str,
                start: DateTime,
                minutes: u32,
                except_call: &str,
                except_id: i64,
            ) -> Result<bool, StorageError> {
                let capacity: Option<i64> = sqlx::query_scalar(sql::LOCATION_CAPACITY)
                    .bind(location)
                    .fetch_optional(&mut **tx)
                    .await?;
                let Some(capacity) = capacity else {
                    return Ok(false);
                };
                let end = start
                    .checked_add(jiff::Span::new().minutes(i64::from(minutes)))
                    .map_err(|e| StorageError::Conflict(format!("visit length: {e}")))?;
                let day = start.date().to_datetime(jiff::civil::Time::midnight());
                let rows: Vec<(String, Option<i64>, i64)> =
                    sqlx::query_as(sql::DAY_SPANS_OF_OTHERS)
                        .bind(location)
                        .bind(sql::fmt_start(day))
                        .bind(sql::fmt_start(end))
                        .bind(except_call)
                        .bind(except_id)
                        .fetch_all(&mut **tx)
                        .await?;
                let mut visits = Vec::new();
                for (visit_start, length, n) in rows {
                    let visit_start = sql::parse_time(&visit_start)?;
                    let length = length.and_then(|m| u32::try_from(m).ok());
                    visits.extend(std::iter::repeat_n(
                        (visit_start, length),
                        usize::try_from(n).unwrap_or(0),
                    ));
                }
                let peak = $crate::storage::peak_overlap(&visits, start, end);
                Ok(i64::from(peak) >= capacity)
            }

            /// The lock a change at `start` takes: the location's whole day for a visit with a
            /// length (it may overlap visits starting elsewhere that day), else that start.
            fn lock_key(start: DateTime, minutes: Option<u32>) -> DateTime {
                match minutes {
                    Some(_) => start.date().to_datetime(jiff::civil::Time::midnight()),
                    None => start,
                }
            }

            impl $backend {
                /// One call-record write on its own; returns the rows it touched.
                async fn execute_call_write(&self, write: &CallWrite) -> Result<u64, StorageError> {
                    let _turn = self.write_turn().await;
                    let done = call_write_query(write).execute(self.pool()).await;
                    let done = self.wrote(done.map_err(StorageError::from))?;
                    Ok(done.rows_affected())
                }

                /// A call-record write that must find its call.
                async fn update_call(&self, write: CallWrite) -> Result<(), StorageError> {
                    if self.execute_call_write(&write).await? == 0 {
                        return Err(StorageError::NotFound(format!("call {}", write.call_id())));
                    }
                    Ok(())
                }

                async fn sync_business_once(
                    &self,
                    business: &Business,
                ) -> Result<(), StorageError> {
                    let (_turn, mut tx) = self.begin_write().await?;
                    <$backend as Dialect>::lock_for_sync(&mut tx).await?;
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
                                e if sql::is_unique_violation(&e) => StorageError::Conflict(
                                    format!("{:?} listed twice in hours", hours.day),
                                ),
                                e => e.into(),
                            })?;
                    }
                    tx.commit().await?;
                    Ok(())
                }

                async fn upsert_customer_once(
                    &self,
                    phone: &str,
                    name: &str,
                ) -> Result<Customer, StorageError> {
                    let (id, phone, name): (i64, String, String) =
                        sqlx::query_as(sql::UPSERT_CUSTOMER)
                            .bind(phone)
                            .bind(name)
                            .fetch_one(self.pool())
                            .await?;
                    Ok(Customer { id, phone, name })
                }

                /// A booking's statements inside a write transaction the caller begins and
                /// ends: what they found, or why the booking is refused.
                pub(super) async fn book_steps(
                    tx: &mut Transaction<'static, Db>,
                    new: &NewAppointment,
                ) -> Result<$crate::storage::body::BookStep<AppointmentRow>, StorageError> {
                    use $crate::storage::body::BookStep;
                    // Visits of several lengths overlap across starts: one lock for the
                    // location's day serialises every booking that could share a moment, and
                    // such a booking needs a free place at every moment of its length.
                    let lock_at = lock_key(new.start, new.minutes);
                    <$backend as Dialect>::lock_slot(tx, &new.location, lock_at).await?;
                    if let Some(minutes) = new.minutes
                        && span_is_full(tx, &new.location, new.start, minutes, &new.call_id, 0)
                            .await?
                    {
                        return Err(StorageError::Full {
                            location: new.location.clone(),
                            start: new.start,
                        });
                    }
                    // The usual case in one statement: the customer is written only if the
                    // booking can go ahead. No row means it cannot, and the check says why.
                    let bookable: Option<i64> = sqlx::query_scalar(
                        $crate::storage::booking_sql::UPSERT_CUSTOMER_IF_BOOKABLE.as_str(),
                    )
                    .bind(&new.phone)
                    .bind(&new.name)
                    .bind(&new.call_id)
                    .bind(&new.location)
                    .bind(sql::fmt_start(new.start))
                    .fetch_optional(&mut **tx)
                    .await?;
                    let customer_id = match bookable {
                        Some(id) => id,
                        None => {
                            if let Some(found) = Self::why_not_bookable(tx, new).await? {
                                return Ok(found);
                            }
                            // The check found nothing against it after all: book it the long way.
                            let (id, _, _): (i64, String, String) =
                                sqlx::query_as(sql::UPSERT_CUSTOMER)
                                    .bind(&new.phone)
                                    .bind(&new.name)
                                    .fetch_one(&mut **tx)
                                    .await?;
                            id
                        }
                    };
                    let inserted: Result<AppointmentRow, sqlx::Error> =
                        sqlx::query_as(sql::INSERT_APPOINTMENT)
                            .bind(&new.location)
                            .bind(sql::fmt_start(new.start))
                            .bind(customer_id)
                            .bind(&new.name)
                            .bind(sql::name_key(&new.name))
                            .bind(&new.phone)
                            .bind(&new.issue)
                            .bind(&new.call_id)
                            .fetch_one(&mut **tx)
                            .await;
                    match inserted {
                        Ok(row) => {
                            if let Some(minutes) = new.minutes {
                                sqlx::query(sql::SET_MINUTES)
                                    .bind(row.0)
                                    .bind(i64::from(minutes))
                                    .execute(&mut **tx)
                                    .await?;
                            }
                            Ok(BookStep::Booked(row))
                        }
                        // The same call booked a *different* slot concurrently (where slot
                        // locks do not serialise the two): the unique creating-call id caught
                        // it.
                        Err(e) if sql::is_unique_violation(&e) => Ok(BookStep::SameCallRaced(e)),
                        Err(e) => Err(e.into()),
                    }
                }

                /// Why a booking cannot go ahead: this call already booked (that booking), or
                /// a refusal; `None` when nothing stands against it.
                async fn why_not_bookable(
                    tx: &mut Transaction<'static, Db>,
                    new: &NewAppointment,
                ) -> Result<Option<$crate::storage::body::BookStep<AppointmentRow>>, StorageError>
                {
                    use $crate::storage::body::BookStep;
                    let (own, capacity, same, taken): (Option<i64>, Option<i64>, Option<i64>, i64) =
                        sqlx::query_as(sql::BOOKING_CHECK)
                            .bind(&new.call_id)
                            .bind(&new.location)
                            .bind(&new.phone)
                            .bind(sql::fmt_start(new.start))
                            .fetch_one(&mut **tx)
                            .await?;
                    let by_id = async |tx: &mut Transaction<'static, Db>, id: i64| {
                        let row: AppointmentRow = sqlx::query_as(sql::BY_ID)
                            .bind(id)
                            .fetch_one(&mut **tx)
                            .await?;
                        Ok::<_, StorageError>(row)
                    };
                    // Idempotency first: a retried booking must not be refused because of itself.
                    if let Some(id) = own {
                        return Ok(Some(BookStep::Existing(by_id(tx, id).await?)));
                    }
                    // An unknown location is refused before anything else is said about it.
                    let Some(capacity) = capacity else {
                        return Err(StorageError::UnknownLocation(new.location.clone()));
                    };
                    if let Some(id) = same {
                        let existing = sql::appointment_from_row(by_id(tx, id).await?)?;
                        return Err(StorageError::AlreadyBooked(Box::new(existing)));
                    }
                    if taken >= capacity {
                        return Err(StorageError::Full {
                            location: new.location.clone(),
                            start: new.start,
                        });
                    }
                    Ok(None)
                }

                async fn move_once(
                    &self,
                    id: i64,
                    new_location: Option<&str>,
                    new_start: DateTime,
                    call_id: &str,
                ) -> Result<Appointment, StorageError> {
                    let (_turn, mut tx) = self.begin_write().await?;
                    let row: Option<AppointmentRow> =
                        sqlx::query_as(<$backend as Dialect>::APPOINTMENT_FOR_CHANGE)
                            .bind(id)
                            .fetch_optional(&mut *tx)
                            .await?;
                    let current = row
                        .map(sql::appointment_from_row)
                        .transpose()?
                        .ok_or_else(|| StorageError::NotFound(format!("appointment {id}")))?;
                    if current.status == AppointmentStatus::Cancelled {
                        return Err(StorageError::Cancelled(id));
                    }
                    let location = new_location.unwrap_or(&current.location).to_string();
                    if current.start == new_start && current.location == location {
                        return Ok(current);
                    }
                    let minutes: Option<i64> = sqlx::query_scalar(sql::VISIT_MINUTES)
                        .bind(id)
                        .fetch_one(&mut *tx)
                        .await?;
                    let minutes = minutes.and_then(|m| u32::try_from(m).ok());
                    let lock_at = lock_key(new_start, minutes);
                    <$backend as Dialect>::lock_slot(&mut tx, &location, lock_at).await?;
                    slot_check(&mut tx, &location, new_start, id).await?;
                    if let Some(minutes) = minutes
                        && span_is_full(&mut tx, &location, new_start, minutes, "", id).await?
                    {
                        return Err(StorageError::Full {
                            location,
                            start: new_start,
                        });
                    }
                    let row: AppointmentRow = sqlx::query_as(sql::MOVE)
                        .bind(id)
                        .bind(sql::fmt_start(new_start))
                        .bind(call_id)
                        .bind(&location)
                        .fetch_one(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    sql::appointment_from_row(row)
                }

                async fn cancel_once(
                    &self,
                    id: i64,
                    call_id: &str,
                ) -> Result<Appointment, StorageError> {
                    // One statement, so no explicit transaction: it flips a booked row or nothing.
                    let row: Option<AppointmentRow> = sqlx::query_as(sql::CANCEL)
                        .bind(id)
                        .bind(call_id)
                        .fetch_optional(self.pool())
                        .await?;
                    match row {
                        Some(row) => sql::appointment_from_row(row),
                        None => self
                            .get_appointment(id)
                            .await?
                            .ok_or_else(|| StorageError::NotFound(format!("appointment {id}"))),
                    }
                }

                async fn write_call_records_once(
                    &self,
                    writes: &[CallWrite],
                ) -> Result<(), StorageError> {
                    let (_turn, mut tx) = self.begin_write().await?;
                    for write in writes {
                        call_write_query(write).execute(&mut *tx).await?;
                    }
                    tx.commit().await?;
                    Ok(())
                }
            }

            #[async_trait]
            impl Storage for $backend {
                fn backend(&self) -> &'static str {
                    <$backend as Dialect>::NAME
                }

                async fn sync_business(&self, business: &Business) -> Result<(), StorageError> {
                    let result = self.sync_business_once(business).await;
                    self.wrote(result)
                }

                async fn upsert_customer(
                    &self,
                    phone: &str,
                    name: &str,
                ) -> Result<Customer, StorageError> {
                    let result = self.upsert_customer_once(phone, name).await;
                    self.wrote(result)
                }

                async fn find_customer(
                    &self,
                    phone: &str,
                ) -> Result<Option<Customer>, StorageError> {
                    let row: Option<(i64, String, String)> = sqlx::query_as(sql::CUSTOMER_BY_PHONE)
                        .bind(phone)
                        .fetch_optional(self.pool())
                        .await?;
                    Ok(row.map(|(id, phone, name)| Customer { id, phone, name }))
                }

                async fn customer_vehicles(
                    &self,
                    customer_id: i64,
                ) -> Result<Vec<VehicleRecord>, StorageError> {
                    let rows: Vec<(Option<i64>, String, Option<String>)> =
                        sqlx::query_as(sql::CUSTOMER_VEHICLES)
                            .bind(customer_id)
                            .fetch_all(self.pool())
                            .await?;
                    Ok(rows
                        .into_iter()
                        .map(|(year, make, model)| VehicleRecord { year, make, model })
                        .collect())
                }

                async fn add_vehicle(
                    &self,
                    phone: &str,
                    name: &str,
                    vehicle: &VehicleRecord,
                ) -> Result<(), StorageError> {
                    let customer = NewCustomer {
                        phone: phone.to_string(),
                        name: name.to_string(),
                        vehicles: vec![vehicle.clone()],
                    };
                    self.seed_customers(std::slice::from_ref(&customer))
                        .await
                        .map(|_| ())
                }

                async fn seed_customers(
                    &self,
                    customers: &[NewCustomer],
                ) -> Result<usize, StorageError> {
                    let result: Result<usize, StorageError> = async {
                        let (_turn, mut tx) = self.begin_write().await?;
                        for customer in customers {
                            let (id, _, _): (i64, String, String) =
                                sqlx::query_as(sql::UPSERT_CUSTOMER)
                                    .bind(&customer.phone)
                                    .bind(&customer.name)
                                    .fetch_one(&mut *tx)
                                    .await?;
                            for vehicle in &customer.vehicles {
                                sqlx::query(sql::ADD_VEHICLE)
                                    .bind(id)
                                    .bind(vehicle.year)
                                    .bind(&vehicle.make)
                                    .bind(&vehicle.model)
                                    .bind(vehicle.label())
                                    .execute(&mut *tx)
                                    .await?;
                            }
                        }
                        tx.commit().await?;
                        Ok(customers.len())
                    }
                    .await;
                    self.wrote(result)
                }

                async fn book(&self, new: &NewAppointment) -> Result<Appointment, StorageError> {
                    let result = <$backend as Dialect>::book(self, new).await;
                    self.wrote(result)
                }

                async fn booked_spans(
                    &self,
                    location: &str,
                    from: DateTime,
                    to: DateTime,
                ) -> Result<Vec<(DateTime, Option<u32>, u32)>, StorageError> {
                    let rows: Vec<(String, Option<i64>, i64)> = sqlx::query_as(sql::BOOKED_SPANS)
                        .bind(location)
                        .bind(sql::fmt_start(from))
                        .bind(sql::fmt_start(to))
                        .fetch_all(self.pool())
                        .await?;
                    rows.into_iter()
                        .map(|(start, minutes, n)| {
                            let minutes = minutes.and_then(|m| u32::try_from(m).ok());
                            Ok((sql::parse_time(&start)?, minutes, sql::count_to_u32(n)))
                        })
                        .collect()
                }

                async fn booked_counts(
                    &self,
                    location: &str,
                    from: DateTime,
                    to: DateTime,
                ) -> Result<BTreeMap<DateTime, u32>, StorageError> {
                    let rows: Vec<(String, i64)> = sqlx::query_as(sql::BOOKED_COUNTS)
                        .bind(location)
                        .bind(sql::fmt_start(from))
                        .bind(sql::fmt_start(to))
                        .fetch_all(self.pool())
                        .await?;
                    rows.into_iter()
                        .map(|(start, n)| Ok((sql::parse_time(&start)?, sql::count_to_u32(n))))
                        .collect()
                }

                async fn find_upcoming_by_phone(
                    &self,
                    phone: &str,
                    now: DateTime,
                ) -> Result<Vec<Appointment>, StorageError> {
                    let rows = sqlx::query_as(sql::UPCOMING_BY_PHONE)
                        .bind(phone)
                        .bind(sql::fmt_start(now))
                        .fetch_all(self.pool())
                        .await?;
                    sql::appointments_from_rows(rows)
                }

                async fn find_upcoming_by_name(
                    &self,
                    name: &str,
                    now: DateTime,
                ) -> Result<Vec<Appointment>, StorageError> {
                    let rows = sqlx::query_as(sql::UPCOMING_BY_NAME)
                        .bind(sql::name_key(name))
                        .bind(sql::fmt_start(now))
                        .fetch_all(self.pool())
                        .await?;
                    sql::appointments_from_rows(rows)
                }

                async fn get_appointment(
                    &self,
                    id: i64,
                ) -> Result<Option<Appointment>, StorageError> {
                    let row: Option<AppointmentRow> = sqlx::query_as(sql::BY_ID)
                        .bind(id)
                        .fetch_optional(self.pool())
                        .await?;
                    row.map(sql::appointment_from_row).transpose()
                }

                async fn move_appointment(
                    &self,
                    id: i64,
                    new_location: Option<&str>,
                    new_start: DateTime,
                    call_id: &str,
                ) -> Result<Appointment, StorageError> {
                    let result = self.move_once(id, new_location, new_start, call_id).await;
                    self.wrote(result)
                }

                async fn cancel(
                    &self,
                    id: i64,
                    call_id: &str,
                ) -> Result<Appointment, StorageError> {
                    let result = self.cancel_once(id, call_id).await;
                    self.wrote(result)
                }

                async fn booked_between(
                    &self,
                    from: DateTime,
                    to: DateTime,
                ) -> Result<Vec<Appointment>, StorageError> {
                    let rows = sqlx::query_as(sql::BOOKED_BETWEEN)
                        .bind(sql::fmt_start(from))
                        .bind(sql::fmt_start(to))
                        .fetch_all(self.pool())
                        .await?;
                    sql::appointments_from_rows(rows)
                }

                async fn list_appointments(&self) -> Result<Vec<Appointment>, StorageError> {
                    let rows = sqlx::query_as(sql::LIST).fetch_all(self.pool()).await?;
                    sql::appointments_from_rows(rows)
                }

                async fn appointments_for_call(
                    &self,
                    call_id: &str,
                ) -> Result<Vec<Appointment>, StorageError> {
                    let rows = sqlx::query_as(sql::FOR_CALL)
                        .bind(call_id)
                        .fetch_all(self.pool())
                        .await?;
                    sql::appointments_from_rows(rows)
                }

                async fn start_call(
                    &self,
                    call_id: &str,
                    caller: &str,
                    called: &str,
                    started_at: DateTime,
                ) -> Result<(), StorageError> {
                    let write = CallWrite::StartCall {
                        call_id: call_id.into(),
                        caller: caller.into(),
                        called: called.into(),
                        at: started_at,
                    };
                    self.execute_call_write(&write).await?;
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
                    let write = CallWrite::Turn {
                        call_id: call_id.into(),
                        seq,
                        speaker,
                        text: text.into(),
                        state: state.map(str::to_string),
                    };
                    self.execute_call_write(&write)
                        .await
                        .map_err(|e| sql::call_write_error(e, call_id, Some(seq)))?;
                    Ok(())
                }

                async fn add_event(
                    &self,
                    call_id: &str,
                    kind: &str,
                    detail: &serde_json::Value,
                ) -> Result<(), StorageError> {
                    let write = CallWrite::Event {
                        call_id: call_id.into(),
                        kind: kind.into(),
                        detail: detail.clone(),
                    };
                    self.execute_call_write(&write)
                        .await
                        .map_err(|e| sql::call_write_error(e, call_id, None))?;
                    Ok(())
                }

                async fn finish_call(
                    &self,
                    call_id: &str,
                    outcome: &str,
                    transfer_to: Option<&str>,
                    ended_at: DateTime,
                ) -> Result<(), StorageError> {
                    self.update_call(CallWrite::FinishCall {
                        call_id: call_id.into(),
                        outcome: outcome.into(),
                        transfer_to: transfer_to.map(str::to_string),
                        at: ended_at,
                    })
                    .await
                }

                async fn write_call_records(
                    &self,
                    writes: &[CallWrite],
                ) -> Result<(), StorageError> {
                    let result = self.write_call_records_once(writes).await;
                    self.wrote(result)
                }

                async fn record_carrier_status(
                    &self,
                    call_id: &str,
                    status: &str,
                    duration_seconds: Option<i64>,
                    ended_at: DateTime,
                ) -> Result<(), StorageError> {
                    self.update_call(CallWrite::CarrierStatus {
                        call_id: call_id.into(),
                        status: status.into(),
                        duration_seconds,
                        at: ended_at,
                    })
                    .await
                }

                async fn enqueue_message(
                    &self,
                    message: &$crate::storage::NewMessage,
                ) -> Result<Option<i64>, StorageError> {
                    let _turn = self.write_turn().await;
                    let id: Result<Option<i64>, sqlx::Error> =
                        sqlx::query_scalar(sql::ENQUEUE_MESSAGE)
                            .bind(&message.kind)
                            .bind(&message.recipient)
                            .bind(&message.body)
                            .bind(&message.call_id)
                            .bind(&message.dedupe_key)
                            .bind(message.not_before_ms)
                            .bind(message.not_before_ms)
                            .fetch_optional(self.pool())
                            .await;
                    self.wrote(id.map_err(StorageError::from))
                }

                async fn outbox_depth(&self) -> Result<u64, StorageError> {
                    let depth: Result<i64, sqlx::Error> = sqlx::query_scalar(sql::OUTBOX_DEPTH)
                        .fetch_one(self.pool())
                        .await;
                    Ok(u64::try_from(depth?).unwrap_or(0))
                }

                async fn claim_message(
                    &self,
                    now_ms: i64,
                    lease_until_ms: i64,
                    kinds: &[&str],
                ) -> Result<Option<$crate::storage::OutboxMessage>, StorageError> {
                    let _turn = self.write_turn().await;
                    let kinds = format!(",{},", kinds.join(","));
                    let row: Result<Option<sql::OutboxRow>, sqlx::Error> =
                        sqlx::query_as(CLAIM_MESSAGE.as_str())
                            .bind(now_ms)
                            .bind(lease_until_ms)
                            .bind(kinds)
                            .fetch_optional(self.pool())
                            .await;
                    let row = self.wrote(row.map_err(StorageError::from))?;
                    row.map(sql::message_from_row).transpose()
                }

                async fn finish_message(
                    &self,
                    id: i64,
                    attempt: &$crate::storage::Attempt,
                    now_ms: i64,
                ) -> Result<(), StorageError> {
                    use $crate::storage::{Attempt, MessageState};
                    let query = match attempt {
                        Attempt::Sent { provider_id } => sqlx::query(sql::MESSAGE_SENT)
                            .bind(id)
                            .bind(provider_id)
                            .bind(now_ms),
                        Attempt::Retry { error, at_ms } => sqlx::query(sql::MESSAGE_RETRY)
                            .bind(id)
                            .bind(error)
                            .bind(*at_ms),
                        Attempt::Failed { error } => sqlx::query(sql::MESSAGE_GIVEN_UP)
                            .bind(id)
                            .bind(MessageState::Failed.as_str())
                            .bind(error),
                        Attempt::Skipped { reason } => sqlx::query(sql::MESSAGE_GIVEN_UP)
                            .bind(id)
                            .bind(MessageState::Skipped.as_str())
                            .bind(reason),
                    };
                    let _turn = self.write_turn().await;
                    let done = query.execute(self.pool()).await;
                    self.wrote(done.map_err(StorageError::from))?;
                    Ok(())
                }

                async fn messages(
                    &self,
                    call_id: Option<&str>,
                ) -> Result<Vec<$crate::storage::OutboxMessage>, StorageError> {
                    let rows: Vec<sql::OutboxRow> = match call_id {
                        Some(call_id) => {
                            sqlx::query_as(sql::MESSAGES_FOR_CALL)
                                .bind(call_id)
                                .fetch_all(self.pool())
                                .await?
                        }
                        None => {
                            sqlx::query_as(sql::ALL_MESSAGES)
                                .fetch_all(self.pool())
                                .await?
                        }
                    };
                    rows.into_iter().map(sql::message_from_row).collect()
                }

                async fn set_opted_out(
                    &self,
                    phone: &str,
                    opted_out: bool,
                    now_ms: i64,
                ) -> Result<(), StorageError> {
                    let query = if opted_out {
                        sqlx::query(sql::OPT_OUT).bind(phone).bind(now_ms)
                    } else {
                        sqlx::query(sql::OPT_IN).bind(phone)
                    };
                    let _turn = self.write_turn().await;
                    let done = query.execute(self.pool()).await;
                    self.wrote(done.map_err(StorageError::from))?;
                    Ok(())
                }

                async fn is_opted_out(&self, phone: &str) -> Result<bool, StorageError> {
                    let count: i64 = sqlx::query_scalar(sql::IS_OPTED_OUT)
                        .bind(phone)
                        .fetch_one(self.pool())
                        .await?;
                    Ok(count > 0)
                }

                async fn list_calls(
                    &self,
                    filter: &CallFilter,
                ) -> Result<Vec<CallSummary>, StorageError> {
                    let binds = sql::call_filter_binds(filter);
                    let rows: Vec<sql::CallSummaryRow> = sqlx::query_as(sql::LIST_CALLS)
                        .bind(binds.since)
                        .bind(binds.outcome)
                        .bind(binds.caller)
                        .bind(binds.limit)
                        .bind(binds.until)
                        .bind(binds.flow)
                        .bind(binds.text)
                        .fetch_all(self.pool())
                        .await?;
                    rows.into_iter().map(sql::call_summary_from_row).collect()
                }

                async fn call_records_between(
                    &self,
                    from: DateTime,
                    to: DateTime,
                ) -> Result<Vec<CallRecord>, StorageError> {
                    let (from, to) = reports::range_binds(from, to);
                    let calls: Vec<CallRow> = sqlx::query_as(reports::CALLS_BETWEEN)
                        .bind(&from)
                        .bind(&to)
                        .fetch_all(self.pool())
                        .await?;
                    let turns: Vec<reports::TurnRow> = sqlx::query_as(reports::TURNS_BETWEEN)
                        .bind(&from)
                        .bind(&to)
                        .fetch_all(self.pool())
                        .await?;
                    let events: Vec<reports::EventRow> = sqlx::query_as(reports::EVENTS_BETWEEN)
                        .bind(&from)
                        .bind(&to)
                        .fetch_all(self.pool())
                        .await?;
                    reports::records_from_rows(calls, turns, events)
                }

                async fn search_customers(
                    &self,
                    text: Option<&str>,
                    limit: u32,
                ) -> Result<Vec<Customer>, StorageError> {
                    let rows: Vec<(i64, String, String)> =
                        sqlx::query_as(reports::SEARCH_CUSTOMERS)
                            .bind(text.and_then(reports::contains_pattern))
                            .bind(i64::from(limit))
                            .fetch_all(self.pool())
                            .await?;
                    Ok(rows
                        .into_iter()
                        .map(|(id, phone, name)| Customer { id, phone, name })
                        .collect())
                }

                async fn get_customer(&self, id: i64) -> Result<Option<Customer>, StorageError> {
                    let row: Option<(i64, String, String)> =
                        sqlx::query_as(reports::CUSTOMER_BY_ID)
                            .bind(id)
                            .fetch_optional(self.pool())
                            .await?;
                    Ok(row.map(|(id, phone, name)| Customer { id, phone, name }))
                }

                async fn search_appointments(
                    &self,
                    filter: &AppointmentFilter,
                ) -> Result<Vec<Appointment>, StorageError> {
                    let (from, to, location, text, status, limit) =
                        reports::appointment_binds(filter);
                    let rows: Vec<AppointmentRow> = sqlx::query_as(reports::SEARCH_APPOINTMENTS)
                        .bind(from)
                        .bind(to)
                        .bind(location)
                        .bind(text)
                        .bind(status)
                        .bind(limit)
                        .fetch_all(self.pool())
                        .await?;
                    sql::appointments_from_rows(rows)
                }

                async fn get_call(
                    &self,
                    call_id: &str,
                ) -> Result<Option<CallRecord>, StorageError> {
                    let call: Option<CallRow> = sqlx::query_as(sql::GET_CALL)
                        .bind(call_id)
                        .fetch_optional(self.pool())
                        .await?;
                    let Some(call) = call else {
                        return Ok(None);
                    };
                    let turns = sqlx::query_as(sql::TURNS)
                        .bind(call_id)
                        .fetch_all(self.pool())
                        .await?;
                    let events = sqlx::query_as(<$backend as Dialect>::EVENTS)
                        .bind(call_id)
                        .fetch_all(self.pool())
                        .await?;
                    sql::call_from_rows(call, turns, events).map(Some)
                }

                async fn check(&self) -> Result<(), StorageError> {
                    // The file first, where there is one: its error names the file and cause.
                    self.check_writable()?;
                    self.get_call("health-check").await?;
                    Ok(())
                }

                async fn close(&self) {
                    self.pool().close().await;
                }
            }
        };
    };
}

pub(super) use storage_body;
