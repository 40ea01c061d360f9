//! The server's own cost of one model call, with a fake OpenAI-compatible server on loopback
//! that answers at once. Slot extraction: building the request from the flow's slots,
//! rendering the prompt, HTTP, parsing, accounting. Knowledge answers: the prompt with its
//! passages, the streamed request, SSE, sentence splitting and the grounding check, to the
//! first sentence and to the whole answer. Prints p50/p95/p99 over 2,000 calls each, then lets
//! criterion time the same calls.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use frontdesk::llm::answers::{self, AnswerModel};
use frontdesk::llm::slots::{PROMPT, SlotModel};
use frontdesk::llm::{LlmClient, LlmConfig};
use frontdesk::project::{ProjectPaths, load_engine};
use frontdesk::tools;
use frontdesk_engine::SlotType;
use frontdesk_engine::{KnowledgeAnswer, ModelRequest, ModelSlot, Passage};
use frontdesk_testkit::fake_openai::{FakeOpenAi, FakeOpenAiOptions, Reply};
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
    print_percentiles(
        "llm slot extraction, whole call against an instant fake",
        &mut samples,
    );

    c.bench_function("llm_extract_call", |b| {
        b.iter(|| runtime.block_on(model.extract(&request)));
    });
    drop(fake);
}

fn knowledge_answer() -> KnowledgeAnswer {
    let text = "Yes, we service and repair heat pumps, for both heating and cooling, and we work \
                on all the major brands.";
    KnowledgeAnswer {
        question: "do you guys work on heat pumps".into(),
        passages: vec![Passage {
            id: "services/heat-pumps".into(),
            title: "Heat pumps".into(),
            text: text.into(),
        }],
        text: text.into(),
        interruptible: true,
    }
}

fn bench_answers(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let engine = load_engine(&ProjectPaths::at_root(root), tools::catalog()).unwrap();
    let prompt = std::fs::read_to_string(root.join("prompts").join(answers::PROMPT)).unwrap();
    let (fake, model) = runtime.block_on(async {
        let fake = FakeOpenAi::start(FakeOpenAiOptions {
            default_reply: Reply::Text(
                "Yes, we work on heat pumps. We service all the major brands.".into(),
            ),
            ..FakeOpenAiOptions::default()
        })
        .await
        .unwrap();
        let client = LlmClient::new(LlmConfig::new(fake.base_url(), "bench-model")).unwrap();
        let model = Arc::new(AnswerModel::new(client, &prompt, engine.business()).unwrap());
        (fake, model)
    });
    let answer = knowledge_answer();
    let (mut first, mut whole) = runtime.block_on(async {
        let (mut first, mut whole) = (Vec::with_capacity(2000), Vec::with_capacity(2000));
        for _ in 0..2000 {
            let began = Instant::now();
            let (tx, mut rx) = tokio::sync::mpsc::channel(4);
            let speaking = {
                let model = model.clone();
                let answer = answer.clone();
                tokio::spawn(async move { model.speak(&answer, tx).await })
            };
            let sentence = rx.recv().await;
            first.push(began.elapsed());
            assert_eq!(sentence.as_deref(), Some("Yes, we work on heat pumps."));
            while rx.recv().await.is_some() {}
            let report = speaking.await.unwrap();
            whole.push(began.elapsed());
            assert!(!report.fell_back, "{report:?}");
        }
        (first, whole)
    });
    print_percentiles(
        "llm knowledge answer, to the first sentence, instant fake",
        &mut first,
    );
    print_percentiles(
        "llm knowledge answer, whole answer, instant fake",
        &mut whole,
    );

    c.bench_function("llm_answer_whole", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let (tx, mut rx) = tokio::sync::mpsc::channel(4);
                let drain = async { while rx.recv().await.is_some() {} };
                tokio::join!(model.speak(&answer, tx), drain)
            })
        });
    });
    drop(fake);
}

fn print_percentiles(label: &str, samples: &mut [Duration]) {
    samples.sort();
    let ms = |q: f64| samples[((samples.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e3;
    println!(
        "{label}: p50 {:.3} ms, p95 {:.3} ms, p99 {:.3} ms (n={})",
        ms(0.50),
        ms(0.95),
        ms(0.99),
        samples.len()
    );
}

criterion_group!(benches, bench, bench_answers);
criterion_main!(benches);
