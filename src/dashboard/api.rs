//! The JSON API behind the owner's token (docs/api.md): calls, appointments and customers,
//! each listed, searched and read one at a time, from the same queries as the pages.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::data::{self, AppointmentsQuery, CallsQuery, ViewError};
use crate::server::AppState;
use crate::storage::{AppointmentFilter, CallFilter};

fn error(error: ViewError) -> Response {
    let status = match &error {
        ViewError::BadQuery(_) => StatusCode::BAD_REQUEST,
        ViewError::NotFound(_) => StatusCode::NOT_FOUND,
        ViewError::Storage(storage) => {
            tracing::error!(%storage, "the dashboard API could not read the database");
            StatusCode::SERVICE_UNAVAILABLE
        }
    };
    let message = match &error {
        ViewError::Storage(_) => "the database did not answer; try again".to_string(),
        other => other.to_string(),
    };
    (status, Json(json!({ "error": message }))).into_response()
}

fn answer<T: serde::Serialize>(result: Result<T, ViewError>) -> Response {
    match result {
        Ok(value) => Json(value).into_response(),
        Err(e) => error(e),
    }
}

pub async fn calls(State(state): State<AppState>, Query(query): Query<CallsQuery>) -> Response {
    let result = async {
        let filter = query.filter(&state)?;
        Ok(state.driver().storage.list_calls(&filter).await?)
    };
    answer(result.await)
}

pub async fn call(State(state): State<AppState>, Path(call_id): Path<String>) -> Response {
    answer(data::call_detail(&state, &call_id).await)
}

pub async fn appointments(
    State(state): State<AppState>,
    Query(query): Query<AppointmentsQuery>,
) -> Response {
    let result = async {
        let filter = query.filter(&state)?;
        Ok(state.driver().storage.search_appointments(&filter).await?)
    };
    answer(result.await)
}

pub async fn appointment(State(state): State<AppState>, Path(id): Path<i64>) -> Response {
    let result = async {
        state
            .driver()
            .storage
            .get_appointment(id)
            .await?
            .ok_or_else(|| ViewError::NotFound(format!("appointment {id}")))
    };
    answer(result.await)
}

#[derive(Debug, Default, Deserialize)]
pub struct CustomersQuery {
    q: Option<String>,
    limit: Option<u32>,
}

pub async fn customers(
    State(state): State<AppState>,
    Query(query): Query<CustomersQuery>,
) -> Response {
    let result = async {
        let text = query.q.as_deref().map(str::trim).filter(|q| !q.is_empty());
        let limit = query.limit.unwrap_or(200).clamp(1, 5000);
        Ok(state.driver().storage.search_customers(text, limit).await?)
    };
    answer(result.await)
}

/// A customer with their visits and their latest calls.
pub async fn customer(State(state): State<AppState>, Path(id): Path<i64>) -> Response {
    let result = async {
        let storage = &state.driver().storage;
        let customer = storage
            .get_customer(id)
            .await?
            .ok_or_else(|| ViewError::NotFound(format!("customer {id}")))?;
        let visits = storage
            .search_appointments(&AppointmentFilter {
                from: None,
                to: None,
                location: None,
                text: Some(customer.phone.clone()),
                status: None,
                limit: 500,
            })
            .await?;
        // The search matches the phone anywhere; keep the customer's own.
        let visits: Vec<_> = visits
            .into_iter()
            .filter(|v| v.phone == customer.phone)
            .collect();
        let digits: String = customer
            .phone
            .chars()
            .filter(char::is_ascii_digit)
            .collect();
        let calls = if digits.is_empty() {
            Vec::new()
        } else {
            storage
                .list_calls(&CallFilter {
                    caller_digits: Some(digits),
                    ..CallFilter::latest(50)
                })
                .await?
        };
        Ok(json!({ "customer": customer, "appointments": visits, "calls": calls }))
    };
    answer(result.await)
}
