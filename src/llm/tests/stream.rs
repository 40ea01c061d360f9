use futures_util::StreamExt;

use super::*;
use crate::llm::{LlmError, Outcome};
use frontdesk_testkit::fake_openai::Reply;

const ANSWER: &str = "Sure, we can help. We open at 9 a.m. on weekdays. Parking is free!";

#[tokio::test]
async fn sentences_arrive_while_the_answer_is_still_streaming() {
    let fake = fake().await;
    fake.push(Reply::Text(ANSWER.into()));
    // "Sure, we can help." is known complete once " We" (token 4) arrived; hold the rest.
    fake.hold_streams_after(6);
    let (client, seen) = client(config(&fake));

    let mut stream = within(client.answer_stream(answer_request()))
        .await
        .expect("stream");
    let first = within(stream.next_sentence())
        .await
        .expect("a sentence")
        .expect("ok");

    assert_eq!(first, "Sure, we can help.");
    assert_eq!(fake.completed_streams(), 0, "the fake is still streaming");
    assert_eq!(fake.streamed_tokens(), 6);

    fake.release_streams();
    let mut rest = Vec::new();
    while let Some(sentence) = within(stream.next_sentence()).await {
        rest.push(sentence.expect("ok"));
    }
    assert_eq!(rest, ["We open at 9 a.m. on weekdays.", "Parking is free!"]);

    let stats = within(stream.stats()).await.expect("stats");
    assert_eq!(stats.outcome, Outcome::Ok);
    assert_eq!(stats.attempts, 1);
    assert_eq!(
        stats.completion_tokens, 14,
        "one per word, from the usage chunk"
    );
    assert!(stats.prompt_tokens > 0);
    assert!(
        stats
            .time_to_first_token
            .is_some_and(|t| t <= stats.latency)
    );
    assert_eq!(last_stats(&seen), stats);
    assert_eq!(fake.completed_streams(), 1);

    let body = &fake.requests()[0];
    assert_eq!(body["stream"], true);
    assert_eq!(body["stream_options"], json!({"include_usage": true}));
    assert_eq!(body["temperature"], 0.3);
}

#[tokio::test]
async fn paced_stream_as_a_futures_stream() {
    let fake = fake_with(FakeOpenAiOptions {
        api_key: Some(KEY.into()),
        tokens_per_second: Some(200.0),
        ..FakeOpenAiOptions::default()
    })
    .await;
    fake.push(Reply::Text(
        "Dr. Lee is in on Mondays. The fee is 3.5 dollars".into(),
    ));
    let (client, _) = client(config(&fake));

    let stream = within(client.answer_stream(answer_request()))
        .await
        .expect("stream");
    let sentences: Vec<String> = within(stream.map(|s| s.expect("ok")).collect()).await;

    assert_eq!(
        sentences,
        ["Dr. Lee is in on Mondays.", "The fee is 3.5 dollars"]
    );
}

#[tokio::test]
async fn a_streamed_refusal_is_an_error_item() {
    let fake = fake().await;
    fake.push(Reply::Refusal("I can't discuss that.".into()));
    let (client, seen) = client(config(&fake));

    let mut stream = within(client.answer_stream(answer_request()))
        .await
        .expect("stream");
    let item = within(stream.next_sentence()).await.expect("an item");

    assert!(
        matches!(&item, Err(LlmError::Refused(r)) if r == "I can't discuss that."),
        "{item:?}"
    );
    assert!(within(stream.next_sentence()).await.is_none());
    assert_eq!(
        within(stream.stats()).await.map(|s| s.outcome),
        Some(Outcome::Refused)
    );
    assert_eq!(last_stats(&seen).outcome, Outcome::Refused);
}

#[tokio::test]
async fn a_stalled_stream_times_out_after_its_first_sentence() {
    let fake = fake().await;
    fake.push(Reply::Text(ANSWER.into()));
    fake.hold_streams_after(6);
    let mut config = config(&fake);
    config.timeout_per_request = Duration::from_millis(300);
    let (client, _) = client(config);

    let mut stream = within(client.answer_stream(answer_request()))
        .await
        .expect("stream");
    let first = within(stream.next_sentence()).await.expect("a sentence");
    assert_eq!(first.expect("ok"), "Sure, we can help.");
    let stalled = within(stream.next_sentence()).await.expect("an item");

    assert!(matches!(stalled, Err(LlmError::Timeout(_))), "{stalled:?}");
    assert_eq!(
        within(stream.stats()).await.map(|s| s.outcome),
        Some(Outcome::Timeout)
    );
}

#[tokio::test]
async fn dropping_the_sentences_cancels_the_call() {
    let fake = fake().await;
    fake.push(Reply::Text(ANSWER.into()));
    fake.hold_streams_after(6);
    let (client, _) = client(config(&fake));

    let mut stream = within(client.answer_stream(answer_request()))
        .await
        .expect("stream");
    within(stream.next_sentence())
        .await
        .expect("a sentence")
        .expect("ok");
    let stats = within(stream.stats()).await.expect("stats");

    assert_eq!(stats.outcome, Outcome::Cancelled);
    assert_eq!(fake.completed_streams(), 0);
}

#[tokio::test]
async fn stream_errors_before_the_first_byte_are_retried() {
    let fake = fake().await;
    fake.push(Reply::overloaded());
    fake.push(Reply::Text("Yes. We do.".into()));
    let (client, _) = client(config(&fake));

    let stream = within(client.answer_stream(answer_request()))
        .await
        .expect("stream");
    let sentences: Vec<String> = within(stream.map(|s| s.expect("ok")).collect()).await;

    assert_eq!(sentences, ["Yes.", "We do."]);
    assert_eq!(fake.request_count(), 2);
}

#[tokio::test]
async fn half_a_sentence_cut_by_the_token_limit_is_not_spoken() {
    let fake = fake().await;
    fake.push(Reply::Text(ANSWER.into()));
    let (client, _) = client(config(&fake));
    let request = AnswerRequest {
        max_tokens: Some(8),
        ..answer_request()
    };
    let mut stream = within(client.answer_stream(request)).await.expect("stream");
    let mut sentences = Vec::new();
    while let Some(sentence) = within(stream.next_sentence()).await {
        sentences.push(sentence.expect("ok"));
    }
    // "We open at 9" was all the limit allowed of the second sentence.
    assert_eq!(sentences, ["Sure, we can help."]);
}
