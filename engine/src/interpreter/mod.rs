//! One engine turn: an input and the session in, the agent's outputs out.
//!
//! Order of precedence for what a caller says: emergencies (and any trigger at or above
//! [`INTERRUPT_PRIORITY`]) beat everything, then "a person" / keypad 0, then goodbye / never mind
//! / repeat, then slot answers (with corrections), then questions for the knowledge base, then
//! flow starts, and finally the not-understood reprompt that escalates instead of looping.

mod context;
mod slots;

use jiff::civil::DateTime;
use serde_json::{Value, json};

use crate::engine::{Engine, INTERRUPT_PRIORITY, names};
use crate::extract::normalize::{free_text, normalize};
use crate::extract::yes_no::extract_yes_no;
use crate::flow::model::{FlowDef, HandoffTarget, Outcome, SlotType, StateDef};
use crate::knowledge::looks_like_question;
use crate::session::{CallInfo, Input, Output, Session};
use crate::triggers::{GlobalKind, Hit, Meaning};

pub(crate) use slots::Correcting;
pub use slots::Extraction;

/// Why a turn could not be completed. The runtime answers these by handing the call to a person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    #[error("template `{name}` failed: {message}")]
    Template { name: String, message: String },
    #[error("flow `{0}` does not exist")]
    UnknownFlow(String),
    #[error("state `{state}` does not exist in flow `{flow}`")]
    UnknownState { flow: String, state: String },
    #[error("flow `{flow}` went round in circles from state `{state}` without asking anything")]
    Loop { flow: String, state: String },
    #[error("a tool result arrived but no tool call was out")]
    UnexpectedToolResult,
    #[error("the call has ended")]
    CallEnded,
}

/// States one turn may pass through before it must stop and listen.
const MAX_HOPS: usize = 64;
/// Flow triggers at or above this are requests, below it mere mentions (symptoms, products).
const INTENT_PRIORITY: i32 = 10;
/// Longest utterance read as a plain "what?" rather than an answer that mentions repeating.
const REPEAT_MAX_WORDS: usize = 7;

/// The working set of one turn.
pub(crate) struct Turn<'e> {
    pub engine: &'e Engine,
    pub now: DateTime,
    pub out: Vec<Output>,
}

impl Engine {
    /// A fresh session for a call.
    pub fn start(&self, call: CallInfo) -> Session {
        Session::new(call)
    }

    /// Runs one turn. Deterministic: the same engine, session, input and `now` give the same
    /// outputs and the same new session.
    pub fn step(
        &self,
        session: &mut Session,
        input: Input,
        now: DateTime,
    ) -> Result<Vec<Output>, StepError> {
        if session.ended {
            return match input {
                Input::Hangup | Input::Interrupted { .. } => Ok(Vec::new()),
                _ => Err(StepError::CallEnded),
            };
        }
        let mut turn = Turn {
            engine: self,
            now,
            out: Vec::new(),
        };
        let repeated = turn.handle(session, input)?;
        if !repeated {
            let said: Vec<String> = turn
                .out
                .iter()
                .filter_map(|o| match o {
                    Output::Say { text, .. } => Some(text.clone()),
                    _ => None,
                })
                .collect();
            if !said.is_empty() {
                session.last_said = said;
            }
        }
        Ok(turn.out)
    }
}

impl<'e> Turn<'e> {
    /// Returns true when the turn only repeated the last prompt.
    fn handle(&mut self, s: &mut Session, input: Input) -> Result<bool, StepError> {
        match input {
            Input::Start => {
                let g = &self.engine.globals;
                self.say(s, &g.greeting.value, true, None)?;
                self.listen(s);
            }
            Input::Said { text, .. } => {
                s.turns += 1;
                s.silences = 0;
                s.heard.push(text.clone());
                return self.on_said(s, &text);
            }
            Input::Digits { digits } => {
                s.turns += 1;
                s.silences = 0;
                s.heard.push(format!("[keypad {digits}]"));
                self.on_digits(s, &digits)?;
            }
            Input::NoInput => self.on_silence(s)?,
            Input::ToolResult { value } => {
                let Some(state_name) = s.awaiting_tool.take() else {
                    return Err(StepError::UnexpectedToolResult);
                };
                let (flow, state) = self.current(s)?;
                if let Some(save) = &state.save {
                    s.vars.insert(save.clone(), value.clone());
                }
                s.result = value;
                let next = self.choose_next(s, flow, &state_name, state)?;
                self.goto(s, &next)?;
                self.run(s)?;
            }
            Input::Interrupted { heard_so_far } => {
                s.interrupted = Some(heard_so_far);
            }
            Input::Hangup => {
                s.ended = true;
                s.awaiting_tool = None;
                self.event("hangup", json!({ "outcome": s.outcome().as_str() }));
            }
        }
        Ok(false)
    }

    fn on_said(&mut self, s: &mut Session, text: &str) -> Result<bool, StepError> {
        let norm = normalize(text);
        let hits = self.engine.triggers.find(&norm);
        let has = |kind: GlobalKind| {
            hits.iter()
                .any(|h| matches!(&h.meaning, Meaning::Global(k) if *k == kind))
        };

        if let Some(hit) = hits.first()
            && let Meaning::Flow { flow, group } = &hit.meaning
            && hit.priority >= INTERRUPT_PRIORITY
            && s.flow.as_deref() != Some(flow.as_str())
        {
            let (flow, group) = (flow.clone(), *group);
            self.start_flow(s, &flow, Some(group), text, &norm)?;
            return Ok(false);
        }
        if has(GlobalKind::Human) {
            self.human(s)?;
            return Ok(false);
        }
        if s.awaiting_tool.is_some() {
            return Ok(false);
        }
        let word_count = norm.split_whitespace().count();
        let repeat = has(GlobalKind::Repeat) && self.asks_to_repeat(&norm, word_count);
        if repeat {
            for text in s.last_said.clone() {
                self.out.push(Output::Say {
                    text,
                    interruptible: true,
                });
            }
            self.listen(s);
            return Ok(true);
        }

        if s.flow.is_some() {
            return self.on_said_in_flow(s, text, &norm, &hits).map(|_| false);
        }

        // No active flow: the caller is telling us what they want.
        if has(GlobalKind::Goodbye)
            || (hits.is_empty() && extract_yes_no(&norm) == Some(false) && word_count <= 5)
        {
            self.goodbye(s)?;
            return Ok(false);
        }
        let flow_hit = hits.iter().find_map(|h| match &h.meaning {
            Meaning::Flow { flow, group } => Some((flow.clone(), *group, h.priority)),
            Meaning::Global(_) => None,
        });
        // A clear request ("book", "reschedule") starts its flow; a question that merely
        // mentions a symptom or a product ("do you service heat pumps?") is answered.
        if let Some((flow, group, priority)) = &flow_hit
            && ((*priority >= INTENT_PRIORITY && !self.asks_for_information(&norm))
                || !is_question(&norm))
        {
            self.start_flow(s, flow, Some(*group), text, &norm)?;
            return Ok(false);
        }
        if is_question(&norm) || word_count > 2 {
            let answer = self.best_answer(&norm);
            if answer.is_some() || is_question(&norm) {
                s.vars.insert("question".into(), json!(text));
                s.vars.insert(
                    "answer".into(),
                    answer.map(Value::String).unwrap_or(Value::Null),
                );
                let flow = self.engine.globals.questions.flow.value.clone();
                self.start_flow(s, &flow, None, text, &norm)?;
                return Ok(false);
            }
        }
        self.not_understood(s)?;
        Ok(false)
    }

    fn on_said_in_flow(
        &mut self,
        s: &mut Session,
        text: &str,
        norm: &str,
        hits: &[Hit],
    ) -> Result<(), StepError> {
        let has = |kind: GlobalKind| {
            hits.iter()
                .any(|h| matches!(&h.meaning, Meaning::Global(k) if *k == kind))
        };
        let (flow, state) = self.current(s)?;
        let asked = state.collect.as_ref().map(|c| c.value.clone());
        let asked_kind = asked
            .as_ref()
            .and_then(|a| flow.slots.get(a))
            .map(|d| d.kind);

        if has(GlobalKind::Cancel) {
            self.leave_flow(s);
            if let Some(say) = self.engine.globals.cancel.say.clone() {
                self.say(s, &say.value, true, None)?;
            }
            self.listen(s);
            return Ok(());
        }
        let is_text_answer = asked_kind == Some(SlotType::Text);
        // While free text or a yes/no is asked, "thats all" or "no thanks" may be the answer;
        // a goodbye that closes the utterance ("i'll call back later, bye") still ends the call.
        let closing_goodbye = self.engine.triggers.keywords().iter().any(|k| {
            matches!(k.meaning, Meaning::Global(GlobalKind::Goodbye))
                && matches!(
                    k.phrase.as_str(),
                    "bye" | "goodbye" | "good bye" | "bye bye"
                )
                && (norm == k.phrase || norm.ends_with(&format!(" {}", k.phrase)))
        });
        if has(GlobalKind::Goodbye)
            && (closing_goodbye || (!is_text_answer && asked_kind != Some(SlotType::YesNo)))
        {
            self.goodbye(s)?;
            return Ok(());
        }
        // A question about the business while a text slot is asked is answered, not taken as
        // the answer ("how much is a visit?" is not the issue description).
        if is_text_answer && is_question(norm) && self.answer_question(s, norm)? {
            return Ok(());
        }

        let explicit = has(GlobalKind::Correction);
        let correction = explicit || asked_kind == Some(SlotType::YesNo);
        let mode = match (correction, explicit) {
            (false, _) => Correcting::No,
            (true, false) => Correcting::Implicit,
            (true, true) => Correcting::Explicit,
        };
        let found = self.extract_into(s, flow, state, text, norm, mode)?;
        if let Some(first_changed) = found.changed.first() {
            // A correction: clear confirmations and resume at the state that collects the
            // changed slot, so everything after it (availability, read-back) runs again.
            for (name, def) in flow.slots.iter() {
                if def.kind == SlotType::YesNo {
                    s.slots.insert(name.value.clone(), Value::Null);
                }
            }
            self.event("slot_corrected", json!({ "slots": found.changed }));
            let target = flow
                .states
                .iter()
                .find(|(_, st)| st.collect.as_ref().map(|c| &c.value) == Some(first_changed))
                .map(|(n, _)| n.value.clone());
            let current = s.state.clone().unwrap_or_default();
            // The changed slot is collected further along than where we are, and the question
            // on the table is still open ("actually make it thursday" while asked for the
            // location): nothing after it has run yet, so stay and ask the open question again.
            let still_asking = asked.as_ref().is_some_and(|a| s.slot(a).is_none());
            let ahead = target
                .as_deref()
                .is_some_and(|t| reaches(flow, &current, t) && !reaches(flow, t, &current));
            if still_asking && ahead {
                return self.run(s);
            }
            match target {
                Some(target) => self.goto(s, &target)?,
                None => self.goto(s, &flow.initial.value.clone())?,
            }
            return self.run(s);
        }
        let asked_filled = asked.as_ref().is_some_and(|a| s.slot(a).is_some());
        if asked_filled || !found.filled.is_empty() {
            if !asked_filled {
                s.attempts = 0;
            }
            return self.run(s);
        }
        if let Some(rule) = found.rejected {
            s.vars.insert("rejected".into(), json!(rule));
            return self.no_match(s);
        }
        if self.answer_question(s, norm)? {
            return Ok(());
        }
        self.no_match(s)
    }

    fn on_digits(&mut self, s: &mut Session, digits: &str) -> Result<(), StepError> {
        let human = &self.engine.globals.human;
        if human.dtmf.as_deref() == Some(digits) {
            return self.human(s);
        }
        if s.flow.is_some() {
            let (flow, state) = self.current(s)?;
            let kind = state
                .collect
                .as_ref()
                .and_then(|c| flow.slots.get(&c.value))
                .map(|d| d.kind);
            let text = match (kind, digits) {
                (Some(SlotType::YesNo), "1") => "yes".to_string(),
                (Some(SlotType::YesNo), "2") => "no".to_string(),
                (Some(SlotType::Phone | SlotType::Number | SlotType::Choice), d) => d.to_string(),
                _ => return self.no_match(s),
            };
            let norm = normalize(&text);
            return self.on_said_in_flow(s, &text, &norm, &[]);
        }
        self.not_understood(s)
    }

    fn on_silence(&mut self, s: &mut Session) -> Result<(), StepError> {
        s.silences += 1;
        let g = &self.engine.globals.no_input;
        if s.silences >= g.hang_up_after {
            let hang_up = g.hang_up.value.clone();
            self.say(s, &hang_up, true, None)?;
            self.hang_up(s);
            return Ok(());
        }
        let index = (s.silences as usize - 1).min(g.prompts.len().saturating_sub(1));
        if let Some(prompt) = g.prompts.get(index).map(|p| p.value.clone()) {
            self.say(s, &prompt, true, None)?;
        }
        self.ask_again(s, false)
    }

    /// Says the current question again (or the menu prompt when no flow is active).
    fn ask_again(&mut self, s: &mut Session, reprompt: bool) -> Result<(), StepError> {
        if s.flow.is_some() && s.awaiting_tool.is_none() {
            let (_, state) = self.current(s)?;
            let prompt = if reprompt {
                state.reprompt.as_ref().or(state.say.as_ref())
            } else {
                state.say.as_ref()
            };
            if let Some(prompt) = prompt.map(|p| p.value.clone()) {
                self.say(s, &prompt, state.interruptible.unwrap_or(true), None)?;
            }
        } else if s.flow.is_none() {
            let menu = self.engine.globals.menu.value.clone();
            self.say(s, &menu, true, None)?;
        }
        self.listen(s);
        Ok(())
    }

    fn no_match(&mut self, s: &mut Session) -> Result<(), StepError> {
        s.attempts += 1;
        let (flow, state) = self.current(s)?;
        let max = state
            .collect
            .as_ref()
            .and_then(|c| flow.slots.get(&c.value))
            .and_then(|d| d.max_attempts)
            .unwrap_or(self.engine.globals.no_match.max_attempts);
        if s.attempts >= max {
            return self.escalate(s);
        }
        let say = self.engine.globals.no_match.say.value.clone();
        self.say(s, &say, true, None)?;
        s.vars.remove("rejected");
        self.ask_again(s, true)
    }

    fn not_understood(&mut self, s: &mut Session) -> Result<(), StepError> {
        s.attempts += 1;
        if s.attempts >= self.engine.globals.no_match.max_attempts {
            return self.escalate(s);
        }
        let prompt = self.engine.globals.not_understood.value.clone();
        self.say(s, &prompt, true, None)?;
        self.listen(s);
        Ok(())
    }

    fn escalate(&mut self, s: &mut Session) -> Result<(), StepError> {
        self.event("escalated", json!({ "attempts": s.attempts }));
        // Prompts may tell a caller we could not understand from one who asked for a person.
        s.vars.insert("escalated".into(), json!(true));
        let flow = self.engine.globals.no_match.escalate.value.clone();
        self.start_flow(s, &flow, None, "", "")
    }

    fn human(&mut self, s: &mut Session) -> Result<(), StepError> {
        let g = &self.engine.globals.human;
        if let Some(say) = g.say.clone() {
            self.say(s, &say.value, true, None)?;
        }
        match g.flow.clone() {
            Some(flow) => self.start_flow(s, &flow.value, None, "", ""),
            None => {
                let to = self.engine.business.phones.human.clone();
                self.transfer(s, HandoffTarget::Human, to);
                Ok(())
            }
        }
    }

    fn goodbye(&mut self, s: &mut Session) -> Result<(), StepError> {
        if let Some(say) = self.engine.globals.goodbye.say.clone() {
            self.say(s, &say.value, true, None)?;
        }
        self.leave_flow(s);
        self.hang_up(s);
        Ok(())
    }

    /// Answers a question from the knowledge base mid-flow, then asks the flow's question again.
    fn answer_question(&mut self, s: &mut Session, norm: &str) -> Result<bool, StepError> {
        if !is_question(norm) {
            return Ok(false);
        }
        let Some(answer) = self.best_answer(norm) else {
            return Ok(false);
        };
        let prompt = self.engine.globals.questions.answer.value.clone();
        self.say(s, &prompt, true, Some(json!({ "answer": answer })))?;
        s.outcomes.push(Outcome::Answered);
        self.event("question_answered", json!({ "answer": answer }));
        self.ask_again(s, false)?;
        Ok(true)
    }

    fn best_answer(&self, norm: &str) -> Option<String> {
        self.engine
            .knowledge
            .search(norm, 1)
            .first()
            .map(|(entry, _)| entry.text.clone())
    }

    pub(crate) fn start_flow(
        &mut self,
        s: &mut Session,
        flow_name: &str,
        group: Option<usize>,
        text: &str,
        norm: &str,
    ) -> Result<(), StepError> {
        let flow = self
            .engine
            .flows
            .get(flow_name)
            .ok_or_else(|| StepError::UnknownFlow(flow_name.to_string()))?;
        self.leave_flow(s);
        s.flow = Some(flow_name.to_string());
        s.slots = flow
            .slots
            .keys()
            .map(|k| (k.to_string(), Value::Null))
            .collect();
        s.result = Value::Null;
        s.attempts = 0;
        self.event("flow_started", json!({ "flow": flow_name }));

        if let Some(group_index) = group
            && let Some(group) = flow.triggers.get(group_index)
        {
            for key in group.set.keys() {
                let value = self.render_value(s, &names::set(flow_name, group_index, key))?;
                s.vars.insert(key.clone(), value);
            }
        }
        if group.is_some() && !norm.is_empty() {
            // Every trigger group of this flow the opening matched may fill slots: "book a
            // visit, my ac is not cooling" starts on "book" but has told us the issue too.
            let mut groups: Vec<usize> = group.into_iter().collect();
            for hit in self.engine.triggers.find(norm) {
                if let Meaning::Flow { flow: f, group: g } = hit.meaning
                    && f == flow_name
                    && !groups.contains(&g)
                {
                    groups.push(g);
                }
            }
            for g in groups {
                if let Some(group) = flow.triggers.get(g) {
                    for slot in &group.fill {
                        s.slots.insert(slot.clone(), json!(free_text(text)));
                    }
                }
            }
        }
        for (name, def) in flow.slots.iter() {
            if def.default.is_some() && s.slot(&name.value).is_none() {
                let value = self.render_value(s, &names::default(flow_name, &name.value))?;
                if !(value.is_null() || value == json!("")) {
                    s.slots.insert(name.value.clone(), value);
                }
            }
        }
        if !norm.is_empty() {
            let initial = flow.initial.value.clone();
            s.state = Some(initial.clone());
            let mut state = flow
                .states
                .get(&initial)
                .ok_or_else(|| StepError::UnknownState {
                    flow: flow_name.to_string(),
                    state: initial.clone(),
                })?
                .clone();
            // The opening was not an answer to the initial question: "i need some help
            // scheduling" is not the issue, and "john" in passing is not a name.
            state.collect = None;
            state.offers = None;
            self.extract_into(s, flow, &state, text, norm, Correcting::No)?;
        }
        self.goto(s, &flow.initial.value.clone())?;
        self.run(s)
    }

    fn leave_flow(&mut self, s: &mut Session) {
        s.flow = None;
        s.state = None;
        s.awaiting_tool = None;
        s.attempts = 0;
    }

    fn goto(&mut self, s: &mut Session, state_name: &str) -> Result<(), StepError> {
        let flow_name = s.flow.clone().unwrap_or_default();
        let state =
            self.engine
                .state(&flow_name, state_name)
                .ok_or_else(|| StepError::UnknownState {
                    flow: flow_name.clone(),
                    state: state_name.to_string(),
                })?;
        if s.state.as_deref() != Some(state_name) {
            s.attempts = 0;
        }
        for slot in &state.clear {
            s.slots.insert(slot.clone(), Value::Null);
        }
        s.state = Some(state_name.to_string());
        Ok(())
    }

    /// Moves through states until one needs the caller or a tool, or the flow ends.
    fn run(&mut self, s: &mut Session) -> Result<(), StepError> {
        for _ in 0..MAX_HOPS {
            let (flow, state) = self.current(s)?;
            let state_name = s.state.clone().unwrap_or_default();
            let interruptible = state.interruptible.unwrap_or(true);

            if let Some(tool) = &state.tool {
                let mut args = serde_json::Map::new();
                for key in state.args.keys() {
                    let value =
                        self.render_value(s, &names::arg(&flow.flow.value, &state_name, key))?;
                    args.insert(key.clone(), value);
                }
                if let Some(say) = &state.say {
                    self.say(s, &say.value, interruptible, None)?;
                }
                s.awaiting_tool = Some(state_name);
                self.out.push(Output::CallTool {
                    name: tool.value.clone(),
                    args: Value::Object(args),
                });
                return Ok(());
            }
            if let Some(slot) = &state.collect {
                if s.slot(&slot.value).is_none() {
                    if let Some(say) = &state.say {
                        self.say(s, &say.value, interruptible, None)?;
                    }
                    self.listen(s);
                    return Ok(());
                }
            } else if let Some(say) = &state.say {
                self.say(s, &say.value, interruptible, None)?;
            }
            if let Some(target) = state.handoff {
                let to = match target {
                    HandoffTarget::Human => self.engine.business.phones.human.clone(),
                    HandoffTarget::Emergency => self.engine.business.phones.emergency.clone(),
                };
                self.transfer(s, target, to);
                return Ok(());
            }
            if let Some(outcome) = state.end {
                s.outcomes.push(outcome);
                self.event(
                    "outcome",
                    json!({ "flow": flow.flow.value, "outcome": outcome.as_str() }),
                );
                self.leave_flow(s);
                if state.hangup.unwrap_or(true) {
                    self.hang_up(s);
                } else {
                    self.listen(s);
                }
                return Ok(());
            }
            let next = self.choose_next(s, flow, &state_name, state)?;
            self.goto(s, &next)?;
        }
        Err(StepError::Loop {
            flow: s.flow.clone().unwrap_or_default(),
            state: s.state.clone().unwrap_or_default(),
        })
    }

    fn choose_next(
        &self,
        s: &Session,
        flow: &FlowDef,
        state_name: &str,
        state: &StateDef,
    ) -> Result<String, StepError> {
        for (i, t) in state.transitions.iter().enumerate() {
            let pass = match &t.condition {
                None => true,
                Some(_) => {
                    self.render_condition(s, &names::condition(&flow.flow.value, state_name, i))?
                }
            };
            if pass {
                return Ok(t.to.value.clone());
            }
        }
        state
            .next
            .as_ref()
            .map(|n| n.value.clone())
            .ok_or_else(|| StepError::Loop {
                flow: flow.flow.value.clone(),
                state: state_name.to_string(),
            })
    }

    fn transfer(&mut self, s: &mut Session, target: HandoffTarget, to: String) {
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

    fn hang_up(&mut self, s: &mut Session) {
        s.ended = true;
        self.out.push(Output::Hangup);
    }

    fn event(&mut self, kind: &str, detail: Value) {
        self.out.push(Output::Event {
            kind: kind.to_string(),
            detail,
        });
    }

    /// The active flow and state. They borrow the engine, not the turn, so the turn can go on
    /// changing the session while holding them.
    fn current(&self, s: &Session) -> Result<(&'e FlowDef, &'e StateDef), StepError> {
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

    fn say(
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

    fn listen(&mut self, s: &Session) {
        let (expecting, hints) = self.expectation(s);
        self.out.push(Output::Listen { expecting, hints });
    }

    fn expectation(&self, s: &Session) -> (Option<SlotType>, Vec<String>) {
        let kind = s.flow.as_ref().zip(s.state.as_ref()).and_then(|(f, st)| {
            let flow = self.engine.flows.get(f)?;
            let slot = flow.states.get(st)?.collect.as_ref()?;
            flow.slots.get(&slot.value).map(|d| d.kind)
        });
        let hints = match kind {
            Some(SlotType::Location) => self.engine.location_hints.clone(),
            Some(SlotType::YesNo) => vec!["yes".into(), "no".into()],
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

    fn render_text(
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

    fn render_value(&self, s: &Session, name: &str) -> Result<Value, StepError> {
        let ctx = self.context(s, None);
        self.engine
            .templates
            .render_value(name, &ctx)
            .map_err(|e| template_error(name, &e))
    }

    fn render_condition(&self, s: &Session, name: &str) -> Result<bool, StepError> {
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
        message: crate::engine::template_message(e),
    }
}

/// Words callers put in front of a question ("oh wait, how much is it?", "ok so what are your
/// hours").
const DISCOURSE_LEAD_INS: &[&str] = &[
    "wait", "oh", "ok", "okay", "so", "and", "well", "hey", "hi", "hello", "yeah", "yes", "sorry",
    "actually", "alright", "also", "but", "just", "real", "quick", "one", "more", "thing", "hold",
    "on", "then", "um", "uh", "right", "cool", "great", "thanks", "thank", "you", "no",
];

/// [`looks_like_question`] after the caller's lead-in words ("wait how much is it").
fn is_question(norm: &str) -> bool {
    if looks_like_question(norm) {
        return true;
    }
    let words: Vec<&str> = norm.split_whitespace().collect();
    let start = words
        .iter()
        .position(|w| !DISCOURSE_LEAD_INS.contains(w))
        .unwrap_or(words.len());
    // "thank you" alone, or the whole utterance lead-ins: not a question.
    start > 0 && start < words.len() && looks_like_question(&words[start..].join(" "))
}

/// Is `from` connected to `to` by the flow's transitions?
fn reaches(flow: &FlowDef, from: &str, to: &str) -> bool {
    let mut seen: Vec<&str> = Vec::new();
    let mut queue: Vec<&str> = vec![from];
    while let Some(name) = queue.pop() {
        let Some(state) = flow.states.get(name) else {
            continue;
        };
        let next = state
            .transitions
            .iter()
            .map(|t| t.to.value.as_str())
            .chain(state.next.as_ref().map(|n| n.value.as_str()));
        for n in next {
            if n == to {
                return true;
            }
            if !seen.contains(&n) {
                seen.push(n);
                queue.push(n);
            }
        }
    }
    false
}

impl Turn<'_> {
    /// "what?", "huh", "say that again", "sorry can you repeat that": a short utterance that is
    /// only a request to hear the last prompt again. A single repeat word ("sorry", "what")
    /// counts only in a very short utterance; a phrase ("say that again") in a short one.
    fn asks_to_repeat(&self, norm: &str, word_count: usize) -> bool {
        if word_count <= 2 {
            return true;
        }
        word_count <= REPEAT_MAX_WORDS
            && self.engine.triggers.keywords().iter().any(|k| {
                matches!(k.meaning, Meaning::Global(GlobalKind::Repeat))
                    && k.phrase.contains(' ')
                    && crate::triggers::contains_phrase(norm, &k.phrase)
            })
    }

    /// A question asking for information ("how much do you charge to come out", "what are your
    /// hours") rather than a request phrased as one ("can someone come out tomorrow"); one that
    /// names a time to book ("do you have anything tomorrow") is a request.
    fn asks_for_information(&self, norm: &str) -> bool {
        let words: Vec<&str> = norm.split_whitespace().collect();
        let start = words
            .iter()
            .position(|w| !DISCOURSE_LEAD_INS.contains(w))
            .unwrap_or(words.len());
        let mut rest = &words[start..];
        // "i was wondering how much ...", "quick question what are ...".
        const ASKING: &[&[&str]] = &[
            &["i", "was", "wondering"],
            &["im", "wondering"],
            &["i", "have", "a", "question"],
            &["quick", "question"],
            &["question"],
            &["i", "wanted", "to", "know"],
            &["i", "want", "to", "know"],
            &["id", "like", "to", "know"],
            &["can", "you", "tell", "me"],
            &["could", "you", "tell", "me"],
            &["do", "you", "know"],
        ];
        for lead in ASKING {
            if rest.starts_with(lead)
                && rest.get(lead.len()).is_some_and(|w| {
                    matches!(
                        *w,
                        "how" | "hows" | "what" | "whats" | "which" | "where" | "who" | "why"
                    )
                })
            {
                rest = &rest[lead.len()..];
                break;
            }
        }
        let info = match rest {
            // Polite requests: "how do i book", "is it possible to get someone out", "are
            // you able to come today".
            ["how", "do" | "can" | "would" | "should", "i" | "we", ..] => false,
            ["is", "it", "possible", ..] | ["is", "there", "any", "way", ..] => false,
            [
                "is",
                "there",
                "anyone" | "anybody" | "someone" | "somebody",
                ..,
            ] => false,
            ["are", "you", "able", ..] | ["are", "you" | "yall", "guys", "able", ..] => false,
            [
                "how" | "hows" | "what" | "whats" | "which" | "where" | "wheres" | "who" | "why",
                ..,
            ] => true,
            ["do" | "does", "you" | "yall" | "your" | "it", ..] => true,
            ["are" | "is", "you" | "yall" | "it" | "there" | "that", ..] => true,
            _ => false,
        };
        info && crate::extract::datetime::extract_datetime(norm, self.now, false).is_none()
    }
}
