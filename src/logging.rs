//! Structured logs (tracing). Calls log with their call id; phone numbers are masked.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One readable line per event.
    Text,
    /// One JSON object per event, for log collectors.
    Json,
}

/// Logs go to stderr so command output on stdout stays machine-readable. `RUST_LOG` overrides.
/// Colour only when stderr is a terminal and `NO_COLOR` is not set (<https://no-color.org>).
/// A server also says when each call starts and ends, with its id, for `calls show`.
pub fn init(verbose: bool, format: LogFormat, serves: bool) {
    let default = match (verbose, serves) {
        (true, _) => "info",
        (false, true) => "warn,frontdesk::call=info,frontdesk::outbox=info",
        (false, false) => "warn",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let colour = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder.with_ansi(colour).try_init(),
        LogFormat::Json => builder.json().with_current_span(true).try_init(),
    };
}

/// `+12145550123` -> `+1******0123`: enough to tell calls apart, not enough to dial.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() <= 4 {
        return "*".repeat(chars.len());
    }
    let keep_front = if phone.starts_with('+') { 2 } else { 0 };
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < keep_front || i >= chars.len() - 4 {
                *c
            } else {
                '*'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::mask_phone;

    #[test]
    fn masks_all_but_the_country_and_last_four() {
        assert_eq!(mask_phone("+12145550123"), "+1******0123");
        assert_eq!(mask_phone("123"), "***");
    }
}
