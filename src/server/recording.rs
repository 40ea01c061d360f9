//! Call recording, with consent: when the business turns it on, a call first hears the notice
//! (`prompts/recording/notice.j2`), and only when Twilio comes back for the rest of the call
//! does recording start, through the REST API (both modes). Twilio reports the finished
//! recording to `/twilio/recording`, and it is listed with the call.

use axum::extract::State;
use axum::http::Uri;
use axum::response::Response;
use frontdesk_telephony::twiml::{self, Verb};

use super::AppState;
use super::gather::{Webhook, say, xml};
use super::signature::Rejection;
use crate::call_event::Event;

/// The query `/twilio/voice` is requested with once the notice was heard.
const ANNOUNCED: &str = "recording=announced";

/// With recording on, the first answer to a call: the notice, then back to `/twilio/voice`.
/// `None` when recording is off or the notice was already heard.
pub(super) fn notice_first(state: &AppState, uri: &Uri, call_id: &str) -> Option<Response> {
    let engine = &state.driver().engine;
    if !engine.business().recording.enabled || uri.query() == Some(ANNOUNCED) {
        return None;
    }
    let notice = match engine.render_message("recording/notice", &serde_json::Value::Null) {
        Ok(notice) => notice,
        Err(error) => {
            // Never record without the notice: the call goes on unrecorded.
            tracing::error!(call_id, %error, "could not render the recording notice; not recording");
            return None;
        }
    };
    let back = format!("{}/twilio/voice?{ANNOUNCED}", state.config().public_url);
    let verbs = [say(state, &notice), Verb::Redirect { url: back }];
    Some(xml(twiml::render(&verbs)))
}

/// Starts recording a call that has begun (so it has heard the notice: `/twilio/voice` says it
/// before anything else), in the background: a recording that cannot start never holds up or
/// breaks the call.
pub(super) fn start(state: &AppState, call_id: &str) {
    if !state.driver().engine.business().recording.enabled {
        return;
    }
    let Some(rest) = state.rest().cloned() else {
        tracing::warn!(
            call_id,
            "recording is on but the server has no Twilio credentials to start it"
        );
        return;
    };
    let callback = format!("{}/twilio/recording", state.config().public_url);
    let recorder = state.driver().recorder.clone();
    let call_id = call_id.to_string();
    tokio::spawn(async move {
        let event = match rest.start_recording(&call_id, &callback).await {
            Ok(recording_sid) => Event::RecordingStarted { recording_sid },
            Err(error) => {
                tracing::error!(call_id, %error, "could not start recording the call");
                Event::DependencyFailed {
                    dependency: "twilio".into(),
                    operation: "start recording".into(),
                    error: error.to_string(),
                }
            }
        };
        recorder.event(&call_id, &event).await;
    });
}

/// `POST /twilio/recording`: Twilio's recording status callback.
pub(super) async fn finished(
    State(state): State<AppState>,
    hook: Webhook,
) -> Result<Response, Rejection> {
    let call_id = hook.call_sid()?.to_string();
    let field = |name: &str| hook.get(name).unwrap_or_default().to_string();
    let event = Event::Recording {
        recording_sid: field("RecordingSid"),
        url: field("RecordingUrl"),
        duration_seconds: hook.get("RecordingDuration").and_then(|d| d.parse().ok()),
        status: field("RecordingStatus"),
    };
    tracing::info!(
        call_id,
        status = hook.get("RecordingStatus").unwrap_or(""),
        "recording reported"
    );
    state.driver().recorder.event(&call_id, &event).await;
    Ok(xml(twiml::render(&[])))
}
