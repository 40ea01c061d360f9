//! The command line: argument parsing and dispatch to one module per command.

pub(crate) mod calls;
mod chat;
mod extract;
mod flows;
mod jsonl;
mod runtime;
mod seed;
mod seed_customers;
mod serve;
mod simulate;
mod texting;
mod understand;
mod worker;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand};

/// Frontdesk answers the phone for service businesses.
#[derive(Debug, Parser)]
#[command(name = "frontdesk", version, about)]
pub struct Cli {
    /// Project folder holding flows/, prompts/, knowledge/ and config/.
    #[arg(long, global = true, default_value = ".", env = "FRONTDESK_PROJECT")]
    pub project: PathBuf,
    /// Database URL: sqlite://PATH (created on first run) or postgres://...
    #[arg(
        long,
        global = true,
        default_value = "sqlite://.frontdesk/frontdesk.db",
        env = "FRONTDESK_DATABASE_URL"
    )]
    pub database: String,
    /// Log more (info level). RUST_LOG overrides.
    #[arg(long, short, global = true)]
    pub verbose: bool,
    /// Log lines as text (coloured only on a terminal, never with NO_COLOR) or as JSON objects.
    #[arg(long, global = true, value_enum, default_value_t = crate::logging::LogFormat::Text, env = "FRONTDESK_LOG_FORMAT")]
    pub log_format: crate::logging::LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Talk to the agent in the terminal.
    Chat(chat::ChatArgs),
    /// Run caller scripts against the engine and an in-memory store.
    Simulate(simulate::SimulateArgs),
    /// Run the slot extractors on text (for tooling and evaluation).
    Extract(extract::ExtractArgs),
    /// What the agent would do with a caller's first words: flow, hazard, answered, confidence.
    Understand(understand::UnderstandArgs),
    /// Check, describe and draw flows.
    #[command(subcommand)]
    Flows(flows::FlowsCommand),
    /// Load demo appointments into the database.
    Seed(seed::SeedArgs),
    /// Answer Twilio calls: webhooks (gather mode) or Media Streams (stream mode).
    Serve(Box<serve::ServeArgs>),
    /// Read the call record.
    #[command(subcommand)]
    Calls(calls::CallsCommand),
    /// Send the texts the outbox holds, on its own (`serve` also sends them).
    Worker(worker::WorkerArgs),
}

impl Cli {
    /// Whether this command answers calls (and so must survive a peer closing its socket).
    pub fn serves(&self) -> bool {
        matches!(self.command, Command::Serve(_) | Command::Worker(_))
    }
}

pub fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Chat(args) => chat::run(&cli.project, &cli.database, args),
        Command::Simulate(args) => simulate::run(&cli.project, args),
        Command::Extract(args) => extract::run(&cli.project, args),
        Command::Understand(args) => understand::run(&cli.project, args),
        Command::Flows(command) => flows::run(&cli.project, command),
        Command::Seed(args) => seed::run(&cli.project, &cli.database, args),
        Command::Serve(args) => serve::run(&cli.project, &cli.database, *args),
        Command::Calls(command) => calls::run(&cli.project, &cli.database, command),
        Command::Worker(args) => worker::run(&cli.project, &cli.database, args),
    }
}
