//! Reminder calls, answered: Twilio places the call the outbox asked for, waits for a voicemail
//! greeting to end (answering-machine detection), then requests `/twilio/reminder?visit=ID`
//! with `AnsweredBy`. A machine gets a short message (`prompts/reminder/voicemail.j2`); a
//! person gets the `reminder` flow, from which the visit can be kept, moved or cancelled by
//! voice through the same flows an incoming call uses. Gather mode carries the conversation.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::Response;
use frontdesk_engine::CallInfo;
use frontdesk_telephony::twiml::{self, Verb};
use serde_json::json;

use super::AppState;
use super::gather::{Webhook, answer, caller_id, query_value, say, xml};
use super::signature::Rejection;
use crate::call_event::Event;
use crate::storage::AppointmentStatus;

/// The flow a person answering a reminder call hears.
const REMINDER_FLOW: &str = "reminder";

/// `POST /twilio/reminder?visit=ID`: a reminder call was answered.
pub(super) async fn answered(
    State(state): State<AppState>,
    uri: Uri,
    hook: Webhook,
) -> Result<Response, Rejection> {
    let sid = hook.call_sid()?.to_string();
    let visit_id = query_value(&uri, "visit")
        .and_then(|v| v.parse::<i64>().ok())
        .ok_or_else(|| Rejection::new(StatusCode::BAD_REQUEST, "visit is missing"))?;
    let hang_up = || xml(twiml::render(&[Verb::Hangup]));
    let visit = match state.driver().storage.get_appointment(visit_id).await {
        Ok(Some(visit)) if visit.status == AppointmentStatus::Booked => visit,
        Ok(_) => {
            tracing::info!(call_id = %sid, visit_id, "the reminded visit is gone; hanging up");
            return Ok(hang_up());
        }
        Err(error) => {
            tracing::error!(call_id = %sid, visit_id, %error, "could not read the reminded visit; hanging up");
            return Ok(hang_up());
        }
    };
    let engine = &state.driver().engine;
    let described = crate::tools::describe_appointment(engine.business(), &visit);
    let answered_by = hook.get("AnsweredBy").unwrap_or("unknown").to_string();
    if answered_by == "fax" {
        return Ok(hang_up());
    }
    if answered_by.starts_with("machine") {
        let vars = json!({ "visit": described });
        return Ok(match engine.render_message("reminder/voicemail", &vars) {
            Ok(message) => {
                tracing::info!(call_id = %sid, visit_id, answered_by, "reminder left on voicemail");
                xml(twiml::render(&[say(&state, &message), Verb::Hangup]))
            }
            Err(error) => {
                tracing::error!(call_id = %sid, %error, "could not render the voicemail reminder");
                hang_up()
            }
        });
    }
    // A person (or Twilio could not tell): the business called them, so they are `To`.
    let call = CallInfo {
        id: sid.clone(),
        caller: hook.get("To").and_then(caller_id),
        called: hook.get("From").map(str::to_string),
        customer: None,
    };
    let vars = BTreeMap::from([("visit".to_string(), described)]);
    let started = state
        .driver()
        .start_in(call, REMINDER_FLOW, vars, state.now())
        .await;
    let (mut live, turn) = match started {
        Ok(started) => started,
        Err(error) => {
            tracing::error!(call_id = %sid, %error, "the reminder flow could not start; hanging up");
            return Ok(hang_up());
        }
    };
    let answered = Event::ReminderAnswered {
        appointment_id: visit_id,
        answered_by,
    };
    state.driver().recorder.event(&sid, &answered).await;
    state.calls().begin(&sid);
    answer(&state, &sid, &mut live, &turn).await
}
