//! The owner's dashboard under `/dashboard`: Today, Calls (and one call), Appointments, Flows
//! and Quality as server-rendered pages with inline SVG charts, and the JSON API under
//! `/dashboard/api/` (docs/api.md). Everything but the sign-in form and the stylesheet needs
//! the owner's token ([`auth`]). Every asset is served from here: no CDN, no script.

mod api;
mod auth;
mod data;
mod pages;
pub mod quality;
mod svg;

use axum::Router;
use axum::middleware;
use axum::routing::{get, post};

use crate::server::AppState;
use data::ViewError;

pub use auth::{COOKIE, session_value};

/// The dashboard's routes, for the server's router to merge.
pub fn router(state: AppState) -> Router<AppState> {
    let owner_only = Router::new()
        .route("/dashboard", get(pages::today))
        .route("/dashboard/calls", get(pages::calls))
        .route("/dashboard/calls/{call_id}", get(pages::call))
        .route(
            "/dashboard/calls/{call_id}/script.yaml",
            get(pages::call_script),
        )
        .route("/dashboard/appointments", get(pages::appointments))
        .route("/dashboard/flows", get(pages::flows))
        .route("/dashboard/quality", get(pages::quality))
        .route("/dashboard/sign-out", post(auth::sign_out))
        .route("/dashboard/api/calls", get(api::calls))
        .route("/dashboard/api/calls/{call_id}", get(api::call))
        .route(
            "/dashboard/api/calls/{call_id}/script",
            get(pages::call_script),
        )
        .route("/dashboard/api/appointments", get(api::appointments))
        .route("/dashboard/api/appointments/{id}", get(api::appointment))
        .route("/dashboard/api/customers", get(api::customers))
        .route("/dashboard/api/customers/{id}", get(api::customer))
        .route_layer(middleware::from_fn_with_state(state, auth::require_owner));
    Router::new()
        .route(
            "/dashboard/sign-in",
            get(auth::sign_in_form).post(auth::sign_in),
        )
        .route("/dashboard/assets/style.css", get(pages::style))
        .merge(owner_only)
}

/// A recorded call as a caller script, as `calls export` writes it.
async fn export_script(state: &AppState, call_id: &str) -> Result<String, ViewError> {
    let storage = &state.driver().storage;
    let record = storage
        .get_call(call_id)
        .await?
        .ok_or_else(|| ViewError::NotFound(format!("call {call_id}")))?;
    let changed = storage.appointments_for_call(call_id).await?;
    let capacity = state.driver().engine.business().capacity_per_start;
    Ok(crate::call_script::export(&record, &changed, capacity))
}
