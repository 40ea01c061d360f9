//! Settings of the LLM client, and the `--llm-*` flags that set them.

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

/// How long a caller may wait on the model, and how much it may write, per purpose. The
/// defaults suit a hosted model or a GPU; a small model on a slow CPU needs longer waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budgets {
    /// One slot extraction, retries included.
    pub extract: Duration,
    /// An answer's first sentence, retries included; the passage is read when it runs out.
    pub first_sentence: Duration,
    /// A whole answer; sentences not spoken by then are dropped.
    pub answer: Duration,
    /// Most tokens an extraction may write; fewer are asked when few slots are open, since a
    /// small model left unbounded rambles for hundreds of tokens.
    pub extract_max_tokens: u32,
    /// Most tokens an answer may write: about three spoken sentences.
    pub answer_max_tokens: u32,
}

impl Default for Budgets {
    fn default() -> Self {
        Budgets {
            extract: Duration::from_millis(2500),
            first_sentence: Duration::from_millis(2500),
            answer: Duration::from_secs(8),
            extract_max_tokens: 256,
            answer_max_tokens: 120,
        }
    }
}

impl Budgets {
    /// The token cap for an extraction of `slots` open slots: room for each slot's name and a
    /// few words of value, within [`Budgets::extract_max_tokens`].
    pub fn extract_tokens(&self, slots: usize) -> u32 {
        let wanted =
            24u32.saturating_add(32u32.saturating_mul(u32::try_from(slots).unwrap_or(u32::MAX)));
        wanted.min(self.extract_max_tokens)
    }
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
    /// Waits and token caps of slot extraction and answers (see [`LlmConfig::with_budgets`]).
    pub budgets: Budgets,
}

impl LlmConfig {
    /// A configuration with the defaults tuned for a phone call: short timeouts and few retries,
    /// because a caller is waiting and the engine can always go on without the model.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        let budgets = Budgets::default();
        LlmConfig {
            base_url: base_url.into(),
            api_key: None,
            model: model.into(),
            timeout_per_request: budgets.extract.max(budgets.first_sentence),
            max_retries: 2,
            backoff_base: Duration::from_millis(100),
            breaker_failures: 5,
            breaker_cooldown: Duration::from_secs(30),
            structured_output: StructuredOutput::JsonSchema,
            budgets,
        }
    }

    pub fn with_api_key(mut self, key: impl Into<String>) -> Self {
        self.api_key = Some(key.into());
        self
    }

    /// Sets the budgets, and lets one attempt run as long as the longer of the two waits: a
    /// per-attempt timeout shorter than the budget would cut every attempt of a slow model
    /// short, however much time the caller was willing to give it.
    pub fn with_budgets(mut self, budgets: Budgets) -> Self {
        self.budgets = budgets;
        self.timeout_per_request = budgets.extract.max(budgets.first_sentence);
        self
    }
}

/// Where the language model is and how long to wait for it, from the command line or the
/// environment. Without a URL the agent runs on its rules alone.
#[derive(Debug, Clone, clap::Args)]
pub struct LlmArgs {
    /// OpenAI-compatible base URL: https://api.openai.com/v1, http://localhost:11434/v1
    /// (Ollama), http://localhost:8080/v1 (llama.cpp), http://localhost:8000/v1 (vLLM).
    #[arg(long, env = "FRONTDESK_LLM_URL")]
    pub llm_url: Option<String>,
    /// Model name as the server knows it.
    #[arg(long, env = "FRONTDESK_LLM_MODEL", default_value = "gpt-4o-mini")]
    pub llm_model: String,
    /// API key (sent as a Bearer token; local servers usually need none).
    #[arg(long, env = "FRONTDESK_LLM_KEY", hide_env_values = true)]
    pub llm_key: Option<String>,
    /// Ask for a function call instead of structured output (servers without `json_schema`).
    #[arg(long, env = "FRONTDESK_LLM_FUNCTION_CALLS")]
    pub llm_function_calls: bool,
    /// Longest wait for the model to read one answer (retries included), in milliseconds.
    #[arg(long, env = "FRONTDESK_LLM_EXTRACT_MS", default_value_t = 2500,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub llm_extract_ms: u64,
    /// Longest wait for the first sentence of a knowledge answer, in milliseconds; after it
    /// the passage is read as written.
    #[arg(long, env = "FRONTDESK_LLM_FIRST_SENTENCE_MS", default_value_t = 2500,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub llm_first_sentence_ms: u64,
    /// Longest a whole knowledge answer may take, in milliseconds.
    #[arg(long, env = "FRONTDESK_LLM_ANSWER_MS", default_value_t = 8000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub llm_answer_ms: u64,
    /// Most tokens the model may write when reading an answer (fewer for few open slots).
    #[arg(long, env = "FRONTDESK_LLM_EXTRACT_MAX_TOKENS", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(16..))]
    pub llm_extract_max_tokens: u32,
    /// Most tokens the model may write for a knowledge answer.
    #[arg(long, env = "FRONTDESK_LLM_ANSWER_MAX_TOKENS", default_value_t = 120,
          value_parser = clap::value_parser!(u32).range(16..))]
    pub llm_answer_max_tokens: u32,
}

impl LlmArgs {
    /// The client settings these flags describe, or None when no URL is set.
    pub fn config(&self) -> Option<LlmConfig> {
        let url = self.llm_url.as_ref()?;
        let mut config =
            LlmConfig::new(url.clone(), self.llm_model.clone()).with_budgets(Budgets {
                extract: Duration::from_millis(self.llm_extract_ms),
                first_sentence: Duration::from_millis(self.llm_first_sentence_ms),
                answer: Duration::from_millis(self.llm_answer_ms),
                extract_max_tokens: self.llm_extract_max_tokens,
                answer_max_tokens: self.llm_answer_max_tokens,
            });
        if let Some(key) = &self.llm_key {
            config = config.with_api_key(key.clone());
        }
        if self.llm_function_calls {
            config.structured_output = StructuredOutput::FunctionCall;
        }
        Some(config)
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        llm: LlmArgs,
    }

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("frontdesk").chain(args.iter().copied()))
    }

    #[test]
    fn default_flags_give_the_default_budgets() {
        let cli = parse(&["--llm-url", "http://127.0.0.1:8080/v1"]).expect("parses");
        let config = cli.llm.config().expect("a URL is set");
        assert_eq!(config.budgets, Budgets::default());
        assert_eq!(config.timeout_per_request, Duration::from_millis(2500));
        assert_eq!(
            config,
            LlmConfig::new("http://127.0.0.1:8080/v1", "gpt-4o-mini"),
            "the flags' defaults are the code's defaults"
        );
        assert!(parse(&[]).expect("parses").llm.config().is_none());
    }

    #[test]
    fn budgets_for_a_slow_cpu() {
        let cli = parse(&[
            "--llm-url=http://127.0.0.1:8080/v1",
            "--llm-extract-ms=30000",
            "--llm-first-sentence-ms=20000",
            "--llm-answer-ms=60000",
            "--llm-extract-max-tokens=128",
            "--llm-answer-max-tokens=80",
        ])
        .expect("parses");
        let config = cli.llm.config().expect("a URL is set");
        assert_eq!(
            config.budgets,
            Budgets {
                extract: Duration::from_secs(30),
                first_sentence: Duration::from_secs(20),
                answer: Duration::from_secs(60),
                extract_max_tokens: 128,
                answer_max_tokens: 80,
            }
        );
        // One attempt may use the whole of the longer wait.
        assert_eq!(config.timeout_per_request, Duration::from_secs(30));
        assert!(parse(&["--llm-extract-ms=0"]).is_err());
    }

    #[test]
    fn extraction_tokens_follow_the_open_slots() {
        let budgets = Budgets::default();
        assert_eq!(budgets.extract_tokens(1), 56);
        assert_eq!(budgets.extract_tokens(3), 120);
        assert_eq!(budgets.extract_tokens(40), 256);
        assert_eq!(budgets.extract_tokens(usize::MAX), 256);
    }
}
