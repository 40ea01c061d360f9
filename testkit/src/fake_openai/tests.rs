use super::*;

const KEY: &str = "sk-fake";

async fn start() -> FakeOpenAi {
    FakeOpenAi::start(FakeOpenAiOptions {
        api_key: Some(KEY.into()),
        ..FakeOpenAiOptions::default()
    })
    .await
    .expect("fake starts")
}

/// Posts `body` with the right key and returns the status, content type and body text.
async fn post(fake: &FakeOpenAi, key: Option<&str>, body: Value) -> (u16, String, String) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::new();
    let mut request = client
        .post(format!("{}/chat/completions", fake.base_url()))
        .json(&body);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let send = async {
        let response = request.send().await.expect("request sent");
        let status = response.status().as_u16();
        let kind = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        (status, kind, response.text().await.expect("body read"))
    };
    tokio::time::timeout(Duration::from_secs(30), send)
        .await
        .expect("the fake answered")
}

fn chat(extra: Value) -> Value {
    let mut body =
        json!({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Hi there"}]});
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    body
}

/// The JSON of every `data:` event, and whether the last one was `[DONE]`.
fn events(sse: &str) -> (Vec<Value>, bool) {
    let data: Vec<&str> = sse
        .split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| e.strip_prefix("data: ").expect("data event"))
        .collect();
    let done = data.last() == Some(&"[DONE]");
    let json = data
        .iter()
        .filter(|d| **d != "[DONE]")
        .map(|d| serde_json::from_str(d).expect("JSON chunk"))
        .collect();
    (json, done)
}

#[tokio::test]
async fn streams_text_as_in_the_protocol() {
    let fake = start().await;
    fake.push(Reply::Text("Hello there. Bye".into()));
    let body = chat(json!({"stream": true, "stream_options": {"include_usage": true}}));
    let (status, kind, sse) = post(&fake, Some(KEY), body).await;

    assert_eq!((status, kind.as_str()), (200, "text/event-stream"));
    let (chunks, done) = events(&sse);
    assert!(done);
    assert_eq!(chunks[0]["object"], "chat.completion.chunk");
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    let text: String = chunks[1..chunks.len() - 2]
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Hello there. Bye");
    let finish = &chunks[chunks.len() - 2]["choices"][0];
    assert_eq!(
        (&finish["delta"], &finish["finish_reason"]),
        (&json!({}), &json!("stop"))
    );
    let usage = &chunks[chunks.len() - 1];
    assert_eq!(usage["choices"], json!([]));
    assert_eq!(usage["usage"]["completion_tokens"], 3);
    assert_eq!(fake.completed_streams(), 1);
}

#[tokio::test]
async fn streams_tool_call_deltas_and_answers_tool_calls() {
    let fake = start().await;
    let args = json!({"party_size": 2, "time": "19:00"});
    let tools = json!({"tools": [{"type": "function", "function": {"name": "book_table",
        "parameters": {"type": "object", "properties": {"party_size": {"type": "integer"},
        "time": {"type": "string"}}, "required": ["party_size", "time"],
        "additionalProperties": false}, "strict": true}}],
        "tool_choice": {"type": "function", "function": {"name": "book_table"}}});
    fake.push(Reply::Json(args.clone()));
    let mut body = chat(tools.clone());
    body["stream"] = json!(true);
    let (_, _, sse) = post(&fake, Some(KEY), body).await;

    let (chunks, done) = events(&sse);
    assert!(done);
    let first = &chunks[0]["choices"][0]["delta"]["tool_calls"][0];
    assert_eq!(
        (&first["index"], &first["function"]["name"]),
        (&json!(0), &json!("book_table"))
    );
    let arguments: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"].as_str())
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&arguments).expect("JSON"),
        args
    );
    assert_eq!(
        chunks.last().map(|c| &c["choices"][0]["finish_reason"]),
        Some(&json!("tool_calls"))
    );

    fake.push(Reply::Json(args.clone()));
    let (status, _, text) = post(&fake, Some(KEY), chat(tools)).await;
    let response: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(status, 200);
    let call = &response["choices"][0]["message"]["tool_calls"][0]["function"];
    assert_eq!(
        call["arguments"]
            .as_str()
            .map(serde_json::from_str::<Value>)
            .and_then(Result::ok),
        Some(args)
    );
    assert_eq!(response["choices"][0]["finish_reason"], "tool_calls");
}

#[tokio::test]
async fn checks_the_key() {
    let fake = start().await;
    let (status, _, body) = post(&fake, None, chat(json!({}))).await;
    assert_eq!(status, 401);
    assert!(body.contains("You didn't provide an API key"));
    let (status, _, body) = post(&fake, Some("sk-wrong"), chat(json!({}))).await;
    assert_eq!(status, 401);
    let error: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(error["error"]["code"], "invalid_api_key");
    assert_eq!(fake.request_count(), 2);
    assert!(
        fake.requests().is_empty(),
        "unauthorised bodies are not recorded"
    );
}

#[tokio::test]
async fn rejects_malformed_requests_like_openai() {
    let fake = start().await;
    let cases = [
        (
            json!({"messages": [{"role": "user", "content": "x"}]}),
            "you must provide a model parameter",
        ),
        (json!({"model": "m", "messages": []}), "empty_array"),
        (
            json!({"model": "m", "messages": [{"role": "robot", "content": "x"}]}),
            "messages[0].role",
        ),
        (
            chat(
                json!({"response_format": {"type": "json_schema", "json_schema":
            {"name": "bad name", "strict": true, "schema": {}}}}),
            ),
            "pattern",
        ),
        (
            chat(
                json!({"response_format": {"type": "json_schema", "json_schema":
            {"name": "slots", "strict": true, "schema": {"type": "object",
            "properties": {"a": {"type": "string"}}, "required": []}}}}),
            ),
            "additionalProperties",
        ),
    ];
    for (body, expected) in cases {
        let (status, _, text) = post(&fake, Some(KEY), body).await;
        assert_eq!(status, 400, "{text}");
        assert!(text.contains(expected), "{text} lacks {expected}");
    }
}

#[tokio::test]
async fn scripted_errors_and_the_default_reply() {
    let fake = start().await;
    fake.push(Reply::rate_limited(Some(2)));
    let response = {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::new()
            .post(format!("{}/chat/completions", fake.base_url()))
            .bearer_auth(KEY)
            .json(&chat(json!({})))
            .send()
            .await
            .expect("sent")
    };
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(
        response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok()),
        Some("2")
    );

    let (status, _, body) = post(&fake, Some(KEY), chat(json!({}))).await;
    assert_eq!(status, 500);
    assert!(body.contains("no scripted reply"));
    assert_eq!(fake.requests().len(), 2);
}
