//! The Chat Completions client: one `POST {base_url}/chat/completions` per attempt, wrapped in
//! timeouts, retries and the circuit breaker.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;
use tokio::time::Instant;

use super::config::LlmConfig;
use super::error::LlmError;
use super::extracted::extracted_json;
use super::resilience::{Breaker, BreakerState, backoff};
use super::stream::{self, SentenceStream};
use super::types::{Accounting, AnswerRequest, CallStats, Completion, ExtractRequest, Outcome};
use super::wire::{self, ChatResponse, Usage};

/// The longest `retry-after` worth waiting for without a deadline: a caller is on the line.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(5);

/// A cheap-to-clone handle; clones share the connection pool and the circuit breaker.
#[derive(Clone)]
pub struct LlmClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    config: LlmConfig,
    url: String,
    breaker: Breaker,
    accounting: Option<Accounting>,
}

/// What the server told us about a call so far, for its [`CallStats`].
#[derive(Debug, Default)]
pub(crate) struct Meta {
    pub model: Option<String>,
    pub usage: Usage,
    pub time_to_first_token: Option<Duration>,
}

impl Meta {
    pub(crate) fn note(&mut self, model: Option<String>, usage: Option<Usage>) {
        if let Some(model) = model.filter(|m| !m.is_empty()) {
            self.model = Some(model);
        }
        if let Some(usage) = usage {
            self.usage = usage;
        }
    }
}

impl LlmClient {
    pub fn new(config: LlmConfig) -> Result<LlmClient, LlmError> {
        LlmClient::build(config, None)
    }

    /// Like [`LlmClient::new`], and every call's [`CallStats`] (failures included) is handed to
    /// `accounting` when the call ends.
    pub fn with_accounting(
        config: LlmConfig,
        accounting: Accounting,
    ) -> Result<LlmClient, LlmError> {
        LlmClient::build(config, Some(accounting))
    }

    fn build(mut config: LlmConfig, accounting: Option<Accounting>) -> Result<LlmClient, LlmError> {
        let base = config.base_url.trim().trim_end_matches('/');
        // Accept the full endpoint too, as people copy it from server logs.
        let base = base.strip_suffix("/chat/completions").unwrap_or(base);
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(LlmError::Config(format!(
                "base URL {:?} is not http(s)",
                config.base_url
            )));
        }
        config.base_url = base.to_string();
        if config.model.trim().is_empty() {
            return Err(LlmError::Config("no model configured".into()));
        }
        if config.timeout_per_request.is_zero() {
            return Err(LlmError::Config(
                "timeout_per_request must be positive".into(),
            ));
        }
        let budgets = &config.budgets;
        if [budgets.extract, budgets.first_sentence, budgets.answer]
            .iter()
            .any(Duration::is_zero)
        {
            return Err(LlmError::Config(
                "every time budget must be positive".into(),
            ));
        }
        if budgets.extract_max_tokens == 0 || budgets.answer_max_tokens == 0 {
            return Err(LlmError::Config("token caps must be positive".into()));
        }
        config.api_key = config.api_key.filter(|k| !k.trim().is_empty());
        // reqwest is built without a default crypto provider; installing one twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(config.timeout_per_request)
            .build()
            .map_err(|e| LlmError::Config(format!("HTTP client: {e}")))?;
        Ok(LlmClient {
            inner: Arc::new(Inner {
                http,
                url: format!("{}/chat/completions", config.base_url),
                breaker: Breaker::new(config.breaker_failures, config.breaker_cooldown),
                config,
                accounting,
            }),
        })
    }

    pub fn config(&self) -> &LlmConfig {
        &self.inner.config
    }

    /// The circuit breaker, for `/health/detailed`.
    pub fn breaker_state(&self) -> BreakerState {
        self.inner.breaker.state()
    }

    /// Asks for JSON following `request.schema` (structured output or a forced function call,
    /// per [`LlmConfig::structured_output`]) and returns it parsed but unchecked: the caller
    /// validates it against its slots.
    pub async fn extract(&self, request: ExtractRequest) -> Result<Completion<Value>, LlmError> {
        let started = Instant::now();
        let config = &self.inner.config;
        let max_tokens = request
            .max_tokens
            .unwrap_or(config.budgets.extract_max_tokens);
        let body = wire::extract_body(
            &config.model,
            config.structured_output,
            &request,
            max_tokens,
        );
        let mut attempts = 0;
        let mut meta = Meta::default();
        let result = async {
            let text = self
                .with_retries(request.deadline, &mut attempts, || self.post_once(&body))
                .await?;
            let response = ChatResponse::parse(&text)?;
            meta.note(response.model.clone(), response.usage);
            let (message, finish) = response.into_message()?;
            extracted_json(&message, finish.as_deref(), &request.schema)
        }
        .await;
        self.finish(result, started, attempts, &meta)
    }

    /// A whole answer at once (no streaming).
    pub async fn answer(&self, request: AnswerRequest) -> Result<Completion<String>, LlmError> {
        let started = Instant::now();
        let body = self.answer_body(&request, false);
        let mut attempts = 0;
        let mut meta = Meta::default();
        let result = async {
            let text = self
                .with_retries(request.deadline, &mut attempts, || self.post_once(&body))
                .await?;
            let response = ChatResponse::parse(&text)?;
            meta.note(response.model.clone(), response.usage);
            let (message, _) = response.into_message()?;
            message
                .content
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .ok_or_else(|| LlmError::BadResponse("the answer is empty".into()))
        }
        .await;
        self.finish(result, started, attempts, &meta)
    }

    /// Streams an answer and yields it sentence by sentence as each one is complete.
    ///
    /// Returns once the server has accepted the request (after any retries), so rate limits,
    /// outages and an open breaker show up here. Then `timeout_per_request` bounds each wait for
    /// the next chunk, and `request.deadline` bounds the wait only until the first sentence:
    /// an answer already being spoken is not cut off. Retries happen only before the stream
    /// starts. Dropping the [`SentenceStream`] cancels the request.
    pub async fn answer_stream(&self, request: AnswerRequest) -> Result<SentenceStream, LlmError> {
        let started = Instant::now();
        let body = self.answer_body(&request, true);
        let mut attempts = 0;
        let response = self
            .with_retries(request.deadline, &mut attempts, || self.open_stream(&body))
            .await;
        match response {
            Ok(response) => Ok(stream::spawn(
                self.clone(),
                response,
                started,
                attempts,
                request.deadline,
            )),
            Err(e) => {
                self.report(started, attempts, &Meta::default(), e.outcome());
                Err(e)
            }
        }
    }

    fn answer_body(&self, request: &AnswerRequest, stream: bool) -> Value {
        let config = &self.inner.config;
        let max_tokens = request
            .max_tokens
            .unwrap_or(config.budgets.answer_max_tokens);
        wire::answer_body(&config.model, request, stream, max_tokens)
    }

    pub(crate) fn timeout_per_request(&self) -> Duration {
        self.inner.config.timeout_per_request
    }

    /// A failure after the stream started (broken or stalled) still counts for the breaker.
    pub(crate) fn stream_failed(&self, error: &LlmError) {
        if error.counts_against_server() {
            self.inner.breaker.record_failure(false);
        }
    }

    fn finish<T>(
        &self,
        result: Result<T, LlmError>,
        started: Instant,
        attempts: u32,
        meta: &Meta,
    ) -> Result<Completion<T>, LlmError> {
        let outcome = match &result {
            Ok(_) => Outcome::Ok,
            Err(e) => e.outcome(),
        };
        let stats = self.report(started, attempts, meta, outcome);
        result.map(|value| Completion { value, stats })
    }

    /// Builds the call's [`CallStats`], logs them and hands them to the accounting sink.
    pub(crate) fn report(
        &self,
        started: Instant,
        attempts: u32,
        meta: &Meta,
        outcome: Outcome,
    ) -> CallStats {
        let stats = CallStats {
            model: meta
                .model
                .clone()
                .unwrap_or_else(|| self.inner.config.model.clone()),
            prompt_tokens: meta.usage.prompt_tokens,
            completion_tokens: meta.usage.completion_tokens,
            latency: started.elapsed(),
            time_to_first_token: meta.time_to_first_token,
            attempts,
            outcome,
        };
        tracing::info!(
            model = %stats.model,
            outcome = ?stats.outcome,
            attempts = stats.attempts,
            latency_ms = stats.latency.as_millis() as u64,
            prompt_tokens = stats.prompt_tokens,
            completion_tokens = stats.completion_tokens,
            "LLM call"
        );
        if let Some(accounting) = &self.inner.accounting {
            accounting(&stats);
        }
        stats
    }

    /// Runs `attempt` until it succeeds or failing again is pointless: the error is final, the
    /// retries are used up, the breaker is open, or the next attempt could not get its full
    /// per-request timeout before `deadline`.
    async fn with_retries<T, F, Fut>(
        &self,
        deadline: Option<Instant>,
        attempts: &mut u32,
        mut attempt: F,
    ) -> Result<T, LlmError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, LlmError>>,
    {
        let config = &self.inner.config;
        let mut last_error = None;
        loop {
            let limit = attempt_limit(config.timeout_per_request, deadline)?;
            let Some(permit) = self.inner.breaker.try_acquire() else {
                // An earlier attempt's error says more than "breaker open".
                return Err(last_error.unwrap_or(LlmError::BreakerOpen));
            };
            *attempts += 1;
            let error = match tokio::time::timeout(limit, attempt()).await {
                Ok(Ok(value)) => {
                    permit.success();
                    return Ok(value);
                }
                Ok(Err(e)) => e,
                Err(_) => LlmError::Timeout(limit),
            };
            if error.counts_against_server() {
                permit.failure();
            } else {
                permit.success();
            }
            let retries_done = *attempts - 1;
            if !error.is_retryable() || retries_done >= config.max_retries {
                return Err(error);
            }
            let delay = error
                .retry_after()
                .unwrap_or_else(|| backoff(config.backoff_base, retries_done + 1));
            let fits = match deadline {
                Some(deadline) => Instant::now() + delay + config.timeout_per_request <= deadline,
                None => delay <= MAX_RETRY_AFTER,
            };
            if !fits {
                return Err(error);
            }
            tracing::warn!(error = %error, delay_ms = delay.as_millis() as u64, "LLM call failed; retrying");
            tokio::time::sleep(delay).await;
            last_error = Some(error);
        }
    }

    fn post(&self, body: &Value) -> reqwest::RequestBuilder {
        let request = self.inner.http.post(&self.inner.url).json(body);
        match &self.inner.config.api_key {
            Some(key) => request.bearer_auth(key),
            None => request,
        }
    }

    /// One non-streamed attempt: the body of a 2xx answer, or the error.
    async fn post_once(&self, body: &Value) -> Result<String, LlmError> {
        let response = self.post(body).send().await.map_err(network)?;
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.map_err(network)?;
        if !status.is_success() {
            return Err(LlmError::from_response(status.as_u16(), &headers, &text));
        }
        Ok(text)
    }

    /// One streamed attempt, up to the response headers.
    async fn open_stream(&self, body: &Value) -> Result<reqwest::Response, LlmError> {
        let response = self
            .post(body)
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .send()
            .await
            .map_err(network)?;
        let status = response.status();
        if !status.is_success() {
            let headers = response.headers().clone();
            let text = response.text().await.map_err(network)?;
            return Err(LlmError::from_response(status.as_u16(), &headers, &text));
        }
        Ok(response)
    }
}

/// The time an attempt may take: the per-request timeout, cut to what is left before the
/// deadline. A deadline already passed fails without touching the network.
pub(crate) fn attempt_limit(
    per_request: Duration,
    deadline: Option<Instant>,
) -> Result<Duration, LlmError> {
    let Some(deadline) = deadline else {
        return Ok(per_request);
    };
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(LlmError::Timeout(Duration::ZERO));
    }
    Ok(left.min(per_request))
}

/// A transport error with its causes ("error sending request" alone says little).
pub(crate) fn network(error: reqwest::Error) -> LlmError {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    LlmError::Network(text)
}
