//! Caller scripts played against the engine and a throwaway store: what `frontdesk simulate`, the
//! snapshot tests and the end-to-end replays all run.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};
use frontdesk_engine::{CallInfo, Engine, Input};
use serde::Serialize;
use serde_json::Value;

use crate::call::{AgentTurn, CallDriver};
use crate::storage::{self, NewAppointment};
use crate::tools::describe_appointment;
use frontdesk_engine::script::{CallerAction, ExpectedAppointment, Heard, Script, ScriptCursor};

/// Caller turns after which a call that has not ended is cut off.
const MAX_CALLER_TURNS: usize = 30;

/// The result of one script. The JSON field names are a contract other tools read.
#[derive(Debug, Clone, Serialize)]
pub struct ScriptReport {
    pub name: String,
    pub file: String,
    pub passed: bool,
    pub failures: Vec<String>,
    pub outcome: String,
    pub appointments: Vec<Value>,
    pub transfer_to: Option<String>,
    /// The most urgent level the call reached, for a business with urgency levels.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub urgency: Option<String>,
    pub transcript: Vec<Line>,
    /// After each agent turn: where the conversation stood.
    pub trace: Vec<TraceStep>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub speaker: &'static str,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TraceStep {
    pub turn: usize,
    pub state: Option<String>,
    pub slots: BTreeMap<String, Value>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tools: Vec<String>,
}

pub fn read_script(file: &Path) -> Result<Script> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    Script::from_yaml(&text).map_err(|e| anyhow::anyhow!(e.in_file(&file.display().to_string())))
}

/// The SQLite file a script's store lives in, inside the directory it is given.
pub const DATABASE_FILE: &str = "simulate.db";

/// A fresh SQLite store in `dir` holding the script's `given` appointments.
pub async fn open_script_store(
    engine: &Engine,
    script: &Script,
    dir: &Path,
    file: &str,
) -> Result<Arc<dyn storage::Storage>> {
    let store = storage::open(&dir.join(DATABASE_FILE).to_string_lossy()).await?;
    store.sync_business(engine.business()).await?;
    for (i, given) in script.given.appointments.iter().enumerate() {
        store
            .book(&NewAppointment {
                call_id: format!("given-{}", i + 1),
                location: given.location.clone(),
                start: given.start,
                name: given.name.clone(),
                phone: given.phone.clone(),
                issue: given.issue.clone(),
                minutes: given.minutes,
            })
            .await
            .with_context(|| format!("{file}: given appointment {}", i + 1))?;
    }
    let customers: Vec<storage::NewCustomer> = script
        .given
        .customers
        .iter()
        .map(|c| storage::NewCustomer {
            phone: c.phone.clone(),
            name: c.name.clone(),
            vehicles: c
                .vehicles
                .iter()
                .map(|v| storage::VehicleRecord {
                    year: v.year,
                    make: v.make.clone(),
                    model: v.model.clone(),
                })
                .collect(),
        })
        .collect();
    store
        .seed_customers(&customers)
        .await
        .with_context(|| format!("{file}: given customers"))?;
    Ok(store)
}

pub async fn run_file(engine: Arc<Engine>, file: &Path) -> Result<ScriptReport> {
    let script = read_script(file)?;
    run_script(engine, &script, &file.display().to_string()).await
}

/// Plays one script in a fresh SQLite store (a temporary file, gone afterwards).
pub async fn run_script(engine: Arc<Engine>, script: &Script, file: &str) -> Result<ScriptReport> {
    let dir = tempfile::tempdir().context("creating a temporary store")?;
    let store = open_script_store(&engine, script, dir.path(), file).await?;
    let driver = CallDriver::new(engine.clone(), store.clone());
    let call_id = format!("SIM-{}", slug(&script.name));
    let call = CallInfo {
        id: call_id.clone(),
        caller: crate::caller_id::usable_caller_id(script.caller_id.as_deref()),
        called: engine.business().phones.main.clone(),
        customer: None,
    };
    let now = script.now;
    let mut transcript = Vec::new();
    let mut trace = Vec::new();
    let mut agent_turns = 0;

    let (mut live, turn) = driver.start(call, now).await;
    record_agent(&turn, &mut transcript, &mut agent_turns);
    trace.push(trace_step(&live.session, agent_turns, &turn));
    let mut cursor = ScriptCursor::new(script);
    let mut caller_turns = 0;
    while !live.session.ended && caller_turns < MAX_CALLER_TURNS {
        caller_turns += 1;
        let input = match cursor.next(live.asked_slot(&engine).as_deref()) {
            CallerAction::Say(text) => Input::Said {
                text,
                confidence: None,
            },
            CallerAction::Dtmf(digits) => Input::Digits { digits },
            CallerAction::Silence => Input::NoInput,
            CallerAction::Hangup => {
                transcript.push(Line {
                    speaker: "caller",
                    text: "(hangs up)".into(),
                });
                driver.hang_up(&mut live, now).await;
                break;
            }
        };
        transcript.push(Line {
            speaker: "caller",
            text: match &input {
                Input::Said { text, .. } => text.clone(),
                Input::Digits { digits } => format!("(keypad {digits})"),
                _ => "(silence)".into(),
            },
        });
        let turn = driver.input(&mut live, input, now).await;
        record_agent(&turn, &mut transcript, &mut agent_turns);
        trace.push(trace_step(&live.session, agent_turns, &turn));
    }

    let appointments: Vec<Value> = store
        .appointments_for_call(&call_id)
        .await?
        .iter()
        .map(|a| describe_appointment(engine.business(), a))
        .collect();
    driver.flush().await;
    store.close().await;
    let outcome = live.session.outcome().as_str().to_string();
    let failures = check_expectations(
        script,
        &outcome,
        &appointments,
        live.session.transfer_to.as_deref(),
        &transcript,
        agent_turns,
    );
    let mut failures = failures;
    if let Some(want) = &script.expect.urgency
        && live.session.urgency.as_ref() != Some(want)
    {
        failures.push(format!(
            "urgency: expected {want}, got {}",
            live.session.urgency.as_deref().unwrap_or("none")
        ));
    }
    Ok(ScriptReport {
        name: script.name.clone(),
        file: file.to_string(),
        passed: failures.is_empty(),
        failures,
        outcome,
        appointments,
        transfer_to: live.session.transfer_to.clone(),
        urgency: live.session.urgency.clone(),
        transcript,
        trace,
    })
}

fn record_agent(turn: &AgentTurn, transcript: &mut Vec<Line>, agent_turns: &mut usize) {
    if turn.said.is_empty() && turn.transfer_to.is_none() {
        return;
    }
    *agent_turns += 1;
    for (text, _) in &turn.said {
        transcript.push(Line {
            speaker: "agent",
            text: text.clone(),
        });
    }
    if let Some(to) = &turn.transfer_to {
        transcript.push(Line {
            speaker: "agent",
            text: format!("(transfers the call to {to})"),
        });
    } else if turn.hangup {
        transcript.push(Line {
            speaker: "agent",
            text: "(hangs up)".into(),
        });
    }
}

fn trace_step(s: &frontdesk_engine::Session, turn: usize, agent: &AgentTurn) -> TraceStep {
    TraceStep {
        turn,
        state: s
            .flow
            .as_ref()
            .zip(s.state.as_ref())
            .map(|(f, st)| format!("{f}/{st}")),
        slots: s
            .slots
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        tools: agent.tool_calls.clone(),
    }
}

fn check_expectations(
    script: &Script,
    outcome: &str,
    appointments: &[Value],
    transfer_to: Option<&str>,
    transcript: &[Line],
    agent_turns: usize,
) -> Vec<String> {
    let expect = &script.expect;
    let mut failures = Vec::new();
    if let Some(want) = &expect.outcome
        && want != outcome
    {
        failures.push(format!("outcome: expected {want}, got {outcome}"));
    }
    if let Some(want) = &expect.appointment
        && !appointments
            .iter()
            .any(|a| appointment_matches(want, a).is_empty())
    {
        let why = appointments
            .iter()
            .map(|a| appointment_matches(want, a).join(", "))
            .collect::<Vec<_>>();
        failures.push(if appointments.is_empty() {
            "appointment: the call created or changed none".to_string()
        } else {
            format!("appointment: none matches ({})", why.join("; "))
        });
    }
    let agent_lines: Vec<&str> = transcript
        .iter()
        .filter(|l| l.speaker == "agent")
        .map(|l| l.text.as_str())
        .collect();
    failures.extend(expect.check_heard(&Heard {
        agent_lines: Some(agent_lines),
        transfer_to,
        agent_turns: Some(agent_turns),
    }));
    failures
}

/// The fields of `actual` that differ from `want` (empty when it matches).
fn appointment_matches(want: &ExpectedAppointment, actual: &Value) -> Vec<String> {
    let mut diffs = Vec::new();
    let field = |k: &str| actual.get(k).and_then(Value::as_str).unwrap_or_default();
    let mut check = |k: &str, expected: Option<String>, case_insensitive: bool| {
        if let Some(expected) = expected {
            let got = field(k);
            let same = if case_insensitive {
                got.eq_ignore_ascii_case(&expected)
            } else {
                got == expected
            };
            if !same {
                diffs.push(format!("{k} {got:?} != {expected:?}"));
            }
        }
    };
    check("location", want.location.clone(), true);
    check("start", want.start.map(crate::tools::iso), false);
    check("name", want.name.clone(), true);
    check("phone", want.phone.clone(), false);
    check("issue", want.issue.clone(), true);
    check("status", want.status.clone(), true);
    diffs
}

fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}
