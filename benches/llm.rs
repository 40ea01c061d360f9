//! The server's own cost of one model call for slot extraction, with a fake OpenAI-compatible
//! server on loopback that answers at once: building the request from the flow's slots,
//! rendering the prompt, HTTP, parsing, accounting. Prints p50/p95/p99 over 2,000 calls, then
//! lets criterion time the same call.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use frontdesk::llm::slots::{PROMPT, SlotModel};
use frontdesk::llm::{LlmClient, LlmConfig};
use frontdesk::project::{ProjectPaths, load_engine};
use frontdesk::testkit::fake_openai::{FakeOpenAi, FakeOpenAiOptions, Reply};
use frontdesk::tools;
use frontdesk_engine::flow::model::SlotType;
use frontdesk_engine::session::{ModelRequest, ModelSlot};
use serde_json::json;

fn request() -> ModelRequest {
    let slot = |name: &str, kind, options: &[&str]| ModelSlot {
        name: name.into(),
        kind,
        description: None,
        options: options.iter().map(|o| o.to_string()).collect(),
    };
    ModelRequest {
        utterance: "the shop out by the stockyards, friday morning if you can".into(),
        asked: Some("location".into()),
        question: vec![
            "Which location is closest to you: Dallas, Fort Worth, or Arlington?".into(),
        ],
        slots: vec![
            slot(
                "location",
                SlotType::Location,
                &["Dallas", "Fort Worth", "Arlington"],
            ),
            slot("when", SlotType::Datetime, &[]),
            slot("name", SlotType::PersonName, &[]),
        ],
        heard: vec!["i need to book a repair".into()],
        today: "2026-06-01 (Monday)".into(),
    }
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let engine = load_engine(&ProjectPaths::at_root(root), tools::catalog()).unwrap();
    let prompt = std::fs::read_to_string(root.join("prompts").join(PROMPT)).unwrap();
    let (fake, model) = runtime.block_on(async {
        let fake = FakeOpenAi::start(FakeOpenAiOptions {
            default_reply: Reply::Json(
                json!({ "location": "Fort Worth", "when": "friday morning", "name": null }),
            ),
            ..FakeOpenAiOptions::default()
        })
        .await
        .unwrap();
        let client = LlmClient::new(LlmConfig::new(fake.base_url(), "bench-model")).unwrap();
        let model = Arc::new(SlotModel::new(client, &prompt, engine.business()).unwrap());
        (fake, model)
    });
    let request = request();

    let mut samples: Vec<Duration> = runtime.block_on(async {
        let mut samples = Vec::with_capacity(2000);
        for _ in 0..2000 {
            let began = Instant::now();
            let done = model.extract(&request).await;
            samples.push(began.elapsed());
            assert_eq!(
                done.values.get("location").map(String::as_str),
                Some("Fort Worth")
            );
        }
        samples
    });
    samples.sort();
    let ms = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e3;
    println!(
        "llm slot extraction, whole call against an instant fake: p50 {:.3} ms, p95 {:.3} ms, p99 {:.3} ms (n={})",
        ms(0.50),
        ms(0.95),
        ms(0.99),
        samples.len()
    );

    c.bench_function("llm_extract_call", |b| {
        b.iter(|| runtime.block_on(model.extract(&request)));
    });
    drop(fake);
}

criterion_group!(benches, bench);
criterion_main!(benches);
