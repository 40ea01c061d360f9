//! The dashboard's HTML pages: minijinja templates from `src/dashboard/templates/`, compiled
//! into the binary (`include_str!`) so the pages are always those of the running version and
//! a project folder holds only the business's own files.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use minijinja::{Environment, Value, context};
use serde::Deserialize;

use super::data::{self, CalendarQuery, CallsQuery, ViewError};
use super::svg;
use crate::server::AppState;

const TEMPLATES: [(&str, &str); 8] = [
    ("base.html", include_str!("templates/base.html")),
    ("sign_in.html", include_str!("templates/sign_in.html")),
    ("today.html", include_str!("templates/today.html")),
    ("calls.html", include_str!("templates/calls.html")),
    ("call.html", include_str!("templates/call.html")),
    (
        "appointments.html",
        include_str!("templates/appointments.html"),
    ),
    ("flows.html", include_str!("templates/flows.html")),
    ("quality.html", include_str!("templates/quality.html")),
];

pub const STYLE: &str = include_str!("templates/style.css");

static PAGES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    for (name, source) in TEMPLATES {
        if let Err(error) = env.add_template(name, source) {
            // The templates are part of the binary and tested; this is a build mistake.
            tracing::error!(%error, template = name, "a dashboard template does not compile");
        }
    }
    // A call id as one path segment (ids are the carrier's; anything unusual is encoded).
    env.add_filter("urlencode", |text: String| {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                other => format!("%{other:02X}"),
            })
            .collect::<String>()
    });
    env.add_filter("duration", |seconds: Option<i64>| match seconds {
        None => String::new(),
        Some(s) if s < 60 => format!("{s}s"),
        Some(s) => format!("{}m {:02}s", s / 60, s % 60),
    });
    env
});

/// A page, or a plain error page when a template fails (never a panic).
pub fn render(name: &str, context: Value) -> Response {
    let page = PAGES
        .get_template(name)
        .and_then(|template| template.render(context));
    match page {
        Ok(html) => Html(html).into_response(),
        Err(error) => {
            tracing::error!(%error, template = name, "a dashboard page failed to render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                "this page failed; see the server log\n",
            )
                .into_response()
        }
    }
}

fn error_page(error: ViewError) -> Response {
    let status = match &error {
        ViewError::BadQuery(_) => StatusCode::BAD_REQUEST,
        ViewError::NotFound(_) => StatusCode::NOT_FOUND,
        ViewError::Storage(storage) => {
            tracing::error!(%storage, "the dashboard could not read the database");
            StatusCode::SERVICE_UNAVAILABLE
        }
    };
    let mut page = render(
        "base.html",
        context! { title => "Error", nav => "", error => error.to_string() },
    );
    *page.status_mut() = status;
    page
}

pub async fn style() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        STYLE,
    )
        .into_response()
}

#[derive(Debug, Default, Deserialize)]
pub struct DateQuery {
    pub date: Option<String>,
}

fn date_or_today(state: &AppState, query: &DateQuery) -> Result<jiff::civil::Date, ViewError> {
    match query
        .date
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        Some(text) => text
            .parse()
            .map_err(|_| ViewError::BadQuery(format!("date {text:?}: use a date like 2026-12-06"))),
        None => Ok(state.now().date()),
    }
}

pub async fn today(State(state): State<AppState>, Query(query): Query<DateQuery>) -> Response {
    let result = async {
        let date = date_or_today(&state, &query)?;
        data::today(&state, date).await
    };
    match result.await {
        Ok(today) => {
            let outcomes = svg::bars("calls by outcome", &today.by_outcome);
            let hours = svg::hours("calls by hour", &today.per_hour);
            render(
                "today.html",
                context! {
                    title => "Today", nav => "today", today => Value::from(minijinja::value::Serde(&today)),
                    outcomes_chart => Value::from_safe_string(outcomes),
                    hours_chart => Value::from_safe_string(hours),
                },
            )
        }
        Err(error) => error_page(error),
    }
}

pub async fn calls(State(state): State<AppState>, Query(query): Query<CallsQuery>) -> Response {
    let result = async {
        let filter = query.filter(&state)?;
        Ok::<_, ViewError>(state.driver().storage.list_calls(&filter).await?)
    };
    match result.await {
        Ok(calls) => render(
            "calls.html",
            context! {
                title => "Calls", nav => "calls", calls => Value::from(minijinja::value::Serde(&calls)), query => Value::from(minijinja::value::Serde(&query)),
                flows => data::flow_names(&state),
                outcomes => outcome_names(),
            },
        ),
        Err(error) => error_page(error),
    }
}

pub fn outcome_names() -> Vec<&'static str> {
    frontdesk_engine::Outcome::ALL
        .iter()
        .map(|o| o.as_str())
        .chain(["hung_up"])
        .collect()
}

pub async fn call(State(state): State<AppState>, Path(call_id): Path<String>) -> Response {
    match data::call_detail(&state, &call_id).await {
        Ok(call) => render(
            "call.html",
            context! { title => format!("Call {call_id}"), nav => "calls", call => Value::from(minijinja::value::Serde(&call)) },
        ),
        Err(error) => error_page(error),
    }
}

pub async fn call_script(State(state): State<AppState>, Path(call_id): Path<String>) -> Response {
    match super::export_script(&state, &call_id).await {
        Ok(yaml) => (
            [
                (
                    header::CONTENT_TYPE,
                    "application/yaml; charset=utf-8".to_string(),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    format!(
                        "attachment; filename=\"{}.yaml\"",
                        crate::call_script::file_stem(&call_id)
                    ),
                ),
            ],
            yaml,
        )
            .into_response(),
        Err(error) => error_page(error),
    }
}

pub async fn appointments(
    State(state): State<AppState>,
    Query(query): Query<CalendarQuery>,
) -> Response {
    match data::calendar(&state, &query).await {
        Ok(calendar) => render(
            "appointments.html",
            context! { title => "Appointments", nav => "appointments", calendar => Value::from(minijinja::value::Serde(&calendar)) },
        ),
        Err(error) => error_page(error),
    }
}

pub async fn flows(State(state): State<AppState>, Query(query): Query<DateQuery>) -> Response {
    let result = async {
        let date = date_or_today(&state, &query)?;
        Ok::<_, ViewError>((date, data::flow_traffic(&state, date).await?))
    };
    let (date, traffic) = match result.await {
        Ok(found) => found,
        Err(error) => return error_page(error),
    };
    let none = HashMap::new();
    let flows: Vec<Value> = state
        .driver()
        .engine
        .flows()
        .map(|flow| {
            let name = &flow.flow.value;
            let here = traffic.states.get(name).unwrap_or(&none);
            context! {
                name => name,
                description => flow.description.clone(),
                calls => traffic.calls.get(name).copied().unwrap_or(0),
                diagram => Value::from_safe_string(svg::flow_diagram(flow, here)),
                mermaid => frontdesk_engine::mermaid(flow),
            }
        })
        .collect();
    render(
        "flows.html",
        context! { title => "Flows", nav => "flows", flows => flows, date => date.to_string() },
    )
}

pub async fn quality(State(state): State<AppState>, Query(query): Query<DateQuery>) -> Response {
    let result = async {
        let date = date_or_today(&state, &query)?;
        data::quality_week(&state, date, 25).await
    };
    match result.await {
        Ok(week) => {
            let goal: Vec<(String, f64)> = week
                .days
                .iter()
                .map(|d| (d.date.strftime("%a").to_string(), f64::from(d.reached_goal)))
                .collect();
            let score: Vec<(String, f64)> = week
                .days
                .iter()
                .map(|d| (d.date.strftime("%a").to_string(), d.average_score))
                .collect();
            render(
                "quality.html",
                context! {
                    title => "Quality", nav => "quality", week => Value::from(minijinja::value::Serde(&week)),
                    goal_chart => Value::from_safe_string(svg::trend("percent of calls that reached a goal", &goal)),
                    score_chart => Value::from_safe_string(svg::trend("average trouble score", &score)),
                },
            )
        }
        Err(error) => error_page(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(name: &str, context: Value) -> String {
        PAGES
            .get_template(name)
            .and_then(|t| t.render(context))
            .unwrap_or_else(|e| panic!("{name}: {e:#}"))
    }

    #[test]
    fn every_template_compiles() {
        for (name, _) in TEMPLATES {
            assert!(PAGES.get_template(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn the_call_list_renders_its_filters_and_escapes_what_callers_said() {
        let calls = serde_json::json!([{
            "call_id": "CA1", "caller": "+12145550123", "called": "+12145550100",
            "started_at": "2026-06-01T09:12:00", "ended_at": null, "outcome": "booked",
            "transfer_to": null, "turns": 7,
        }]);
        let query = CallsQuery {
            q: Some("<script>".into()),
            ..CallsQuery::default()
        };
        let html = page(
            "calls.html",
            context! {
                title => "Calls", nav => "calls",
                calls => Value::from(minijinja::value::Serde(&calls)),
                query => Value::from(minijinja::value::Serde(&query)),
                flows => vec!["booking"], outcomes => outcome_names(),
            },
        );
        assert!(html.contains("1 call<"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        assert!(!html.contains("<script>"));
        assert!(
            !html.contains("Urgency"),
            "no urgency levels, no column: {html}"
        );
    }

    #[test]
    fn calls_with_urgency_levels_show_them() {
        let calls = serde_json::json!([
            { "call_id": "CA1", "caller": "+17575550123", "started_at": "2026-06-01T09:12:00",
              "outcome": "booked", "turns": 7, "urgency": "high" },
            { "call_id": "CA2", "caller": "+17575550124", "started_at": "2026-06-01T09:20:00",
              "outcome": "booked", "turns": 5, "urgency": null },
        ]);
        let html = page(
            "calls.html",
            context! {
                title => "Calls", nav => "calls",
                calls => Value::from(minijinja::value::Serde(&calls)),
                query => Value::from(minijinja::value::Serde(&CallsQuery::default())),
                flows => vec!["booking"], outcomes => outcome_names(),
            },
        );
        assert!(html.contains("<th>Urgency</th>"), "{html}");
        assert!(html.contains(r#"<td class="urgency">high</td>"#), "{html}");
    }
}
