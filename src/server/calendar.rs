//! `GET /calendar/{CODE}.ics?key=…`: a location's visits as an iCalendar feed, for the
//! business's calendar app to subscribe to. The key comes from the Twilio auth token
//! ([`crate::calendar::feed_key`]); without an auth token there are no feeds.

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::AppState;

/// Days of past visits the feed keeps, and days ahead it shows.
const DAYS_BACK: i64 = 7;
const DAYS_AHEAD: i64 = 90;

#[derive(Deserialize)]
pub(super) struct FeedQuery {
    #[serde(default)]
    key: String,
}

pub(super) async fn feed(
    State(state): State<AppState>,
    Path(file): Path<String>,
    Query(query): Query<FeedQuery>,
) -> Response {
    let not_found = || (StatusCode::NOT_FOUND, "no such calendar\n").into_response();
    let Some(secret) = state.config().auth_token.as_deref() else {
        return not_found();
    };
    let Some(code) = file.strip_suffix(".ics") else {
        return not_found();
    };
    let business = state.driver().engine.business();
    let Some(location) = business.location(code) else {
        return not_found();
    };
    let expected = crate::calendar::feed_key(secret, &location.code);
    if !same(query.key.as_bytes(), expected.as_bytes()) {
        return not_found();
    }
    let now = state.now();
    let (Ok(from), Ok(to)) = (
        now.checked_sub(jiff::Span::new().days(DAYS_BACK)),
        now.checked_add(jiff::Span::new().days(DAYS_AHEAD)),
    ) else {
        return not_found();
    };
    let visits = match state.driver().storage.booked_between(from, to).await {
        Ok(visits) => visits,
        Err(error) => {
            tracing::error!(%error, "could not read visits for a calendar feed");
            return (StatusCode::SERVICE_UNAVAILABLE, "try again later\n").into_response();
        }
    };
    let here: Vec<_> = visits
        .into_iter()
        .filter(|v| v.location == location.code)
        .collect();
    let zone = state.zone();
    let body = crate::calendar::feed(business, location, zone, &here, jiff::Timestamp::now());
    (
        [(header::CONTENT_TYPE, "text/calendar; charset=utf-8")],
        body,
    )
        .into_response()
}

/// Compares without stopping at the first difference, so timing says nothing about the key.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
