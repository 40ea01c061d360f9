//! The call record (calls, turns, events) is written by one background task per driver, in
//! order and in batches, off the path between a caller's words and the agent's answer: a slow
//! disk must not make the agent slow to speak. Bookings and other tool calls are not recorded
//! here; they are written at once because the conversation depends on their result.
//!
//! During a database outage writes are held in memory and retried; what cannot be held (past
//! the held limit, or everything held when the process stops) goes to a spill file when one is
//! configured ([`spill`]), and is written from there once the database is back, after a
//! restart if need be.

pub mod spill;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use jiff::civil::DateTime;
use tokio::sync::{mpsc, oneshot};

use crate::call_event::Event;
use crate::storage::{CallWrite, Speaker, Storage, StorageError};
use spill::Spill;

/// Writes waiting to be done; senders wait when this many are queued (backpressure).
const QUEUE: usize = 16 * 1024;
/// Writes committed together.
const BATCH: usize = 512;
/// Writes held in memory during a database outage (about 20 minutes of a busy day's calls);
/// beyond it they are spilled, or without a spill file the oldest are dropped.
pub const HELD_LIMIT: usize = 200_000;
/// Batches written before new jobs are taken again, so a long replay does not hold up the
/// callers' writes behind it.
const BATCHES_PER_ROUND: usize = 8;
/// First retry after the database failed; then doubling up to `RETRY_MAX`.
const RETRY_FIRST: Duration = Duration::from_millis(250);
const RETRY_MAX: Duration = Duration::from_secs(5);

enum Job {
    Write(CallWrite),
    Flush(oneshot::Sender<()>),
    Close(oneshot::Sender<()>),
}

/// How much the recorder holds, and where it spills the rest.
#[derive(Debug, Clone)]
pub struct RecorderOptions {
    /// Where writes that cannot be held go ([`spill::FILE`] in it); `None`: they are dropped.
    pub spill_dir: Option<PathBuf>,
    pub held_limit: usize,
}

impl Default for RecorderOptions {
    fn default() -> RecorderOptions {
        RecorderOptions {
            spill_dir: None,
            held_limit: HELD_LIMIT,
        }
    }
}

#[derive(Clone)]
pub struct Recorder {
    queue: mpsc::Sender<Job>,
    /// Writes accepted and not yet in the database (queued, held or spilled).
    pending: Arc<AtomicUsize>,
    /// Of those, the ones in the spill file.
    spilled: Arc<AtomicUsize>,
}

impl Recorder {
    /// Starts the writer task on the current Tokio runtime, holding what it can and dropping
    /// the rest (no spill file).
    pub fn start(storage: Arc<dyn Storage>) -> Recorder {
        Recorder::spawn(storage, RecorderOptions::default(), None)
    }

    /// Like [`Recorder::start`], spilling to `options.spill_dir`: takes the directory's lock
    /// and replays (first of all) what an earlier run left there.
    pub async fn open(
        storage: Arc<dyn Storage>,
        options: RecorderOptions,
    ) -> std::io::Result<Recorder> {
        let spill = match &options.spill_dir {
            Some(dir) => Some(Spill::open(dir, spill::LIMIT_BYTES).await?),
            None => None,
        };
        if let Some(spill) = spill.as_ref().filter(|s| s.backlog() > 0) {
            tracing::info!(file = %spill.path().display(), writes = spill.backlog(),
                "call-record writes spilled by an earlier run are written first");
        }
        Ok(Recorder::spawn(storage, options, spill))
    }

    fn spawn(
        storage: Arc<dyn Storage>,
        options: RecorderOptions,
        spill: Option<Spill>,
    ) -> Recorder {
        let (queue, jobs) = mpsc::channel(QUEUE);
        let backlog = spill.as_ref().map_or(0, Spill::backlog);
        let pending = Arc::new(AtomicUsize::new(backlog));
        let spilled = Arc::new(AtomicUsize::new(backlog));
        let writer = Writer {
            storage,
            held: VecDeque::new(),
            held_limit: options.held_limit,
            spill,
            pending: pending.clone(),
            spilled: spilled.clone(),
            outage_since: None,
            retry_at: None,
            retry_in: RETRY_FIRST,
        };
        tokio::spawn(writer.run(jobs));
        Recorder {
            queue,
            pending,
            spilled,
        }
    }

    pub async fn write(&self, write: CallWrite) {
        self.pending.fetch_add(1, Ordering::Relaxed);
        if self.queue.send(Job::Write(write)).await.is_err() {
            self.pending.fetch_sub(1, Ordering::Relaxed);
            tracing::error!("the call recorder has stopped; a record was lost");
        }
    }

    /// Writes accepted and not yet in the database: queued, or held or spilled while it is
    /// unavailable.
    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Relaxed)
    }

    /// Writes waiting in the spill file.
    pub fn spilled(&self) -> usize {
        self.spilled.load(Ordering::Relaxed)
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

    pub async fn event(&self, call_id: &str, event: &Event) {
        let (kind, detail) = event.stored();
        self.write(CallWrite::Event {
            call_id: call_id.into(),
            kind,
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

    /// Stops the writer: what the database takes is written, the rest goes to the spill file
    /// (without one it is lost, with an error log). Writes recorded afterwards are lost.
    pub async fn close(&self) {
        let (done, wait) = oneshot::channel();
        if self.queue.send(Job::Close(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

/// The writer task's state.
struct Writer {
    storage: Arc<dyn Storage>,
    /// Accepted and not yet written, in order, oldest first; older than anything in the spill
    /// file.
    held: VecDeque<CallWrite>,
    held_limit: usize,
    spill: Option<Spill>,
    pending: Arc<AtomicUsize>,
    spilled: Arc<AtomicUsize>,
    outage_since: Option<std::time::Instant>,
    /// During an outage: when to try again, and the wait after that.
    retry_at: Option<tokio::time::Instant>,
    retry_in: Duration,
}

/// What the writer does next.
enum Next {
    Job(Job),
    /// Nothing new: carry on writing (or retrying).
    Idle,
    /// Every sender is gone.
    Closed,
}

impl Writer {
    fn has_work(&self) -> bool {
        !self.held.is_empty() || self.spill.as_ref().is_some_and(|s| s.backlog() > 0)
    }

    async fn run(mut self, mut jobs: mpsc::Receiver<Job>) {
        let mut flushes = Vec::new();
        loop {
            let next = if !self.has_work() {
                jobs.recv().await.map_or(Next::Closed, Next::Job)
            } else if let Some(at) = self.retry_at {
                // Wake up to retry even when nothing new comes.
                match tokio::time::timeout_at(at, jobs.recv()).await {
                    Ok(job) => job.map_or(Next::Closed, Next::Job),
                    Err(_) => Next::Idle,
                }
            } else {
                match jobs.try_recv() {
                    Ok(job) => Next::Job(job),
                    Err(mpsc::error::TryRecvError::Empty) => Next::Idle,
                    Err(mpsc::error::TryRecvError::Disconnected) => Next::Closed,
                }
            };
            let mut closing = None;
            match next {
                Next::Job(job) => {
                    let mut next = Some(job);
                    let mut taken = 0;
                    // Take whatever else is already queued, up to a batch.
                    while let Some(job) = next {
                        match job {
                            Job::Write(write) => self.accept(write).await,
                            Job::Flush(done) => flushes.push(done),
                            Job::Close(done) => closing = Some(Some(done)),
                        }
                        taken += 1;
                        next = if taken < BATCH && closing.is_none() {
                            jobs.try_recv().ok()
                        } else {
                            None
                        };
                    }
                }
                Next::Closed => closing = Some(None),
                Next::Idle => {}
            }
            if let Some(spill) = &mut self.spill
                && let Err(error) = spill.flush().await
            {
                tracing::error!(file = %spill.path().display(), %error, "could not write to the spill file");
            }
            self.write_round().await;
            // A flush answers once its writes were tried: during an outage it must not hold a
            // shutdown forever (`pending` says what is still held).
            if !self.has_work() || self.outage_since.is_some() {
                for done in flushes.drain(..) {
                    let _ = done.send(());
                }
            }
            if let Some(done) = closing {
                self.stop().await;
                for done in flushes.drain(..).chain(done) {
                    let _ = done.send(());
                }
                return;
            }
        }
    }

    /// Holds a new write, or spills it when the memory is full or the spill file already
    /// holds older writes (which must be written first).
    async fn accept(&mut self, write: CallWrite) {
        let spilling = self
            .spill
            .as_ref()
            .is_some_and(|s| s.backlog() > 0 || self.held.len() >= self.held_limit);
        match &mut self.spill {
            Some(spill) if spilling => match spill.append(&write).await {
                Ok(true) => {
                    self.spilled.fetch_add(1, Ordering::Relaxed);
                }
                Ok(false) => {
                    self.pending.fetch_sub(1, Ordering::Relaxed);
                    tracing::error!(file = %spill.path().display(), call_id = %write.call_id(),
                        "the spill file is full; a call-record write is lost");
                }
                Err(error) => {
                    self.pending.fetch_sub(1, Ordering::Relaxed);
                    tracing::error!(file = %spill.path().display(), call_id = %write.call_id(), %error,
                        "could not spill a call-record write; it is lost");
                }
            },
            _ => {
                self.held.push_back(write);
                let dropped = drop_oldest_beyond(&mut self.held, self.held_limit);
                if dropped > 0 {
                    self.pending.fetch_sub(dropped, Ordering::Relaxed);
                }
            }
        }
    }

    /// Writes up to a few batches: the held writes, then what the spill file holds. During an
    /// outage, only once it is time to try again.
    async fn write_round(&mut self) {
        if self
            .retry_at
            .is_some_and(|at| tokio::time::Instant::now() < at)
        {
            return;
        }
        for _ in 0..BATCHES_PER_ROUND {
            if self.held.is_empty() && !self.take_back().await {
                return;
            }
            if self.held.is_empty() {
                break;
            }
            let n = self.held.len().min(BATCH);
            let outcome =
                write_batch(self.storage.as_ref(), &self.held.make_contiguous()[..n]).await;
            self.held.drain(..outcome.done);
            self.pending.fetch_sub(outcome.done, Ordering::Relaxed);
            if let Some(error) = outcome.unavailable {
                if self.outage_since.is_none() {
                    tracing::error!(%error, held = self.held.len(), spilled = self.spilled.load(Ordering::Relaxed),
                        "the database is unavailable; holding call-record writes until it returns");
                    self.outage_since = Some(std::time::Instant::now());
                    self.retry_in = RETRY_FIRST;
                } else {
                    self.retry_in = (self.retry_in * 2).min(RETRY_MAX);
                }
                self.retry_at = Some(tokio::time::Instant::now() + self.retry_in);
                return;
            }
        }
        self.retry_at = None;
        if let Some(since) = self.outage_since.take() {
            tracing::info!(
                seconds = since.elapsed().as_secs(),
                "the database is back; held call-record writes are written"
            );
        }
        if self.held.is_empty()
            && let Some(spill) = &mut self.spill
            && let Err(error) = spill.remove_if_drained().await
        {
            tracing::error!(file = %spill.path().display(), %error, "could not remove the drained spill file");
        }
    }

    /// Moves the next writes of the spill file into memory, to be written; `false` when the
    /// file could not be read (tried again later).
    async fn take_back(&mut self) -> bool {
        let Some(spill) = &mut self.spill else {
            return true;
        };
        if spill.backlog() == 0 {
            return true;
        }
        match spill.take(BATCH).await {
            Ok((writes, corrupt)) => {
                self.spilled
                    .fetch_sub(writes.len() + corrupt, Ordering::Relaxed);
                self.pending.fetch_sub(corrupt, Ordering::Relaxed);
                self.held.extend(writes);
                true
            }
            Err(error) => {
                tracing::error!(file = %spill.path().display(), %error, "could not read the spill file; trying again later");
                self.retry_at = Some(tokio::time::Instant::now() + RETRY_MAX);
                false
            }
        }
    }

    /// The process is stopping: one more try, then whatever is left is spilled (or lost).
    async fn stop(&mut self) {
        if self.has_work() && self.outage_since.is_none() {
            // Only what is in memory: the spill file keeps the rest for the next start.
            while !self.held.is_empty() && self.outage_since.is_none() {
                let n = self.held.len().min(BATCH);
                let outcome =
                    write_batch(self.storage.as_ref(), &self.held.make_contiguous()[..n]).await;
                self.held.drain(..outcome.done);
                self.pending.fetch_sub(outcome.done, Ordering::Relaxed);
                if outcome.unavailable.is_some() {
                    self.outage_since = Some(std::time::Instant::now());
                }
            }
        }
        let held: Vec<CallWrite> = self.held.drain(..).collect();
        match self.spill.take() {
            Some(mut spill) => {
                if held.is_empty() && spill.backlog() == 0 {
                    if let Err(error) = spill.remove_if_drained().await {
                        tracing::error!(file = %spill.path().display(), %error, "could not remove the drained spill file");
                    }
                    return;
                }
                match spill.keep(&held).await {
                    Ok(()) => {
                        tracing::warn!(file = %spill.path().display(), writes = spill.backlog(),
                        "stopping with call-record writes the database has not taken; they are in the spill file and are written at the next start")
                    }
                    Err(error) => {
                        tracing::error!(file = %spill.path().display(), %error, lost = held.len(),
                        "stopping, and the call-record writes the database has not taken could not be spilled")
                    }
                }
            }
            None if !held.is_empty() => {
                tracing::error!(
                    lost = held.len(),
                    "stopping with call-record writes the database never took"
                );
                self.pending.fetch_sub(held.len(), Ordering::Relaxed);
            }
            None => {}
        }
    }
}

/// Drops the oldest writes beyond `limit` (a very long outage, no spill file); returns how many.
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
