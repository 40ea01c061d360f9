//! `frontdesk chat`: hold a call with the agent in the terminal.
//!
//! Type what the caller says. An empty line is silence, `#0` presses keypad 0 (any digits after
//! `#`), `/hangup` or end of input hangs up.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use frontdesk_engine::{CallInfo, Input};
use jiff::civil::DateTime;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::call::{AgentTurn, CallDriver, LiveCall};
use crate::clock::business_now;

#[derive(Debug, Args)]
pub struct ChatArgs {
    /// Show the flow, state and filled slots after every turn.
    #[arg(long)]
    trace: bool,
    /// The caller ID the agent sees (E.164); `anonymous`, `restricted`, `unknown` or an empty
    /// string call with a withheld number.
    #[arg(long, default_value = "+12145550123")]
    caller: String,
    /// Pretend it is this business-local time (e.g. 2026-06-01T09:12) instead of now.
    #[arg(long)]
    now: Option<DateTime>,
    #[command(flatten)]
    llm: crate::llm::LlmArgs,
}

pub fn run(project: &Path, database: &str, args: ChatArgs) -> Result<ExitCode> {
    let (engine, model) = super::runtime::engine_and_model(project, &args.llm)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let store = super::runtime::storage_for(database, engine.business()).await?;
        let driver = CallDriver::new(engine.clone(), store.clone()).with_model(model);
        let clock = |fixed: Option<DateTime>| -> Result<DateTime> {
            match fixed {
                Some(now) => Ok(now),
                None => business_now(engine.business()),
            }
        };
        let call = CallInfo {
            id: format!("CHAT-{}", jiff::Timestamp::now().as_millisecond()),
            caller: crate::caller_id::usable_caller_id(Some(&args.caller)),
            called: engine.business().phones.main.clone(),
            customer: None,
        };
        println!(
            "(calling {} as {}; empty line = silence, #0 = keypad 0, /hangup to end)",
            engine.business().name,
            call.caller.as_deref().unwrap_or("a withheld number")
        );
        let (mut live, turn) = driver.start(call, clock(args.now)?).await;
        show(&turn, &live, args.trace);
        let mut lines = BufReader::new(tokio::io::stdin()).lines();
        // Typed lines show on the terminal already; piped ones would leave "you> agent: ...".
        let echo = !std::io::stdin().is_terminal();
        while !live.session.ended {
            print!("you> ");
            std::io::stdout().flush()?;
            let Some(line) = lines.next_line().await? else {
                driver.hang_up(&mut live, clock(args.now)?).await;
                break;
            };
            let line = line.trim();
            if echo {
                println!("{line}");
            }
            let input = if line.is_empty() {
                Input::NoInput
            } else if line == "/hangup" || line == "/quit" {
                driver.hang_up(&mut live, clock(args.now)?).await;
                break;
            } else if let Some(digits) = line.strip_prefix('#') {
                Input::Digits {
                    digits: digits.trim().to_string(),
                }
            } else {
                Input::Said {
                    text: line.to_string(),
                    confidence: None,
                }
            };
            let turn = driver.input(&mut live, input, clock(args.now)?).await;
            show(&turn, &live, args.trace);
        }
        println!(
            "(call ended: {}; call id {})",
            live.session.outcome().as_str(),
            live.session.call.id
        );
        driver.flush().await;
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}

fn show(turn: &AgentTurn, live: &LiveCall, trace: bool) {
    for (text, _) in &turn.said {
        println!("agent: {text}");
    }
    if let Some(to) = &turn.transfer_to {
        println!("(transferring the call to {to})");
    } else if turn.hangup {
        println!("(the agent hangs up)");
    }
    if trace {
        let s = &live.session;
        let state = match (&s.flow, &s.state) {
            (Some(f), Some(st)) => format!("{f}/{st}"),
            _ => "(no flow)".to_string(),
        };
        let slots: serde_json::Map<String, serde_json::Value> = s
            .slots
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        println!(
            "  [trace] {state} slots={}",
            serde_json::Value::Object(slots)
        );
        for tool in &turn.tool_calls {
            println!("  [trace] tool {tool}");
        }
    }
}
