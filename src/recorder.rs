//! The call record (calls, turns, events) is written by one background task per driver, in
//! order and in batches, off the path between a caller's words and the agent's answer: a slow
//! disk must not make the agent slow to speak. Bookings and other tool calls are not recorded
//! here; they are written at once because the conversation depends on their result.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use jiff::civil::DateTime;
use tokio::sync::{mpsc, oneshot};

use crate::storage::{CallWrite, Speaker, Storage, StorageError};

/// Writes waiting to be done; senders wait when this many are queued (backpressure).
const QUEUE: usize = 16 * 1024;
/// Writes committed together.
const BATCH: usize = 512;
/// Writes held during a database outage before the oldest are dropped (about 20 minutes of a
/// busy day's calls).
const HELD_LIMIT: usize = 200_000;
/// First retry after the database failed; then doubling up to `RETRY_MAX`.
const RETRY_FIRST: Duration = Duration::from_millis(250);
const RETRY_MAX: Duration = Duration::from_secs(5);

enum Job {
    Write(CallWrite),
    Flush(oneshot::Sender<()>),
}

#[derive(Clone)]
pub struct Recorder {
    queue: mpsc::Sender<Job>,
    /// Writes accepted and not yet in the database (queued, or held during an outage).
    pending: Arc<AtomicUsize>,
}

impl Recorder {
    /// Starts the writer task on the current Tokio runtime.
    pub fn start(storage: Arc<dyn Storage>) -> Recorder {
        let (queue, jobs) = mpsc::channel(QUEUE);
        let pending = Arc::new(AtomicUsize::new(0));
        tokio::spawn(write_all(storage, jobs, pending.clone()));
        Recorder { queue, pending }
    }

    pub async fn write(&self, write: CallWrite) {
        self.pending.fetch_add(1, Ordering::Relaxed);
        if self.queue.send(Job::Write(write)).await.is_err() {
            self.pending.fetch_sub(1, Ordering::Relaxed);
            tracing::error!("the call recorder has stopped; a record was lost");
        }
    }

    /// Writes accepted and not yet in the database: queued, or held while it is unavailable.
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }

    pub async fn start_call(&self, call_id: &str, caller: &str, called: &str, at: DateTime) {
        self.write(CallWrite::StartCall {
            call_id: call_id.into(),
            caller: caller.into(),
            called: called.into(),
            at,
        })
        .await;
    }

    pub async fn turn(
        &self,
        call_id: &str,
        seq: u32,
        speaker: Speaker,
        text: &str,
        state: Option<String>,
    ) {
        self.write(CallWrite::Turn {
            call_id: call_id.into(),
            seq,
            speaker,
            text: text.into(),
            state,
        })
        .await;
    }

    pub async fn event(&self, call_id: &str, kind: &str, detail: serde_json::Value) {
        self.write(CallWrite::Event {
            call_id: call_id.into(),
            kind: kind.into(),
            detail,
        })
        .await;
    }

    pub async fn finish_call(
        &self,
        call_id: &str,
        outcome: &str,
        transfer_to: Option<&str>,
        at: DateTime,
    ) {
        self.write(CallWrite::FinishCall {
            call_id: call_id.into(),
            outcome: outcome.into(),
            transfer_to: transfer_to.map(str::to_string),
            at,
        })
        .await;
    }

    pub async fn carrier_status(
        &self,
        call_id: &str,
        status: &str,
        duration_seconds: Option<i64>,
        at: DateTime,
    ) {
        self.write(CallWrite::CarrierStatus {
            call_id: call_id.into(),
            status: status.into(),
            duration_seconds,
            at,
        })
        .await;
    }

    /// Waits until everything recorded so far was tried; while the database is unavailable
    /// some may still be held ([`Recorder::pending`]).
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.queue.send(Job::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

async fn write_all(
    storage: Arc<dyn Storage>,
    mut jobs: mpsc::Receiver<Job>,
    pending: Arc<AtomicUsize>,
) {
    // Everything accepted and not yet written, in order. During a database outage the writes
    // stay here, and are retried, until it returns.
    let mut held: VecDeque<CallWrite> = VecDeque::new();
    let mut flushes = Vec::new();
    let mut retry_in = RETRY_FIRST;
    let mut outage_since: Option<std::time::Instant> = None;
    let mut open = true;
    while open || !held.is_empty() {
        let first = if held.is_empty() {
            jobs.recv().await
        } else {
            // Wake up to retry even when nothing new comes.
            tokio::time::timeout(retry_in, jobs.recv())
                .await
                .unwrap_or(None)
        };
        match first {
            Some(job) => {
                let mut next = Some(job);
                let mut taken = 0;
                // Take whatever else is already queued, up to a batch.
                while let Some(job) = next {
                    match job {
                        Job::Write(write) => held.push_back(write),
                        Job::Flush(done) => flushes.push(done),
                    }
                    taken += 1;
                    next = if taken < BATCH {
                        jobs.try_recv().ok()
                    } else {
                        None
                    };
                }
            }
            None if jobs.is_closed() && jobs.is_empty() => open = false,
            None => {}
        }
        let dropped = drop_oldest_beyond(&mut held, HELD_LIMIT);
        if dropped > 0 {
            pending.fetch_sub(dropped, Ordering::Relaxed);
        }
        let mut unavailable = None;
        while !held.is_empty() {
            let n = held.len().min(BATCH);
            let outcome = write_batch(storage.as_ref(), &held.make_contiguous()[..n]).await;
            held.drain(..outcome.done);
            pending.fetch_sub(outcome.done, Ordering::Relaxed);
            if let Some(error) = outcome.unavailable {
                unavailable = Some(error);
                break;
            }
        }
        match (unavailable, outage_since) {
            (Some(error), None) => {
                tracing::error!(%error, held = held.len(), "the database is unavailable; holding call-record writes until it returns");
                outage_since = Some(std::time::Instant::now());
                retry_in = RETRY_FIRST;
            }
            (Some(_), Some(_)) => retry_in = (retry_in * 2).min(RETRY_MAX),
            (None, Some(since)) => {
                tracing::info!(
                    seconds = since.elapsed().as_secs(),
                    "the database is back; held call-record writes are written"
                );
                outage_since = None;
            }
            (None, None) => {}
        }
        // A flush answers once its writes were tried: during an outage it must not hold a
        // shutdown forever (`pending` says what is still held).
        for done in flushes.drain(..) {
            let _ = done.send(());
        }
        if !open && outage_since.is_some() {
            tracing::error!(
                lost = held.len(),
                "stopping with call-record writes the database never took"
            );
            pending.fetch_sub(held.len(), Ordering::Relaxed);
            break;
        }
    }
}

/// Drops the oldest writes beyond `limit` (a very long outage); returns how many.
fn drop_oldest_beyond(held: &mut VecDeque<CallWrite>, limit: usize) -> usize {
    let over = held.len().saturating_sub(limit);
    if over > 0 {
        tracing::error!(
            dropped = over,
            "too many call-record writes held during a database outage; the oldest are lost"
        );
        held.drain(..over);
    }
    over
}

/// How a batch went: the first `done` writes are finished with (written, or refused for good
/// and logged); the rest wait, if the database was unavailable.
struct BatchOutcome {
    done: usize,
    unavailable: Option<StorageError>,
}

async fn write_batch(storage: &dyn Storage, batch: &[CallWrite]) -> BatchOutcome {
    let error = match storage.write_call_records(batch).await {
        Ok(()) => {
            return BatchOutcome {
                done: batch.len(),
                unavailable: None,
            };
        }
        Err(error) if error.is_unavailable() => {
            return BatchOutcome {
                done: 0,
                unavailable: Some(error),
            };
        }
        Err(error) => error,
    };
    // One bad row (a turn for a call that was never started, say) must not lose the rest:
    // write them one by one and report each failure.
    tracing::debug!(%error, "batch write failed; writing one by one");
    for (i, write) in batch.iter().enumerate() {
        match write.apply(storage).await {
            Ok(()) => {}
            Err(error) if error.is_unavailable() => {
                return BatchOutcome {
                    done: i,
                    unavailable: Some(error),
                };
            }
            Err(error) => {
                tracing::warn!(call_id = %write.call_id(), %error, "could not write to the call record");
            }
        }
    }
    BatchOutcome {
        done: batch.len(),
        unavailable: None,
    }
}
