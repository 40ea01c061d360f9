//! Knowledge answers phrased by the language model, end to end: a real server, the fake phone
//! (Gather and Media Streams) and the fake OpenAI-compatible server on loopback.

use std::sync::Arc;
use std::time::Duration;

use crate::support::replay::{ReplayPace, TestServer};
use frontdesk::server::Mode;
use frontdesk::server::sessions::MemorySessions;
use frontdesk::storage::CallRecord;
use frontdesk_testkit::fake_openai::{FakeOpenAi, FakeOpenAiOptions, Reply};
use frontdesk_testkit::phone::{BargeIn, Speaker, gather_call, http_client, new_call_sid};
use serde_json::{Value, json};

use crate::llm_fallback::{Opening, caller, server_with, slot_model};
use crate::twilio_gather::{engine, script};

const HEAT_PUMPS: &str = "do you guys work on heat pumps";
const PHRASED: &str = "Yes, we do: we service and repair heat pumps of all the major brands.";

/// A fake whose free-form answers are `answer` (streamed `tokens_per_second` when set) and
/// whose extractions find nothing.
async fn answering(answer: Reply, tokens_per_second: Option<f32>) -> FakeOpenAi {
    FakeOpenAi::start(FakeOpenAiOptions {
        api_key: Some("sk-test".into()),
        tokens_per_second,
        default_reply: Reply::Json(json!({})),
        answer_reply: Some(answer),
        ..FakeOpenAiOptions::default()
    })
    .await
    .unwrap()
}

/// The booking caller, with a knowledge question first where the time is asked.
fn asks_then_books(question: &'static str) -> Opening<crate::llm_fallback::BySlot> {
    let mut answers = caller(&["fort worth"]);
    answers.0.insert("when", vec![question, "tomorrow at 10"]);
    Opening(false, answers)
}

fn agent_lines(transcript: &[(Speaker, String)]) -> Vec<&str> {
    transcript
        .iter()
        .filter(|(who, _)| *who == Speaker::Agent)
        .map(|(_, text)| text.as_str())
        .collect()
}

/// The `llm` event of the knowledge answer.
fn answer_report(record: &CallRecord) -> Value {
    record
        .events
        .iter()
        .find(|e| e.kind == "llm" && e.detail["purpose"] == "answer")
        .map(|e| e.detail["report"].clone())
        .unwrap_or_else(|| panic!("no answer event in {:#?}", record.events))
}

fn passage(title: &str) -> String {
    let engine = engine();
    let entry = engine
        .knowledge()
        .entries()
        .iter()
        .find(|e| e.title == title)
        .unwrap_or_else(|| panic!("no knowledge section {title}"));
    entry.text.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_mid_booking_is_answered_in_the_models_words_and_the_booking_completes() {
    let fake = answering(Reply::Text(PHRASED.into()), None).await;
    let server = server_with(slot_model(&fake, 5)).await;
    let sid = new_call_sid();
    let mut caller = asks_then_books(HEAT_PUMPS);
    let report = gather_call(&http_client(), &server.line, &mut caller, &sid).await;
    let stored = server.stored(&sid).await.unwrap();
    assert_eq!(stored.outcome, "booked", "{:#?}", report.transcript);

    // Heard: the model's two sentences, then the flow's question again.
    let said = agent_lines(&report.transcript);
    let at = said
        .iter()
        .position(|line| line.contains("Yes, we do:"))
        .unwrap_or_else(|| panic!("the model's answer was not spoken: {said:#?}"));
    assert!(said[at].contains("all the major brands"), "{said:#?}");
    assert!(
        !said.iter().any(|l| l.contains(&passage("Heat pumps"))),
        "{said:#?}"
    );

    // What the model was given: the persona, the question, the heat pump passage.
    let request = fake
        .requests()
        .into_iter()
        .find(|r| r["stream"] == true)
        .expect("a streamed answer request");
    let system = request["messages"][0]["content"].as_str().unwrap();
    assert!(system.contains("KC Comfort Air"), "{system}");
    assert!(system.contains(&passage("Heat pumps")), "{system}");
    assert_eq!(request["messages"][1]["content"], HEAT_PUMPS);

    // The record holds the spoken words and the call's accounting.
    let record = server.storage.get_call(&sid).await.unwrap().unwrap();
    let answer = answer_report(&record);
    assert_eq!(answer["fell_back"], false, "{answer}");
    assert_eq!(answer["stats"]["outcome"]["kind"], "ok", "{answer}");
    assert!(
        record
            .turns
            .iter()
            .any(|t| t.text.contains("Yes, we do:") && t.text.contains("major brands")),
        "{:#?}",
        record.turns
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invented_price_is_never_spoken_and_the_passage_is_read_instead() {
    let fake = answering(
        Reply::Text("A tune-up is just $59 this month. We guarantee it.".into()),
        None,
    )
    .await;
    let server = server_with(slot_model(&fake, 5)).await;
    let sid = new_call_sid();
    let mut caller = asks_then_books("how much is a tune up");
    let report = gather_call(&http_client(), &server.line, &mut caller, &sid).await;
    let stored = server.stored(&sid).await.unwrap();
    assert_eq!(stored.outcome, "booked", "{:#?}", report.transcript);
    let said = agent_lines(&report.transcript);
    assert!(!said.iter().any(|l| l.contains("59")), "{said:#?}");
    let record = server.storage.get_call(&sid).await.unwrap().unwrap();
    let answer = answer_report(&record);
    assert_eq!(answer["fell_back"], true, "{answer}");
    assert!(
        answer["refused"][1]
            .as_str()
            .is_some_and(|why| why.contains("59")),
        "{answer}"
    );
    let read = answer["spoken"][0].as_str().unwrap().to_string();
    assert!(said.contains(&read.as_str()), "{said:#?} lacks {read}");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_model_means_the_passage_is_read_and_the_call_goes_on() {
    let fake = answering(Reply::server_error(), None).await;
    let server = server_with(slot_model(&fake, 5)).await;
    let sid = new_call_sid();
    let mut caller = asks_then_books(HEAT_PUMPS);
    let report = gather_call(&http_client(), &server.line, &mut caller, &sid).await;
    let stored = server.stored(&sid).await.unwrap();
    assert_eq!(stored.outcome, "booked", "{:#?}", report.transcript);
    let said = agent_lines(&report.transcript);
    assert!(
        said.iter().any(|l| l.contains(&passage("Heat pumps"))),
        "{said:#?}"
    );
    let record = server.storage.get_call(&sid).await.unwrap().unwrap();
    let answer = answer_report(&record);
    assert_eq!(answer["fell_back"], true, "{answer}");
    assert!(answer["error"].as_str().is_some(), "{answer}");
    server.shutdown().await;
}

async fn stream_server(fake: &FakeOpenAi) -> TestServer {
    TestServer::start_with(
        engine(),
        &script("faq_then_book"),
        Mode::Stream,
        &ReplayPace::default(),
        Arc::new(MemorySessions::new()),
        Some(slot_model(fake, 5)),
    )
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_media_streams_the_first_sentence_is_spoken_while_the_rest_is_written() {
    // About 40 tokens a second, as a hosted model streams.
    let fake = answering(
        Reply::Text("Yes, we're open on Saturday. That's from 8 AM until noon.".into()),
        Some(40.0),
    )
    .await;
    // The model stops after the first sentence (and the word that shows it is complete)
    // until that sentence has gone to speech.
    fake.hold_streams_after(6);
    let server = stream_server(&fake).await;
    let script = script("faq_then_book");
    let spoken_while_writing = async {
        let http = http_client();
        let url = format!("{}/health/detailed", server.line.server);
        for _ in 0..400 {
            let health: Value = http.get(&url).send().await.unwrap().json().await.unwrap();
            if health["latency"]["turn_to_answer_sentence"]["count"] == 1 {
                let still_writing = fake.completed_streams() == 0;
                fake.release_streams();
                return still_writing;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        fake.release_streams();
        false
    };
    let (report, spoken_while_writing) =
        tokio::join!(server.call(&script, None), spoken_while_writing);
    assert!(
        spoken_while_writing,
        "the first sentence must go to speech while the model is still writing"
    );
    let stored = server.stored(&report.call_sid).await.unwrap();
    assert_eq!(stored.outcome, "booked", "{report:?}");
    let record = server
        .storage
        .get_call(&report.call_sid)
        .await
        .unwrap()
        .unwrap();
    let answer = answer_report(&record);
    assert_eq!(
        answer["spoken"],
        json!([
            "Yes, we're open on Saturday.",
            "That's from 8 AM until noon."
        ]),
        "{answer}"
    );
    // The answer's line sits before the question asked after it in the record.
    let turns: Vec<&str> = record.turns.iter().map(|t| t.text.as_str()).collect();
    let answered = turns
        .iter()
        .position(|t| t.starts_with("Yes, we're open on Saturday."))
        .unwrap_or_else(|| panic!("{turns:#?}"));
    assert_eq!(
        turns[answered - 1],
        "are you open on saturdays",
        "the answer follows the question: {turns:#?}"
    );
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn talking_over_an_answer_cancels_the_model() {
    let fake = answering(
        Reply::Text("Yes, we're open on Saturday. That's from 8 AM until noon.".into()),
        None,
    )
    .await;
    // The first sentence comes at once; the rest waits until the test lets it go.
    fake.hold_streams_after(8);
    let server = stream_server(&fake).await;
    // The caller asks, then talks over the answer with the booking request.
    let mut script = script("faq_then_book");
    script.turns.truncate(1);
    let barge_in = BargeIn {
        on_turn: 2,
        after: Duration::from_millis(300),
        text: "ok then i'd like to book a visit for saturday at 9".into(),
    };
    let report = server.call(&script, Some(barge_in)).await;
    let stored = server.stored(&report.call_sid).await.unwrap();
    assert_eq!(stored.outcome, "booked", "{report:?}");
    assert_eq!(report.clears, 1, "{report:?}");
    let record = server
        .storage
        .get_call(&report.call_sid)
        .await
        .unwrap()
        .unwrap();
    let answer = answer_report(&record);
    assert_eq!(answer["cancelled"], true, "{answer}");
    assert_eq!(answer["spoken"], json!(["Yes, we're open on Saturday."]));
    assert_eq!(answer["stats"]["outcome"]["kind"], "cancelled", "{answer}");
    fake.release_streams();
    server.shutdown().await;
}
