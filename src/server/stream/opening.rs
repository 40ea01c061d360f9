//! Opening a Media Stream: the frames before `start`, and whether that `start` belongs to a
//! call this server answered.

use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, close_code};
use futures_util::{SinkExt, StreamExt};
use tokio::time::timeout;

use super::call::{FrameSink, FrameStream};
use super::token::{self, BoundCall};
use crate::server::AppState;
use frontdesk_telephony::media_stream::{self, Incoming, Start};

/// Twilio sends `connected` and `start` right after the upgrade.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a `start` is not a stream for a call this server answered, if it is not.
pub(super) fn check_binding(state: &AppState, start: &Start) -> Result<(), String> {
    let parameter = |name: &str| {
        start
            .custom_parameters
            .get(name)
            .map(String::as_str)
            .unwrap_or_default()
    };
    let call = BoundCall {
        call_sid: &start.call_sid,
        caller: parameter("From"),
        called: parameter("To"),
    };
    let token = start.custom_parameters.get(token::PARAMETER);
    state
        .stream_key()
        .verify(&call, token.map(String::as_str), jiff::Timestamp::now())
        .map_err(|e| e.to_string())?;
    // A token opens one stream: a replayed `start` for a call in progress is not Twilio.
    if !state.calls().begin(&start.call_sid) {
        return Err("this call already has a media stream".into());
    }
    Ok(())
}

/// Closes a refused stream with "policy violation"; Twilio would go on with the TwiML after
/// `</Connect>` (none), ending the call.
pub(super) async fn refuse(mut sink: impl FrameSink) {
    let close = CloseFrame {
        code: close_code::POLICY,
        reason: "not a call this server answered".into(),
    };
    let _ = sink.send(Message::Close(Some(close))).await;
    let _ = sink.close().await;
}

/// Reads frames until `start`. Anything before it other than `connected` is out of order and
/// ignored.
pub(super) async fn wait_for_start(frames: &mut impl FrameStream) -> Option<Start> {
    let read = async {
        while let Some(Ok(frame)) = frames.next().await {
            match frame {
                Message::Text(text) => match media_stream::parse(&text) {
                    Ok(Incoming::Start { start }) => return Some(start),
                    Ok(Incoming::Stop) => return None,
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "bad frame before start"),
                },
                Message::Close(_) => return None,
                _ => {}
            }
        }
        None
    };
    timeout(START_TIMEOUT, read).await.ok().flatten()
}
