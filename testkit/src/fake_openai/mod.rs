//! A fake OpenAI-compatible Chat Completions server on loopback (docs/protocols.md §6).
//!
//! It checks the bearer key and the request shape the way OpenAI does (401 `invalid_api_key`,
//! 400 `invalid_request_error`, strict-schema rules), then answers with the next scripted
//! [`Reply`]: JSON (as content, or as a tool call's arguments when the request forced a tool),
//! text (streamed word by word as SSE exactly like §6.3 when `stream: true`), errors, refusals,
//! delays and hangs. Every request body is recorded so tests can assert what a client sent.
//!
//! Simplifications: one choice per answer (`n` is ignored); token counts are word counts.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::sync::{mpsc, watch};

use super::http_server::FakeHttpServer;

/// What the fake does with one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// Structured output: `message.content` is this JSON as a string, or, when the request
    /// had tools, a call to the forced (or first) tool with it as `arguments`.
    Json(Value),
    /// A plain answer, streamed word by word when the request asks for a stream.
    Text(String),
    /// An error answer with extra headers (e.g. `retry-after`).
    Error {
        status: u16,
        body: Value,
        headers: Vec<(String, String)>,
    },
    /// The model declines: `message.refusal` (streaming: `delta.refusal`).
    Refusal(String),
    /// Waits, then answers.
    Delay(Duration, Box<Reply>),
    /// Accepts the request and never answers.
    Hang,
}

impl Reply {
    pub fn error(status: u16, body: Value) -> Reply {
        Reply::Error {
            status,
            body,
            headers: Vec::new(),
        }
    }

    /// OpenAI's 429 rate limit, optionally with `retry-after` in seconds.
    pub fn rate_limited(retry_after_secs: Option<u32>) -> Reply {
        let body = openai_error(
            "Rate limit reached for requests",
            "requests",
            None,
            Some("rate_limit_exceeded"),
        );
        Reply::Error {
            status: 429,
            body,
            headers: retry_after_secs
                .map(|s| ("retry-after".to_string(), s.to_string()))
                .into_iter()
                .collect(),
        }
    }

    /// OpenAI's 429 for an account without credit: retrying cannot help.
    pub fn insufficient_quota() -> Reply {
        Reply::error(
            429,
            openai_error(
                "You exceeded your current quota, please check your plan and billing details.",
                "insufficient_quota",
                None,
                Some("insufficient_quota"),
            ),
        )
    }

    pub fn server_error() -> Reply {
        Reply::error(
            500,
            openai_error(
                "The server had an error while processing your request. Sorry about that!",
                "server_error",
                None,
                None,
            ),
        )
    }

    pub fn overloaded() -> Reply {
        Reply::error(
            503,
            openai_error(
                "The engine is currently overloaded, please try again later",
                "server_error",
                None,
                None,
            ),
        )
    }

    pub fn delayed(self, delay: Duration) -> Reply {
        Reply::Delay(delay, Box::new(self))
    }
}

/// OpenAI's error body: `{"error":{message,type,param,code}}`.
pub fn openai_error(message: &str, kind: &str, param: Option<&str>, code: Option<&str>) -> Value {
    json!({"error": {"message": message, "type": kind, "param": param, "code": code}})
}

#[derive(Debug, Clone)]
pub struct FakeOpenAiOptions {
    /// Address to listen on; a free loopback port when `None`.
    pub bind: Option<SocketAddr>,
    /// Required as `Authorization: Bearer …` when set.
    pub api_key: Option<String>,
    /// Streaming pace; `None` sends every token at once.
    pub tokens_per_second: Option<f32>,
    /// The answer when no scripted reply is queued.
    pub default_reply: Reply,
    /// The answer to free-form requests (no `response_format`, no tools) when none is queued
    /// with [`FakeOpenAi::push_answer`]; `None` treats them like any other request.
    pub answer_reply: Option<Reply>,
}

impl Default for FakeOpenAiOptions {
    fn default() -> Self {
        FakeOpenAiOptions {
            bind: None,
            api_key: None,
            tokens_per_second: None,
            default_reply: Reply::error(
                500,
                openai_error("fake: no scripted reply left", "server_error", None, None),
            ),
            answer_reply: None,
        }
    }
}

struct Shared {
    options: FakeOpenAiOptions,
    inner: Mutex<Inner>,
    /// Streams pause before sending token number N (0-based) while this is `Some(N)`.
    hold: watch::Sender<Option<usize>>,
}

#[derive(Default)]
struct Inner {
    queue: VecDeque<Reply>,
    /// Scripted replies for free-form requests only.
    answers: VecDeque<Reply>,
    requests: Vec<Value>,
    arrivals: Vec<Instant>,
    completed_streams: usize,
    streamed_tokens: usize,
    next_id: u64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking test thread must not take every later request down with it.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

pub struct FakeOpenAi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    /// Serves until the fake is dropped.
    _server: FakeHttpServer,
}

impl FakeOpenAi {
    /// Starts the fake on `options.bind`, or on `127.0.0.1` on a free port.
    pub async fn start(options: FakeOpenAiOptions) -> std::io::Result<FakeOpenAi> {
        let bind = options
            .bind
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        let listener = tokio::net::TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            options,
            inner: Mutex::new(Inner::default()),
            hold: watch::Sender::new(None),
        });
        let app = Router::new()
            .route("/v1/chat/completions", post(chat_completions))
            .fallback(|| async {
                error_response(
                    404,
                    openai_error("Invalid URL", "invalid_request_error", None, None),
                )
            })
            .with_state(shared.clone());
        let server = FakeHttpServer::spawn(listener, app, "fake OpenAI");
        Ok(FakeOpenAi {
            addr,
            shared,
            _server: server,
        })
    }

    /// `http://127.0.0.1:PORT/v1`, the client's base URL.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Queues the answer to a later request (first in, first out).
    pub fn push(&self, reply: Reply) {
        self.shared.lock().queue.push_back(reply);
    }

    /// Queues the reply to the next free-form request (when `answer_reply` is set).
    pub fn push_answer(&self, reply: Reply) {
        self.shared.lock().answers.push_back(reply);
    }

    /// Every authorised request body that was valid JSON, oldest first (malformed ones included).
    pub fn requests(&self) -> Vec<Value> {
        self.shared.lock().requests.clone()
    }

    /// How many requests reached the endpoint, whatever became of them.
    pub fn request_count(&self) -> usize {
        self.shared.lock().arrivals.len()
    }

    /// When each request arrived.
    pub fn arrivals(&self) -> Vec<Instant> {
        self.shared.lock().arrivals.clone()
    }

    /// Streams that got as far as `data: [DONE]`.
    pub fn completed_streams(&self) -> usize {
        self.shared.lock().completed_streams
    }

    /// Content tokens sent in streams so far.
    pub fn streamed_tokens(&self) -> usize {
        self.shared.lock().streamed_tokens
    }

    /// Makes streams pause before their token number `tokens` (0-based) until
    /// [`FakeOpenAi::release_streams`]: lets a test observe a stream that is half sent.
    pub fn hold_streams_after(&self, tokens: usize) {
        self.shared.hold.send_replace(Some(tokens));
    }

    pub fn release_streams(&self) {
        self.shared.hold.send_replace(None);
    }
}

/// What the answer depends on in a valid request.
struct Asked {
    model: String,
    stream: bool,
    include_usage: bool,
    /// The tool to call with a JSON reply.
    tool: Option<String>,
    prompt_tokens: usize,
    /// `max_completion_tokens` or `max_tokens`: longer answers stop there, `finish_reason`
    /// "length".
    max_tokens: Option<usize>,
}

async fn chat_completions(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.lock().arrivals.push(Instant::now());
    if let Err(response) = check_key(&shared.options, &headers) {
        return *response;
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return *invalid(
            "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)",
            None,
            None,
        );
    };
    shared.lock().requests.push(request.clone());
    let asked = match validate(&request) {
        Ok(asked) => asked,
        Err(response) => return *response,
    };
    let free_form = request.get("response_format").is_none() && request.get("tools").is_none();
    let mut reply = {
        let mut inner = shared.lock();
        let options = &shared.options;
        match (&options.answer_reply, free_form) {
            (Some(answer), true) => inner.answers.pop_front().unwrap_or_else(|| answer.clone()),
            _ => inner
                .queue
                .pop_front()
                .unwrap_or_else(|| options.default_reply.clone()),
        }
    };
    loop {
        match reply {
            Reply::Delay(delay, inner) => {
                tokio::time::sleep(delay).await;
                reply = *inner;
            }
            Reply::Hang => std::future::pending::<()>().await,
            Reply::Error {
                status,
                body,
                headers,
            } => {
                let mut response = error_response(status, body);
                for (name, value) in headers {
                    if let (Ok(name), Ok(value)) = (
                        HeaderName::try_from(name.as_str()),
                        HeaderValue::try_from(value.as_str()),
                    ) {
                        response.headers_mut().insert(name, value);
                    }
                }
                return response;
            }
            Reply::Json(value) => return answer(&shared, &asked, Output::Json(value)),
            Reply::Text(text) => return answer(&shared, &asked, Output::Text(text)),
            Reply::Refusal(text) => return answer(&shared, &asked, Output::Refusal(text)),
        }
    }
}

fn check_key(options: &FakeOpenAiOptions, headers: &HeaderMap) -> Result<(), Rejection> {
    let Some(expected) = &options.api_key else {
        return Ok(());
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match given {
        Some(key) if key == expected => Ok(()),
        None => Err(Box::new(error_response(
            401,
            openai_error(
                "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
                "invalid_request_error",
                None,
                None,
            ),
        ))),
        Some(key) => {
            // OpenAI shows only the ends of a wrong key.
            let shown: String = key.chars().take(3).collect();
            Err(Box::new(error_response(
                401,
                openai_error(
                    &format!(
                        "Incorrect API key provided: {shown}****. You can find your API key at https://platform.openai.com/account/api-keys."
                    ),
                    "invalid_request_error",
                    None,
                    Some("invalid_api_key"),
                ),
            )))
        }
    }
}

fn error_response(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(body)).into_response()
}

fn invalid(message: &str, param: Option<&str>, code: Option<&str>) -> Rejection {
    Box::new(error_response(
        400,
        openai_error(message, "invalid_request_error", param, code),
    ))
}

/// An error answer, boxed because a `Response` is large to move around in a `Result`.
type Rejection = Box<Response>;

/// Builds the delta that carries one streamed piece.
type PieceDelta = fn(&str) -> Value;

/// OpenAI's checks on the parts of a request Frontdesk uses.
fn validate(request: &Value) -> Result<Asked, Rejection> {
    let model = match request.get("model") {
        Some(Value::String(m)) if !m.is_empty() => m.clone(),
        _ => return Err(invalid("you must provide a model parameter", None, None)),
    };
    let Some(messages) = request.get("messages").and_then(Value::as_array) else {
        return Err(invalid(
            "Missing required parameter: 'messages'.",
            Some("messages"),
            Some("missing_required_parameter"),
        ));
    };
    if messages.is_empty() {
        return Err(invalid(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
            Some("messages"),
            Some("empty_array"),
        ));
    }
    let mut prompt_tokens = 0;
    for (i, message) in messages.iter().enumerate() {
        let role = message.get("role").and_then(Value::as_str).unwrap_or("");
        if ![
            "system",
            "developer",
            "user",
            "assistant",
            "tool",
            "function",
        ]
        .contains(&role)
        {
            return Err(invalid(
                &format!(
                    "Invalid value: '{role}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'."
                ),
                Some(&format!("messages[{i}].role")),
                Some("invalid_value"),
            ));
        }
        if let Some(content) = message.get("content").and_then(Value::as_str) {
            prompt_tokens += content.split_whitespace().count();
        }
    }
    if let Some(format) = request.get("response_format")
        && format.get("type").and_then(Value::as_str) == Some("json_schema")
    {
        let spec = format.get("json_schema").unwrap_or(&Value::Null);
        let name = spec.get("name").and_then(Value::as_str).unwrap_or("");
        check_name(name, "response_format.json_schema.name")?;
        if spec.get("strict").and_then(Value::as_bool) == Some(true)
            && let Some(problem) = strict_problem(spec.get("schema").unwrap_or(&Value::Null), "")
        {
            return Err(invalid(
                &format!("Invalid schema for response_format '{name}': {problem}"),
                Some("response_format"),
                None,
            ));
        }
    }
    let tools = request.get("tools").and_then(Value::as_array);
    let mut tool_names = Vec::new();
    for (i, tool) in tools.into_iter().flatten().enumerate() {
        let function = tool.get("function").unwrap_or(&Value::Null);
        let name = function.get("name").and_then(Value::as_str).unwrap_or("");
        check_name(name, &format!("tools[{i}].function.name"))?;
        if function.get("strict").and_then(Value::as_bool) == Some(true)
            && let Some(problem) =
                strict_problem(function.get("parameters").unwrap_or(&Value::Null), "")
        {
            return Err(invalid(
                &format!("Invalid schema for function '{name}': {problem}"),
                Some(&format!("tools[{i}].function.parameters")),
                Some("invalid_function_parameters"),
            ));
        }
        tool_names.push(name.to_string());
    }
    let forced = request
        .pointer("/tool_choice/function/name")
        .and_then(Value::as_str);
    if let Some(forced) = forced
        && !tool_names.iter().any(|n| n == forced)
    {
        return Err(invalid(
            &format!("Invalid 'tool_choice': function '{forced}' is not in 'tools'."),
            Some("tool_choice"),
            Some("invalid_value"),
        ));
    }
    let tool = match request.get("tool_choice").and_then(Value::as_str) {
        Some("none") => None,
        _ => forced.map(str::to_string).or(tool_names.into_iter().next()),
    };
    Ok(Asked {
        model,
        stream: request.get("stream").and_then(Value::as_bool) == Some(true),
        include_usage: request
            .pointer("/stream_options/include_usage")
            .and_then(Value::as_bool)
            == Some(true),
        tool,
        prompt_tokens,
        max_tokens: ["max_completion_tokens", "max_tokens"]
            .iter()
            .find_map(|key| request.get(*key).and_then(Value::as_u64))
            .and_then(|n| usize::try_from(n).ok()),
    })
}

fn check_name(name: &str, param: &str) -> Result<(), Rejection> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if valid {
        return Ok(());
    }
    Err(invalid(
        &format!(
            "Invalid '{param}': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$' of at most 64 characters."
        ),
        Some(param),
        Some("invalid_value"),
    ))
}

/// The first breach of strict mode's rules: every object lists all its properties in
/// `required` and sets `additionalProperties: false`.
fn strict_problem(schema: &Value, context: &str) -> Option<String> {
    let Value::Object(fields) = schema else {
        return None;
    };
    let is_object = fields.get("type").and_then(Value::as_str) == Some("object")
        || fields.contains_key("properties");
    if is_object {
        if fields.get("additionalProperties") != Some(&Value::Bool(false)) {
            return Some(format!(
                "In context=({context}), 'additionalProperties' is required to be supplied and to be false."
            ));
        }
        let required: Vec<&str> = fields
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let properties = fields.get("properties").and_then(Value::as_object);
        for (key, sub) in properties.into_iter().flatten() {
            if !required.contains(&key.as_str()) {
                return Some(format!(
                    "In context=({context}), 'required' is required to be supplied and to be an array including every key in properties. Missing '{key}'."
                ));
            }
            let inner = format!(
                "{context}{}'properties', '{key}'",
                if context.is_empty() { "" } else { ", " }
            );
            if let Some(problem) = strict_problem(sub, &inner) {
                return Some(problem);
            }
        }
    }
    let nested = fields.get("items").into_iter().chain(
        fields
            .get("anyOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten(),
    );
    nested
        .into_iter()
        .find_map(|sub| strict_problem(sub, context))
}

enum Output {
    Json(Value),
    Text(String),
    Refusal(String),
}

fn answer(shared: &Arc<Shared>, asked: &Asked, output: Output) -> Response {
    let id = {
        let mut inner = shared.lock();
        inner.next_id += 1;
        format!("chatcmpl-fake{}", inner.next_id)
    };
    if asked.stream {
        return stream(shared.clone(), asked, id, output);
    }
    let (message, finish, completion_tokens) = match output {
        Output::Json(value) => {
            let text = value.to_string();
            let tokens = words(&text).len();
            match &asked.tool {
                Some(name) => (
                    json!({"role": "assistant", "content": null, "refusal": null, "tool_calls": [{
                        "id": format!("call_{id}"), "type": "function",
                        "function": {"name": name, "arguments": text}}]}),
                    "tool_calls",
                    tokens,
                ),
                None => (
                    json!({"role": "assistant", "content": text, "refusal": null}),
                    "stop",
                    tokens,
                ),
            }
        }
        Output::Text(text) => {
            let (pieces, finish) = limit(words(&text), asked.max_tokens, "stop");
            (
                json!({"role": "assistant", "content": pieces.concat(), "refusal": null}),
                finish,
                pieces.len(),
            )
        }
        Output::Refusal(text) => {
            let tokens = words(&text).len();
            (
                json!({"role": "assistant", "content": null, "refusal": text}),
                "stop",
                tokens,
            )
        }
    };
    let body = json!({
        "id": id, "object": "chat.completion", "created": created(), "model": asked.model,
        "choices": [{"index": 0, "message": message, "logprobs": null, "finish_reason": finish}],
        "usage": usage(asked.prompt_tokens, completion_tokens),
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}

/// Cuts an answer at the request's token limit, as servers do.
fn limit(
    mut pieces: Vec<String>,
    max_tokens: Option<usize>,
    finish: &'static str,
) -> (Vec<String>, &'static str) {
    match max_tokens {
        Some(max) if pieces.len() > max => {
            pieces.truncate(max);
            (pieces, "length")
        }
        _ => (pieces, finish),
    }
}

/// An SSE answer exactly as in docs/protocols.md §6.3.
fn stream(shared: Arc<Shared>, asked: &Asked, id: String, output: Output) -> Response {
    let chunk = {
        let (id, model, created) = (id.clone(), asked.model.clone(), created());
        move |delta: Value, finish: Option<&str>| {
            json!({"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
                "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]})
        }
    };
    let (first, pieces, piece_delta, finish): (Value, Vec<String>, PieceDelta, &str) =
        match (output, &asked.tool) {
            (Output::Json(value), Some(name)) => (
                json!({"role": "assistant", "content": null, "tool_calls": [{"index": 0,
                    "id": format!("call_{id}"), "type": "function",
                    "function": {"name": name, "arguments": ""}}]}),
                words(&value.to_string()),
                |piece| json!({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}),
                "tool_calls",
            ),
            (Output::Json(value), None) => (
                json!({"role": "assistant", "content": ""}),
                words(&value.to_string()),
                |piece| json!({"content": piece}),
                "stop",
            ),
            (Output::Text(text), _) => (
                json!({"role": "assistant", "content": ""}),
                words(&text),
                |piece| json!({"content": piece}),
                "stop",
            ),
            (Output::Refusal(text), _) => (
                json!({"role": "assistant", "content": null, "refusal": ""}),
                words(&text),
                |piece| json!({"refusal": piece}),
                "stop",
            ),
        };
    let (pieces, finish) = limit(pieces, asked.max_tokens, finish);
    let pace = shared
        .options
        .tokens_per_second
        .filter(|t| t.is_finite() && *t > 0.0)
        .map(|t| Duration::from_secs_f32(1.0 / t));
    let (include_usage, prompt_tokens) = (asked.include_usage, asked.prompt_tokens);
    let (tx, rx) = mpsc::channel::<Result<Bytes, Infallible>>(4);
    tokio::spawn(async move {
        let send = |value: &Value| tx.send(Ok(Bytes::from(format!("data: {value}\n\n"))));
        if send(&chunk(first, None)).await.is_err() {
            return;
        }
        let mut hold = shared.hold.subscribe();
        for (i, piece) in pieces.iter().enumerate() {
            // Wait while a test holds streams at this token; stop if the fake is gone.
            while hold.borrow_and_update().is_some_and(|n| i >= n) {
                if hold.changed().await.is_err() {
                    return;
                }
            }
            if let Some(pace) = pace {
                tokio::time::sleep(pace).await;
            }
            if send(&chunk(piece_delta(piece), None)).await.is_err() {
                return;
            }
            shared.lock().streamed_tokens += 1;
        }
        if send(&chunk(json!({}), Some(finish))).await.is_err() {
            return;
        }
        if include_usage {
            let last = json!({"id": id, "object": "chat.completion.chunk", "created": created(),
                "model": "", "choices": [], "usage": usage(prompt_tokens, pieces.len())});
            if send(&last).await.is_err() {
                return;
            }
        }
        if tx
            .send(Ok(Bytes::from_static(b"data: [DONE]\n\n")))
            .await
            .is_ok()
        {
            shared.lock().completed_streams += 1;
        }
    });
    let body = Body::from_stream(futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    }));
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// The text cut into streamed tokens: words with the space before them.
fn words(text: &str) -> Vec<String> {
    let mut pieces: Vec<String> = Vec::new();
    for (i, word) in text.split(' ').enumerate() {
        if i == 0 {
            pieces.push(word.to_string());
        } else {
            pieces.push(format!(" {word}"));
        }
    }
    pieces.retain(|p| !p.is_empty());
    pieces
}

fn usage(prompt: usize, completion: usize) -> Value {
    json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion})
}

fn created() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests;
