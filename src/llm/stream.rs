//! Reading a streamed answer: SSE chunks → text deltas → sentences, on a task of its own so
//! the caller can speak sentence one while the model writes sentence two.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::client::{LlmClient, Meta, attempt_limit, network};
use super::error::{ApiError, LlmError};
use super::sentences::SentenceSplitter;
use super::sse::SseParser;
use super::types::{CallStats, Outcome};
use super::wire::{Chunk, preview};

/// Sentences of a streamed answer, in order, each as soon as it is complete. A failure after
/// the stream started arrives as a final `Err` item. Read until `None`, then call
/// [`SentenceStream::stats`] for the call's accounting. Also a [`futures_util::Stream`].
pub struct SentenceStream {
    sentences: mpsc::Receiver<Result<String, LlmError>>,
    stats: oneshot::Receiver<CallStats>,
}

impl SentenceStream {
    pub async fn next_sentence(&mut self) -> Option<Result<String, LlmError>> {
        self.sentences.recv().await
    }

    /// Waits for the call to end and returns its [`CallStats`]. Sentences not read yet are
    /// discarded, which cancels the call if it is still streaming (outcome `Cancelled`).
    pub async fn stats(self) -> Option<CallStats> {
        drop(self.sentences);
        self.stats.await.ok()
    }
}

impl futures_util::Stream for SentenceStream {
    type Item = Result<String, LlmError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.sentences.poll_recv(cx)
    }
}

/// Why reading stopped early.
enum Stop {
    /// The caller dropped the stream.
    Cancelled,
    Failed(LlmError),
}

impl From<LlmError> for Stop {
    fn from(error: LlmError) -> Self {
        Stop::Failed(error)
    }
}

/// Starts reading `response` on its own task.
pub(crate) fn spawn(
    client: LlmClient,
    response: reqwest::Response,
    started: Instant,
    attempts: u32,
    deadline: Option<Instant>,
) -> SentenceStream {
    // A few sentences of slack: the reader is a speech synthesiser, slower than the model.
    let (tx, rx) = mpsc::channel(16);
    let (stats_tx, stats_rx) = oneshot::channel();
    tokio::spawn(async move {
        let mut meta = Meta::default();
        let outcome = match read(&client, response, &tx, started, deadline, &mut meta).await {
            Ok(()) => Outcome::Ok,
            Err(Stop::Cancelled) => Outcome::Cancelled,
            Err(Stop::Failed(error)) => {
                client.stream_failed(&error);
                let outcome = error.outcome();
                let _ = tx.send(Err(error)).await;
                outcome
            }
        };
        let stats = client.report(started, attempts, &meta, outcome);
        let _ = stats_tx.send(stats);
    });
    SentenceStream {
        sentences: rx,
        stats: stats_rx,
    }
}

async fn read(
    client: &LlmClient,
    response: reqwest::Response,
    tx: &mpsc::Sender<Result<String, LlmError>>,
    started: Instant,
    deadline: Option<Instant>,
    meta: &mut Meta,
) -> Result<(), Stop> {
    let idle = client.timeout_per_request();
    let mut body = response.bytes_stream();
    let mut parser = SseParser::new();
    let mut state = Answer::new(started);
    loop {
        // Until a sentence is out the deadline applies too; after that, only the idle limit.
        let limit = if state.sent_any {
            idle
        } else {
            attempt_limit(idle, deadline)?
        };
        let next = tokio::select! {
            _ = tx.closed() => return Err(Stop::Cancelled),
            next = tokio::time::timeout(limit, body.next()) => next,
        };
        let (events, ended) = match next {
            Err(_) => return Err(LlmError::Timeout(limit).into()),
            Ok(Some(Err(e))) => return Err(network(e).into()),
            Ok(Some(Ok(bytes))) => (parser.push(&bytes), false),
            Ok(None) => (parser.finish().into_iter().collect(), true),
        };
        for data in events {
            if data.trim() == "[DONE]" {
                return state.end(tx).await;
            }
            for sentence in state.chunk(&data, meta)? {
                send(tx, sentence).await?;
                state.sent_any = true;
            }
        }
        if ended {
            // Some servers close without `[DONE]`; a finish reason shows the answer is whole.
            if state.finish_reason.is_some() {
                return state.end(tx).await;
            }
            return Err(LlmError::Network(
                "the stream ended before the answer was complete".into(),
            )
            .into());
        }
    }
}

async fn send(tx: &mpsc::Sender<Result<String, LlmError>>, sentence: String) -> Result<(), Stop> {
    tx.send(Ok(sentence)).await.map_err(|_| Stop::Cancelled)
}

/// The answer being assembled.
struct Answer {
    started: Instant,
    splitter: SentenceSplitter,
    refusal: String,
    finish_reason: Option<String>,
    sent_any: bool,
    first_token: Option<Duration>,
}

impl Answer {
    fn new(started: Instant) -> Self {
        Answer {
            started,
            splitter: SentenceSplitter::new(),
            refusal: String::new(),
            finish_reason: None,
            sent_any: false,
            first_token: None,
        }
    }

    /// Takes one event's JSON and returns the sentences it completed.
    fn chunk(&mut self, data: &str, meta: &mut Meta) -> Result<Vec<String>, LlmError> {
        let chunk: Chunk = serde_json::from_str(data).map_err(|e| {
            LlmError::BadResponse(format!("unreadable stream chunk ({e}): {}", preview(data)))
        })?;
        if chunk.error.is_some() {
            let error = ApiError::parse(data);
            let status = error
                .code
                .as_deref()
                .and_then(|c| c.parse::<u16>().ok())
                .filter(|s| (400..600).contains(s))
                .unwrap_or(500);
            return Err(LlmError::Api {
                status,
                error,
                retry_after: None,
            });
        }
        meta.note(chunk.model, chunk.usage);
        let mut sentences = Vec::new();
        for choice in chunk.choices {
            if let Some(reason) = choice.finish_reason {
                self.finish_reason = Some(reason);
            }
            let Some(delta) = choice.delta else { continue };
            if let Some(refusal) = delta.refusal {
                self.refusal.push_str(&refusal);
            }
            if let Some(content) = delta.content.filter(|c| !c.is_empty()) {
                if self.first_token.is_none() {
                    self.first_token = Some(self.started.elapsed());
                    meta.time_to_first_token = self.first_token;
                }
                sentences.extend(self.splitter.push(&content));
            }
        }
        Ok(sentences)
    }

    /// The stream is complete: release the last sentence, or report a refusal.
    async fn end(mut self, tx: &mpsc::Sender<Result<String, LlmError>>) -> Result<(), Stop> {
        let rest = self.splitter.finish();
        // Stopped by the token limit: the last words are half a sentence, not worth saying.
        let rest = rest.filter(|_| self.finish_reason.as_deref() != Some("length"));
        if !self.sent_any && rest.is_none() {
            if !self.refusal.trim().is_empty() {
                return Err(LlmError::Refused(self.refusal.trim().to_string()).into());
            }
            if self.finish_reason.as_deref() == Some("content_filter") {
                return Err(
                    LlmError::Refused("the content filter stopped the answer".into()).into(),
                );
            }
            return Err(LlmError::BadResponse("the answer is empty".into()).into());
        }
        if let Some(rest) = rest {
            send(tx, rest).await?;
        }
        Ok(())
    }
}
