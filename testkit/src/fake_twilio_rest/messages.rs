//! `Messages.json`: texts sent through the fake, checked as Twilio checks them, and listed.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::rejection::FormRejection;
use axum::extract::{Form, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::SentMessage;
use super::{Shared, authorized_form, check_request, field, twilio_error};

/// A Message resource as Twilio shows it.
fn message_json(account_sid: &str, sid: &str, from: &str, to: &str, body: &str) -> Value {
    json!({
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
    })
}

/// `GET …/Messages.json?To=&From=&PageSize=`: the account's messages, newest first, filtered
/// as Twilio filters them (one page; `next_page_uri` is always null here).
pub(super) async fn list_messages(
    State(shared): State<Arc<Shared>>,
    Path(account_sid): Path<String>,
    headers: HeaderMap,
    Query(query): Query<Vec<(String, String)>>,
) -> Response {
    if let Err(error) = check_request(&shared, &headers, &account_sid) {
        return error.into_response();
    }
    let to = field(&query, "To");
    let from = field(&query, "From");
    let page_size = field(&query, "PageSize")
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(50)
        .clamp(1, 1000);
    let messages: Vec<Value> = shared
        .lock()
        .messages
        .iter()
        .rev()
        .filter(|m| to.as_ref().is_none_or(|to| &m.to == to))
        .filter(|m| from.as_ref().is_none_or(|from| &m.from == from))
        .take(page_size)
        .map(|m| message_json(&account_sid, &m.sid, &m.from, &m.to, &m.body))
        .collect();
    let uri = format!("/2010-04-01/Accounts/{account_sid}/Messages.json");
    let page = json!({
        "messages": messages,
        "page": 0,
        "page_size": page_size,
        "first_page_uri": format!("{uri}?PageSize={page_size}&Page=0"),
        "next_page_uri": null,
        "previous_page_uri": null,
        "uri": uri,
    });
    (StatusCode::OK, axum::Json(page)).into_response()
}

/// The longest body Twilio accepts.
const MAX_BODY_CHARS: usize = 1600;

/// `POST …/Messages.json`: an SMS, checked as Twilio checks it and kept for tests to read.
pub(super) async fn create_message(
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
    let resource = message_json(&account_sid, &sid, &from, &to, &body);
    (StatusCode::CREATED, axum::Json(resource)).into_response()
}
