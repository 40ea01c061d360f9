//! A fake of Twilio's REST API for calls, texts and recordings, on loopback
//! (docs/protocols.md §2.4 to §2.6).
//!
//! It checks what the real API checks (HTTP Basic auth, the account in the path, the form
//! rules of a call update) and answers with the same status codes and JSON shapes, and records
//! every update so tests and the softphone can act on it: a fake Media Stream subscribes to
//! its call and ends the stream on new TwiML, as real Twilio does.
//!
//! Simplifications, on purpose: the real API answers 404 for calls that do not exist; this one
//! accepts any well-formed call SID (`CA` + 32 hex digits), because calls are placed by other
//! fakes it does not know about. A call counts as ended once it was hung up through this API or
//! marked with [`FakeTwilioRest::end_call`]; updating it then fails with 400 / 21220 like the
//! real API. `Status=canceled` is accepted but leaves the call `in-progress`, as Twilio does for
//! a call that was already answered. TwiML sent in an update is recorded, not validated.

mod messages;
mod recordings;
#[cfg(test)]
mod tests;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use axum::Router;

use super::http_server::FakeHttpServer;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine as _;
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// One accepted `POST …/Calls/{CallSid}.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct CallUpdate {
    pub call_sid: String,
    pub twiml: Option<String>,
    pub url: Option<String>,
    pub status: Option<String>,
    pub at: Instant,
}

/// One accepted `POST …/Messages.json` (docs/protocols.md §2.5).
#[derive(Debug, Clone, PartialEq)]
pub struct SentMessage {
    pub sid: String,
    pub to: String,
    /// `From`, or the `MessagingServiceSid` given instead.
    pub from: String,
    pub body: String,
    pub at: Instant,
}

/// One accepted `POST …/Calls.json`.
#[derive(Debug, Clone, PartialEq)]
pub struct CreatedCall {
    pub call_sid: String,
    pub to: String,
    pub from: String,
    pub url: Option<String>,
    pub twiml: Option<String>,
    /// `Enable` or `DetectMessageEnd` when answering-machine detection was asked for.
    pub machine_detection: Option<String>,
    pub status_callback: Option<String>,
    pub at: Instant,
}

/// One accepted `POST …/Calls/{CallSid}/Recordings.json` (recording a live call).
#[derive(Debug, Clone, PartialEq)]
pub struct StartedRecording {
    pub sid: String,
    pub call_sid: String,
    pub status_callback: Option<String>,
    /// `mono` or `dual`, as asked.
    pub channels: Option<String>,
    pub at: Instant,
}

struct Shared {
    account_sid: String,
    auth_token: String,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    updates: Vec<CallUpdate>,
    created: Vec<CreatedCall>,
    messages: Vec<SentMessage>,
    recordings: Vec<StartedRecording>,
    subscribers: Vec<(String, mpsc::UnboundedSender<CallUpdate>)>,
    ended: HashSet<String>,
    /// Updates still to fail with a 500, to exercise clients' retries.
    failures_to_inject: u32,
    next_call: u64,
    next_message: u64,
    next_recording: u64,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panicking test thread must not take every later request down with it.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

pub struct FakeTwilioRest {
    addr: SocketAddr,
    shared: Arc<Shared>,
    server: FakeHttpServer,
}

impl FakeTwilioRest {
    /// Starts the fake on `127.0.0.1` on a free port. It accepts requests authenticated as
    /// `account_sid:auth_token` for that account.
    pub async fn start(account_sid: &str, auth_token: &str) -> std::io::Result<FakeTwilioRest> {
        let any_port = SocketAddr::from(([127, 0, 0, 1], 0));
        FakeTwilioRest::start_on(any_port, account_sid, auth_token).await
    }

    /// Starts the fake on a given address (the local softphone uses a fixed port, so a server
    /// started separately can be pointed at it).
    pub async fn start_on(
        addr: SocketAddr,
        account_sid: &str,
        auth_token: &str,
    ) -> std::io::Result<FakeTwilioRest> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            account_sid: account_sid.to_string(),
            auth_token: auth_token.to_string(),
            inner: Mutex::new(Inner::default()),
        });
        let app = Router::new()
            .route(
                "/2010-04-01/Accounts/{account_sid}/Calls/{call_file}",
                post(update_call),
            )
            .route(
                "/2010-04-01/Accounts/{account_sid}/Calls.json",
                post(create_call),
            )
            .route(
                "/2010-04-01/Accounts/{account_sid}/Calls/{call_sid}/Recordings.json",
                post(recordings::start_recording),
            )
            .route(
                "/2010-04-01/Accounts/{account_sid}/Messages.json",
                post(messages::create_message).get(messages::list_messages),
            )
            .fallback(|| async {
                twilio_error(
                    StatusCode::NOT_FOUND,
                    20404,
                    "The requested resource was not found",
                )
            })
            .with_state(shared.clone());
        let server = FakeHttpServer::spawn(listener, app, "fake Twilio REST");
        Ok(FakeTwilioRest {
            addr,
            shared,
            server,
        })
    }

    /// `http://127.0.0.1:PORT`, to use as the client's base URL.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every accepted call update, oldest first.
    pub fn updates(&self) -> Vec<CallUpdate> {
        self.shared.lock().updates.clone()
    }

    /// Every call created through `POST …/Calls.json`, oldest first.
    pub fn created_calls(&self) -> Vec<CreatedCall> {
        self.shared.lock().created.clone()
    }

    /// Every message accepted through `POST …/Messages.json`, oldest first.
    pub fn messages(&self) -> Vec<SentMessage> {
        self.shared.lock().messages.clone()
    }

    /// Every recording started, oldest first.
    pub fn recordings(&self) -> Vec<StartedRecording> {
        self.shared.lock().recordings.clone()
    }

    /// Updates to `call_sid` accepted from now on.
    pub fn subscribe(&self, call_sid: &str) -> mpsc::UnboundedReceiver<CallUpdate> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.shared
            .lock()
            .subscribers
            .push((call_sid.to_string(), tx));
        rx
    }

    /// Marks a call as over (the caller hung up): further updates to it fail like Twilio's.
    pub fn end_call(&self, call_sid: &str) {
        self.shared.lock().ended.insert(call_sid.to_string());
    }

    /// Makes the next `count` authenticated requests fail with a 500, as a Twilio outage would.
    pub fn fail_next(&self, count: u32) {
        self.shared.lock().failures_to_inject = count;
    }

    /// Stops the server and waits until it has.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

/// Twilio's error body (docs/protocols.md §2.4).
fn twilio_error(status: StatusCode, code: u32, message: &str) -> Response {
    let body = json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status.as_u16(),
    });
    let mut response = (status, axum::Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"Twilio API\""),
        );
    }
    response
}

/// An error answer, kept small until it becomes a response.
struct ApiError {
    status: StatusCode,
    code: u32,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: u32, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        twilio_error(self.status, self.code, &self.message)
    }
}

/// The checks every request gets, in Twilio's order: credentials, then the account in the path,
/// then injected outages.
fn check_request(shared: &Shared, headers: &HeaderMap, account_sid: &str) -> Result<(), ApiError> {
    let authorized = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b64| {
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .ok()
        })
        .and_then(|raw| String::from_utf8(raw).ok())
        .is_some_and(|pair| {
            pair.split_once(':') == Some((shared.account_sid.as_str(), shared.auth_token.as_str()))
        });
    if !authorized {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            20003,
            "Authenticate",
        ));
    }
    if account_sid != shared.account_sid {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            20404,
            "The requested resource was not found",
        ));
    }
    let mut inner = shared.lock();
    if inner.failures_to_inject > 0 {
        inner.failures_to_inject -= 1;
        return Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            20500,
            "Internal Server Error",
        ));
    }
    Ok(())
}

fn is_call_sid(sid: &str) -> bool {
    sid.len() == 34 && sid.starts_with("CA") && sid[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

fn rfc2822_now() -> String {
    let now = jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC);
    jiff::fmt::rfc2822::to_string(&now).unwrap_or_default()
}

fn call_json(account_sid: &str, call_sid: &str, status: &str, extra: &[(&str, Value)]) -> Value {
    let now = rfc2822_now();
    let mut call = json!({
        "sid": call_sid,
        "account_sid": account_sid,
        "status": status,
        "api_version": "2010-04-01",
        "date_created": now,
        "date_updated": now,
        "uri": format!("/2010-04-01/Accounts/{account_sid}/Calls/{call_sid}.json"),
    });
    if let Value::Object(map) = &mut call {
        for (key, value) in extra {
            map.insert((*key).to_string(), value.clone());
        }
    }
    call
}

/// The last value of a form field (the API reads scalars that way too).
fn field(form: &[(String, String)], name: &str) -> Option<String> {
    form.iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

/// The form of a create request, once its credentials and account are checked.
fn authorized_form(
    shared: &Shared,
    headers: &HeaderMap,
    account_sid: &str,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Vec<(String, String)>, ApiError> {
    check_request(shared, headers, account_sid)?;
    form_or_error(form)
}

fn form_or_error(
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Result<Vec<(String, String)>, ApiError> {
    form.map(|Form(fields)| fields).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            20001,
            format!("Invalid form body: {e}"),
        )
    })
}

async fn update_call(
    State(shared): State<Arc<Shared>>,
    Path((account_sid, call_file)): Path<(String, String)>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    if let Err(error) = check_request(&shared, &headers, &account_sid) {
        return error.into_response();
    }
    let call_sid = match call_file.strip_suffix(".json") {
        Some(sid) if is_call_sid(sid) => sid.to_string(),
        _ => {
            return twilio_error(
                StatusCode::NOT_FOUND,
                20404,
                "The requested resource was not found",
            );
        }
    };
    let form = match form_or_error(form) {
        Ok(form) => form,
        Err(error) => return error.into_response(),
    };
    let twiml = field(&form, "Twiml");
    let url = field(&form, "Url");
    let status = field(&form, "Status");
    let given = [&twiml, &url, &status]
        .iter()
        .filter(|v| v.is_some())
        .count();
    if given != 1 {
        return twilio_error(
            StatusCode::BAD_REQUEST,
            21218,
            "Exactly one of Url, Twiml or Status is required",
        );
    }
    if let Some(status) = &status
        && status != "completed"
        && status != "canceled"
    {
        return twilio_error(
            StatusCode::BAD_REQUEST,
            20001,
            &format!("Invalid Status {status:?}: must be completed or canceled"),
        );
    }

    let mut inner = shared.lock();
    if inner.ended.contains(&call_sid) {
        return twilio_error(
            StatusCode::BAD_REQUEST,
            21220,
            "Call is not in-progress. Cannot redirect.",
        );
    }
    let hung_up = status.as_deref() == Some("completed");
    if hung_up {
        inner.ended.insert(call_sid.clone());
    }
    let update = CallUpdate {
        call_sid: call_sid.clone(),
        twiml,
        url,
        status,
        at: Instant::now(),
    };
    inner.updates.push(update.clone());
    // Deliver to this call's subscribers, forgetting those that went away.
    inner
        .subscribers
        .retain(|(sid, tx)| sid != &call_sid || tx.send(update.clone()).is_ok());
    drop(inner);

    let status = if hung_up { "completed" } else { "in-progress" };
    (
        StatusCode::OK,
        axum::Json(call_json(&account_sid, &call_sid, status, &[])),
    )
        .into_response()
}

async fn create_call(
    State(shared): State<Arc<Shared>>,
    Path(account_sid): Path<String>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let form = match authorized_form(&shared, &headers, &account_sid, form) {
        Ok(form) => form,
        Err(error) => return error.into_response(),
    };
    let (Some(to), Some(from)) = (field(&form, "To"), field(&form, "From")) else {
        return twilio_error(StatusCode::BAD_REQUEST, 21201, "To and From are required");
    };
    let url = field(&form, "Url");
    let twiml = field(&form, "Twiml");
    let given = [&url, &twiml, &field(&form, "ApplicationSid")]
        .iter()
        .filter(|v| v.is_some())
        .count();
    if given != 1 {
        return twilio_error(
            StatusCode::BAD_REQUEST,
            21205,
            "Exactly one of Url, Twiml or ApplicationSid is required",
        );
    }
    let mut inner = shared.lock();
    inner.next_call += 1;
    let call_sid = format!("CA{:032x}", inner.next_call);
    inner.created.push(CreatedCall {
        call_sid: call_sid.clone(),
        to: to.clone(),
        from: from.clone(),
        url,
        twiml,
        machine_detection: field(&form, "MachineDetection"),
        status_callback: field(&form, "StatusCallback"),
        at: Instant::now(),
    });
    drop(inner);
    let extra = [
        ("to", json!(to)),
        ("from", json!(from)),
        ("direction", json!("outbound-api")),
    ];
    (
        StatusCode::CREATED,
        axum::Json(call_json(&account_sid, &call_sid, "queued", &extra)),
    )
        .into_response()
}
