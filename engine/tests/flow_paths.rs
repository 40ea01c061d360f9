//! The shipped flows driven turn by turn through the engine alone, with tool results given by
//! hand: the paths a runtime cannot easily provoke on purpose (a failing tool, a start that
//! stays full however often it is asked for).

use std::fs;
use std::path::{Path, PathBuf};

mod common;

use common::{now, said, spoken, transfer};
use frontdesk_engine::business::Business;
use frontdesk_engine::{CallInfo, Engine, Input, Output, Session, SourceFile, Sources, ToolSpec};
use serde_json::{Value, json};

/// The tools `src/tools/mod.rs` offers, as the validator needs them.
fn tools() -> Vec<ToolSpec> {
    vec![
        ToolSpec::new("check_availability", &["location", "when"], &["phone"]),
        ToolSpec::new(
            "book_appointment",
            &["location", "start", "name", "phone"],
            &["issue"],
        ),
        ToolSpec::new(
            "find_appointment",
            &[],
            &[
                "phone",
                "name",
                "location",
                "visit",
                "visit_phone",
                "caller",
            ],
        ),
        ToolSpec::new(
            "reschedule_appointment",
            &["appointment_id", "start"],
            &["location"],
        ),
        ToolSpec::new("cancel_appointment", &["appointment_id"], &[]),
    ]
}

fn files(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == ext) {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn source(path: &Path) -> SourceFile {
    SourceFile::new(
        path.display().to_string(),
        fs::read_to_string(path).unwrap(),
    )
}

/// The default business as shipped: config, flows, prompts and knowledge of the repository.
fn engine() -> Engine {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let business =
        Business::from_yaml(&fs::read_to_string(root.join("config/business.yaml")).unwrap())
            .unwrap();
    let (globals, flows): (Vec<_>, Vec<_>) = files(&root.join("flows"), "yaml")
        .into_iter()
        .partition(|p| p.file_stem().is_some_and(|s| s == "global"));
    let prompts_dir = root.join("prompts");
    let prompts = files(&prompts_dir, "j2")
        .into_iter()
        .map(|p| {
            let name = p.strip_prefix(&prompts_dir).unwrap().with_extension("");
            (name.to_string_lossy().replace('\\', "/"), source(&p))
        })
        .collect();
    Engine::load(Sources {
        business,
        globals: source(&globals[0]),
        flows: flows.iter().map(|p| source(p)).collect(),
        prompts,
        knowledge: files(&root.join("knowledge"), "md")
            .iter()
            .map(|p| source(p))
            .collect(),
        tools: tools(),
    })
    .unwrap()
}

fn tool_call(out: &[Output]) -> Option<&str> {
    out.iter().find_map(|o| match o {
        Output::CallTool { name, .. } => Some(name.as_str()),
        _ => None,
    })
}

/// A booking call that has given everything and is waiting for `check_availability`.
fn at_availability_check(engine: &Engine) -> Session {
    let mut s = engine.start(CallInfo {
        id: "CA-flow-paths".into(),
        caller: Some("+12145550123".into()),
        called: None,
        customer: None,
    });
    engine.step(&mut s, Input::Start, now()).unwrap();
    for text in [
        "hi my ac is blowing warm air can you send someone",
        "john smith",
        "dallas",
    ] {
        engine.step(&mut s, said(text), now()).unwrap();
    }
    let out = engine.step(&mut s, said("tomorrow at 2"), now()).unwrap();
    assert_eq!(tool_call(&out), Some("check_availability"), "{out:?}");
    s
}

/// What `check_availability` answers when tomorrow at 2 in Dallas is full.
fn full_at_two() -> Value {
    json!({
        "available": false, "reason": "full", "location": "DAL", "already_booked": null,
        "alternatives": ["2026-06-02T13:00", "2026-06-02T15:00"],
        "asked": { "date": "2026-06-02", "time": "14:00", "weekday": "Tuesday",
                   "first_start": "2026-06-02T08:00", "last_start": "2026-06-02T17:00" },
    })
}

#[test]
fn a_failed_tool_takes_the_flows_failure_path() {
    let engine = engine();
    let mut s = at_availability_check(&engine);
    // What the runtime answers when storage fails: nothing else the flow's other tests read.
    let failed = json!({ "ok": false, "error": "storage" });
    let out = engine
        .step(&mut s, Input::ToolResult { value: failed }, now())
        .expect("a failed tool is a path of the flow, not an engine error");
    assert!(spoken(&out).contains("ran into a problem"), "{out:?}");
    assert_eq!(transfer(&out), Some("+12145550100"));
    assert_eq!(s.state.as_deref(), None, "the flow is over");
    assert!(out.iter().any(
        |o| matches!(o, Output::Event { kind, detail } if kind == "tool_failed" && detail["error"] == "storage")
    ));

    // Anything but an object from a tool is a failure too.
    let mut s = at_availability_check(&engine);
    let out = engine
        .step(&mut s, Input::ToolResult { value: Value::Null }, now())
        .unwrap();
    assert_eq!(transfer(&out), Some("+12145550100"));
}

#[test]
fn a_tool_result_that_says_nothing_of_failure_did_not_fail() {
    let engine = engine();
    let mut s = at_availability_check(&engine);
    // No `ok`, no `error`: the flow's `result.error` still reads, as false.
    let free = json!({
        "available": true, "start": "2026-06-02T14:00", "location": "DAL",
        "alternatives": [], "reason": null, "already_booked": null,
    });
    let out = engine
        .step(&mut s, Input::ToolResult { value: free }, now())
        .unwrap();
    assert!(spoken(&out).contains("Shall I book it?"), "{out:?}");
    assert_eq!(s.state.as_deref(), Some("confirm"));
    assert_eq!(s.result["ok"], json!(true));
    assert_eq!(s.result["error"], Value::Null);
}

#[test]
fn a_full_start_asked_for_again_and_again_ends_with_a_person() {
    let engine = engine();
    let mut s = at_availability_check(&engine);
    let mut refusals = 0;
    let handed_over = loop {
        let out = engine
            .step(
                &mut s,
                Input::ToolResult {
                    value: full_at_two(),
                },
                now(),
            )
            .unwrap();
        refusals += 1;
        if let Some(to) = transfer(&out) {
            assert!(
                spoken(&out).contains("couldn't find a time that works"),
                "{out:?}"
            );
            break to.to_string();
        }
        assert!(spoken(&out).contains("already taken"), "{out:?}");
        assert!(refusals < 10, "still refusing after {refusals} turns");
        let out = engine.step(&mut s, said("tomorrow at 2"), now()).unwrap();
        assert_eq!(tool_call(&out), Some("check_availability"), "{out:?}");
    };
    assert_eq!(handed_over, "+12145550100");
    // The global no-match limit (3): as many refusals as unusable answers to any question.
    assert_eq!(refusals, 3);
}

#[test]
fn one_full_start_then_an_offered_one_books_as_before() {
    let engine = engine();
    let mut s = at_availability_check(&engine);
    let out = engine
        .step(
            &mut s,
            Input::ToolResult {
                value: full_at_two(),
            },
            now(),
        )
        .unwrap();
    assert!(spoken(&out).contains("already taken"));
    let out = engine
        .step(&mut s, said("the three o'clock"), now())
        .unwrap();
    assert_eq!(tool_call(&out), Some("check_availability"));
    assert_eq!(s.refusals.get("when"), Some(&1));
}
