//! What a turn produces: speech, listening, transfers, events; and template rendering.

use serde_json::{Value, json};

use super::{StepError, Turn};
use crate::flow::model::{FlowDef, HandoffTarget, Outcome, SlotType, StateDef};
use crate::load::Engine;
use crate::session::{Output, Session};

impl<'e> Turn<'e> {
    pub(crate) fn transfer(&mut self, s: &mut Session, target: HandoffTarget, to: String) {
        let outcome = match target {
            HandoffTarget::Human => Outcome::Transferred,
            HandoffTarget::Emergency => Outcome::Emergency,
        };
        s.outcomes.push(outcome);
        let reason = s.flow.clone().unwrap_or_else(|| "request".to_string());
        self.event(
            "outcome",
            json!({ "flow": reason, "outcome": outcome.as_str() }),
        );
        s.transfer_to = Some(to.clone());
        self.leave_flow(s);
        s.ended = true;
        self.out.push(Output::Transfer { to, reason });
    }

    pub(crate) fn hang_up(&mut self, s: &mut Session) {
        s.ended = true;
        self.out.push(Output::Hangup);
    }

    pub(crate) fn event(&mut self, kind: &str, detail: Value) {
        self.out.push(Output::Event {
            kind: kind.to_string(),
            detail,
        });
    }

    /// The active flow and state. They borrow the engine, not the turn, so the turn can go on
    /// changing the session while holding them.
    pub(crate) fn current(&self, s: &Session) -> Result<(&'e FlowDef, &'e StateDef), StepError> {
        let engine: &'e Engine = self.engine;
        let flow_name = s
            .flow
            .as_deref()
            .ok_or(StepError::UnknownFlow(String::new()))?;
        let flow = engine
            .flows
            .get(flow_name)
            .ok_or_else(|| StepError::UnknownFlow(flow_name.to_string()))?;
        let state_name = s.state.as_deref().unwrap_or_default();
        let state = flow
            .states
            .get(state_name)
            .ok_or_else(|| StepError::UnknownState {
                flow: flow_name.to_string(),
                state: state_name.to_string(),
            })?;
        Ok((flow, state))
    }

    pub(crate) fn say(
        &mut self,
        s: &Session,
        prompt: &str,
        interruptible: bool,
        extra: Option<Value>,
    ) -> Result<(), StepError> {
        let text = self.render_text(s, prompt, extra)?;
        if !text.is_empty() {
            self.out.push(Output::Say {
                text,
                interruptible,
            });
        }
        Ok(())
    }

    pub(crate) fn listen(&mut self, s: &Session) {
        let (expecting, hints) = self.expectation(s);
        self.out.push(Output::Listen { expecting, hints });
    }

    pub(crate) fn expectation(&self, s: &Session) -> (Option<SlotType>, Vec<String>) {
        let kind = s.flow.as_ref().zip(s.state.as_ref()).and_then(|(f, st)| {
            let flow = self.engine.flows.get(f)?;
            let slot = flow.states.get(st)?.collect.as_ref()?;
            flow.slots.get(&slot.value).map(|d| d.kind)
        });
        let hints = match kind {
            Some(SlotType::Location) => self.engine.location_hints.clone(),
            Some(SlotType::YesNo) => vec!["yes".into(), "no".into()],
            Some(SlotType::Vehicle) => self.engine.vehicles.hints(),
            Some(SlotType::Service) => self.engine.services.hints(),
            Some(SlotType::Datetime) => ["today", "tomorrow", "morning", "afternoon"]
                .map(String::from)
                .to_vec(),
            Some(SlotType::Choice) => s
                .flow
                .as_ref()
                .zip(s.state.as_ref())
                .and_then(|(f, st)| {
                    let flow = self.engine.flows.get(f)?;
                    let slot = flow.states.get(st)?.collect.as_ref()?;
                    flow.slots.get(&slot.value).map(|d| d.options.clone())
                })
                .unwrap_or_default(),
            _ => Vec::new(),
        };
        (kind, hints)
    }

    pub(crate) fn render_text(
        &self,
        s: &Session,
        name: &str,
        extra: Option<Value>,
    ) -> Result<String, StepError> {
        let ctx = self.context(s, extra);
        self.engine
            .templates
            .render_text(name, &ctx)
            .map_err(|e| template_error(name, &e))
    }

    pub(crate) fn render_value(&self, s: &Session, name: &str) -> Result<Value, StepError> {
        let ctx = self.context(s, None);
        self.engine
            .templates
            .render_value(name, &ctx)
            .map_err(|e| template_error(name, &e))
    }

    pub(crate) fn render_condition(&self, s: &Session, name: &str) -> Result<bool, StepError> {
        let ctx = self.context(s, None);
        self.engine
            .templates
            .render_condition(name, &ctx)
            .map_err(|e| template_error(name, &e))
    }
}

fn template_error(name: &str, e: &minijinja::Error) -> StepError {
    StepError::Template {
        name: name.to_string(),
        message: crate::load::template_message(e),
    }
}
