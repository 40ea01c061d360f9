//! The language model as a fallback for slot extraction, end to end: a real server, the fake
//! Twilio phone, and a fake OpenAI-compatible server on loopback.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::support::replay::{ReplayPace, TestServer};
use frontdesk::call_event::Event;
use frontdesk::llm::{LlmClient, LlmConfig, Model, Outcome};
use frontdesk::server::Mode;
use frontdesk::server::sessions::MemorySessions;
use frontdesk_engine::script::CallerAction;
use frontdesk_testkit::fake_openai::{FakeOpenAi, FakeOpenAiOptions, Reply};
use frontdesk_testkit::phone::{Caller, gather_call, http_client, new_call_sid};
use serde_json::{Value, json};

use crate::twilio_gather::{engine, script};

pub(crate) fn slot_model(fake: &FakeOpenAi, breaker_failures: u32) -> Arc<Model> {
    let mut config = LlmConfig::new(fake.base_url(), "test-model").with_api_key("sk-test");
    config.max_retries = 0;
    config.breaker_failures = breaker_failures;
    config.breaker_cooldown = Duration::from_secs(300);
    config.timeout_per_request = Duration::from_secs(5);
    let prompts = Path::new(env!("CARGO_MANIFEST_DIR")).join("prompts");
    let business = engine().business().clone();
    Arc::new(Model::new(LlmClient::new(config).unwrap(), &prompts, &business).unwrap())
}

pub(crate) async fn fake(default_reply: Reply) -> FakeOpenAi {
    FakeOpenAi::start(FakeOpenAiOptions {
        api_key: Some("sk-test".into()),
        default_reply,
        ..FakeOpenAiOptions::default()
    })
    .await
    .unwrap()
}

pub(crate) async fn server_with(model: Arc<Model>) -> TestServer {
    let script = script("booking_all_in_one");
    TestServer::start_with(
        engine(),
        &script,
        Mode::Gather,
        &ReplayPace::default(),
        Arc::new(MemorySessions::new()),
        Some(model),
    )
    .await
    .unwrap()
}

/// Answers by the slot the agent asks for; each slot's answers are used in turn.
pub(crate) struct BySlot(pub BTreeMap<&'static str, Vec<&'static str>>);

impl Caller for BySlot {
    fn next(&mut self, asked: Option<&str>) -> CallerAction {
        let Some(answers) = asked.and_then(|slot| self.0.get_mut(slot)) else {
            return CallerAction::Hangup;
        };
        if answers.is_empty() {
            return CallerAction::Hangup;
        }
        CallerAction::Say(answers.remove(0).to_string())
    }
}

pub(crate) fn caller(location_answers: &[&'static str]) -> BySlot {
    BySlot(BTreeMap::from([
        ("issue", vec!["my ac is blowing warm air"]),
        ("when", vec!["tomorrow at 10", "tomorrow at 10"]),
        ("location", location_answers.to_vec()),
        ("name", vec!["this is linda park"]),
        ("confirm", vec!["yes please"]),
    ]))
}

/// Starts the call with a booking request so the flow asks its questions.
pub(crate) struct Opening<C: Caller>(pub bool, pub C);

impl<C: Caller> Caller for Opening<C> {
    fn next(&mut self, asked: Option<&str>) -> CallerAction {
        if !self.0 {
            self.0 = true;
            return CallerAction::Say("i need to book a repair".into());
        }
        self.1.next(asked)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_model_fills_a_slot_the_rules_missed() {
    let fake = fake(Reply::Json(json!({}))).await;
    let server = server_with(slot_model(&fake, 5)).await;
    fake.push(Reply::Json(json!({ "location": "Fort Worth" })));
    let sid = new_call_sid();
    let mut caller = Opening(false, caller(&["the shop out by the stockyards"]));
    gather_call(&http_client(), &server.line, &mut caller, &sid).await;
    let stored = server.stored(&sid).await.unwrap();
    assert_eq!(stored.outcome, "booked", "{stored:?}");
    assert_eq!(stored.appointments[0]["location"], "FTW");

    // What the model was asked: structured output over the open slots, with the question.
    let asked = fake.requests();
    let request = asked
        .iter()
        .find(|r| {
            r["response_format"]["json_schema"]["schema"]["properties"]["location"].is_object()
        })
        .expect("an extraction request with a location field");
    assert_eq!(request["model"], "test-model");
    let system = request["messages"][0]["content"].as_str().unwrap();
    assert!(
        system.contains("KC Comfort Air") && system.contains("stockyards"),
        "{system}"
    );
    let record = server.storage.get_call(&sid).await.unwrap().unwrap();
    let used = record
        .events
        .iter()
        .find_map(|e| match e.event() {
            Event::Llm(used) => Some(used),
            _ => None,
        })
        .unwrap();
    let stats = used.stats().unwrap_or_else(|| panic!("{used:?}"));
    assert_eq!(stats.outcome, Outcome::Ok, "{used:?}");
    assert!(stats.prompt_tokens > 0, "{used:?}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_made_up_location_is_refused_and_asked_again() {
    let fake = fake(Reply::Json(json!({}))).await;
    let server = server_with(slot_model(&fake, 5)).await;
    fake.push(Reply::Json(json!({ "location": "Houston" })));
    let sid = new_call_sid();
    let mut caller = Opening(false, caller(&["the one near my cousin's place", "dallas"]));
    let report = gather_call(&http_client(), &server.line, &mut caller, &sid).await;
    let stored = server.stored(&sid).await.unwrap();
    assert_eq!(stored.outcome, "booked", "{report:?}");
    assert_eq!(stored.appointments[0]["location"], "DAL");
    let record = server.storage.get_call(&sid).await.unwrap().unwrap();
    let extraction = record
        .events
        .iter()
        .find(|e| e.kind == "model_extraction")
        .unwrap();
    assert_eq!(
        extraction.detail["filled"],
        json!([]),
        "{}",
        extraction.detail
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_model_opens_the_breaker_and_calls_still_complete() {
    let fake = fake(Reply::server_error()).await;
    let server = server_with(slot_model(&fake, 2)).await;
    let http = http_client();
    // Different hours, so the calls do not fill one slot (two visits per start).
    for when in ["tomorrow at 10", "tomorrow at 1", "tomorrow at 3"] {
        let sid = new_call_sid();
        let mut answers = caller(&["somewhere over there", "fort worth"]);
        answers.0.insert("when", vec![when]);
        let mut caller = Opening(false, answers);
        let report = gather_call(&http, &server.line, &mut caller, &sid).await;
        let stored = server.stored(&sid).await.unwrap();
        assert_eq!(
            stored.outcome, "booked",
            "the rules carry the call: {stored:?} {:#?}",
            report.transcript
        );
    }
    // Two failures opened the breaker: the third call never reached the model.
    assert_eq!(fake.request_count(), 2);
    let health: serde_json::Value = http
        .get(format!("{}/health/detailed", server.line.server))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["llm"]["breaker"]["state"], "open", "{health}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_caller_script_ends_the_same_with_a_model_configured() {
    // A model that finds nothing: wherever the rules miss, the engine asks it, gets nothing,
    // and must then behave exactly as on rules alone.
    // Knowledge answers get a plain sentence that states nothing, so they are spoken.
    let fake = FakeOpenAi::start(FakeOpenAiOptions {
        api_key: Some("sk-test".into()),
        default_reply: Reply::Json(json!({})),
        answer_reply: Some(Reply::Text("Happy to help with that.".into())),
        ..FakeOpenAiOptions::default()
    })
    .await
    .unwrap();
    crate::twilio_gather::replay_all(Mode::Gather, 8, Some(slot_model(&fake, 5))).await;
    let requests = fake.requests();
    assert!(
        requests.iter().any(|r| r.get("response_format").is_some()),
        "some script should have needed the model for a slot"
    );
    assert!(
        requests.iter().any(|r| r["stream"] == true),
        "some script should have had a knowledge answer phrased"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_correction_the_rules_missed_lands_in_the_right_slot() {
    let fake = fake(Reply::Json(json!({}))).await;
    let server = server_with(slot_model(&fake, 5)).await;
    fake.push(Reply::Json(json!({ "location": "Fort Worth" })));
    let sid = new_call_sid();
    let mut answers = caller(&["dallas"]);
    answers.0.insert(
        "confirm",
        vec![
            "actually make it the shop out by the stockyards instead",
            "yes please",
        ],
    );
    let report = gather_call(
        &http_client(),
        &server.line,
        &mut Opening(false, answers),
        &sid,
    )
    .await;
    let stored = server.stored(&sid).await.unwrap();
    assert_eq!(stored.outcome, "booked", "{:#?}", report.transcript);
    assert_eq!(
        stored.appointments[0]["location"], "FTW",
        "{:#?}",
        report.transcript
    );
    // The model was offered the filled location, since the caller was correcting.
    let request = fake.requests().pop().unwrap();
    let properties = &request["response_format"]["json_schema"]["schema"]["properties"];
    assert!(properties["location"].is_object(), "{properties}");
    let record = server.storage.get_call(&sid).await.unwrap().unwrap();
    assert!(record.events.iter().any(|e| e.kind == "slot_corrected"));
    server.shutdown().await;
}

/// The caller's answer to the location question holds the time too.
fn answers_location_with(phrase: &'static str) -> Opening<BySlot> {
    let mut answers = caller(&[phrase]);
    // Asked again only if the model's time did not land.
    answers.0.insert("when", vec!["monday at 3"]);
    Opening(false, answers)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_answer_the_rules_missed_fills_two_slots_through_the_model() {
    let fake = fake(Reply::Json(json!({}))).await;
    let server = server_with(slot_model(&fake, 5)).await;
    fake.push(Reply::Json(
        json!({ "location": "Fort Worth", "when": "Friday at 9 am", "issue": null }),
    ));
    let sid = new_call_sid();
    let mut caller = answers_location_with(
        "the place by the stockyards, whenever suits you guys at the tail end of the week",
    );
    let report = gather_call(&http_client(), &server.line, &mut caller, &sid).await;
    let stored = server.stored(&sid).await.unwrap();
    assert_eq!(stored.outcome, "booked", "{:#?}", report.transcript);
    assert_eq!(stored.appointments[0]["location"], "FTW");
    assert_eq!(stored.appointments[0]["start"], "2026-06-05T09:00");
    let record = server.storage.get_call(&sid).await.unwrap().unwrap();
    let extraction = record
        .events
        .iter()
        .find(|e| e.kind == "model_extraction")
        .unwrap();
    let filled: Vec<&str> = extraction.detail["filled"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        filled.contains(&"location") && filled.contains(&"when"),
        "{}",
        extraction.detail
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_rules_read_only_part_of_an_answer_the_model_reads_the_rest() {
    let fake = fake(Reply::Json(json!({}))).await;
    let server = server_with(slot_model(&fake, 5)).await;
    fake.push(Reply::Json(json!({ "location": "Fort Worth" })));
    let sid = new_call_sid();
    let mut caller = answers_location_with("the one by the stockyards, friday at 9");
    let report = gather_call(&http_client(), &server.line, &mut caller, &sid).await;
    let stored = server.stored(&sid).await.unwrap();
    assert_eq!(stored.outcome, "booked", "{:#?}", report.transcript);
    assert_eq!(stored.appointments[0]["location"], "FTW");
    // The rules' Friday 9 AM stood; the model was asked only for what was still open.
    assert_eq!(stored.appointments[0]["start"], "2026-06-05T09:00");
    let request = fake.requests().pop().unwrap();
    let properties = &request["response_format"]["json_schema"]["schema"]["properties"];
    assert!(properties["location"].is_object(), "{properties}");
    assert!(properties.get("when").is_none(), "{properties}");
    // The location was not asked a second time.
    let asked_location = report
        .transcript
        .iter()
        .filter(|(_, line)| line.starts_with("Which location is closest"))
        .count();
    assert_eq!(asked_location, 1, "{:#?}", report.transcript);
    server.shutdown().await;
}
