//! Caller scripts: one YAML file is one simulated call (docs/design.md §9; the full format is in
//! the README's "Writing a caller script").

use std::collections::BTreeMap;

use jiff::civil::DateTime;
use serde::{Deserialize, Serialize};

/// A caller script that could not be read: what was wrong, and where when known.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}{message}", at.map(|(line, column)| format!("{line}:{column}: ")).unwrap_or_default())]
pub struct ScriptError {
    /// Line and column (1-based) of the problem.
    pub at: Option<(u64, u64)>,
    /// What was wrong.
    pub message: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
/// One simulated call: the clock, the caller, what exists before, what the caller does, and what must be true after.
pub struct Script {
    /// What the call is about, shown in reports.
    pub name: String,
    /// Business-local clock for the whole call.
    pub now: DateTime,
    /// Twilio's From.
    #[serde(default)]
    pub caller_id: Option<String>,
    #[serde(default)]
    /// Appointments that exist before the call.
    pub given: Given,
    /// What the caller does first, in order.
    #[serde(default)]
    pub turns: Vec<ScriptTurn>,
    /// Then what the caller says whenever the agent asks for a slot, by slot name.
    #[serde(default)]
    pub answers: BTreeMap<String, Answer>,
    #[serde(default)]
    /// What must be true after the call.
    pub expect: Expect,
}

/// Fixtures that exist before the call.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Given {
    #[serde(default)]
    /// Visits already booked.
    pub appointments: Vec<GivenAppointment>,
    #[serde(default)]
    /// Customers on file, with the vehicles they brought in before.
    pub customers: Vec<GivenCustomer>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
/// A customer known before the call.
pub struct GivenCustomer {
    /// Their full name.
    pub name: String,
    /// Their phone number (what caller ID shows).
    pub phone: String,
    #[serde(default)]
    /// Their vehicles, the latest last.
    pub vehicles: Vec<GivenVehicle>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
/// A vehicle on file: `{ year: 2020, make: Mazda, model: Miata }`.
pub struct GivenVehicle {
    /// Model year.
    #[serde(default)]
    pub year: Option<i64>,
    /// Make, as the catalogue writes it.
    pub make: String,
    /// Model, as the catalogue writes it.
    #[serde(default)]
    pub model: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
/// A visit booked before the call.
pub struct GivenAppointment {
    /// What the call is about, shown in reports.
    pub name: String,
    /// The customer's phone number.
    pub phone: String,
    /// Location code (`DAL`).
    pub location: String,
    /// When it starts, business-local.
    pub start: DateTime,
    #[serde(default)]
    /// What it is for.
    pub issue: String,
    #[serde(default)]
    /// How long it lasts, for a business whose services have lengths.
    pub minutes: Option<u32>,
}

/// One thing the caller does.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum ScriptTurn {
    /// `say: TEXT`: the caller speaks.
    Say {
        /// The words.
        say: String,
    },
    /// `dtmf: DIGITS`: the caller presses keys.
    Dtmf {
        /// The keys, in order.
        dtmf: String,
    },
    /// `silence` or `hangup`.
    Bare(BareTurn),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
/// A turn with no value.
pub enum BareTurn {
    /// The caller says nothing until the timeout.
    Silence,
    /// The caller hangs up.
    Hangup,
}

/// One answer, or one per ask (the last repeats).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    /// The same answer every time.
    One(String),
    /// One answer per ask, the last repeating.
    Each(Vec<String>),
}

impl Answer {
    /// The answer for the `n`th time the slot is asked (0-based).
    pub fn nth(&self, n: usize) -> Option<&str> {
        match self {
            Answer::One(s) => Some(s),
            Answer::Each(list) => list.get(n).or(list.last()).map(String::as_str),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
/// What must be true after the call; what is not given is not checked.
pub struct Expect {
    #[serde(default)]
    /// The call's outcome (`booked`, `transferred`, ...).
    pub outcome: Option<String>,
    #[serde(default)]
    /// The appointment the call created or changed.
    pub appointment: Option<ExpectedAppointment>,
    #[serde(default)]
    /// The number the call was transferred to.
    pub transfer_to: Option<String>,
    /// Case-insensitive substrings, each of which some agent line must contain.
    #[serde(default)]
    pub said: Vec<String>,
    /// Case-insensitive substrings, at least one of which some agent line must contain.
    #[serde(default)]
    pub said_any: Vec<String>,
    /// Case-insensitive substrings no agent line may contain.
    #[serde(default)]
    pub not_said: Vec<String>,
    #[serde(default)]
    /// At most this many agent turns.
    pub max_agent_turns: Option<usize>,
    /// The urgency level the call reached (a business with `urgency` levels).
    #[serde(default)]
    pub urgency: Option<String>,
}

/// What a caller heard of a call: enough to check the expectations that need no database.
#[derive(Debug, Clone, Default)]
pub struct Heard<'a> {
    /// The agent's lines, when they are known (a phone hearing only audio knows none).
    pub agent_lines: Option<Vec<&'a str>>,
    /// The number the call was transferred to.
    pub transfer_to: Option<&'a str>,
    /// Agent turns, when counted.
    pub agent_turns: Option<usize>,
}

impl Expect {
    /// The failed expectations about what was said and where the call went: `transfer_to`,
    /// `said`, `said_any`, `not_said`, `max_agent_turns`. Outcome and appointment need the
    /// call record and are the caller's to check.
    pub fn check_heard(&self, heard: &Heard<'_>) -> Vec<String> {
        let mut failures = Vec::new();
        if let Some(want) = &self.transfer_to
            && Some(want.as_str()) != heard.transfer_to
        {
            failures.push(format!(
                "transfer_to: expected {want}, got {:?}",
                heard.transfer_to
            ));
        }
        if let Some(lines) = &heard.agent_lines {
            let lines: Vec<String> = lines.iter().map(|l| l.to_lowercase()).collect();
            let said = |needle: &str| {
                let needle = needle.to_lowercase();
                lines.iter().any(|t| t.contains(&needle))
            };
            for want in &self.said {
                if !said(want) {
                    failures.push(format!("said: no agent line contains {want:?}"));
                }
            }
            if !self.said_any.is_empty() && !self.said_any.iter().any(|w| said(w)) {
                failures.push(format!(
                    "said_any: no agent line contains any of {:?}",
                    self.said_any
                ));
            }
            for unwanted in &self.not_said {
                if said(unwanted) {
                    failures.push(format!("not_said: an agent line contains {unwanted:?}"));
                }
            }
        }
        if let (Some(max), Some(turns)) = (self.max_agent_turns, heard.agent_turns)
            && turns > max
        {
            failures.push(format!("max_agent_turns: {turns} > {max}"));
        }
        failures
    }
}

/// Fields an appointment the call created or changed must have (those given).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedAppointment {
    #[serde(default)]
    /// Location code.
    pub location: Option<String>,
    #[serde(default)]
    /// Start, business-local.
    pub start: Option<DateTime>,
    #[serde(default)]
    /// The customer's name.
    pub name: Option<String>,
    #[serde(default)]
    /// The customer's phone number.
    pub phone: Option<String>,
    #[serde(default)]
    /// What it is for.
    pub issue: Option<String>,
    #[serde(default)]
    /// `booked` or `cancelled`.
    pub status: Option<String>,
}

/// What a caller does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallerAction {
    /// Says these words.
    Say(String),
    /// Presses these keys.
    Dtmf(String),
    /// The caller says nothing until the timeout.
    Silence,
    /// The caller hangs up.
    Hangup,
}

/// Plays a script's caller side: the scripted turns first, then answers by the slot the agent
/// asks for. Every front end that replays scripts (simulate, the local softphone) uses this, so
/// they make the same choices.
#[derive(Debug, Clone)]
pub struct ScriptCursor<'a> {
    script: &'a Script,
    next_turn: usize,
    asks: BTreeMap<String, usize>,
}

impl<'a> ScriptCursor<'a> {
    /// A cursor at the script's first turn.
    pub fn new(script: &'a Script) -> ScriptCursor<'a> {
        ScriptCursor {
            script,
            next_turn: 0,
            asks: BTreeMap::new(),
        }
    }

    /// The caller's next move, given the slot the agent is asking for (if known).
    pub fn next(&mut self, asked_slot: Option<&str>) -> CallerAction {
        if let Some(turn) = self.script.turns.get(self.next_turn) {
            self.next_turn += 1;
            return match turn {
                ScriptTurn::Say { say } => CallerAction::Say(say.clone()),
                ScriptTurn::Dtmf { dtmf } => CallerAction::Dtmf(dtmf.clone()),
                ScriptTurn::Bare(BareTurn::Silence) => CallerAction::Silence,
                ScriptTurn::Bare(BareTurn::Hangup) => CallerAction::Hangup,
            };
        }
        let answer = asked_slot.and_then(|slot| {
            let n = self.asks.entry(slot.to_string()).or_insert(0);
            let answer = self.script.answers.get(slot).and_then(|a| a.nth(*n));
            *n += 1;
            answer
        });
        match answer {
            Some(text) => CallerAction::Say(text.to_string()),
            None => CallerAction::Silence,
        }
    }
}

impl ScriptError {
    /// The error as an editor reads it: `path:line:column: message`, or `path: message`.
    pub fn in_file(&self, path: &str) -> String {
        match self.at {
            Some(_) => format!("{path}:{self}"),
            None => format!("{path}: {self}"),
        }
    }
}

impl Script {
    /// Reads a caller script from its YAML text; unknown keys and turn kinds are errors.
    pub fn from_yaml(text: &str) -> Result<Script, ScriptError> {
        serde_saphyr::from_str(text).map_err(|e| {
            let message = e.without_snippet().to_string();
            // serde's words for a turn of no known kind name our type, not the author's slip.
            let message = if message.contains("untagged enum ScriptTurn") {
                "unknown caller turn: each turn is `say: TEXT`, `dtmf: DIGITS`, `silence` or `hangup`"
                    .to_string()
            } else {
                message
            };
            ScriptError {
                at: e.location().map(|l| (l.line(), l.column())),
                message,
            }
        })
    }
}

#[cfg(test)]
mod parse_tests {
    use super::*;

    #[test]
    fn a_misspelt_turn_names_the_turn_kinds_and_its_place() {
        let text = "name: typo\nnow: 2026-06-01T09:12:00\nturns:\n  - say: hello\n  - sya: hi\n";
        let error = Script::from_yaml(text).unwrap_err();
        assert!(error.message.contains("`say: TEXT`"), "{error}");
        assert_eq!(error.at.map(|(line, _)| line), Some(5), "{error}");
    }
}
