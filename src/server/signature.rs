//! Every Twilio endpoint checks `X-Twilio-Signature` before anything else happens: a forged
//! request must not reach the engine or the database. Twilio signs with the auth token
//! (HMAC-SHA1), or, where a Webhooks Rule says so in `X-Twilio-Webhooks-Signature-Settings`,
//! with the rule's shared key (HMAC-SHA256).

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
use frontdesk_telephony::signature::{self, SignatureSettings};

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
    let Some(given) = headers.get(HEADER).and_then(|v| v.to_str().ok()) else {
        return Err(reject(url, "missing"));
    };
    let settings = headers
        .get(signature::SETTINGS_HEADER)
        .map(|v| v.to_str().map_err(|e| e.to_string()))
        .map(|v| v.and_then(SignatureSettings::parse));
    let valid = match settings {
        // The classic scheme: HMAC-SHA1 with the auth token.
        None => signature::validate(token, url, params, given),
        // A Webhooks Rule signed it with its shared key.
        Some(Ok(settings)) => {
            let Some(key) = state.config().webhook_shared_key.as_deref() else {
                tracing::error!(
                    url,
                    key = settings.key,
                    "a request was signed with a Webhooks Rule's shared key, but this server has \
                     none: set TWILIO_WEBHOOK_SHARED_KEY"
                );
                return Err(refused());
            };
            signature::validate_with(settings.algorithm, key, url, params, given)
        }
        Some(Err(error)) => {
            tracing::warn!(url, %error, "rejected a request with unreadable signature settings");
            return Err(refused());
        }
    };
    if valid {
        Ok(())
    } else {
        Err(reject(url, "wrong"))
    }
}

fn path_and_query(uri: &Uri) -> &str {
    uri.path_and_query().map(|p| p.as_str()).unwrap_or("/")
}

fn reject(url: &str, why: &str) -> Rejection {
    tracing::warn!(url, "rejected a request with a {why} X-Twilio-Signature");
    refused()
}

fn refused() -> Rejection {
    Rejection::new(StatusCode::FORBIDDEN, "invalid Twilio signature")
}
