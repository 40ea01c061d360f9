//! The language model, behind an OpenAI-compatible Chat Completions API (OpenAI, Ollama,
//! llama.cpp, vLLM; docs/protocols.md §6).
//!
//! The engine stays in charge and asks the model for two things only: slot values as JSON
//! ([`LlmClient::extract`]) when its own parsing falls short, and free-form answers grounded in
//! knowledge passages ([`LlmClient::answer_stream`]), cut into sentences so speech can start
//! early. Calls must never hold a phone call hostage, so every attempt has a timeout, retries
//! respect an overall deadline, and a circuit breaker makes calls fail at once while the server
//! is down; the caller then falls back to what the engine can do alone.
//!
//! Accounting: every call's [`CallStats`] (tokens, latency, attempts, outcome) is logged and
//! handed to the optional [`Accounting`] sink, failures included; successful calls also return
//! them in [`Completion`], and streamed ones through [`SentenceStream::stats`].

pub mod answers;
mod client;
mod config;
mod error;
mod extracted;
pub mod grounding;
pub mod model;
mod prompt;
mod resilience;
pub mod sentences;
pub mod slots;
mod sse;
mod stream;
pub mod totals;
mod types;
mod wire;

#[cfg(test)]
mod tests;

pub use client::LlmClient;
pub use config::{Budgets, LlmArgs, LlmConfig, StructuredOutput};
pub use error::{ApiError, LlmError};
pub use model::Model;
pub use resilience::{BreakerPhase, BreakerState};
pub use stream::SentenceStream;
pub use types::{
    Accounting, AnswerRequest, CallStats, ChatMessage, Completion, ExtractRequest, Outcome, Role,
};
