//! Settings of the LLM client.

use std::time::Duration;

/// How slot extraction asks for JSON that follows a schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StructuredOutput {
    /// `response_format: {type: json_schema, …}` (OpenAI, Ollama, llama.cpp, vLLM).
    #[default]
    JsonSchema,
    /// One function tool forced with `tool_choice`, for servers without structured output.
    FunctionCall,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LlmConfig {
    /// The API root, e.g. `http://localhost:11434/v1` or `https://api.openai.com/v1`.
    pub base_url: String,
    /// Sent as `Authorization: Bearer …` when set (local servers usually need none).
    pub api_key: Option<String>,
    pub model: String,
    /// Limit for one HTTP attempt; for a streamed answer, for the response headers and for each
    /// gap between chunks.
    pub timeout_per_request: Duration,
    /// Retries after the first attempt, for rate limits, 5xx and connection failures.
    pub max_retries: u32,
    /// First backoff delay; it doubles on every retry, with jitter.
    pub backoff_base: Duration,
    /// Consecutive failed attempts that open the circuit breaker.
    pub breaker_failures: u32,
    /// How long the breaker stays open before letting one probe through.
    pub breaker_cooldown: Duration,
    pub structured_output: StructuredOutput,
}

impl LlmConfig {
    /// A configuration with the defaults tuned for a phone call: short timeouts and few retries,
    /// because a caller is waiting and the engine can always go on without the model.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        LlmConfig {
            base_url: base_url.into(),
            api_key: None,
            model: model.into(),
            timeout_per_request: Duration::from_millis(2500),
            max_retries: 2,
            backoff_base: Duration::from_millis(100),
            breaker_failures: 5,
            breaker_cooldown: Duration::from_secs(30),
            structured_output: StructuredOutput::JsonSchema,
        }
    }

    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }
}
