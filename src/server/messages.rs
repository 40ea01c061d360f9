//! `POST /twilio/messages`: texts customers send to the business number. Only the opt-out
//! keywords matter here: STOP (and its synonyms) stops every text to that number, START brings
//! them back. Twilio answers those keywords itself on a standard number; the server answers
//! with empty TwiML.

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::gather::Webhook;
use super::signature::Rejection;
use crate::logging::mask_phone;

/// Twilio's standard opt-out and opt-in keywords.
const STOP_WORDS: [&str; 6] = ["stop", "stopall", "unsubscribe", "cancel", "end", "quit"];
const START_WORDS: [&str; 3] = ["start", "unstop", "yes"];

/// What an inbound text asks for, by its first word.
fn opt_out_request(body: &str) -> Option<bool> {
    let word = body
        .split_whitespace()
        .next()?
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    if STOP_WORDS.contains(&word.as_str()) {
        Some(true)
    } else if START_WORDS.contains(&word.as_str()) {
        Some(false)
    } else {
        None
    }
}

pub(super) async fn inbound(
    State(state): State<AppState>,
    hook: Webhook,
) -> Result<Response, Rejection> {
    let from = hook
        .get("From")
        .ok_or_else(|| Rejection::new(StatusCode::BAD_REQUEST, "From is missing"))?;
    let body = hook.get("Body").unwrap_or_default();
    if let Some(opted_out) = opt_out_request(body) {
        let now = crate::outbox::now_ms();
        let storage = &state.driver().storage;
        if let Err(error) = storage.set_opted_out(from, opted_out, now).await {
            // Twilio retries a failed webhook; the opt-out is not lost.
            tracing::error!(from = %mask_phone(from), %error, "could not record an opt-out");
            return Ok(StatusCode::SERVICE_UNAVAILABLE.into_response());
        }
        tracing::info!(from = %mask_phone(from), opted_out, "texts to this number changed");
    }
    Ok((
        [(header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>",
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::opt_out_request;

    #[test]
    fn keywords_are_read_from_the_first_word() {
        assert_eq!(opt_out_request("STOP"), Some(true));
        assert_eq!(opt_out_request("  Unsubscribe please"), Some(true));
        assert_eq!(opt_out_request("stop."), Some(true));
        assert_eq!(opt_out_request("START"), Some(false));
        assert_eq!(opt_out_request("can you stop by tuesday"), None);
        assert_eq!(opt_out_request(""), None);
    }
}
