//! The client against the fake OpenAI server over real HTTP on loopback.

mod extract;
mod resilience;
mod stream;

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use super::{
    Accounting, AnswerRequest, CallStats, ChatMessage, ExtractRequest, LlmClient, LlmConfig,
};
use frontdesk_testkit::fake_openai::{FakeOpenAi, FakeOpenAiOptions};

const KEY: &str = "sk-test-frontdesk";

/// Only keeps a broken test from hanging; no assertion depends on it.
async fn within<F: Future>(future: F) -> F::Output {
    tokio::time::timeout(Duration::from_secs(30), future)
        .await
        .expect("the test took far too long")
}

async fn fake() -> FakeOpenAi {
    fake_with(FakeOpenAiOptions {
        api_key: Some(KEY.into()),
        ..FakeOpenAiOptions::default()
    })
    .await
}

async fn fake_with(options: FakeOpenAiOptions) -> FakeOpenAi {
    FakeOpenAi::start(options)
        .await
        .expect("fake OpenAI starts")
}

fn config(fake: &FakeOpenAi) -> LlmConfig {
    let mut config = LlmConfig::new(fake.base_url(), "gpt-4o-mini").with_api_key(KEY);
    config.timeout_per_request = Duration::from_secs(5);
    config.backoff_base = Duration::from_millis(10);
    config
}

/// A client whose every call's stats land in the returned list.
fn client(config: LlmConfig) -> (LlmClient, Arc<Mutex<Vec<CallStats>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let accounting: Accounting = Arc::new(move |stats: &CallStats| {
        sink.lock().expect("stats lock").push(stats.clone());
    });
    let client = LlmClient::with_accounting(config, accounting).expect("valid config");
    (client, seen)
}

fn last_stats(seen: &Mutex<Vec<CallStats>>) -> CallStats {
    seen.lock()
        .expect("stats lock")
        .last()
        .cloned()
        .expect("the call was accounted")
}

fn booking_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "party_size": {"type": ["integer", "null"]},
            "date": {"type": ["string", "null"], "description": "YYYY-MM-DD"}
        },
        "required": ["party_size", "date"],
        "additionalProperties": false
    })
}

fn extract_request() -> ExtractRequest {
    ExtractRequest {
        system: "Extract the booking details. Today is 2025-06-02.".into(),
        messages: vec![
            ChatMessage::assistant("How many people, and for which day?"),
            ChatMessage::user("Four of us, this Friday."),
        ],
        schema_name: "booking_slots".into(),
        schema: booking_schema(),
        max_tokens: None,
        deadline: None,
    }
}

fn answer_request() -> AnswerRequest {
    AnswerRequest {
        system: "Answer from these passages only: We open at 9 a.m. on weekdays.".into(),
        messages: vec![ChatMessage::user("When do you open?")],
        max_tokens: Some(200),
        temperature: Some(0.3),
        deadline: None,
    }
}
