//! `Calls/{CallSid}/Recordings.json`: recording a live call.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::{Shared, authorized_form, field, twilio_error};
use super::{StartedRecording, is_call_sid, rfc2822_now};

/// `POST …/Calls/{CallSid}/Recordings.json`: starts recording a live call (Twilio answers
/// 201 with the Recording resource, `in-progress`). Twilio's status callback for the finished
/// recording is left to the test, which knows when the call ends.
pub(super) async fn start_recording(
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
