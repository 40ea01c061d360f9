//! Every Twilio endpoint checks `X-Twilio-Signature` before anything else happens: a forged
//! request must not reach the engine or the database.

use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

/// A request refused before it reached a handler's work: status and a short reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    pub status: StatusCode,
    pub reason: String,
}

impl Rejection {
    pub fn new(status: StatusCode, reason: impl Into<String>) -> Rejection {
        Rejection {
            status,
            reason: reason.into(),
        }
    }
}

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        (self.status, format!("{}\n", self.reason)).into_response()
    }
}

use super::AppState;
use frontdesk_telephony::signature;

pub const HEADER: &str = "x-twilio-signature";

/// Checks a form webhook. `uri` is the request's path and query as received; the signed URL is
/// the configured public base plus that.
pub fn check_form(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    params: &[(String, String)],
) -> Result<(), Rejection> {
    let url = format!("{}{}", state.config().public_url, path_and_query(uri));
    check(state, headers, &url, params)
}

/// Checks a WebSocket upgrade: signed over the ws(s):// URL with no parameters.
pub fn check_upgrade(state: &AppState, headers: &HeaderMap, uri: &Uri) -> Result<(), Rejection> {
    let base = state.config().stream_url();
    let base = base.trim_end_matches("/twilio/stream");
    let url = format!("{base}{}", path_and_query(uri));
    check(state, headers, &url, &[])
}

fn check(
    state: &AppState,
    headers: &HeaderMap,
    url: &str,
    params: &[(String, String)],
) -> Result<(), Rejection> {
    let Some(token) = state.config().auth_token.as_deref() else {
        return Ok(());
    };
    let given = headers.get(HEADER).and_then(|v| v.to_str().ok());
    match given {
        Some(given) if signature::validate(token, url, params, given) => Ok(()),
        Some(_) => Err(reject(url, "wrong")),
        None => Err(reject(url, "missing")),
    }
}

fn path_and_query(uri: &Uri) -> &str {
    uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
}

fn reject(url: &str, why: &str) -> Rejection {
    tracing::warn!(url, "rejected a request with a {why} X-Twilio-Signature");
    Rejection::new(StatusCode::FORBIDDEN, "invalid Twilio signature")
}
