//! `frontdesk extract`: the rule extractors as a command, for tooling and evaluation.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;
use frontdesk_engine::business::Business;
use frontdesk_engine::extract::datetime::extract_datetime;
use frontdesk_engine::extract::location::LocationMatcher;
use frontdesk_engine::extract::location::extract_location;
use frontdesk_engine::extract::name::extract_person_name_among;
use frontdesk_engine::extract::normalize::normalize;
use frontdesk_engine::extract::numbers::extract_number;
use frontdesk_engine::extract::phone::extract_phone;
use frontdesk_engine::extract::yes_no::extract_yes_no;
use jiff::civil::DateTime;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::jsonl::{each_line, parse_now};
use crate::clock::business_now;
use crate::project::{ProjectPaths, read_business};

#[derive(Debug, Args)]
pub struct ExtractArgs {
    /// Business-local "now", e.g. 2019-03-01T10:00:00 (default: the current time).
    #[arg(long)]
    now: Option<String>,
    /// Read {"id","now","text"} lines on stdin; write one JSON line per input.
    #[arg(long)]
    jsonl: bool,
    /// The text to analyse.
    text: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Line {
    #[serde(default)]
    id: Value,
    #[serde(default)]
    now: Option<String>,
    text: String,
}

pub fn run(project: &Path, args: ExtractArgs) -> Result<ExitCode> {
    let business = read_business(&ProjectPaths::at_root(project).business)?;
    let default_now = match &args.now {
        Some(now) => parse_now(now)?,
        None => business_now(&business)?,
    };
    if args.jsonl {
        each_line("{\"id\",\"now\",\"text\"}", |input: Line| {
            let now = match &input.now {
                Some(n) => parse_now(n)?,
                None => default_now,
            };
            Ok((input.id, extract_all(&business, &input.text, now)))
        })?;
        return Ok(ExitCode::SUCCESS);
    }
    let Some(text) = args.text else {
        bail!("give the text to analyse, or --jsonl to read lines from stdin");
    };
    let found = extract_all(&business, &text, default_now);
    println!("{}", serde_json::to_string_pretty(&Value::Object(found))?);
    Ok(ExitCode::SUCCESS)
}

/// Everything the extractors find in `text`: `date` and `time` always (null when absent), the
/// rest only when found.
pub fn extract_all(business: &Business, text: &str, now: DateTime) -> Map<String, Value> {
    let mut out = Map::new();
    let mention = extract_datetime(text, now, true);
    let date = mention.as_ref().and_then(|m| m.date).map(|d| d.to_string());
    let hhmm = |t: jiff::civil::Time| format!("{:02}:{:02}", t.hour(), t.minute());
    out.insert("date".into(), json!(date));
    out.insert(
        "time".into(),
        json!(mention.as_ref().and_then(|m| m.time).map(hhmm)),
    );
    if let Some(m) = &mention {
        if let Some(t) = m.earliest {
            out.insert("earliest".into(), json!(hhmm(t)));
        }
        if let Some(t) = m.latest {
            out.insert("latest".into(), json!(hhmm(t)));
        }
        if let Some(prefer) = m.prefer {
            out.insert("prefer".into(), json!(prefer.as_str()));
        }
    }
    if let Some(phone) = extract_phone(text, None) {
        out.insert("phone".into(), json!(phone));
    }
    if let Some(location) = extract_location(text, &business.locations) {
        out.insert("location".into(), json!(location.code));
    }
    if let Some(name) = extract_person_name_among(text, &LocationMatcher::new(&business.locations))
    {
        out.insert("name".into(), json!(name));
    }
    let norm = normalize(text);
    if let Some(yes) = extract_yes_no(&norm) {
        out.insert("yes_no".into(), json!(yes));
    }
    if let Some(n) = extract_number(text) {
        out.insert("number".into(), json!(n));
    }
    out
}
