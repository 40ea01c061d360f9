//! A stream call outlives its stream: the session is kept in the session store after every
//! turn, and when the stream ends without the call ending (its server died, the socket broke),
//! Twilio asks the `<Connect>` action URL what next. Any server behind the number can answer
//! it: with a new stream that goes on from the stored session ("sorry, I lost you for a
//! second", and the pending question again), or, on a server answering with Twilio's own
//! speech, with a Gather.

use axum::extract::State;
use axum::response::Response;
use frontdesk_engine::{CallInfo, RuntimeLine};
use tokio::sync::watch;

use super::token::{self, BoundCall};
use crate::call::{AgentTurn, LiveCall};
use crate::call_event::Event;
use crate::server::AppState;
use crate::server::gather::{self, Webhook};
use crate::server::sessions::{ENDED_TTL, SESSION_TTL};
use crate::server::signature::Rejection;
use frontdesk_telephony::twiml::{self, Connect, Stream, Verb};

/// The path of the `<Connect>` action.
const STREAM_ENDED_PATH: &str = "/twilio/stream-ended";

/// The TwiML that connects `call` to a Media Stream on any server behind the number: the
/// stream's token binds it to this call, and the action brings the call back here if the
/// stream is lost.
pub(in crate::server) fn connect(state: &AppState, call: &CallInfo) -> String {
    let mut parameters = vec![("CallSid".to_string(), call.id.clone())];
    for (name, value) in [("From", &call.caller), ("To", &call.called)] {
        if let Some(value) = value {
            parameters.push((name.to_string(), value.clone()));
        }
    }
    let expires = jiff::Timestamp::now()
        .checked_add(state.config().stream_token_ttl)
        .unwrap_or(jiff::Timestamp::MAX);
    let bound = BoundCall {
        call_sid: &call.id,
        caller: call.caller.as_deref().unwrap_or_default(),
        called: call.called.as_deref().unwrap_or_default(),
    };
    parameters.push((
        token::PARAMETER.to_string(),
        state.stream_key().issue(&bound, expires),
    ));
    twiml::render(&[Verb::Connect(Connect {
        action: Some(format!("{}{STREAM_ENDED_PATH}", state.config().public_url)),
        stream: Stream {
            url: state.config().stream_url(),
            name: Some("frontdesk".into()),
            status_callback: None,
            parameters,
        },
    })])
}

/// `POST /twilio/stream-ended`: a call's media stream ended and the call was not updated.
/// After a normal end (the session says the call is over) that is the end; a live session
/// means the stream was lost, and the call goes on.
pub(in crate::server) async fn stream_ended(
    State(state): State<AppState>,
    hook: Webhook,
) -> Result<Response, Rejection> {
    let sid = hook.call_sid()?.to_string();
    let mut live = match state.sessions().load(&sid).await {
        Ok(Some(live)) if !live.session.ended => live,
        Ok(Some(_)) => return Ok(gather::xml(twiml::render(&[Verb::Hangup]))),
        Ok(None) => {
            // The stream never got as far as a saved turn, or its session expired.
            tracing::warn!(call_id = %sid, "a media stream ended for a call with no session; handing it to a person");
            return Ok(gather::xml(gather::lost_call(&state)));
        }
        Err(error) => {
            return Ok(gather::hand_over_without_session(&state, &sid, "load", &error).await);
        }
    };
    tracing::warn!(call_id = %sid, "the call's media stream was lost; going on from its session");
    if state.stream().is_some() {
        // The new stream's `start` finds the session and says the apology itself.
        return Ok(gather::xml(connect(&state, &live.session.call)));
    }
    // This server answers with Twilio's speech: the rest of the call is Gathers.
    state.calls().begin(&sid);
    let resumed = Event::StreamResumed {
        stream_sid: String::new(),
    };
    state.driver().recorder.event(&sid, &resumed).await;
    let turn = resumed_turn(&state, &live);
    gather::answer(&state, &sid, &mut live, &turn).await
}

/// The session of a call whose stream was lost, when a new stream for it starts.
pub(super) async fn lost_session(state: &AppState, sid: &str) -> Option<LiveCall> {
    match state.sessions().load(sid).await {
        Ok(Some(live)) if !live.session.ended => Some(live),
        Ok(_) => None,
        Err(error) => {
            tracing::error!(call_id = %sid, %error, "session store unavailable; a resumed stream starts over");
            None
        }
    }
}

/// What a resumed call hears first: the apology, then the question it was waiting on.
pub(super) fn resumed_turn(state: &AppState, live: &LiveCall) -> AgentTurn {
    let mut said = Vec::new();
    match state.driver().engine.runtime_line(RuntimeLine::Reconnected) {
        Ok(text) => said.push((text, true)),
        Err(error) => {
            tracing::error!(call_id = %live.session.call.id, %error, "could not render the reconnected line");
        }
    }
    said.extend(live.session.last_said.iter().map(|t| (t.clone(), true)));
    AgentTurn {
        said,
        ..AgentTurn::default()
    }
}

/// Keeps a stream call's session in the store after each turn, off the audio path: the newest
/// state waits in a watch channel and one task writes it (a slow write skips to the newest).
/// With a shared store, the call record is flushed first, so a server that takes the call over
/// finds its turns written.
pub(super) struct SessionSaver {
    latest: watch::Sender<Option<LiveCall>>,
    task: tokio::task::JoinHandle<()>,
}

impl SessionSaver {
    pub(super) fn start(state: AppState, sid: String) -> SessionSaver {
        let (latest, mut changes) = watch::channel::<Option<LiveCall>>(None);
        let task = tokio::spawn(async move {
            while changes.changed().await.is_ok() {
                let Some(live) = changes.borrow_and_update().clone() else {
                    continue;
                };
                save(&state, &sid, &live).await;
            }
        });
        SessionSaver { latest, task }
    }

    /// Queues `live` to be saved.
    pub(super) fn save(&self, live: &LiveCall) {
        self.latest.send_replace(Some(live.clone()));
    }

    /// Saves the call's last state and waits until it is written.
    pub(super) async fn finish(self, live: &LiveCall) {
        self.save(live);
        drop(self.latest);
        let _ = self.task.await;
    }
}

async fn save(state: &AppState, sid: &str, live: &LiveCall) {
    state.flush_records_for_takeover().await;
    // An ended call is kept a little while, so a late action request hears it is over.
    let ttl = if live.session.ended {
        ENDED_TTL
    } else {
        SESSION_TTL
    };
    if let Err(error) = state.sessions().save(sid, live, ttl).await {
        tracing::warn!(call_id = %sid, %error, "could not keep the stream call's session");
    }
}
