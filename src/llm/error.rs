//! Errors of LLM calls, and the error bodies of OpenAI-compatible servers
//! (docs/protocols.md §6.4).

use std::fmt;
use std::time::Duration;

use super::types::Outcome;

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("LLM configuration: {0}")]
    Config(String),
    #[error("LLM circuit breaker is open: not calling the server until it cools down")]
    BreakerOpen,
    #[error("LLM request timed out after {0:?}")]
    Timeout(Duration),
    #[error("LLM server unreachable: {0}")]
    Network(String),
    #[error("LLM server answered HTTP {status}: {error}")]
    Api {
        status: u16,
        error: ApiError,
        /// From `retry-after-ms` / `retry-after`, when the server sent one.
        retry_after: Option<Duration>,
    },
    #[error("the model refused: {0}")]
    Refused(String),
    #[error("unusable LLM response: {0}")]
    BadResponse(String),
}

impl LlmError {
    /// The outcome and the message, for call records and logs.
    pub fn describe(&self) -> String {
        format!("{:?}: {self}", self.outcome())
    }

    /// The outcome recorded in [`CallStats`](super::CallStats) for this error.
    pub fn outcome(&self) -> Outcome {
        match self {
            LlmError::Config(_) => Outcome::ClientError(0),
            LlmError::BreakerOpen => Outcome::BreakerOpen,
            LlmError::Timeout(_) => Outcome::Timeout,
            LlmError::Network(_) => Outcome::Network,
            LlmError::Api { status, error, .. } => match *status {
                429 if error.is_quota_exhausted() => Outcome::QuotaExhausted,
                429 => Outcome::RateLimited,
                s if s >= 500 => Outcome::ServerError(s),
                s => Outcome::ClientError(s),
            },
            LlmError::Refused(_) => Outcome::Refused,
            LlmError::BadResponse(_) => Outcome::BadResponse,
        }
    }

    /// Whether another attempt may succeed: rate limits (not an exhausted quota), 5xx and
    /// connection failures. Timeouts are not retried: the caller has already waited a full
    /// attempt, and the engine has a fallback.
    pub fn is_retryable(&self) -> bool {
        match self {
            LlmError::Network(_) => true,
            LlmError::Api { status, error, .. } => {
                (*status == 429 && !error.is_quota_exhausted()) || *status >= 500
            }
            _ => false,
        }
    }

    /// Whether this error says the server is unhealthy, for the circuit breaker. A 4xx other
    /// than 429, a refusal or an odd body still prove the server is up.
    pub(crate) fn counts_against_server(&self) -> bool {
        match self {
            LlmError::Timeout(_) | LlmError::Network(_) => true,
            LlmError::Api { status, .. } => *status == 429 || *status >= 500,
            _ => false,
        }
    }

    pub(crate) fn retry_after(&self) -> Option<Duration> {
        match self {
            LlmError::Api { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// Builds the error for a non-2xx answer from its status, headers and body.
    pub(crate) fn from_response(
        status: u16,
        headers: &reqwest::header::HeaderMap,
        body: &str,
    ) -> Self {
        LlmError::Api {
            status,
            error: ApiError::parse(body),
            retry_after: retry_after(headers),
        }
    }
}

/// The error object of an OpenAI-compatible server.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApiError {
    pub message: String,
    /// OpenAI's `type`, e.g. `invalid_request_error`, `insufficient_quota`.
    pub kind: Option<String>,
    pub param: Option<String>,
    /// `code` as text: OpenAI sends strings (`rate_limit_exceeded`), llama.cpp and vLLM integers.
    pub code: Option<String>,
}

impl ApiError {
    /// Reads OpenAI's `{"error":{message,type,param,code}}`, vLLM's
    /// `{"object":"error","message",…}` or, failing both, keeps the start of the raw body.
    pub fn parse(body: &str) -> ApiError {
        use serde_json::Value;
        let raw = || ApiError {
            message: truncate(body.trim(), 300),
            ..ApiError::default()
        };
        let Ok(value) = serde_json::from_str::<Value>(body) else {
            return raw();
        };
        let fields = match value.get("error") {
            Some(inner @ Value::Object(_)) => inner,
            // Ollama's native API: `{"error":"model not found"}`.
            Some(Value::String(message)) => {
                return ApiError {
                    message: message.clone(),
                    ..ApiError::default()
                };
            }
            _ => &value,
        };
        let field = |name: &str| fields.get(name).cloned().and_then(text);
        let error = ApiError {
            message: field("message").unwrap_or_default(),
            kind: field("type"),
            param: field("param"),
            code: field("code"),
        };
        if error == ApiError::default() {
            return raw();
        }
        error
    }

    /// A 429 that retrying cannot fix: the account is out of money.
    pub fn is_quota_exhausted(&self) -> bool {
        const QUOTA: &[&str] = &["insufficient_quota", "credit_balance_exhausted"];
        [&self.code, &self.kind]
            .into_iter()
            .flatten()
            .any(|v| QUOTA.contains(&v.as_str()))
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let message = if self.message.is_empty() {
            "(no message)"
        } else {
            &self.message
        };
        f.write_str(message)?;
        match (&self.kind, &self.code) {
            (Some(kind), Some(code)) if kind != code => write!(f, " ({kind}, code {code})"),
            (_, Some(code)) => write!(f, " (code {code})"),
            (Some(kind), None) => write!(f, " ({kind})"),
            (None, None) => Ok(()),
        }
    }
}

/// A JSON scalar as text; `null` and structures give nothing.
fn text(value: serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_string(),
    }
}

/// `retry-after-ms` (OpenAI) or `retry-after` in seconds. The HTTP-date form is ignored: the
/// backoff then applies.
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let number = |name: &str| {
        headers
            .get(name)?
            .to_str()
            .ok()?
            .trim()
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite() && *v >= 0.0)
    };
    number("retry-after-ms")
        .map(|ms| Duration::from_secs_f64(ms / 1000.0))
        .or_else(|| number("retry-after").map(Duration::from_secs_f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_error_with_string_code() {
        let e = ApiError::parse(
            r#"{"error":{"message":"Incorrect API key provided: sk-x.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#,
        );
        assert_eq!(e.message, "Incorrect API key provided: sk-x.");
        assert_eq!(e.kind.as_deref(), Some("invalid_request_error"));
        assert_eq!(e.param, None);
        assert_eq!(e.code.as_deref(), Some("invalid_api_key"));
        assert!(!e.is_quota_exhausted());
    }

    #[test]
    fn quota_errors_are_recognised() {
        let e = ApiError::parse(
            r#"{"error":{"message":"You exceeded your current quota, please check your plan and billing details.","type":"insufficient_quota","param":null,"code":"insufficient_quota"}}"#,
        );
        assert!(e.is_quota_exhausted());
        let e = ApiError::parse(
            r#"{"error":{"message":"out of credit","type":"invalid_request_error","code":"credit_balance_exhausted"}}"#,
        );
        assert!(e.is_quota_exhausted());
        let quota = LlmError::Api {
            status: 429,
            error: e,
            retry_after: None,
        };
        assert!(!quota.is_retryable());
        assert_eq!(quota.outcome(), Outcome::QuotaExhausted);
    }

    #[test]
    fn llama_cpp_integer_code() {
        let e = ApiError::parse(
            r#"{"error":{"code":400,"message":"the request exceeds the available context size","type":"invalid_request_error"}}"#,
        );
        assert_eq!(e.code.as_deref(), Some("400"));
        assert_eq!(e.kind.as_deref(), Some("invalid_request_error"));
        assert_eq!(
            e.to_string(),
            "the request exceeds the available context size (invalid_request_error, code 400)"
        );
    }

    #[test]
    fn vllm_flat_error() {
        let e = ApiError::parse(
            r#"{"object":"error","message":"The model `x` does not exist.","type":"NotFoundError","param":null,"code":404}"#,
        );
        assert_eq!(e.message, "The model `x` does not exist.");
        assert_eq!(e.kind.as_deref(), Some("NotFoundError"));
        assert_eq!(e.code.as_deref(), Some("404"));
    }

    #[test]
    fn null_code_and_non_json_bodies() {
        let e = ApiError::parse(r#"{"error":{"message":"Slow Down","type":null,"code":null}}"#);
        assert_eq!(e.message, "Slow Down");
        assert_eq!((e.kind, e.code), (None, None));
        let e = ApiError::parse("<html>502 Bad Gateway</html>");
        assert_eq!(e.message, "<html>502 Bad Gateway</html>");
        assert_eq!(e.to_string(), "<html>502 Bad Gateway</html>");
        assert_eq!(ApiError::parse("").to_string(), "(no message)");
        assert_eq!(
            ApiError::parse(r#"{"error":"model not found"}"#).message,
            "model not found"
        );
    }

    #[test]
    fn retry_after_headers() {
        let mut headers = reqwest::header::HeaderMap::new();
        assert_eq!(retry_after(&headers), None);
        headers.insert("retry-after", "2".parse().expect("static header"));
        assert_eq!(retry_after(&headers), Some(Duration::from_secs(2)));
        headers.insert("retry-after-ms", "150".parse().expect("static header"));
        assert_eq!(retry_after(&headers), Some(Duration::from_millis(150)));
        headers.remove("retry-after-ms");
        headers.insert(
            "retry-after",
            "Wed, 21 Oct 2015 07:28:00 GMT"
                .parse()
                .expect("static header"),
        );
        assert_eq!(retry_after(&headers), None);
    }

    #[test]
    fn classification() {
        let api = |status| LlmError::Api {
            status,
            error: ApiError::default(),
            retry_after: None,
        };
        assert!(api(429).is_retryable());
        assert!(api(500).is_retryable());
        assert!(api(503).is_retryable());
        assert!(!api(400).is_retryable());
        assert!(!api(401).is_retryable());
        assert!(!LlmError::Timeout(Duration::from_secs(1)).is_retryable());
        assert!(LlmError::Network("refused".into()).is_retryable());
        assert_eq!(api(503).outcome(), Outcome::ServerError(503));
        assert_eq!(api(401).outcome(), Outcome::ClientError(401));
        assert_eq!(api(429).outcome(), Outcome::RateLimited);
        assert!(!api(400).counts_against_server());
        assert!(api(502).counts_against_server());
    }
}
