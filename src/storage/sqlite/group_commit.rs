//! Bookings in groups: SQLite has one writer, and each commit waits for the disk (a sync of
//! the journal and the file), which caps single-booking transactions at a few hundred a
//! second while the CPU idles. Bookings that arrive while a commit is under way are queued
//! and go together in the next transaction, with one commit for all: each still commits before
//! it is confirmed, with the same durability as before, at a fraction of the syncs and round
//! trips. The whole transaction (its `BEGIN`, each booking's customer and visit written only
//! if it can go ahead, its `COMMIT`) goes to SQLite in one round trip: the statements
//! themselves take microseconds, and every separate trip to the connection's thread costs about
//! as much as several of them. A booking that could not go ahead (full, already booked,
//! unknown place) wrote nothing and left the others alone; it then learns why in a transaction
//! of its own. If the group as a whole fails, it committed nothing, and each of its bookings is
//! tried again on its own.

use std::collections::HashMap;
use std::sync::Arc;

use sqlx::{AssertSqlSafe, Sqlite, SqlitePool, Transaction};
use tokio::sync::{mpsc, oneshot};

use super::SqliteStorage;
use crate::storage::body::{BookStep, log_booked};
use crate::storage::{Appointment, NewAppointment, StorageError, booking_sql, sql};

/// Most bookings in one commit: enough to amortise the sync, few enough that the first in the
/// group is not kept waiting behind a long one. A power of two (see [`commit_bookable`]).
const MAX_GROUP: usize = 64;
/// Most times the writer lets other tasks run before it gathers a group.
const SETTLE_YIELDS: usize = 4;

/// A booking waiting for its group.
pub(super) struct Request {
    new: NewAppointment,
    reply: oneshot::Sender<Result<Appointment, StorageError>>,
}

/// The queue bookings wait in.
#[derive(Debug, Clone)]
pub(super) struct Bookings {
    queue: mpsc::UnboundedSender<Request>,
}

impl Bookings {
    /// Starts the task that commits groups on `pool` (a connection of its own), taking turns
    /// at `writer` with the other writers of this process. It ends when the last `Bookings` is
    /// dropped.
    pub(super) fn start(pool: SqlitePool, writer: Arc<tokio::sync::Mutex<()>>) -> Bookings {
        let (queue, waiting) = mpsc::unbounded_channel();
        tokio::spawn(commit_groups(pool, writer, waiting));
        Bookings { queue }
    }

    /// Books `new` in the next group.
    pub(super) async fn book(&self, new: &NewAppointment) -> Result<Appointment, StorageError> {
        let (reply, answer) = oneshot::channel();
        let request = Request {
            new: new.clone(),
            reply,
        };
        if self.queue.send(request).is_err() {
            return Err(StorageError::Config(
                "the booking writer has stopped".into(),
            ));
        }
        answer
            .await
            .unwrap_or_else(|_| Err(StorageError::Config("the booking writer stopped".into())))
    }
}

async fn commit_groups(
    pool: SqlitePool,
    writer: Arc<tokio::sync::Mutex<()>>,
    mut waiting: mpsc::UnboundedReceiver<Request>,
) {
    while let Some(first) = waiting.recv().await {
        // The callers the last group's answers woke are about to book again: moments for
        // them to queue (while more keep coming), so they go together rather than one alone
        // and the rest after it.
        for _ in 0..SETTLE_YIELDS {
            let queued = waiting.len();
            tokio::task::yield_now().await;
            if waiting.len() == queued {
                break;
            }
        }
        // Whoever arrives while the write lock is busy joins this group too.
        let turn = writer.clone().lock_owned().await;
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match waiting.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        let results = match commit_group(&pool, &group).await {
            Ok(results) => results,
            Err(_) => {
                // The group as a whole failed (the file refused the commit, say): each
                // booking on its own, so each gets its own answer.
                drop(turn);
                let mut results = Vec::with_capacity(group.len());
                for request in &group {
                    results.push(if request.reply.is_closed() {
                        Err(StorageError::Config("the booking was given up".into()))
                    } else {
                        book_alone(&pool, &writer, &request.new).await
                    });
                }
                results
            }
        };
        for (request, result) in group.into_iter().zip(results) {
            if let Ok(appointment) = &result {
                log_booked(appointment);
            }
            // A caller that went away (its turn timed out) no longer waits for the answer.
            let _ = request.reply.send(result);
        }
    }
}

/// The group's answers, in its order; an `Err` is a failure of the group as a whole, which
/// committed nothing. Every booking that can go ahead is committed by one round trip to the
/// connection ([`commit_bookable`]). The few that were not (refused, a visit with its own
/// length, or nothing stood against it after all) then go one by one, each in a transaction of
/// its own that says why or books it.
async fn commit_group(
    pool: &SqlitePool,
    group: &[Request],
) -> Result<Vec<Result<Appointment, StorageError>>, StorageError> {
    // A caller that gave up waiting (the tool deadline) was told it did not happen: it must
    // not happen now. A visit with its own length is checked over its whole span, alone.
    let bookable: Vec<&NewAppointment> = group
        .iter()
        .filter(|request| !request.reply.is_closed() && request.new.minutes.is_none())
        .map(|request| &request.new)
        .collect();
    let mut booked = commit_bookable(pool, &bookable).await?;
    let mut results = Vec::with_capacity(group.len());
    for request in group {
        if request.reply.is_closed() {
            results.push(Err(StorageError::Config("the booking was given up".into())));
            continue;
        }
        results.push(match booked.remove(&request.new.call_id) {
            Some(row) => sql::appointment_from_row(row),
            None => book_in_own_transaction(pool, &request.new).await,
        });
    }
    Ok(results)
}

/// `bookings` in one transaction, begun and committed in the same round trip as their
/// statements ([`booking_sql::book_many`]): the visits booked, by creating call. A booking
/// that cannot go ahead writes nothing and is simply missing from the answer.
async fn commit_bookable(
    pool: &SqlitePool,
    bookings: &[&NewAppointment],
) -> Result<HashMap<String, sql::AppointmentRow>, StorageError> {
    if bookings.is_empty() {
        return Ok(HashMap::new());
    }
    // Each size of statements is prepared once on the connection and kept: a few sizes, with
    // the places left over bound to NULL (a booking of nothing, which cannot go ahead).
    let size = bookings.len().next_power_of_two();
    let statements = format!("BEGIN IMMEDIATE;\n{}COMMIT;", booking_sql::book_many(size));
    let mut batch = sqlx::query_as::<_, sql::AppointmentRow>(AssertSqlSafe(statements));
    for new in bookings {
        batch = batch
            .bind(&new.phone)
            .bind(&new.name)
            .bind(&new.call_id)
            .bind(&new.location)
            .bind(sql::fmt_start(new.start))
            .bind(sql::name_key(&new.name))
            .bind(&new.issue);
    }
    for _ in bookings.len()..size {
        for _ in 0..booking_sql::VALUES_PER_BOOKING {
            batch = batch.bind(None::<&str>);
        }
    }
    let mut connection = pool.acquire().await?;
    match batch.fetch_all(&mut *connection).await {
        Ok(rows) => Ok(rows.into_iter().map(|row| (row.7.clone(), row)).collect()),
        Err(error) => {
            // sqlx did not begin this transaction, so it would not end it: whatever the
            // statements left open is undone here (an error if nothing is open, which is fine).
            let _ = sqlx::query("ROLLBACK").execute(&mut *connection).await;
            Err(error.into())
        }
    }
}

/// The booking the call already has, when its insert met the call's other booking.
async fn already_booked_by(
    tx: &mut Transaction<'static, Sqlite>,
    new: &NewAppointment,
    raced: sqlx::Error,
) -> Result<Appointment, StorageError> {
    let row: Option<sql::AppointmentRow> = sqlx::query_as(sql::BY_CREATING_CALL)
        .bind(&new.call_id)
        .fetch_optional(&mut **tx)
        .await?;
    match row {
        Some(row) => sql::appointment_from_row(row),
        None => Err(raced.into()),
    }
}

/// One booking in its own transaction, at its turn with the other writers.
async fn book_alone(
    pool: &SqlitePool,
    writer: &Arc<tokio::sync::Mutex<()>>,
    new: &NewAppointment,
) -> Result<Appointment, StorageError> {
    let _turn = writer.clone().lock_owned().await;
    book_in_own_transaction(pool, new).await
}

/// One booking in its own transaction; the caller holds the write turn.
async fn book_in_own_transaction(
    pool: &SqlitePool,
    new: &NewAppointment,
) -> Result<Appointment, StorageError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let result = match SqliteStorage::book_steps(&mut tx, new).await? {
        BookStep::Booked(row) | BookStep::Existing(row) => sql::appointment_from_row(row),
        BookStep::SameCallRaced(e) => already_booked_by(&mut tx, new, e).await,
    };
    tx.commit().await?;
    result
}
