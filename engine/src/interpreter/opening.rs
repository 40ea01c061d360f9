//! What the agent does with a caller's first words, for evaluation and tooling
//! (`frontdesk understand`): the same turn a call would take, summarized.

use jiff::civil::DateTime;
use serde::Serialize;

use super::StepError;
use crate::load::Engine;
use crate::session::{CallInfo, Input, Output};

/// The agent's reading of an opening sentence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Opening {
    /// The flow the sentence starts, if any.
    pub flow: Option<String>,
    /// The hazard it names, if any (also when the agent asks a safety question first).
    pub hazard: Option<String>,
    /// Whether the agent answers from the knowledge base.
    pub answered: bool,
    /// How sure the agent is, 0 to 1.
    pub confidence: f64,
}

impl Engine {
    /// Greets a fresh call from `caller` and hears `text` as its first words.
    pub fn opening(
        &self,
        text: &str,
        caller: Option<String>,
        now: DateTime,
    ) -> Result<Opening, StepError> {
        let mut session = self.start(CallInfo {
            id: "understand".into(),
            caller,
            called: None,
            customer: None,
        });
        self.step(&mut session, Input::Start, now)?;
        let outputs = self.step(
            &mut session,
            Input::Said {
                text: text.to_string(),
                confidence: None,
            },
            now,
        )?;
        let mut opening = Opening {
            flow: None,
            hazard: None,
            answered: false,
            confidence: 0.0,
        };
        for output in &outputs {
            let Output::Event { kind, detail } = output else {
                continue;
            };
            let field = |k: &str| detail.get(k).and_then(|v| v.as_str()).map(str::to_string);
            match kind.as_str() {
                "flow_started" if opening.flow.is_none() => opening.flow = field("flow"),
                "hazard" | "hazard_unsure" => {
                    opening.hazard = field("hazard");
                    opening.confidence = if kind == "hazard" { 1.0 } else { 0.5 };
                }
                "question_answered" => opening.answered = true,
                "intent" => {
                    if let Some(c) = detail.get("confidence").and_then(|v| v.as_f64()) {
                        opening.confidence = c;
                    }
                }
                _ => {}
            }
        }
        if opening.confidence == 0.0 && opening.flow.is_some() {
            // Started by a keyword that needs no weighing ("a person", keypad words).
            opening.confidence = 1.0;
        }
        Ok(opening)
    }
}
