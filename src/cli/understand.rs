//! `frontdesk understand`: what the agent would do with a caller's first words, as JSON. A
//! contract for evaluation tools: `{"id","flow","hazard","answered","confidence"}` per input.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;
use frontdesk_engine::Engine;
use frontdesk_engine::extract::normalize::normalize;
use jiff::civil::DateTime;
use serde::Deserialize;
use serde_json::{Value, json};

use super::jsonl::{each_line, parse_now};
use crate::clock::business_now;

#[derive(Debug, Args)]
pub struct UnderstandArgs {
    /// Business-local "now", e.g. 2026-06-01T09:12:00 (default: the current time).
    #[arg(long)]
    now: Option<String>,
    /// The caller ID the call comes from (E.164).
    #[arg(long)]
    caller_id: Option<String>,
    /// Read {"id","text"} lines (optional "now", "caller_id") on stdin; write one line each.
    #[arg(long)]
    jsonl: bool,
    /// Also print the concepts found (with their scope) and every flow's score.
    #[arg(long)]
    explain: bool,
    /// The caller's first words.
    text: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Line {
    #[serde(default)]
    id: Value,
    text: String,
    #[serde(default)]
    now: Option<String>,
    #[serde(default)]
    caller_id: Option<String>,
}

pub fn run(project: &Path, args: UnderstandArgs) -> Result<ExitCode> {
    let engine = super::runtime::engine(project)?;
    let default_now = match &args.now {
        Some(now) => parse_now(now)?,
        None => business_now(engine.business())?,
    };
    if args.jsonl {
        each_line("{\"id\",\"text\"}", |input: Line| {
            let now = match &input.now {
                Some(n) => parse_now(n)?,
                None => default_now,
            };
            let caller = input.caller_id.or_else(|| args.caller_id.clone());
            Ok((
                input.id,
                understand(&engine, &input.text, caller, now, args.explain)?,
            ))
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    let Some(text) = args.text else {
        bail!("give the caller's words, or --jsonl to read lines from stdin");
    };
    let answer = understand(&engine, &text, args.caller_id, default_now, args.explain)?;
    println!("{}", serde_json::to_string_pretty(&Value::Object(answer))?);
    Ok(ExitCode::SUCCESS)
}

fn understand(
    engine: &Engine,
    text: &str,
    caller: Option<String>,
    now: DateTime,
    explain: bool,
) -> Result<serde_json::Map<String, Value>> {
    let opening = engine.opening(text, caller, now)?;
    let mut out = serde_json::Map::new();
    out.insert("flow".into(), json!(opening.flow));
    out.insert("hazard".into(), json!(opening.hazard));
    out.insert("answered".into(), json!(opening.answered));
    out.insert(
        "confidence".into(),
        json!((opening.confidence * 100.0).round() / 100.0),
    );
    if explain {
        let understanding = engine.understanding();
        let reading = understanding.read(&normalize(text));
        let concepts: Vec<String> = reading
            .said
            .iter()
            .map(|s| {
                let mark = if s.counts {
                    ""
                } else if s.negated {
                    "!"
                } else {
                    "~"
                };
                format!("{mark}{}", understanding.concept_name(s.concept))
            })
            .collect();
        let intents: Vec<Value> = understanding
            .intents(&reading)
            .iter()
            .map(|l| {
                json!([
                    l.label,
                    (l.score * 1000.0).round() / 1000.0,
                    understanding.classifier().example_text(l.nearest)
                ])
            })
            .collect();
        out.insert("concepts".into(), json!(concepts));
        let features: Vec<String> = reading
            .features
            .iter()
            .map(|(name, _)| name.clone())
            .collect();
        out.insert("features".into(), json!(features));
        out.insert("intents".into(), json!(intents));
    }
    Ok(out)
}
