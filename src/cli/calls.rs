//! `frontdesk calls list`, `calls show` and `calls export`: the call record without SQL.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Subcommand;
use frontdesk_engine::Outcome;
use jiff::civil::{Date, DateTime};
use jiff::{Span, ToSpan};
use serde_json::json;

use crate::call_event::Event;
use crate::llm::totals::LlmTotals;
use crate::storage::{CallFilter, CallSummary};

/// The outcome storage gives a call the carrier ended before the agent closed it.
const CARRIER_ENDED: &str = "hung_up";

#[derive(Debug, Subcommand)]
pub enum CallsCommand {
    /// List calls, newest first: when, id, caller, outcome, turns, length.
    List {
        /// Calls started since: `today`, `yesterday`, a date (`2026-12-01`), a date and time
        /// (`2026-12-01T09:30`), or a span back from now (`90m`, `2h`, `7d`). Business time.
        #[arg(long)]
        since: Option<String>,
        /// Calls that ended this way: booked, rescheduled, cancelled, transferred, emergency,
        /// answered, abandoned, or hung_up (the carrier ended the call first).
        #[arg(long)]
        outcome: Option<String>,
        /// Calls from a number ending with these digits (`0123`, `+12145550123`).
        #[arg(long)]
        caller: Option<String>,
        /// At most this many calls.
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Print one call's record as JSON: turns, events, outcome, and `llm_totals` (model calls,
    /// failures, tokens, time spent).
    Show {
        /// The call id (Twilio's CallSid, the CHAT-… id `frontdesk chat` prints, or an id from
        /// `calls list`).
        call_id: String,
    },
    /// Print one call as a caller script (its caller lines as `turns`, the visits it looked up
    /// as `given`, its outcome and booking as `expect`): save it under tests/transcripts/ and
    /// `frontdesk simulate` replays it, a regression test in one command.
    Export {
        /// The call id, as for `calls show`.
        call_id: String,
    },
}

pub fn run(project: &Path, database: &str, command: CallsCommand) -> Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match command {
        CallsCommand::Show { call_id } => runtime.block_on(show(database, &call_id)),
        CallsCommand::Export { call_id } => runtime.block_on(export(project, database, &call_id)),
        CallsCommand::List {
            since,
            outcome,
            caller,
            limit,
            json,
        } => {
            let filter = CallFilter {
                since: since
                    .as_deref()
                    .map(|since| parse_since(since, || business_now(project)))
                    .transpose()?,
                outcome: outcome.as_deref().map(parse_outcome).transpose()?,
                caller_digits: caller.as_deref().map(caller_digits).transpose()?,
                ..CallFilter::latest(limit)
            };
            runtime.block_on(list(database, &filter, json))
        }
    }
}

async fn show(database: &str, call_id: &str) -> Result<ExitCode> {
    let store = crate::storage::open(database).await?;
    let record = store.get_call(call_id).await;
    let messages = store.messages(Some(call_id)).await;
    store.close().await;
    let Some(record) = record? else {
        eprintln!("no call {call_id} in {database} (`frontdesk calls list` shows the calls there)");
        return Ok(ExitCode::FAILURE);
    };
    let totals = LlmTotals::from_events(&record.events);
    let recordings: Vec<_> = record
        .events
        .iter()
        .filter_map(|e| match e.event() {
            Event::Recording {
                recording_sid,
                url,
                duration_seconds,
                status,
            } => Some(json!({
                "sid": recording_sid, "url": url, "duration_seconds": duration_seconds, "status": status,
            })),
            _ => None,
        })
        .collect();
    let mut out = serde_json::to_value(&record)?;
    out["llm_totals"] = json!(totals);
    // What the call sent (texts, webhooks), and how each went.
    out["messages"] = json!(messages?);
    out["recordings"] = json!(recordings);
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(ExitCode::SUCCESS)
}

async fn export(project: &Path, database: &str, call_id: &str) -> Result<ExitCode> {
    let store = crate::storage::open(database).await?;
    let record = store.get_call(call_id).await;
    let changed = store.appointments_for_call(call_id).await;
    store.close().await;
    let Some(record) = record? else {
        eprintln!("no call {call_id} in {database} (`frontdesk calls list` shows the calls there)");
        return Ok(ExitCode::FAILURE);
    };
    let capacity =
        crate::project::read_business(&crate::project::ProjectPaths::at_root(project).business)?
            .capacity_per_start;
    print!(
        "{}",
        crate::call_script::export(&record, &changed?, capacity)
    );
    Ok(ExitCode::SUCCESS)
}

async fn list(database: &str, filter: &CallFilter, json: bool) -> Result<ExitCode> {
    let store = crate::storage::open(database).await?;
    let calls = store.list_calls(filter).await;
    store.close().await;
    let calls = calls?;
    if json {
        println!("{}", serde_json::to_string_pretty(&calls)?);
    } else if calls.is_empty() {
        eprintln!("no calls match in {database}");
    } else {
        print!("{}", table(&calls));
    }
    Ok(ExitCode::SUCCESS)
}

/// The calls as aligned columns, one per line, with a header.
fn table(calls: &[CallSummary]) -> String {
    // The urgency column only for a business whose calls carry one.
    let urgent = calls.iter().any(|c| c.urgency.is_some());
    let mut header = vec!["STARTED", "CALL", "CALLER", "OUTCOME", "TURNS", "LENGTH"];
    if urgent {
        header.push("URGENCY");
    }
    let header: Vec<String> = header.into_iter().map(String::from).collect();
    let rows: Vec<Vec<String>> = calls
        .iter()
        .map(|call| {
            let mut row = vec![
                call.started_at.strftime("%Y-%m-%d %H:%M:%S").to_string(),
                call.call_id.clone(),
                call.caller.clone(),
                call.outcome.clone().unwrap_or_else(|| "(live)".into()),
                call.turns.to_string(),
                call.ended_at
                    .map(|end| length(call.started_at, end))
                    .unwrap_or_default(),
            ];
            if urgent {
                row.push(call.urgency.clone().unwrap_or_default());
            }
            row
        })
        .collect();
    let mut widths: Vec<usize> = header.iter().map(String::len).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, &width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

/// `1m 05s`, `42s`.
fn length(start: DateTime, end: DateTime) -> String {
    let seconds = end
        .since(start)
        .and_then(|span| span.total(jiff::Unit::Second))
        .map_or(0, |s| s.max(0.0) as u64);
    match seconds / 60 {
        0 => format!("{seconds}s"),
        minutes => format!("{minutes}m {:02}s", seconds % 60),
    }
}

fn business_now(project: &Path) -> Result<DateTime> {
    let paths = crate::project::ProjectPaths::at_root(project);
    let business = crate::project::read_business(&paths.business)?;
    crate::clock::business_now(&business)
}

/// The start of the `--since` window; `now` is asked only for the forms relative to it.
fn parse_since(text: &str, now: impl FnOnce() -> Result<DateTime>) -> Result<DateTime> {
    let text = text.trim();
    let today = |now: DateTime| now.date().to_datetime(jiff::civil::time(0, 0, 0, 0));
    match text {
        "today" => return Ok(today(now()?)),
        "yesterday" => return Ok(today(now()?).checked_sub(1.day())?),
        _ => {}
    }
    // Before the date: jiff reads a date-time as a date by dropping its time.
    if let Ok(at) = text.replacen(' ', "T", 1).parse::<DateTime>() {
        return Ok(at);
    }
    if let Ok(date) = text.parse::<Date>() {
        return Ok(date.to_datetime(jiff::civil::time(0, 0, 0, 0)));
    }
    if let Some(span) = span_back(text) {
        return Ok(now()?.checked_sub(span)?);
    }
    bail!(
        "--since {text:?}: use today, yesterday, a date (2026-12-01), a date and time \
         (2026-12-01T09:30), or a span back from now (90m, 2h, 7d)"
    )
}

/// `90m`, `2h`, `7d`.
fn span_back(text: &str) -> Option<Span> {
    let unit = text.chars().last()?;
    let amount: i64 = text[..text.len() - unit.len_utf8()].parse().ok()?;
    if amount < 0 {
        return None;
    }
    match unit {
        'm' => Some(amount.minutes()),
        'h' => Some(amount.hours()),
        'd' => Some(amount.days()),
        _ => None,
    }
}

pub(crate) fn parse_outcome(text: &str) -> Result<String> {
    let wanted = text.trim().to_lowercase().replace([' ', '-'], "_");
    let known: Vec<&str> = Outcome::ALL
        .iter()
        .map(|o| o.as_str())
        .chain([CARRIER_ENDED])
        .collect();
    if known.contains(&wanted.as_str()) {
        return Ok(wanted);
    }
    bail!("--outcome {text:?}: use one of {}", known.join(", "))
}

pub(crate) fn caller_digits(text: &str) -> Result<String> {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() {
        bail!("--caller {text:?}: give the number, or its last digits");
    }
    Ok(digits)
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::*;

    fn now() -> Result<DateTime> {
        Ok(date(2026, 12, 6).at(14, 30, 0, 0))
    }

    #[test]
    fn since_reads_words_dates_and_spans() {
        let at = |text: &str| parse_since(text, now).unwrap();
        assert_eq!(at("today"), date(2026, 12, 6).at(0, 0, 0, 0));
        assert_eq!(at("yesterday"), date(2026, 12, 5).at(0, 0, 0, 0));
        assert_eq!(at("2026-12-01"), date(2026, 12, 1).at(0, 0, 0, 0));
        assert_eq!(at("2026-12-01T09:30"), date(2026, 12, 1).at(9, 30, 0, 0));
        assert_eq!(at("2026-12-01 09:30"), date(2026, 12, 1).at(9, 30, 0, 0));
        assert_eq!(at("90m"), date(2026, 12, 6).at(13, 0, 0, 0));
        assert_eq!(at("2d"), date(2026, 12, 4).at(14, 30, 0, 0));
    }

    #[test]
    fn since_explains_what_it_reads() {
        let error = parse_since("last week", now).unwrap_err().to_string();
        assert!(
            error.contains("yesterday") && error.contains("7d"),
            "{error}"
        );
        // A date needs no clock, so no business configuration.
        let no_clock = || bail!("no clock");
        assert!(parse_since("2026-12-01", no_clock).is_ok());
    }

    #[test]
    fn outcomes_are_checked_and_listed() {
        assert_eq!(parse_outcome("Hung up").unwrap(), "hung_up");
        assert_eq!(parse_outcome("booked").unwrap(), "booked");
        let error = parse_outcome("happy").unwrap_err().to_string();
        assert!(
            error.contains("emergency") && error.contains("hung_up"),
            "{error}"
        );
    }

    #[test]
    fn the_table_lines_up() {
        let call = |id: &str, outcome: Option<&str>| CallSummary {
            call_id: id.into(),
            caller: "+12145550123".into(),
            called: "+12145550100".into(),
            started_at: date(2026, 12, 6).at(9, 0, 0, 0),
            ended_at: outcome.map(|_| date(2026, 12, 6).at(9, 1, 5, 0)),
            outcome: outcome.map(String::from),
            transfer_to: None,
            turns: 12,
            urgency: None,
        };
        let text = table(&[call("CA1", Some("booked")), call("CA22", None)]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[1].ends_with("booked   12     1m 05s"), "{text}");
        assert!(lines[2].contains("(live)"), "{text}");
        let column = |line: &str| line.find("+1214");
        assert_eq!(column(lines[1]), column(lines[2]));
        assert!(
            !lines[0].contains("URGENCY"),
            "no urgency levels, no column: {text}"
        );

        // Calls with urgency levels get the column; a call without one leaves it blank.
        let urgent = CallSummary {
            urgency: Some("high".into()),
            ..call("CA3", Some("booked"))
        };
        let text = table(&[urgent, call("CA4", Some("answered"))]);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].ends_with("LENGTH  URGENCY"), "{text}");
        assert!(lines[1].ends_with("1m 05s  high"), "{text}");
        assert!(lines[2].ends_with("1m 05s"), "{text}");
    }
}
