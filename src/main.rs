//! `frontdesk`: a thin binary over the library. See `frontdesk --help`.

use std::process::ExitCode;

use clap::Parser;
use frontdesk::cli::{Cli, run};

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !cli.serves() {
        quiet_on_closed_pipe();
    }
    frontdesk::logging::init(cli.verbose, cli.log_format, cli.serves());
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// `frontdesk simulate ... | head -1`: when the reader goes away, end quietly as other command
/// line tools do, instead of a panic on the next line printed. Not for `serve`, whose sockets
/// must never end the process.
fn quiet_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: restoring the default action for SIGPIPE at start-up, before any thread exists,
    // is what every Unix filter does; no handler runs Rust code.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}
