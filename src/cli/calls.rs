//! `frontdesk calls show`: what the call record holds about one call, with its totals.

use std::process::ExitCode;

use anyhow::Result;
use clap::Subcommand;
use serde_json::json;

use crate::llm::totals::LlmTotals;

#[derive(Debug, Subcommand)]
pub enum CallsCommand {
    /// Print one call's record as JSON: turns, events, outcome, and `llm_totals` (model calls,
    /// failures, tokens, time spent).
    Show {
        /// The call id (Twilio's CallSid, or the CHAT-… id `frontdesk chat` prints).
        call_id: String,
    },
}

pub fn run(database: &str, command: CallsCommand) -> Result<ExitCode> {
    let CallsCommand::Show { call_id } = command;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let store = crate::storage::open(database).await?;
        let record = store.get_call(&call_id).await;
        store.close().await;
        let Some(record) = record? else {
            eprintln!("no call {call_id} in {database}");
            return Ok(ExitCode::FAILURE);
        };
        let totals = LlmTotals::from_events(&record.events);
        let mut out = serde_json::to_value(&record)?;
        out["llm_totals"] = json!(totals);
        println!("{}", serde_json::to_string_pretty(&out)?);
        Ok(ExitCode::SUCCESS)
    })
}
