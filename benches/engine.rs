//! Engine speed: one turn on the rule path, and loading + validating every flow.
//!
//! `cargo bench --bench engine` prints criterion's median for each.

use std::hint::black_box;
use std::path::Path;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use frontdesk::project::{ProjectPaths, read_sources};
use frontdesk::tools;
use frontdesk_engine::{CallInfo, Engine, Input, Session};
use jiff::civil::DateTime;

fn project() -> ProjectPaths {
    ProjectPaths::at_root(Path::new(env!("CARGO_MANIFEST_DIR")))
}

fn said(text: &str) -> Input {
    Input::Said {
        text: text.to_string(),
        confidence: Some(0.9),
    }
}

/// A session that has been greeted and has said its problem: booking, asking for the name.
fn session_at_ask_name(engine: &Engine, now: DateTime) -> Session {
    let mut session = engine.start(CallInfo {
        id: "CA-bench".into(),
        caller: Some("+12145550123".into()),
        called: None,
        customer: None,
    });
    engine.step(&mut session, Input::Start, now).unwrap();
    engine
        .step(&mut session, said("hi yeah my ac is blowing warm air"), now)
        .unwrap();
    assert_eq!(session.state.as_deref(), Some("ask_name"));
    session
}

fn benches(c: &mut Criterion) {
    let sources = read_sources(&project(), tools::catalog()).unwrap();
    c.bench_function("load_and_validate_all_flows", |b| {
        b.iter(|| Engine::load(black_box(sources.clone())).unwrap())
    });

    let engine = Engine::load(sources).unwrap();
    let now: DateTime = "2026-06-01T09:12".parse().unwrap();

    let greeted = {
        let mut s = engine.start(CallInfo::default());
        engine.step(&mut s, Input::Start, now).unwrap();
        s
    };
    c.bench_function("turn_opening_utterance_starts_booking", |b| {
        b.iter_batched(
            || greeted.clone(),
            |mut s| {
                engine
                    .step(&mut s, said("hi yeah my ac is blowing warm air"), now)
                    .unwrap()
            },
            BatchSize::SmallInput,
        )
    });

    let at_name = session_at_ask_name(&engine, now);
    c.bench_function("turn_answer_name_slot", |b| {
        b.iter_batched(
            || at_name.clone(),
            |mut s| {
                engine
                    .step(&mut s, said("uh yeah it's john smith"), now)
                    .unwrap()
            },
            BatchSize::SmallInput,
        )
    });

    c.bench_function("turn_emergency_interrupts_flow", |b| {
        b.iter_batched(
            || at_name.clone(),
            |mut s| {
                engine
                    .step(&mut s, said("wait i think i smell gas in the kitchen"), now)
                    .unwrap()
            },
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(engine_benches, benches);
criterion_main!(engine_benches);
