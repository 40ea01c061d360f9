//! The call record (calls, turns, events) is written by one background task per driver, in
//! order, off the path between a caller's words and the agent's answer: a slow disk must not
//! make the agent slow to speak. Bookings and other tool calls are not recorded here; they are
//! written at once because the conversation depends on their result.

use std::sync::Arc;

use jiff::civil::DateTime;
use tokio::sync::{mpsc, oneshot};

use crate::storage::{Speaker, Storage};

/// Records waiting to be written; senders wait when this many are queued (backpressure).
const QUEUE: usize = 64 * 1024;

enum Record {
    StartCall {
        call_id: String,
        caller: String,
        called: String,
        at: DateTime,
    },
    Turn {
        call_id: String,
        seq: u32,
        speaker: Speaker,
        text: String,
        state: Option<String>,
    },
    Event {
        call_id: String,
        kind: String,
        detail: serde_json::Value,
    },
    FinishCall {
        call_id: String,
        outcome: String,
        transfer_to: Option<String>,
        at: DateTime,
    },
    CarrierStatus {
        call_id: String,
        status: String,
        duration_seconds: Option<i64>,
        at: DateTime,
    },
    Flush(oneshot::Sender<()>),
}

#[derive(Clone)]
pub struct Recorder {
    queue: mpsc::Sender<Record>,
}

impl Recorder {
    /// Starts the writer task on the current Tokio runtime.
    pub fn start(storage: Arc<dyn Storage>) -> Recorder {
        let (queue, records) = mpsc::channel(QUEUE);
        tokio::spawn(write_all(storage, records));
        Recorder { queue }
    }

    async fn push(&self, record: Record) {
        if self.queue.send(record).await.is_err() {
            tracing::error!("the call recorder has stopped; a record was lost");
        }
    }

    pub async fn start_call(&self, call_id: &str, caller: &str, called: &str, at: DateTime) {
        self.push(Record::StartCall {
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
        self.push(Record::Turn {
            call_id: call_id.into(),
            seq,
            speaker,
            text: text.into(),
            state,
        })
        .await;
    }

    pub async fn event(&self, call_id: &str, kind: &str, detail: serde_json::Value) {
        self.push(Record::Event {
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
        self.push(Record::FinishCall {
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
        self.push(Record::CarrierStatus {
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
        self.push(Record::Flush(done)).await;
        let _ = wait.await;
    }
}

async fn write_all(storage: Arc<dyn Storage>, mut records: mpsc::Receiver<Record>) {
    while let Some(record) = records.recv().await {
        let (call_id, result) = match record {
            Record::StartCall {
                call_id,
                caller,
                called,
                at,
            } => {
                let result = storage.start_call(&call_id, &caller, &called, at).await;
                (call_id, result)
            }
            Record::Turn {
                call_id,
                seq,
                speaker,
                text,
                state,
            } => {
                let result = storage
                    .add_turn(&call_id, seq, speaker, &text, state.as_deref())
                    .await;
                (call_id, result)
            }
            Record::Event {
                call_id,
                kind,
                detail,
            } => {
                let result = storage.add_event(&call_id, &kind, &detail).await;
                (call_id, result)
            }
            Record::FinishCall {
                call_id,
                outcome,
                transfer_to,
                at,
            } => {
                let result = storage
                    .finish_call(&call_id, &outcome, transfer_to.as_deref(), at)
                    .await;
                (call_id, result)
            }
            Record::CarrierStatus {
                call_id,
                status,
                duration_seconds,
                at,
            } => {
                let result = storage
                    .record_carrier_status(&call_id, &status, duration_seconds, at)
                    .await;
                (call_id, result)
            }
            Record::Flush(done) => {
                let _ = done.send(());
                continue;
            }
        };
        if let Err(error) = result {
            tracing::warn!(call_id = %call_id, %error, "could not write to the call record");
        }
    }
}
