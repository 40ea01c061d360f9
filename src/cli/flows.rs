//! `frontdesk flows check|schema|graph`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Subcommand;
use frontdesk_engine::mermaid;
use frontdesk_engine::{FlowDef, GlobalsDef};

use crate::project::{ProjectError, ProjectPaths, load_engine};
use crate::tools;

#[derive(Debug, Subcommand)]
pub enum FlowsCommand {
    /// Validate every flow, prompt and knowledge file; print each error as file:line:column.
    Check {
        /// The flows folder; prompts/, knowledge/ and config/ are looked for beside it.
        dir: Option<PathBuf>,
    },
    /// Write the JSON Schemas for flow files and the global patterns file.
    Schema {
        /// Folder to write flow.schema.json and global.schema.json into.
        #[arg(long, default_value = "schema")]
        dir: PathBuf,
        /// Print the flow schema to stdout instead of writing files.
        #[arg(long)]
        stdout: bool,
    },
    /// Print a Mermaid state diagram of one flow.
    Graph {
        /// The flow's name (e.g. booking).
        flow: String,
    },
}

pub fn run(project: &Path, command: FlowsCommand) -> Result<ExitCode> {
    match command {
        FlowsCommand::Check { dir } => {
            let paths = match dir {
                Some(dir) => ProjectPaths::around_flows(&dir),
                None => ProjectPaths::at_root(project),
            };
            match load_engine(&paths, tools::catalog()) {
                Ok(engine) => {
                    let collisions = engine.understanding().example_collisions();
                    if !collisions.is_empty() {
                        for c in &collisions {
                            println!("{c}");
                        }
                        eprintln!(
                            "{} example(s) read like another flow's; reword or remove one of each pair",
                            collisions.len()
                        );
                        return Ok(ExitCode::FAILURE);
                    }
                    let flows: Vec<&str> = engine.flows().map(|f| f.flow.value.as_str()).collect();
                    println!(
                        "ok: {} flows ({}), {} prompts, {} knowledge entries",
                        flows.len(),
                        flows.join(", "),
                        engine.prompt_names().len(),
                        engine.knowledge().entries().len()
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(ProjectError::Invalid(errors)) => {
                    for error in &errors.0 {
                        println!("{error}");
                    }
                    eprintln!("{} error(s)", errors.0.len());
                    Ok(ExitCode::FAILURE)
                }
                Err(ProjectError::Io(e)) => Err(e),
            }
        }
        FlowsCommand::Schema { dir, stdout } => {
            let flow = schema_json::<FlowDef>()?;
            if stdout {
                println!("{flow}");
                return Ok(ExitCode::SUCCESS);
            }
            fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
            for (name, text) in [
                ("flow.schema.json", flow),
                ("global.schema.json", schema_json::<GlobalsDef>()?),
            ] {
                let path = dir.join(name);
                fs::write(&path, text + "\n")
                    .with_context(|| format!("writing {}", path.display()))?;
                println!("wrote {}", path.display());
            }
            Ok(ExitCode::SUCCESS)
        }
        FlowsCommand::Graph { flow } => {
            let engine = super::runtime::engine(project)?;
            let Some(def) = engine.flow(&flow) else {
                let known: Vec<&str> = engine.flows().map(|f| f.flow.value.as_str()).collect();
                bail!("no flow named `{flow}` (flows: {})", known.join(", "));
            };
            print!("{}", mermaid(def));
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The JSON Schema of a flow-language type, pretty-printed.
pub fn schema_json<T: schemars::JsonSchema>() -> Result<String> {
    let schema = schemars::schema_for!(T);
    Ok(serde_json::to_string_pretty(&schema)?)
}
