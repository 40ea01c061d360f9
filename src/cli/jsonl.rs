//! JSON-lines in, JSON-lines out: the shape `extract --jsonl` and `understand --jsonl` share.

use std::io::{BufRead, Write};

use anyhow::{Context, Result};
use jiff::civil::DateTime;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// Reads one `T` per non-empty stdin line and writes the object `answer` returns, with the
/// input's `id` added, as one stdout line. Errors name the line; `expected` says what a line
/// should look like.
pub fn each_line<T: DeserializeOwned>(
    expected: &str,
    mut answer: impl FnMut(T) -> Result<(Value, Map<String, Value>)>,
) -> Result<()> {
    let stdin = std::io::stdin();
    let mut out = std::io::stdout().lock();
    for (number, line) in stdin.lock().lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let input: T = serde_json::from_str(&line)
            .with_context(|| format!("line {}: expected {expected}", number + 1))?;
        let (id, mut fields) = answer(input).with_context(|| format!("line {}", number + 1))?;
        fields.insert("id".into(), id);
        writeln!(out, "{}", Value::Object(fields))?;
    }
    Ok(())
}

/// A business-local date and time as the commands take it.
pub fn parse_now(text: &str) -> Result<DateTime> {
    text.parse::<DateTime>()
        .with_context(|| format!("`{text}` is not a date and time like 2026-06-01T09:12:00"))
}
