use serde_json::json;

use super::*;
use crate::llm::{LlmError, Outcome, StructuredOutput};
use frontdesk_testkit::fake_openai::Reply;

#[tokio::test]
async fn extract_with_json_schema() {
    let fake = fake().await;
    fake.push(Reply::Json(json!({"party_size": 4, "date": "2025-06-06"})));
    let (client, seen) = client(config(&fake));

    let completion = within(client.extract(extract_request()))
        .await
        .expect("extracted");

    assert_eq!(
        completion.value,
        json!({"party_size": 4, "date": "2025-06-06"})
    );
    assert_eq!(completion.stats.outcome, Outcome::Ok);
    assert_eq!(completion.stats.attempts, 1);
    assert_eq!(completion.stats.model, "gpt-4o-mini");
    assert!(completion.stats.prompt_tokens > 0 && completion.stats.completion_tokens > 0);
    assert_eq!(last_stats(&seen), completion.stats);

    let sent = fake.requests();
    assert_eq!(sent.len(), 1);
    let body = &sent[0];
    assert_eq!(body["model"], "gpt-4o-mini");
    assert_eq!(body["stream"], false);
    assert_eq!(
        body["response_format"],
        json!({"type": "json_schema", "json_schema": {
            "name": "booking_slots", "strict": true, "schema": booking_schema()}})
    );
    assert!(body.get("tools").is_none() && body.get("tool_choice").is_none());
    let roles: Vec<&str> = body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .filter_map(|m| m["role"].as_str())
        .collect();
    assert_eq!(roles, ["system", "assistant", "user"]);
    assert_eq!(body["messages"][2]["content"], "Four of us, this Friday.");
}

#[tokio::test]
async fn extract_with_a_forced_function_call() {
    let fake = fake().await;
    fake.push(Reply::Json(json!({"party_size": 2, "date": null})));
    let mut config = config(&fake);
    config.structured_output = StructuredOutput::FunctionCall;
    let (client, _) = client(config);

    let completion = within(client.extract(extract_request()))
        .await
        .expect("extracted");

    assert_eq!(completion.value, json!({"party_size": 2, "date": null}));
    let body = &fake.requests()[0];
    assert!(body.get("response_format").is_none());
    assert_eq!(body["tools"][0]["type"], "function");
    assert_eq!(body["tools"][0]["function"]["name"], "booking_slots");
    assert_eq!(body["tools"][0]["function"]["parameters"], booking_schema());
    assert_eq!(
        body["tool_choice"],
        json!({"type": "function", "function": {"name": "booking_slots"}})
    );
}

#[tokio::test]
async fn refusal_is_an_error() {
    let fake = fake().await;
    fake.push(Reply::Refusal("I can't help with that.".into()));
    let (client, seen) = client(config(&fake));

    let error = within(client.extract(extract_request()))
        .await
        .expect_err("refused");

    assert!(
        matches!(&error, LlmError::Refused(r) if r == "I can't help with that."),
        "{error}"
    );
    assert_eq!(last_stats(&seen).outcome, Outcome::Refused);
}

#[tokio::test]
async fn a_schema_strict_mode_rejects_fails_without_retry() {
    let fake = fake().await;
    let mut request = extract_request();
    request.schema["required"] = json!(["party_size"]);
    let (client, seen) = client(config(&fake));

    let error = within(client.extract(request)).await.expect_err("rejected");

    match &error {
        LlmError::Api {
            status: 400, error, ..
        } => {
            assert!(error.message.contains("Missing 'date'"), "{error}");
        }
        other => panic!("expected a 400, got {other}"),
    }
    assert_eq!(fake.request_count(), 1);
    assert_eq!(last_stats(&seen).outcome, Outcome::ClientError(400));
}

#[tokio::test]
async fn a_wrong_key_is_not_retried() {
    let fake = fake().await;
    let mut config = config(&fake);
    config.api_key = Some("sk-wrong".into());
    let (client, seen) = client(config);

    let error = within(client.extract(extract_request()))
        .await
        .expect_err("401");

    match &error {
        LlmError::Api {
            status: 401, error, ..
        } => {
            assert_eq!(error.code.as_deref(), Some("invalid_api_key"));
        }
        other => panic!("expected a 401, got {other}"),
    }
    assert_eq!(fake.request_count(), 1);
    let stats = last_stats(&seen);
    assert_eq!(
        (stats.attempts, stats.outcome),
        (1, Outcome::ClientError(401))
    );
}

#[tokio::test]
async fn non_streamed_answer() {
    let fake = fake().await;
    fake.push(Reply::Text("We open at 9 a.m. on weekdays.".into()));
    let (client, _) = client(config(&fake));

    let completion = within(client.answer(answer_request()))
        .await
        .expect("answer");

    assert_eq!(completion.value, "We open at 9 a.m. on weekdays.");
    let body = &fake.requests()[0];
    assert_eq!(body["stream"], false);
    assert!(body.get("stream_options").is_none());
    assert_eq!(body["max_tokens"], 200);
}

#[test]
fn bad_configs_are_refused() {
    let bad_url = LlmConfig::new("localhost:11434/v1", "llama3");
    assert!(matches!(LlmClient::new(bad_url), Err(LlmError::Config(_))));
    let no_model = LlmConfig::new("http://localhost:11434/v1", " ");
    assert!(matches!(LlmClient::new(no_model), Err(LlmError::Config(_))));
    let full_endpoint = LlmConfig::new("http://localhost:8080/v1/chat/completions/", "m");
    let client = LlmClient::new(full_endpoint).expect("accepted");
    assert_eq!(client.config().base_url, "http://localhost:8080/v1");
}

#[test]
fn stats_serialize_for_logs_and_health() {
    let stats = CallStats {
        model: "m".into(),
        prompt_tokens: 1,
        completion_tokens: 2,
        latency: Duration::from_millis(1500),
        time_to_first_token: None,
        attempts: 2,
        outcome: Outcome::ServerError(503),
    };
    assert_eq!(
        serde_json::to_value(&stats).expect("serializable"),
        json!({"model": "m", "prompt_tokens": 1, "completion_tokens": 2, "latency_ms": 1500.0,
            "time_to_first_token_ms": null, "attempts": 2,
            "outcome": {"kind": "server_error", "status": 503}})
    );
}

#[tokio::test]
async fn every_request_carries_a_token_cap() {
    let fake = fake().await;
    fake.push(Reply::Json(json!({"party_size": 4, "date": null})));
    fake.push(Reply::Json(json!({"party_size": 4, "date": null})));
    fake.push(Reply::Text("We open at 9 a.m. on weekdays.".into()));
    let mut config = config(&fake);
    config.budgets.extract_max_tokens = 200;
    config.budgets.answer_max_tokens = 90;
    let (client, _) = client(config);

    within(client.extract(extract_request()))
        .await
        .expect("extracted");
    let mut capped = extract_request();
    capped.max_tokens = Some(64);
    within(client.extract(capped)).await.expect("extracted");
    let mut answer = answer_request();
    answer.max_tokens = None;
    within(client.answer(answer)).await.expect("answered");

    let caps: Vec<Value> = fake
        .requests()
        .iter()
        .map(|body| body["max_tokens"].clone())
        .collect();
    assert_eq!(caps, [json!(200), json!(64), json!(90)]);
}

#[tokio::test]
async fn a_function_call_written_as_text_is_read_as_the_call() {
    // What llama.cpp answers to a forced function call when the chat template has no tools.
    let fake = fake().await;
    fake.push(Reply::Text(
        "```json\n{\"name\": \"booking_slots\", \"arguments\": {\"party_size\": 4, \"date\": \"2025-06-06\"}}\n```"
            .into(),
    ));
    let mut config = config(&fake);
    config.structured_output = StructuredOutput::FunctionCall;
    let (client, _) = client(config);

    let completion = within(client.extract(extract_request()))
        .await
        .expect("extracted");

    assert_eq!(
        completion.value,
        json!({"party_size": 4, "date": "2025-06-06"})
    );
}

#[test]
fn zero_budgets_are_refused() {
    let mut config = LlmConfig::new("http://localhost:8080/v1", "m");
    config.budgets.first_sentence = Duration::ZERO;
    assert!(matches!(LlmClient::new(config), Err(LlmError::Config(_))));
    let mut config = LlmConfig::new("http://localhost:8080/v1", "m");
    config.budgets.extract_max_tokens = 0;
    assert!(matches!(LlmClient::new(config), Err(LlmError::Config(_))));
}
