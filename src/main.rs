//! `frontdesk`: a thin binary over the library. See `frontdesk --help`.

use std::process::ExitCode;

use clap::Parser;
use frontdesk::cli::{Cli, run};

fn main() -> ExitCode {
    let cli = Cli::parse();
    frontdesk::logging::init(cli.verbose);
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
