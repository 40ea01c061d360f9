//! A fake of Twilio's REST API for calls, on loopback (docs/protocols.md §2.4, §2.6).
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
                post(start_recording),
            )
            .route(
                "/2010-04-01/Accounts/{account_sid}/Messages.json",
                post(create_message),
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

/// `POST …/Calls/{CallSid}/Recordings.json`: starts recording a live call (Twilio answers
/// 201 with the Recording resource, `in-progress`). Twilio's status callback for the finished
/// recording is left to the test, which knows when the call ends.
async fn start_recording(
    State(shared): State<Arc<Shared>>,
    Path((account_sid, call_sid)): Path<(String, String)>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let form = match authorized_form(&shared, &headers, &account_sid, form) {
        Ok(form) => form,
        Err(error) => return error.into_response(),
    };
    if !is_call_sid(&call_sid) {
        return twilio_error(
            StatusCode::NOT_FOUND,
            20404,
            "The requested resource was not found",
        );
    }
    let mut inner = shared.lock();
    if inner.ended.contains(&call_sid) {
        return twilio_error(
            StatusCode::BAD_REQUEST,
            21220,
            "Call is not in-progress. Cannot start recording.",
        );
    }
    inner.next_recording += 1;
    let sid = format!("RE{:032x}", inner.next_recording);
    let channels = field(&form, "RecordingChannels");
    inner.recordings.push(StartedRecording {
        sid: sid.clone(),
        call_sid: call_sid.clone(),
        status_callback: field(&form, "RecordingStatusCallback"),
        channels: channels.clone(),
        at: Instant::now(),
    });
    drop(inner);
    let now = rfc2822_now();
    let resource = json!({
        "sid": sid,
        "account_sid": account_sid,
        "call_sid": call_sid,
        "status": "in-progress",
        "channels": if channels.as_deref() == Some("dual") { 2 } else { 1 },
        "source": "StartCallRecordingAPI",
        "duration": "-1",
        "date_created": now,
        "date_updated": now,
        "uri": format!("/2010-04-01/Accounts/{account_sid}/Calls/{call_sid}/Recordings/{sid}.json"),
    });
    (StatusCode::CREATED, axum::Json(resource)).into_response()
}

/// The longest body Twilio accepts.
const MAX_BODY_CHARS: usize = 1600;

/// `POST …/Messages.json`: an SMS, checked as Twilio checks it and kept for tests to read.
async fn create_message(
    State(shared): State<Arc<Shared>>,
    Path(account_sid): Path<String>,
    headers: HeaderMap,
    form: Result<Form<Vec<(String, String)>>, FormRejection>,
) -> Response {
    let form = match authorized_form(&shared, &headers, &account_sid, form) {
        Ok(form) => form,
        Err(error) => return error.into_response(),
    };
    let Some(to) = field(&form, "To") else {
        return twilio_error(
            StatusCode::BAD_REQUEST,
            21604,
            "A 'To' phone number is required.",
        );
    };
    let e164 = to.len() > 8 && to.starts_with('+') && to[1..].bytes().all(|b| b.is_ascii_digit());
    if !e164 {
        let message = format!("The 'To' number {to} is not a valid phone number.");
        return twilio_error(StatusCode::BAD_REQUEST, 21211, &message);
    }
    let Some(from) = field(&form, "From").or_else(|| field(&form, "MessagingServiceSid")) else {
        return twilio_error(
            StatusCode::BAD_REQUEST,
            21603,
            "A 'From' phone number is required.",
        );
    };
    let body = field(&form, "Body").unwrap_or_default();
    if body.is_empty() {
        return twilio_error(StatusCode::BAD_REQUEST, 21602, "Message body is required.");
    }
    if body.chars().count() > MAX_BODY_CHARS {
        return twilio_error(
            StatusCode::BAD_REQUEST,
            21617,
            "The concatenated message body exceeds the 1600 character limit.",
        );
    }
    let mut inner = shared.lock();
    inner.next_message += 1;
    let sid = format!("SM{:032x}", inner.next_message);
    inner.messages.push(SentMessage {
        sid: sid.clone(),
        to: to.clone(),
        from: from.clone(),
        body: body.clone(),
        at: Instant::now(),
    });
    drop(inner);
    let resource = json!({
        "sid": sid,
        "account_sid": account_sid,
        "messaging_service_sid": null,
        "from": from,
        "to": to,
        "body": body,
        "status": "queued",
        "direction": "outbound-api",
        "num_segments": "1",
        "num_media": "0",
        "price": null,
        "price_unit": "USD",
        "error_code": null,
        "error_message": null,
        "api_version": "2010-04-01",
        "uri": format!("/2010-04-01/Accounts/{account_sid}/Messages/{sid}.json"),
    });
    (StatusCode::CREATED, axum::Json(resource)).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACCOUNT: &str = "AC00000000000000000000000000000000";
    const TOKEN: &str = "tok";
    const CALL: &str = "CA0123456789abcdef0123456789abcdef";

    async fn fake() -> FakeTwilioRest {
        match FakeTwilioRest::start(ACCOUNT, TOKEN).await {
            Ok(f) => f,
            Err(e) => panic!("fake: {e}"),
        }
    }

    fn http() -> reqwest::Client {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::new()
    }

    async fn post(
        fake: &FakeTwilioRest,
        path: &str,
        user: &str,
        pass: &str,
        form: &[(&str, &str)],
    ) -> (u16, Value) {
        let response = http()
            .post(format!("{}{path}", fake.base_url()))
            .basic_auth(user, Some(pass))
            .form(form)
            .send()
            .await;
        let response = match response {
            Ok(r) => r,
            Err(e) => panic!("request: {e}"),
        };
        let status = response.status().as_u16();
        let body = response.json::<Value>().await.unwrap_or(Value::Null);
        (status, body)
    }

    fn call_path(account: &str, call: &str) -> String {
        format!("/2010-04-01/Accounts/{account}/Calls/{call}.json")
    }

    #[tokio::test]
    async fn update_answers_with_a_call_resource() {
        let fake = fake().await;
        let (status, body) = post(
            &fake,
            &call_path(ACCOUNT, CALL),
            ACCOUNT,
            TOKEN,
            &[("Twiml", "<Response/>")],
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["sid"], CALL);
        assert_eq!(body["account_sid"], ACCOUNT);
        assert_eq!(body["status"], "in-progress");
        assert_eq!(body["uri"], call_path(ACCOUNT, CALL));
        let date = body["date_updated"].as_str().unwrap_or_default();
        assert!(jiff::fmt::rfc2822::parse(date).is_ok(), "{date}");
        assert!(date.ends_with("+0000"), "{date}");

        let (status, body) = post(
            &fake,
            &call_path(ACCOUNT, CALL),
            ACCOUNT,
            TOKEN,
            &[("Status", "completed")],
        )
        .await;
        assert_eq!((status, body["status"].as_str()), (200, Some("completed")));
        fake.shutdown().await;
    }

    async fn expect_error(
        fake: &FakeTwilioRest,
        (path, user, pass): (&str, &str, &str),
        form: &[(&str, &str)],
        status: u16,
        code: u64,
    ) {
        let (got_status, body) = post(fake, path, user, pass, form).await;
        let context = format!("{path} {user}:{pass} {form:?}: {body}");
        assert_eq!(
            (got_status, body["code"].as_u64()),
            (status, Some(code)),
            "{context}"
        );
        assert_eq!(
            body["status"].as_u64(),
            Some(u64::from(status)),
            "{context}"
        );
        let more_info = body["more_info"].as_str().unwrap_or_default();
        assert!(more_info.ends_with(&code.to_string()), "{context}");
    }

    #[tokio::test]
    async fn rejects_what_twilio_rejects() {
        let fake = fake().await;
        let path = call_path(ACCOUNT, CALL);
        let hang_up = [("Status", "completed")];
        expect_error(&fake, (&path, ACCOUNT, "bad"), &hang_up, 401, 20003).await;
        expect_error(&fake, (&path, "ACother", TOKEN), &hang_up, 401, 20003).await;
        let other_account = call_path("AC11111111111111111111111111111111", CALL);
        expect_error(
            &fake,
            (&other_account, ACCOUNT, TOKEN),
            &hang_up,
            404,
            20404,
        )
        .await;
        let bad_sid = call_path(ACCOUNT, "CAnothex");
        expect_error(&fake, (&bad_sid, ACCOUNT, TOKEN), &hang_up, 404, 20404).await;
        expect_error(&fake, (&path, ACCOUNT, TOKEN), &[], 400, 21218).await;
        let both = [("Twiml", "<Response/>"), ("Url", "https://x")];
        expect_error(&fake, (&path, ACCOUNT, TOKEN), &both, 400, 21218).await;
        expect_error(
            &fake,
            (&path, ACCOUNT, TOKEN),
            &[("Status", "busy")],
            400,
            20001,
        )
        .await;
        let messages = "/2010-04-01/Accounts/x/Messages.json";
        expect_error(&fake, (messages, ACCOUNT, TOKEN), &[], 404, 20404).await;
        assert!(fake.updates().is_empty());
    }

    #[tokio::test]
    async fn ended_calls_cannot_be_updated() {
        let fake = fake().await;
        fake.end_call(CALL);
        let (status, body) = post(
            &fake,
            &call_path(ACCOUNT, CALL),
            ACCOUNT,
            TOKEN,
            &[("Url", "https://x/y")],
        )
        .await;
        assert_eq!((status, body["code"].as_u64()), (400, Some(21220)));
    }

    #[tokio::test]
    async fn subscription_sees_a_dial() {
        let fake = fake().await;
        let mut updates = fake.subscribe(CALL);
        let dial = "<Response><Dial>+15558675310</Dial></Response>";
        let (status, _) = post(
            &fake,
            &call_path(ACCOUNT, CALL),
            ACCOUNT,
            TOKEN,
            &[("Twiml", dial)],
        )
        .await;
        assert_eq!(status, 200);
        match updates.try_recv() {
            Ok(update) => assert_eq!(update.twiml.as_deref(), Some(dial)),
            Err(e) => panic!("no update: {e}"),
        }
    }

    #[tokio::test]
    async fn creates_calls() {
        let fake = fake().await;
        let path = format!("/2010-04-01/Accounts/{ACCOUNT}/Calls.json");
        let form = [
            ("To", "+15558675310"),
            ("From", "+15005550006"),
            ("Url", "https://example.com/voice"),
        ];
        let (status, body) = post(&fake, &path, ACCOUNT, TOKEN, &form).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["status"], "queued");
        assert_eq!(body["to"], "+15558675310");
        let sid = body["sid"].as_str().unwrap_or_default().to_string();
        assert!(is_call_sid(&sid), "{sid}");
        assert_eq!(fake.created_calls().len(), 1);
        assert_eq!(fake.created_calls()[0].call_sid, sid);
        let (status, body) = post(
            &fake,
            &path,
            ACCOUNT,
            TOKEN,
            &[("To", "+1"), ("From", "+2")],
        )
        .await;
        assert_eq!((status, body["code"].as_u64()), (400, Some(21205)));
    }

    #[tokio::test]
    async fn shutdown_stops_serving() {
        let fake = fake().await;
        let url = format!("{}{}", fake.base_url(), call_path(ACCOUNT, CALL));
        fake.shutdown().await;
        assert!(
            http()
                .post(url)
                .form(&[("Status", "completed")])
                .send()
                .await
                .is_err()
        );
    }
}
