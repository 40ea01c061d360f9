//! What the engine's own tests share: the clock they run at, a caller's words, and reading a
//! turn's outputs.

use frontdesk_engine::{Input, Output};
use jiff::civil::DateTime;

/// A Monday morning: every test's "now".
pub fn now() -> DateTime {
    "2026-06-01T09:12".parse().unwrap()
}

/// What the caller said, as the recognizer reports it.
pub fn said(text: &str) -> Input {
    Input::Said {
        text: text.to_string(),
        confidence: Some(0.9),
    }
}

/// Everything the agent said in a turn, joined.
pub fn spoken(out: &[Output]) -> String {
    out.iter()
        .filter_map(Output::spoken_text)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Where the turn transferred the call, if it did.
pub fn transfer(out: &[Output]) -> Option<&str> {
    out.iter().find_map(|o| match o {
        Output::Transfer { to, .. } => Some(to.as_str()),
        _ => None,
    })
}
