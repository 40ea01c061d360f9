//! The owner's token. A browser signs in once with a small form and gets a cookie; a program
//! sends `Authorization: Bearer TOKEN`. Every page and API route refuses without one or the
//! other; only the sign-in form and the stylesheet are open.
//!
//! The cookie holds an HMAC of a fixed label keyed by the token, never the token itself, so
//! every replica with the same token accepts it and a new token signs everyone out. It is
//! `HttpOnly` (no script reads it) and `SameSite=Strict` (no other site's page can send it,
//! which also keeps other sites from posting to the dashboard). It is `Secure` when the
//! server's public URL is https: browsers drop a `Secure` cookie set over plain http on most
//! hosts, and a dashboard on a private network or tried on loopback is often plain http.

use axum::extract::{Form, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use sha2::Sha256;

use super::pages::render;
use crate::server::AppState;

pub const COOKIE: &str = "frontdesk_owner";
/// The cookie lasts a working fortnight; a new token ends it sooner.
const COOKIE_SECONDS: u32 = 14 * 24 * 3600;

/// What the cookie of a signed-in owner holds for `token`.
pub fn session_value(token: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(token.as_bytes())
        .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default()));
    mac.update(b"frontdesk-dashboard-session-v1");
    mac.finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Compares without stopping at the first difference, so timing says nothing about the token.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn cookie_value<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// Whether the request carries the owner's cookie or bearer token.
pub fn signed_in(headers: &HeaderMap, token: &str) -> bool {
    if let Some(value) = cookie_value(headers, COOKIE)
        && same(value.as_bytes(), session_value(token).as_bytes())
    {
        return true;
    }
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .is_some_and(|given| same(given.trim().as_bytes(), token.as_bytes()))
}

fn disabled() -> Response {
    (
        StatusCode::NOT_FOUND,
        "the dashboard is off: start `frontdesk serve` with FRONTDESK_DASHBOARD_TOKEN (or \
         --dashboard-token) to turn it on\n",
    )
        .into_response()
}

/// Lets a signed-in owner through. Anyone else: the API answers 401, a page sends the browser
/// to the sign-in form.
pub async fn require_owner(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let Some(token) = state.config().dashboard_token.as_deref() else {
        return disabled();
    };
    if signed_in(request.headers(), token) {
        return next.run(request).await;
    }
    let path = request.uri().path();
    if path.starts_with("/dashboard/api/") {
        let mut response = (
            StatusCode::UNAUTHORIZED,
            axum::Json(serde_json::json!({
                "error": "sign in: send Authorization: Bearer <the dashboard token>"
            })),
        )
            .into_response();
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"frontdesk\""),
        );
        return response;
    }
    let back = request
        .uri()
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/dashboard");
    let target = format!(
        "/dashboard/sign-in?{}",
        serde_urlencoded::to_string([("next", back)]).unwrap_or_default()
    );
    Redirect::to(&target).into_response()
}

#[derive(Debug, Deserialize)]
pub struct SignInQuery {
    #[serde(default)]
    next: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    next: Option<String>,
}

/// Only a path inside the dashboard: a sign-in link cannot send the owner elsewhere.
fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(next) if next.starts_with("/dashboard") && !next.contains("//") => next,
        _ => "/dashboard",
    }
}

pub async fn sign_in_form(
    State(state): State<AppState>,
    Query(query): Query<SignInQuery>,
) -> Response {
    if state.config().dashboard_token.is_none() {
        return disabled();
    }
    let context = minijinja::context! { title => "Sign in", nav => "", next => safe_next(query.next.as_deref()), wrong => false };
    render("sign_in.html", context)
}

pub async fn sign_in(State(state): State<AppState>, Form(form): Form<SignInForm>) -> Response {
    let Some(token) = state.config().dashboard_token.as_deref() else {
        return disabled();
    };
    let next = safe_next(form.next.as_deref()).to_string();
    if !same(form.token.trim().as_bytes(), token.as_bytes()) {
        tracing::warn!("dashboard sign-in with a wrong token");
        let context =
            minijinja::context! { title => "Sign in", nav => "", next => next, wrong => true };
        let mut page = render("sign_in.html", context);
        *page.status_mut() = StatusCode::UNAUTHORIZED;
        return page;
    }
    let secure = if state.config().public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{COOKIE}={}; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age={COOKIE_SECONDS}{secure}",
        session_value(token)
    );
    let mut response = Redirect::to(&next).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

pub async fn sign_out() -> Response {
    let cookie = format!("{COOKIE}=; Path=/dashboard; HttpOnly; SameSite=Strict; Max-Age=0");
    let mut response = Redirect::to("/dashboard/sign-in").into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(
                header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        map
    }

    #[test]
    fn the_cookie_or_the_bearer_token_signs_in() {
        let cookie = format!("a=b; {COOKIE}={}", session_value("s3cret"));
        assert!(signed_in(&headers(&[("cookie", &cookie)]), "s3cret"));
        assert!(!signed_in(&headers(&[("cookie", &cookie)]), "another"));
        assert!(signed_in(
            &headers(&[("authorization", "Bearer s3cret")]),
            "s3cret"
        ));
        assert!(!signed_in(
            &headers(&[("authorization", "Bearer nope")]),
            "s3cret"
        ));
        // The token itself is not a session.
        let raw = format!("{COOKIE}=s3cret");
        assert!(!signed_in(&headers(&[("cookie", &raw)]), "s3cret"));
        assert!(!signed_in(&HeaderMap::new(), "s3cret"));
    }

    #[test]
    fn sign_in_only_goes_back_into_the_dashboard() {
        assert_eq!(
            safe_next(Some("/dashboard/calls?x=1")),
            "/dashboard/calls?x=1"
        );
        assert_eq!(safe_next(Some("https://evil.example/")), "/dashboard");
        assert_eq!(safe_next(Some("/dashboard//evil.example")), "/dashboard");
        assert_eq!(safe_next(None), "/dashboard");
    }
}
