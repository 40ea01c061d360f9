//! How well a call went, computed from its record alone (no model): whether it reached a goal,
//! how many turns that took, how often the agent had to ask again and why, barge-ins, why it
//! went to a person, and signs of a frustrated caller.

use serde::Serialize;

use crate::call_event::Event;
use crate::storage::{CallRecord, Speaker};

/// Outcomes where the agent did what the caller called for on its own.
const GOALS: [&str; 5] = [
    "booked",
    "rescheduled",
    "cancelled",
    "answered",
    "emergency",
];

/// What the recorder writes for a turn the caller stayed silent.
pub const SILENCE: &str = "[silence]";
/// What the recorder writes for keys pressed: `[keypad 0]`.
pub const KEYPAD_PREFIX: &str = "[keypad ";

/// One call's quality.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallQuality {
    pub call_id: String,
    pub outcome: String,
    pub reached_goal: bool,
    /// Caller turns before the call ended.
    pub turns_to_outcome: u32,
    /// Questions the agent asked again (the same state asked twice in a row).
    pub reprompts: u32,
    /// Of those, after the caller said something the agent could not use.
    pub no_match: u32,
    /// Turns the caller said nothing.
    pub no_input: u32,
    /// The caller talked over the agent (stream mode).
    pub barge_ins: u32,
    /// Why the call went to a person, when it did.
    pub transfer_reason: Option<String>,
    /// Frustration the engine heard ("this is ridiculous", asking for a person again).
    pub frustration: u32,
    /// Higher is worse: what the worst-first list sorts by.
    pub score: u32,
}

impl CallQuality {
    pub fn of(record: &CallRecord) -> CallQuality {
        let outcome = record.outcome.clone().unwrap_or_else(|| "live".to_string());
        let reached_goal = GOALS.contains(&outcome.as_str());
        let mut turns_to_outcome: u32 = 0;
        let (mut reprompts, mut no_match, mut no_input) = (0, 0, 0);
        let mut last_agent_state: Option<&str> = None;
        let mut caller_since_agent: Option<&str> = None;
        for turn in &record.turns {
            match turn.speaker {
                Speaker::Caller => {
                    turns_to_outcome += 1;
                    if turn.text == SILENCE {
                        no_input += 1;
                    }
                    caller_since_agent = Some(&turn.text);
                }
                Speaker::Agent => {
                    let state = turn.state.as_deref();
                    // An agent line in the state it was already in, after the caller answered:
                    // the question asked again.
                    if let (Some(said), Some(state)) = (caller_since_agent, state)
                        && last_agent_state == Some(state)
                    {
                        reprompts += 1;
                        if said != SILENCE {
                            no_match += 1;
                        }
                    }
                    if state.is_some() {
                        last_agent_state = state;
                    }
                    caller_since_agent = None;
                }
            }
        }
        let mut frustration = 0;
        let mut barge_ins = 0;
        let mut reasons: Vec<String> = Vec::new();
        let mut transfer_failed = false;
        let mut failures = 0;
        for event in &record.events {
            match event.event() {
                Event::Engine { kind, detail } => match kind.as_str() {
                    "frustration" => frustration += 1,
                    "hazard" => reasons.push(format!(
                        "emergency: {}",
                        detail["hazard"].as_str().unwrap_or("hazard")
                    )),
                    "escalated" => reasons.push(format!(
                        "not understood {} times",
                        detail["attempts"].as_u64().unwrap_or_default()
                    )),
                    "flow_started" if detail["flow"] == "handoff" => {
                        reasons.push("asked for a person".into())
                    }
                    _ => {}
                },
                Event::BargeIn { .. } => barge_ins += 1,
                Event::TransferFailed { .. } => transfer_failed = true,
                Event::DependencyFailed { dependency, .. } => {
                    failures += 1;
                    reasons.push(format!("{dependency} failed"));
                }
                Event::DependencyTimeout { dependency, .. } => {
                    failures += 1;
                    reasons.push(format!("{dependency} too slow"));
                }
                _ => {}
            }
        }
        let transfer_reason = record.transfer_to.as_ref().map(|_| {
            reasons
                .first()
                .cloned()
                .unwrap_or_else(|| "handed to a person".into())
        });
        let score = u32::from(!reached_goal) * 5
            + reprompts
            + no_input
            + frustration * 3
            + barge_ins
            + u32::from(transfer_failed) * 3
            + failures * 3
            + turns_to_outcome.saturating_sub(10);
        CallQuality {
            call_id: record.call_id.clone(),
            outcome,
            reached_goal,
            turns_to_outcome,
            reprompts,
            no_match,
            no_input,
            barge_ins,
            transfer_reason,
            frustration,
            score,
        }
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;
    use serde_json::json;

    use super::*;
    use crate::storage::{CallEvent, Turn};

    fn turn(seq: u32, speaker: Speaker, text: &str, state: Option<&str>) -> Turn {
        Turn {
            seq,
            speaker,
            text: text.into(),
            state: state.map(String::from),
        }
    }

    fn record(
        outcome: &str,
        turns: Vec<Turn>,
        events: Vec<(&str, serde_json::Value)>,
    ) -> CallRecord {
        CallRecord {
            call_id: "CA1".into(),
            caller: "+12145550123".into(),
            called: "+12145550100".into(),
            started_at: date(2026, 6, 1).at(9, 0, 0, 0),
            ended_at: Some(date(2026, 6, 1).at(9, 2, 0, 0)),
            outcome: Some(outcome.into()),
            transfer_to: (outcome == "transferred").then(|| "+12145550111".into()),
            carrier_status: None,
            duration_seconds: None,
            turns,
            events: events
                .into_iter()
                .enumerate()
                .map(|(i, (kind, detail))| CallEvent {
                    id: i as i64,
                    kind: kind.into(),
                    detail,
                })
                .collect(),
        }
    }

    #[test]
    fn a_clean_booking_scores_zero() {
        let call = record(
            "booked",
            vec![
                turn(1, Speaker::Agent, "How can I help?", None),
                turn(2, Speaker::Caller, "my ac is broken", None),
                turn(3, Speaker::Agent, "Your name?", Some("booking/ask_name")),
                turn(4, Speaker::Caller, "john smith", None),
                turn(5, Speaker::Agent, "Booked.", Some("booking/done")),
            ],
            vec![],
        );
        let quality = CallQuality::of(&call);
        assert!(quality.reached_goal);
        assert_eq!(quality.turns_to_outcome, 2);
        assert_eq!(
            (quality.reprompts, quality.no_match, quality.no_input),
            (0, 0, 0)
        );
        assert_eq!(quality.score, 0);
    }

    #[test]
    fn asking_again_frustration_and_a_transfer_count_against_a_call() {
        let call = record(
            "transferred",
            vec![
                turn(1, Speaker::Agent, "Your name?", Some("booking/ask_name")),
                turn(2, Speaker::Caller, "uh what", None),
                turn(
                    3,
                    Speaker::Agent,
                    "Sorry, your name?",
                    Some("booking/ask_name"),
                ),
                turn(4, Speaker::Caller, SILENCE, None),
                turn(
                    5,
                    Speaker::Agent,
                    "Your name, please?",
                    Some("booking/ask_name"),
                ),
                turn(6, Speaker::Caller, "this is ridiculous", None),
                turn(
                    7,
                    Speaker::Agent,
                    "Connecting you.",
                    Some("handoff/transfer"),
                ),
            ],
            vec![
                ("frustration", json!({})),
                ("flow_started", json!({ "flow": "handoff" })),
            ],
        );
        let quality = CallQuality::of(&call);
        assert!(!quality.reached_goal);
        assert_eq!(quality.reprompts, 2);
        assert_eq!(quality.no_match, 1);
        assert_eq!(quality.no_input, 1);
        assert_eq!(quality.frustration, 1);
        assert_eq!(
            quality.transfer_reason.as_deref(),
            Some("asked for a person")
        );
        assert_eq!(quality.score, 5 + 2 + 1 + 3);
    }
}
