//! The owner's dashboard in a real headless Chromium after a simulated morning of calls: sign
//! in, every view, counts that match the database, a transcript line, a visit in the week view,
//! refusal without the token; a screenshot of each view under target/. And the JSON API, and a
//! call exported as a caller script that `simulate` passes.

use std::path::{Path, PathBuf};

use frontdesk::simulate::run_script;
use frontdesk::storage::{AppointmentStatus, CallFilter, Storage};
use frontdesk_engine::script::{Script, ScriptCursor};
use frontdesk_testkit::phone::{PhoneLine, gather_call, http_client, new_call_sid};
use futures_util::future::join_all;
use serde_json::Value;

use crate::support::browser::Browser;
use crate::support::replay::TestServer;
use crate::twilio_gather::{Project, engine, project_scripts, script};

const TOKEN: &str = "owner-test-token";

/// Where the screenshots go (CI keeps target/ as the test artifacts).
fn shots() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard")
}

/// A morning: half the caller scripts of 2026-06-01 09:12 that need no visits beforehand, and one
/// reschedule of the visit the server starts with, eight calls at a time.
async fn simulated_morning(server: &TestServer, first: &Script) -> usize {
    let mut day: Vec<Script> = project_scripts(&Project::Default)
        .into_iter()
        .map(|(_, s)| s)
        .filter(|s| s.now == first.now && s.given.appointments.is_empty())
        // Every other one: bookings, emergencies, questions, transfers, hang-ups.
        .step_by(2)
        .collect();
    day.push(first.clone());
    let http = http_client();
    for batch in day.chunks(8) {
        let calls = batch.iter().map(|script| {
            let line = PhoneLine {
                from: script.caller_id.clone().unwrap_or_default(),
                ..server.line.clone()
            };
            let http = http.clone();
            async move {
                let mut cursor = ScriptCursor::new(script);
                gather_call(&http, &line, &mut cursor, &new_call_sid()).await
            }
        });
        join_all(calls).await;
    }
    server.settle().await;
    day.len()
}

/// An API request with the owner's token, or without any.
async fn api(base: &str, path: &str, token: Option<&str>) -> (u16, String) {
    let mut request = http_client().get(format!("{base}{path}"));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_dashboard_shows_a_simulated_day_in_a_real_browser() {
    let first = script("reschedule_caller_id");
    let server = TestServer::start_configured(
        engine(),
        &first,
        |config| config.dashboard_token = Some(TOKEN.into()),
        |driver, _| driver,
    )
    .await
    .unwrap();
    let placed = simulated_morning(&server, &first).await;
    let storage: &dyn Storage = server.storage.as_ref();
    let calls = storage.list_calls(&CallFilter::latest(1000)).await.unwrap();
    assert_eq!(calls.len(), placed);
    let count = |outcome: &str| {
        calls
            .iter()
            .filter(|c| c.outcome.as_deref() == Some(outcome))
            .count()
    };
    let base = server.line.server.clone();

    // Without the token: every page and API route refuses.
    let _ = http_client();
    let bare = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let some_call = &calls[0].call_id;
    for page in [
        "/dashboard".to_string(),
        "/dashboard/calls?outcome=booked".into(),
        format!("/dashboard/calls/{some_call}"),
        format!("/dashboard/calls/{some_call}/script.yaml"),
        "/dashboard/appointments".into(),
        "/dashboard/flows".into(),
        "/dashboard/quality".into(),
    ] {
        let response = bare.get(format!("{base}{page}")).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 303, "{page}");
        let to = response.headers()["location"].to_str().unwrap().to_string();
        assert!(to.starts_with("/dashboard/sign-in?next="), "{page}: {to}");
    }
    for route in [
        "/dashboard/api/calls".to_string(),
        format!("/dashboard/api/calls/{some_call}"),
        format!("/dashboard/api/calls/{some_call}/script"),
        "/dashboard/api/appointments".into(),
        "/dashboard/api/appointments/1".into(),
        "/dashboard/api/customers".into(),
        "/dashboard/api/customers/1".into(),
    ] {
        let (status, body) = api(&base, &route, None).await;
        assert_eq!(status, 401, "{route}: {body}");
    }
    let (status, _) = api(&base, "/dashboard/api/calls", Some("wrong")).await;
    assert_eq!(status, 401);
    let browser = Browser::start().await;
    browser.open(&format!("{base}/dashboard/calls")).await;
    assert!(browser.url().await.contains("/dashboard/sign-in"));
    assert_eq!(
        browser.count("#calls").await,
        0,
        "no call list before signing in"
    );
    browser.type_into("#token", "not-the-token").await;
    browser.click("#sign-in").await;
    // Found once the form's answer is the page (find waits for it).
    assert!(
        browser
            .text("#wrong-token")
            .await
            .contains("That is not the owner token")
    );
    browser.screenshot(&shots().join("sign-in.png")).await;

    // Signed in: back to the page asked for.
    browser.type_into("#token", TOKEN).await;
    browser.click("#sign-in").await;
    let url = browser.url_once_it_ends_with("/dashboard/calls").await;
    assert!(url.ends_with("/dashboard/calls"), "{url}");
    assert_eq!(
        browser.text("#call-count").await,
        format!("{} calls", calls.len())
    );
    assert_eq!(browser.count("#calls tbody tr").await, calls.len());
    browser.fit_page().await;
    browser.screenshot(&shots().join("calls.png")).await;

    // Today.
    browser.open(&format!("{base}/dashboard")).await;
    assert_eq!(browser.text("#calls-today").await, calls.len().to_string());
    assert_eq!(browser.text("#bookings").await, count("booked").to_string());
    assert_eq!(
        browser.text("#emergencies").await,
        count("emergency").to_string()
    );
    assert_eq!(
        browser.text("#transfers").await,
        count("transferred").to_string()
    );
    assert!(browser.count("svg.chart").await >= 2);
    browser.fit_page().await;
    browser.screenshot(&shots().join("today.png")).await;

    // One booked call: its transcript, with the caller's own words. Whichever visit the
    // morning booked by phone (the scripts it places change as scripts are added).
    let booked = storage
        .search_appointments(&frontdesk::storage::AppointmentFilter {
            from: None,
            to: None,
            location: None,
            text: None,
            status: Some(AppointmentStatus::Booked),
            limit: 100,
        })
        .await
        .unwrap();
    let mut booked_by_phone = None;
    for visit in booked {
        let call = storage.get_call(&visit.created_by_call).await.unwrap();
        if let Some(call) = call.filter(|c| c.outcome.as_deref() == Some("booked")) {
            booked_by_phone = Some((visit, call));
            break;
        }
    }
    let (visit, call) = booked_by_phone.expect("the morning booked a visit by phone");
    let caller_line = call
        .turns
        .iter()
        .find(|t| t.speaker == frontdesk::storage::Speaker::Caller)
        .unwrap()
        .text
        .clone();
    browser
        .open(&format!("{base}/dashboard/calls/{}", call.call_id))
        .await;
    assert_eq!(browser.text("#outcome").await, "booked");
    assert!(browser.text("#transcript").await.contains(&caller_line));
    assert_eq!(
        browser.count("#transcript li").await,
        call.turns.len(),
        "every turn of the record"
    );
    browser.fit_page().await;
    browser.screenshot(&shots().join("call.png")).await;

    // The week of the visit at its location shows it.
    browser
        .open(&format!(
            "{base}/dashboard/appointments?location={}&view=week&date={}",
            visit.location,
            visit.start.date()
        ))
        .await;
    let week = browser.text("#calendar").await;
    assert!(week.contains(&visit.name), "{week}");
    let visit_week = storage
        .booked_between(
            visit
                .start
                .date()
                .at(0, 0, 0, 0)
                .checked_sub(jiff::Span::new().days(7))
                .unwrap(),
            visit
                .start
                .date()
                .at(0, 0, 0, 0)
                .checked_add(jiff::Span::new().days(7))
                .unwrap(),
        )
        .await
        .unwrap();
    assert!(visit_week.iter().any(|v| v.id == visit.id));
    browser.fit_page().await;
    browser.screenshot(&shots().join("appointments.png")).await;

    // Flows: a drawing per flow, the booking flow's traffic.
    browser.open(&format!("{base}/dashboard/flows")).await;
    let flows = server.engine.flows().count();
    assert_eq!(browser.count("svg.flow").await, flows);
    assert!(browser.text("#flow-booking h2").await.contains("calls"));
    browser.fit_page().await;
    browser.screenshot(&shots().join("flows.png")).await;

    // Quality: the week's calls, the worst first.
    browser.open(&format!("{base}/dashboard/quality")).await;
    assert_eq!(
        browser.text("#quality-calls").await,
        calls.len().to_string()
    );
    assert!(browser.count("#worst tbody tr").await > 0);
    browser.fit_page().await;
    browser.screenshot(&shots().join("quality.png")).await;

    // Signing out ends it.
    browser.click(".sign-out button").await;
    let url = browser.url_once_it_ends_with("/dashboard/sign-in").await;
    assert!(url.ends_with("/dashboard/sign-in"), "{url}");
    browser.open(&format!("{base}/dashboard/quality")).await;
    assert!(browser.url().await.contains("/dashboard/sign-in"));
    browser.close().await;

    // The API, with the token.
    let (status, body) = api(&base, "/dashboard/api/calls?outcome=booked", Some(TOKEN)).await;
    assert_eq!(status, 200, "{body}");
    let listed: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(listed.len(), count("booked"));
    let (status, body) = api(
        &base,
        &format!("/dashboard/api/calls/{}", call.call_id),
        Some(TOKEN),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let detail: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(detail["outcome"], "booked");
    assert_eq!(detail["appointments"][0]["id"], visit.id);
    // The customer is the phone number; its name is the latest booking's.
    let digits: String = visit.phone.chars().filter(char::is_ascii_digit).collect();
    let (status, body) = api(
        &base,
        &format!("/dashboard/api/customers?q={digits}"),
        Some(TOKEN),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let customers: Vec<Value> = serde_json::from_str(&body).unwrap();
    assert_eq!(customers.len(), 1, "{body}");
    assert_eq!(customers[0]["phone"], visit.phone.as_str());
    let (status, body) = api(
        &base,
        &format!("/dashboard/api/customers/{}", customers[0]["id"]),
        Some(TOKEN),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let customer: Value = serde_json::from_str(&body).unwrap();
    let theirs = customer["appointments"].as_array().unwrap();
    assert!(theirs.iter().any(|a| a["id"] == visit.id), "{body}");
    assert!(!customer["calls"].as_array().unwrap().is_empty());
    let (status, body) = api(
        &base,
        "/dashboard/api/appointments?location=XYZ",
        Some(TOKEN),
    )
    .await;
    assert_eq!(status, 400);
    assert!(body.contains("DAL"), "{body}");

    // The booked call as a caller script passes `simulate`.
    let (status, yaml) = api(
        &base,
        &format!("/dashboard/calls/{}/script.yaml", call.call_id),
        Some(TOKEN),
    )
    .await;
    assert_eq!(status, 200, "{yaml}");
    let exported = Script::from_yaml(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    let report = run_script(server.engine.clone(), &exported, "exported.yaml")
        .await
        .unwrap();
    assert!(report.passed, "{:?}\n{yaml}", report.failures);
    assert_eq!(report.outcome, "booked");

    // The reschedule, too: the visit as it was before the call is its `given`.
    let moved = calls
        .iter()
        .find(|c| c.outcome.as_deref() == Some("rescheduled"))
        .expect("the morning's reschedule");
    let (_, yaml) = api(
        &base,
        &format!("/dashboard/api/calls/{}/script", moved.call_id),
        Some(TOKEN),
    )
    .await;
    let exported = Script::from_yaml(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
    assert_eq!(exported.given.appointments.len(), 1, "{yaml}");
    let report = run_script(server.engine.clone(), &exported, "moved.yaml")
        .await
        .unwrap();
    assert!(report.passed, "{:?}\n{yaml}", report.failures);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_the_dashboard_is_off() {
    let first = script("booking_basic");
    let server = TestServer::start_configured(engine(), &first, |_| {}, |driver, _| driver)
        .await
        .unwrap();
    let base = server.line.server.clone();
    for path in ["/dashboard", "/dashboard/sign-in", "/dashboard/api/calls"] {
        let (status, body) = api(&base, path, Some("anything")).await;
        assert_eq!(status, 404, "{path}");
        assert!(body.contains("FRONTDESK_DASHBOARD_TOKEN"), "{path}: {body}");
    }
    server.shutdown().await;
}
