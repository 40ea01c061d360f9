//! Gather mode: one webhook per caller turn, answered with TwiML. Twilio does the speech
//! recognition (`<Gather input="speech dtmf">`) and the voice (`<Say>`).

use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use frontdesk_engine::SlotType;
use frontdesk_engine::{CallInfo, Input, Outcome};

use super::AppState;
use super::sessions::{ENDED_TTL, SESSION_TTL, SessionError};
use super::signature::{self, Rejection};
use crate::call::{AgentTurn, LiveCall};
use crate::call_event::Event;
use crate::logging::mask_phone;
use frontdesk_engine::RuntimeLine;
use frontdesk_telephony::twiml::{self, Gather, Say, Verb};

/// A Twilio webhook's form fields, in the order received (signatures need them all).
pub(super) struct Webhook {
    params: Vec<(String, String)>,
}

impl Webhook {
    /// Parses and authenticates a webhook, or answers it with 400/403.
    pub(super) fn read(
        state: &AppState,
        headers: &HeaderMap,
        uri: &Uri,
        body: &Bytes,
    ) -> Result<Webhook, Rejection> {
        let params: Vec<(String, String)> = serde_urlencoded::from_bytes(body).map_err(|e| {
            Rejection::new(
                StatusCode::BAD_REQUEST,
                format!("the form body could not be read: {e}"),
            )
        })?;
        signature::check_form(state, headers, uri, &params)?;
        Ok(Webhook { params })
    }

    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    pub(super) fn call_sid(&self) -> Result<&str, Rejection> {
        self.get("CallSid")
            .ok_or_else(|| Rejection::new(StatusCode::BAD_REQUEST, "CallSid is missing"))
    }
}

/// Handlers take a `Webhook` argument: it is only built for a readable, correctly signed form.
impl FromRequest<AppState> for Webhook {
    type Rejection = Rejection;

    async fn from_request(request: Request, state: &AppState) -> Result<Webhook, Rejection> {
        let headers = request.headers().clone();
        let uri = request.uri().clone();
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|e| Rejection::new(e.status(), e.body_text()))?;
        Webhook::read(state, &headers, &uri, &body)
    }
}

pub(super) fn xml(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response()
}

/// `POST /twilio/voice`: a call comes in.
pub(super) async fn voice(
    State(state): State<AppState>,
    uri: Uri,
    hook: Webhook,
) -> Result<Response, Rejection> {
    let sid = hook.call_sid()?.to_string();
    if state.calls().draining() {
        // Twilio then tries the number's fallback URL (another server, or a voicemail).
        tracing::info!(call_id = %sid, "refusing a new call while shutting down");
        crate::telemetry::call_refused("draining");
        return Ok((StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response());
    }
    let gather_mode = state.config().mode == super::Mode::Gather;
    if !state
        .calls()
        .admit(&sid, state.config().max_calls, gather_mode)
    {
        // Twilio then tries the number's fallback URL (a person, another server).
        tracing::warn!(call_id = %sid, max_calls = state.config().max_calls, "refusing a new call: at the limit of live calls");
        crate::telemetry::call_refused("capacity");
        return Ok((StatusCode::SERVICE_UNAVAILABLE, "at capacity\n").into_response());
    }
    if let Some(notice) = super::recording::notice_first(&state, &uri, &sid) {
        return Ok(notice);
    }
    let call = CallInfo {
        id: sid.clone(),
        caller: hook.get("From").and_then(caller_id),
        called: hook.get("To").map(str::to_string),
        customer: None,
    };
    if state.config().mode == super::Mode::Stream {
        tracing::info!(call_id = %sid, caller = %mask_phone(call.caller.as_deref().unwrap_or("")), "connecting a media stream");
        return Ok(xml(super::stream::connect(&state, &call)));
    }

    let sessions = &state.sessions();
    match sessions.load(&sid).await {
        Ok(Some(live)) => {
            // Twilio retried the first webhook: the same answer, not a second call.
            if let Some(body) = live.retried(0) {
                return Ok(xml(body.to_string()));
            }
            let turn = AgentTurn {
                said: live
                    .session
                    .last_said
                    .iter()
                    .map(|t| (t.clone(), true))
                    .collect(),
                ..AgentTurn::default()
            };
            return Ok(xml(render_turn(&state, &live, &turn)));
        }
        Ok(None) => {}
        Err(error) => tracing::error!(call_id = %sid, %error, "session store unavailable"),
    }
    let (mut live, turn) = state.driver().start(call, state.now()).await;
    super::recording::start(&state, &sid);
    state.calls().begin(&sid);
    answer(&state, &sid, &mut live, &turn).await
}

/// `POST /twilio/gather?turn=N`: what the caller said or pressed, in answer to the agent's
/// `N`th question. A retry of a request already answered gets the same TwiML again, and the
/// turn does not run twice (Twilio retries a webhook that timed out).
pub(super) async fn gather(
    State(state): State<AppState>,
    uri: Uri,
    hook: Webhook,
) -> Result<Response, Rejection> {
    let began = std::time::Instant::now();
    let sid = hook.call_sid()?.to_string();
    let mut live = match state.sessions().load(&sid).await {
        Ok(Some(live)) => live,
        Ok(None) => {
            // The conversation is gone (expired, or the server restarted with memory
            // sessions). A person can pick up from here; the caller must not start over blind.
            tracing::warn!(call_id = %sid, "no session for this call; handing it to a person");
            return Ok(xml(lost_call(&state)));
        }
        Err(error) => return Ok(hand_over_without_session(&state, &sid, "load", &error).await),
    };
    if !live.session.ended {
        state.calls().touch(&sid);
    }
    let numbered = query_value(&uri, "turn").and_then(|n| n.parse::<u32>().ok());
    if let Some(body) = numbered.and_then(|n| live.retried(n)) {
        tracing::info!(call_id = %sid, turn = numbered, "a retried webhook gets the answer it already had");
        return Ok(xml(body.to_string()));
    }
    if live.session.ended {
        // Kept only to answer retries; anything else for it is too late.
        return Ok(xml(twiml::render(&[Verb::Hangup])));
    }
    live.answered = numbered.unwrap_or(live.answered + 1);
    let input = caller_input(&hook);
    let turn = state.driver().input(&mut live, input, state.now()).await;
    let answered = answer(&state, &sid, &mut live, &turn).await;
    crate::telemetry::turn("gather", began.elapsed());
    answered
}

/// Renders a turn, keeps the answer with the session (for retries), and saves it.
pub(super) async fn answer(
    state: &AppState,
    sid: &str,
    live: &mut LiveCall,
    turn: &AgentTurn,
) -> Result<Response, Rejection> {
    let body = render_turn(state, live, turn);
    live.keep_reply(live.answered, &body);
    // The turn's record is in the database before the session moves on.
    state.flush_records_for_takeover().await;
    if let Err(error) = finish_turn(state, sid, live, turn).await {
        return Ok(hand_over_without_session(state, sid, "save", &error).await);
    }
    Ok(xml(body))
}

/// A query parameter's value, decoded.
pub(super) fn query_value(uri: &Uri, name: &str) -> Option<String> {
    let query = uri.query()?;
    serde_urlencoded::from_str::<Vec<(String, String)>>(query)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v)
}

/// The session store failed (down, or slower than its deadline): the next turn could not
/// find this one, so a person takes the call now, and the call record says why.
pub(super) async fn hand_over_without_session(
    state: &AppState,
    sid: &str,
    operation: &str,
    error: &SessionError,
) -> Response {
    tracing::error!(call_id = %sid, operation, %error, "session store failed; handing the call to a person");
    let recorder = &state.driver().recorder;
    let failed = Event::DependencyFailed {
        dependency: "sessions".into(),
        operation: operation.into(),
        error: error.to_string(),
    };
    recorder.event(sid, &failed).await;
    let human = &state
        .driver()
        .engine
        .business()
        .phones
        .at(state.now())
        .human;
    recorder
        .finish_call(sid, Outcome::Transferred.as_str(), Some(human), state.now())
        .await;
    state.driver().outcomes.add(Outcome::Transferred.as_str());
    state.calls().awaiting_status(sid);
    xml(lost_call(state))
}

/// A usable caller ID. Withheld numbers reach Twilio as words or as Twilio's placeholder
/// number, and must not be offered back to the caller as "the number you're calling from".
pub(super) fn caller_id(from: &str) -> Option<String> {
    crate::caller_id::usable_caller_id(Some(from))
}

/// What the caller did, from Gather's fields.
fn caller_input(hook: &Webhook) -> Input {
    if let Some(digits) = hook.get("Digits") {
        return Input::Digits {
            digits: digits.to_string(),
        };
    }
    match hook
        .get("SpeechResult")
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        Some(text) => Input::Said {
            text: text.to_string(),
            confidence: hook.get("Confidence").and_then(|c| c.parse().ok()),
        },
        None => Input::NoInput,
    }
}

/// Saves the session after a turn: a live call's for as long as a call may last, an ended
/// call's for a retry of its last webhook. Only a failed save of a live call is an error.
async fn finish_turn(
    state: &AppState,
    sid: &str,
    live: &LiveCall,
    turn: &AgentTurn,
) -> Result<(), SessionError> {
    let sessions = &state.sessions();
    if turn.ended() {
        state.calls().awaiting_status(sid);
        // Kept a little while, for a retry of this last webhook.
        if let Err(error) = sessions.save(sid, live, ENDED_TTL).await {
            tracing::warn!(call_id = %sid, %error, "could not keep the ended call's session");
        }
        return Ok(());
    }
    sessions.save(sid, live, SESSION_TTL).await
}

/// Asks a person by text to call back a caller whose transfer nobody answered, with what the
/// caller said (from the call record), and notes it in the record.
async fn queue_callback(state: &AppState, sid: &str, from: Option<&str>, dial_status: &str) {
    let driver = state.driver();
    let Some(texts) = &driver.texts else {
        return;
    };
    // The caller's words are in the record once what was said so far is written.
    driver.flush().await;
    let said = match driver.storage.get_call(sid).await {
        Ok(Some(record)) => record
            .turns
            .iter()
            .filter(|t| t.speaker == crate::storage::Speaker::Caller)
            .map(|t| t.text.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    };
    let caller = from.and_then(caller_id);
    let to = driver.engine.business().phones.at(state.now()).human;
    if texts
        .queue_callback(sid, &to, caller.as_deref(), &said, dial_status)
        .await
    {
        driver
            .recorder
            .event(sid, &Event::CallbackQueued { to })
            .await;
    }
}

/// `POST /twilio/whisper?text=…`: Twilio fetches it for the person answering a transfer, who
/// hears the sentence before being connected. The text rides in the URL the server signed into
/// the `<Dial>`, so any server behind the number can answer.
pub(super) async fn whisper(
    State(state): State<AppState>,
    uri: Uri,
    // Taken so that only a correctly signed request gets an answer.
    _signed: Webhook,
) -> Result<Response, Rejection> {
    let text = query_value(&uri, "text")
        .filter(|t| !t.trim().is_empty())
        .ok_or_else(|| Rejection::new(StatusCode::BAD_REQUEST, "text is missing"))?;
    Ok(xml(twiml::render(&[say(&state, &text)])))
}

/// `POST /twilio/dial-done`: how the transfer went.
pub(super) async fn dial_done(
    State(state): State<AppState>,
    hook: Webhook,
) -> Result<Response, Rejection> {
    let sid = hook.call_sid()?.to_string();
    let status = hook.get("DialCallStatus").unwrap_or("failed");
    if matches!(status, "completed" | "answered") {
        return Ok(xml(twiml::render(&[Verb::Hangup])));
    }
    tracing::warn!(call_id = %sid, status, "the transfer did not connect");
    let failed = Event::TransferFailed {
        dial_status: status.into(),
    };
    state.driver().recorder.event(&sid, &failed).await;
    queue_callback(&state, &sid, hook.get("From"), status).await;
    let mut verbs = Vec::new();
    match state
        .driver()
        .engine
        .runtime_line(RuntimeLine::TransferUnanswered)
    {
        Ok(sorry) => verbs.push(say(&state, &sorry)),
        Err(error) => {
            tracing::error!(call_id = %sid, %error, "could not render the unanswered-transfer line")
        }
    }
    verbs.push(Verb::Hangup);
    Ok(xml(twiml::render(&verbs)))
}

/// `POST /twilio/status`: the call's final status; closes the call record.
pub(super) async fn status(
    State(state): State<AppState>,
    hook: Webhook,
) -> Result<Response, Rejection> {
    let sid = hook.call_sid()?.to_string();
    let status = hook.get("CallStatus").unwrap_or("completed");
    if !matches!(
        status,
        "completed" | "busy" | "failed" | "no-answer" | "canceled"
    ) {
        return Ok(StatusCode::NO_CONTENT.into_response());
    }
    let now = state.now();
    if let Ok(Some(mut live)) = state.sessions().load(&sid).await {
        // The caller hung up while the agent was waiting for an answer.
        state.driver().hang_up(&mut live, now).await;
        let _ = state.sessions().remove(&sid).await;
    }
    state.calls().end(&sid);
    let duration = hook.get("CallDuration").and_then(|d| d.parse().ok());
    tracing::info!(call_id = %sid, status, duration, "call closed");
    state
        .driver()
        .recorder
        .carrier_status(&sid, status, duration, now)
        .await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(super) fn say(state: &AppState, text: &str) -> Verb {
    let persona = &state.driver().engine.business().persona;
    Verb::Say(Say {
        text: text.to_string(),
        voice: persona.voice.clone(),
        language: persona.language.clone(),
    })
}

/// The TwiML for one agent turn.
fn render_turn(state: &AppState, live: &LiveCall, turn: &AgentTurn) -> String {
    let public = &state.config().public_url;
    let mut verbs = Vec::new();
    if let Some(to) = &turn.transfer_to {
        verbs.extend(turn.said.iter().map(|(text, _)| say(state, text)));
        let whisper = turn.whisper.as_deref();
        verbs.push(Verb::Dial(super::transfer_dial(public, to, whisper)));
        return twiml::render(&verbs);
    }
    if turn.hangup || live.session.ended {
        verbs.extend(turn.said.iter().map(|(text, _)| say(state, text)));
        verbs.push(Verb::Hangup);
        return twiml::render(&verbs);
    }
    // Lines the caller must hear in full (safety instructions) go before the Gather, where
    // speech cannot cut them off; the rest is the Gather's interruptible prompt.
    let keep = turn
        .said
        .iter()
        .rposition(|(_, interruptible)| !interruptible)
        .map_or(0, |i| i + 1);
    verbs.extend(turn.said[..keep].iter().map(|(text, _)| say(state, text)));
    let prompts = turn.said[keep..]
        .iter()
        .filter_map(|(text, _)| match say(state, text) {
            Verb::Say(s) => Some(s),
            _ => None,
        })
        .collect();
    let engine = &state.driver().engine;
    // Numbered, so a retried request is known; the slot rides along for logs and tools
    // reading the webhook (the session decides).
    let next = live.answered + 1;
    let action = match live.asked_slot(engine) {
        Some(slot) => format!("{public}/twilio/gather?turn={next}&slot={slot}"),
        None => format!("{public}/twilio/gather?turn={next}"),
    };
    let mut hints = turn
        .listen
        .as_ref()
        .map(|(_, hints)| hints.clone())
        .unwrap_or_default();
    if let Some((Some(SlotType::Phone | SlotType::Number), _)) = &turn.listen {
        // Twilio's class token for spoken digit strings ("two one four five five five...").
        hints.push("$OOV_CLASS_DIGIT_SEQUENCE".into());
    }
    let language = engine.business().persona.language.clone();
    verbs.push(Verb::Gather(Gather {
        action: action.clone(),
        input: "speech dtmf".into(),
        speech_timeout: Some("auto".into()),
        timeout: Some(6),
        language,
        hints,
        speech_model: Some("phone_call".into()),
        action_on_empty_result: true,
        num_digits: None,
        prompts,
    }));
    // Older accounts ignore actionOnEmptyResult: silence then falls through to here.
    verbs.push(Verb::Redirect { url: action });
    twiml::render(&verbs)
}

/// A webhook for a call we no longer know: apologize and hand it to a person.
pub(super) fn lost_call(state: &AppState) -> String {
    let engine = &state.driver().engine;
    let mut verbs = Vec::new();
    match engine.runtime_line(RuntimeLine::LostCall) {
        Ok(text) => verbs.push(say(state, &text)),
        Err(error) => tracing::error!(%error, "could not render the lost-call line"),
    }
    verbs.push(Verb::Dial(super::transfer_dial(
        &state.config().public_url,
        &engine.business().phones.at(state.now()).human,
        None,
    )));
    twiml::render(&verbs)
}
