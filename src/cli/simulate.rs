//! `frontdesk simulate`: play caller scripts and print what happened and what failed.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Result;
use clap::Args;

use crate::simulate::{ScriptReport, run_file};

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Print one JSON array with a result object per script.
    #[arg(long)]
    json: bool,
    /// Caller script files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

pub fn run(project: &Path, args: SimulateArgs) -> Result<ExitCode> {
    let engine = Arc::new(super::runtime::engine(project)?);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let mut reports = Vec::new();
    for file in &args.files {
        let report = runtime.block_on(run_file(engine.clone(), file))?;
        if !args.json {
            print_report(&report);
        }
        reports.push(report);
    }
    let failed = reports.iter().filter(|r| !r.passed).count();
    if args.json {
        println!("{}", serde_json::to_string_pretty(&reports)?);
    } else {
        println!("{} passed, {} failed", reports.len() - failed, failed);
    }
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn print_report(report: &ScriptReport) {
    println!("== {} ({})", report.name, report.file);
    for line in &report.transcript {
        println!("  {:>6}: {}", line.speaker, line.text);
    }
    println!(
        "  outcome: {}{}",
        report.outcome,
        report
            .transfer_to
            .as_ref()
            .map(|t| format!(", transferred to {t}"))
            .unwrap_or_default()
    );
    for a in &report.appointments {
        println!("  appointment: {a}");
    }
    if report.passed {
        println!("  PASS");
    } else {
        for f in &report.failures {
            println!("  FAIL: {f}");
        }
    }
    println!();
}
