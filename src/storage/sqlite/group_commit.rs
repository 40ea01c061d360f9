//! Bookings in groups: SQLite has one writer, and each commit waits for the disk (a sync of
//! the journal and the file), which caps single-booking transactions at a few hundred a
//! second while the CPU idles. Bookings that arrive while a commit is under way are queued
//! and go together in the next transaction, with one commit for all: each still commits before
//! it is confirmed, with the same durability as before, at a fraction of the syncs and round
//! trips. The group's statements go to SQLite in one round trip (each booking's customer and
//! visit written only if it can go ahead): the statements themselves take microseconds, and
//! every separate trip to the connection's thread costs about as much as several of them. A
//! refused booking (full, already booked, unknown place) writes nothing and leaves the others
//! alone, and learns why afterwards; any other failure abandons the group, and each of its
//! bookings is tried again on its own.

use std::collections::HashMap;
use std::sync::Arc;

use sqlx::{AssertSqlSafe, Sqlite, SqlitePool, Transaction};
use tokio::sync::{mpsc, oneshot};

use super::SqliteStorage;
use crate::storage::body::{BookStep, log_booked};
use crate::storage::{Appointment, NewAppointment, StorageError, booking_sql, sql};

/// Most bookings in one commit: enough to amortise the sync, few enough that the first in the
/// group is not kept waiting behind a long one.
const MAX_GROUP: usize = 64;
/// Most bookings in one round trip: each size is prepared once on the writer's connection and
/// kept, so a handful of sizes, not one per group size.
const BATCH: usize = 16;
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

/// The group in one transaction; an `Err` is the transaction's own failure. Every booking that
/// can go ahead is written by one round trip of statements ([`booking_sql::book_many`]); the
/// few that cannot learn why afterwards, one by one.
async fn commit_group(
    pool: &SqlitePool,
    group: &[Request],
) -> Result<Vec<Result<Appointment, StorageError>>, StorageError> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    // A caller that gave up waiting (the tool deadline) was told it did not happen: it must
    // not happen now.
    // A visit with its own length is checked over its whole span, one by one below.
    let waiting: Vec<&NewAppointment> = group
        .iter()
        .filter(|request| !request.reply.is_closed() && request.new.minutes.is_none())
        .map(|request| &request.new)
        .collect();
    let mut booked: HashMap<String, sql::AppointmentRow> = HashMap::new();
    for chunk in waiting.chunks(BATCH) {
        let statements = booking_sql::book_many(chunk.len());
        let mut batch = sqlx::query_as::<_, sql::AppointmentRow>(AssertSqlSafe(statements));
        for new in chunk {
            batch = batch
                .bind(&new.phone)
                .bind(&new.name)
                .bind(&new.call_id)
                .bind(&new.location)
                .bind(sql::fmt_start(new.start))
                .bind(sql::name_key(&new.name))
                .bind(&new.issue);
        }
        for row in batch.fetch_all(&mut *tx).await? {
            booked.insert(row.7.clone(), row);
        }
    }
    let mut results = Vec::with_capacity(group.len());
    for request in group {
        if request.reply.is_closed() {
            results.push(Err(StorageError::Config("the booking was given up".into())));
            continue;
        }
        if let Some(row) = booked.remove(&request.new.call_id) {
            results.push(sql::appointment_from_row(row));
            continue;
        }
        // Not booked with the others: why not, or (a visit with its own length, or nothing
        // stood against it after all) its statements one at a time.
        let new = &request.new;
        let found = match new.minutes {
            None => SqliteStorage::why_not_bookable(&mut tx, new).await,
            Some(_) => Ok(None),
        };
        let found = match found {
            Ok(Some(step)) => Ok(step),
            Ok(None) => SqliteStorage::book_steps(&mut tx, new).await,
            Err(error) => Err(error),
        };
        let result = match found {
            Ok(BookStep::Booked(row) | BookStep::Existing(row)) => sql::appointment_from_row(row),
            Ok(BookStep::SameCallRaced(e)) => already_booked_by(&mut tx, new, e).await,
            Err(refused) if is_refusal(&refused) => Err(refused),
            // SQLite may have rolled the whole transaction back: nothing more goes in it.
            Err(failed) => return Err(failed),
        };
        results.push(result);
    }
    tx.commit().await?;
    Ok(results)
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

/// One booking in its own transaction.
async fn book_alone(
    pool: &SqlitePool,
    writer: &Arc<tokio::sync::Mutex<()>>,
    new: &NewAppointment,
) -> Result<Appointment, StorageError> {
    let _turn = writer.clone().lock_owned().await;
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let result = match SqliteStorage::book_steps(&mut tx, new).await? {
        BookStep::Booked(row) | BookStep::Existing(row) => sql::appointment_from_row(row),
        BookStep::SameCallRaced(e) => already_booked_by(&mut tx, new, e).await,
    };
    tx.commit().await?;
    result
}

/// A booking refused for what it asks, before it wrote anything.
fn is_refusal(error: &StorageError) -> bool {
    matches!(
        error,
        StorageError::Full { .. }
            | StorageError::AlreadyBooked(_)
            | StorageError::UnknownLocation(_)
    )
}
