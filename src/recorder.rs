//! The call record (calls, turns, events) is written by one background task per driver, in
//! order and in batches, off the path between a caller's words and the agent's answer: a slow
//! disk must not make the agent slow to speak. Bookings and other tool calls are not recorded
//! here; they are written at once because the conversation depends on their result.

use std::sync::Arc;

use jiff::civil::DateTime;
use tokio::sync::{mpsc, oneshot};

use crate::storage::{CallWrite, Speaker, Storage};

/// Writes waiting to be done; senders wait when this many are queued (backpressure).
const QUEUE: usize = 16 * 1024;
/// Writes committed together.
const BATCH: usize = 512;

enum Job {
    Write(CallWrite),
    Flush(oneshot::Sender<()>),
}

#[derive(Clone)]
pub struct Recorder {
    queue: mpsc::Sender<Job>,
}

impl Recorder {
    /// Starts the writer task on the current Tokio runtime.
    pub fn start(storage: Arc<dyn Storage>) -> Recorder {
        let (queue, jobs) = mpsc::channel(QUEUE);
        tokio::spawn(write_all(storage, jobs));
        Recorder { queue }
    }

    pub async fn write(&self, write: CallWrite) {
        if self.queue.send(Job::Write(write)).await.is_err() {
            tracing::error!("the call recorder has stopped; a record was lost");
        }
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

    /// Waits until everything recorded so far is in the database.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.queue.send(Job::Flush(done)).await.is_ok() {
            let _ = wait.await;
        }
    }
}

async fn write_all(storage: Arc<dyn Storage>, mut jobs: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut flushes = Vec::new();
    while let Some(job) = jobs.recv().await {
        let mut next = Some(job);
        // Take whatever else is already queued, up to a batch.
        while let Some(job) = next {
            match job {
                Job::Write(write) => batch.push(write),
                Job::Flush(done) => flushes.push(done),
            }
            next = if batch.len() < BATCH {
                jobs.try_recv().ok()
            } else {
                None
            };
        }
        write_batch(storage.as_ref(), &batch).await;
        batch.clear();
        for done in flushes.drain(..) {
            let _ = done.send(());
        }
    }
}

async fn write_batch(storage: &dyn Storage, batch: &[CallWrite]) {
    if batch.is_empty() {
        return;
    }
    if let Err(error) = storage.write_call_records(batch).await {
        // One bad row (a turn for a call that was never started, say) must not lose the rest:
        // write them one by one and report each failure.
        tracing::debug!(%error, "batch write failed; writing one by one");
        for write in batch {
            if let Err(error) = write.apply(storage).await {
                tracing::warn!(call_id = %write.call_id(), %error, "could not write to the call record");
            }
        }
    }
}
