//! Requests, results and accounting of LLM calls.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
}

/// One turn of the conversation as the model sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

impl ChatMessage {
    pub fn system(content: impl Into<String>) -> Self {
        ChatMessage {
            role: Role::System,
            content: content.into(),
        }
    }

    pub fn user(content: impl Into<String>) -> Self {
        ChatMessage {
            role: Role::User,
            content: content.into(),
        }
    }

    pub fn assistant(content: impl Into<String>) -> Self {
        ChatMessage {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

/// Asks for slot values as JSON following `schema`.
#[derive(Debug, Clone)]
pub struct ExtractRequest {
    /// Instructions, sent as the first (system) message.
    pub system: String,
    pub messages: Vec<ChatMessage>,
    /// The schema's (or function's) name: `[a-zA-Z0-9_-]`, at most 64 characters.
    pub schema_name: String,
    /// A JSON Schema object; for strict mode every property must be `required` and objects
    /// must say `additionalProperties: false`.
    pub schema: serde_json::Value,
    /// The most tokens the model may write; `None` means the configured
    /// [`super::Budgets::extract_max_tokens`].
    pub max_tokens: Option<u32>,
    /// No attempt or retry is started that could not finish before this instant.
    pub deadline: Option<tokio::time::Instant>,
}

/// Asks for a free-form answer.
#[derive(Debug, Clone)]
pub struct AnswerRequest {
    /// Instructions and knowledge passages, sent as the first (system) message.
    pub system: String,
    pub messages: Vec<ChatMessage>,
    /// The most tokens the model may write; `None` means the configured
    /// [`super::Budgets::answer_max_tokens`].
    pub max_tokens: Option<u32>,
    pub temperature: Option<f32>,
    /// Limits the wait for the first sentence (see [`super::LlmClient::answer_stream`]).
    pub deadline: Option<tokio::time::Instant>,
}

/// A successful call's value with its accounting.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion<T> {
    pub value: T,
    pub stats: CallStats,
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "status", rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    Timeout,
    /// 429 rate limit, still after the retries.
    RateLimited,
    /// 429 with `insufficient_quota` / `credit_balance_exhausted`: never retried.
    QuotaExhausted,
    ServerError(u16),
    /// 4xx other than 429 (0 for a configuration error found before sending).
    ClientError(u16),
    /// Connection refused, reset or broken mid-response.
    Network,
    BreakerOpen,
    Refused,
    /// The server answered 200 but not with what was asked for.
    BadResponse,
    /// The caller dropped a streamed answer before it ended (e.g. barge-in).
    Cancelled,
}

/// Accounting for one call (all its attempts), reported for failures too.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CallStats {
    /// The model the server says answered, else the configured one.
    pub model: String,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    /// From the start of the call (first attempt) to its end. Serialized in milliseconds.
    #[serde(
        rename = "latency_ms",
        serialize_with = "millis",
        deserialize_with = "from_millis"
    )]
    pub latency: Duration,
    /// Streamed answers: from the start of the call to the first piece of text.
    #[serde(
        rename = "time_to_first_token_ms",
        serialize_with = "optional_millis",
        deserialize_with = "optional_from_millis",
        default
    )]
    pub time_to_first_token: Option<Duration>,
    /// HTTP attempts made (0 when the breaker refused the call).
    pub attempts: u32,
    pub outcome: Outcome,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64() * 1000.0)
}

fn optional_millis<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => millis(d, s),
        None => s.serialize_none(),
    }
}

fn from_millis<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    let ms = f64::deserialize(d)?;
    Duration::try_from_secs_f64(ms / 1000.0).map_err(serde::de::Error::custom)
}

fn optional_from_millis<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<Duration>, D::Error> {
    Option::<f64>::deserialize(d)?
        .map(|ms| Duration::try_from_secs_f64(ms / 1000.0).map_err(serde::de::Error::custom))
        .transpose()
}

/// Receives the [`CallStats`] of every call, successful or not, once it has ended. Keep it
/// cheap: it runs on the calling task.
pub type Accounting = Arc<dyn Fn(&CallStats) + Send + Sync>;
