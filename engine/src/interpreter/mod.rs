//! One engine turn: an input and the session in, the agent's outputs out.
//!
//! Order of precedence for what a caller says: emergencies (and any trigger at or above
//! [`INTERRUPT_PRIORITY`]) beat everything, then "a person" / keypad 0, then goodbye / never mind
//! / repeat, then slot answers (with corrections), then questions for the knowledge base, then
//! flow starts, and finally the not-understood reprompt that escalates instead of looping.

mod context;
mod globals;
use globals::is_question;
mod intent;
mod model;
mod opening;
mod output;
mod roles;
mod slots;
mod states;
use states::reaches;

use std::collections::BTreeMap;

use jiff::civil::DateTime;
use serde_json::{Value, json};

use crate::extract::normalize::normalize;
use crate::extract::yes_no::extract_yes_no;
use crate::flow::model::{FlowDef, SlotType};
use crate::load::{Engine, INTERRUPT_PRIORITY};
use crate::session::{CallInfo, Input, Output, Pending, Session};
use crate::triggers::{GlobalKind, Hit, Meaning};
use crate::understand::Reading;

pub use opening::Opening;
pub(crate) use slots::Correcting;

/// Why a turn could not be completed. The runtime answers these by handing the call to a person.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    /// A template failed to render at run time (load compiled it).
    #[error("template `{name}` failed: {message}")]
    Template {
        /// The prompt, or the derived template (`@cond/booking/check/1`).
        name: String,
        /// What went wrong, with its position.
        message: String,
    },
    /// A transition or trigger names a flow that is not loaded.
    #[error("flow `{0}` does not exist")]
    UnknownFlow(String),
    /// A transition names a state its flow does not have.
    #[error("state `{state}` does not exist in flow `{flow}`")]
    UnknownState {
        /// The flow.
        flow: String,
        /// The missing state.
        state: String,
    },
    /// States led into each other without asking the caller anything.
    #[error("flow `{flow}` went round in circles from state `{state}` without asking anything")]
    Loop {
        /// The flow.
        flow: String,
        /// Where the circle was noticed.
        state: String,
    },
    /// An `Input::ToolResult` came with no `Output::CallTool` waiting for it.
    #[error("a tool result arrived but no tool call was out")]
    UnexpectedToolResult,
    /// An `Input::Extracted` came with no `Output::Extract` waiting for it.
    #[error("extracted values arrived but no model extraction was out")]
    UnexpectedModelResult,
    /// Input after the call ended.
    #[error("the call has ended")]
    CallEnded,
}

/// Flow triggers at or above this are requests, below it mere mentions (symptoms, products).
pub(crate) const INTENT_PRIORITY: i32 = 10;
/// Longest utterance read as a plain "what?" rather than an answer that mentions repeating.
pub(crate) const REPEAT_MAX_WORDS: usize = 7;
/// Session variable listing the hazards the caller ruled out at the safety question.
pub(crate) const RULED_OUT: &str = "hazards_ruled_out";
/// Shortest utterance that may move the caller from one flow to another.
const SWITCH_MIN_WORDS: usize = 3;

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

    /// A fresh session for a call the business placed for a purpose (a reminder): on
    /// [`Input::Start`] it runs `flow` from its initial state instead of the greeting, with
    /// `vars` set (what the flow's prompts need to know, such as the visit).
    pub fn start_in(
        &self,
        call: CallInfo,
        flow: &str,
        vars: BTreeMap<String, Value>,
    ) -> Result<Session, StepError> {
        if !self.flows.contains_key(flow) {
            return Err(StepError::UnknownFlow(flow.to_string()));
        }
        let mut session = Session::new(call);
        session.flow = Some(flow.to_string());
        session.vars.extend(vars);
        Ok(session)
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
                .filter_map(|o| o.spoken_text().map(str::to_string))
                .collect();
            if !said.is_empty() {
                session.last_said = said;
            }
        }
        Ok(turn.out)
    }
}

/// Every tool result has `ok` and `error`, so any state can test for a failed tool
/// (`result.error`, `result.ok == false`) whatever the tool returns on success: a result that
/// says neither worked (`ok: true`, `error: null`); anything but a JSON object failed.
fn tool_result(value: Value) -> Value {
    let mut obj = match value {
        Value::Object(obj) => obj,
        other => {
            return json!({ "ok": false, "error": "bad_result", "value": other });
        }
    };
    let error = obj.entry("error").or_insert(Value::Null).clone();
    obj.entry("ok")
        .or_insert_with(|| Value::Bool(error.is_null()));
    Value::Object(obj)
}

impl<'e> Turn<'e> {
    /// Returns true when the turn only repeated the last prompt.
    fn handle(&mut self, s: &mut Session, input: Input) -> Result<bool, StepError> {
        if matches!(
            input,
            Input::Said { .. } | Input::Digits { .. } | Input::NoInput
        ) {
            // The caller moved on before the model answered.
            s.awaiting_model = None;
            s.model_after_partial_rules = false;
        }
        match input {
            Input::Start => match s.flow.clone() {
                // A call placed for a purpose (`Engine::start_in`) opens in its flow.
                Some(flow) if s.state.is_none() => self.start_flow(s, &flow, None, "", "")?,
                _ => {
                    let g = &self.engine.globals;
                    self.say(s, &g.greeting.value, true, None)?;
                    self.listen(s);
                }
            },
            Input::Said { text, confidence } => {
                s.turns += 1;
                s.silences = 0;
                s.heard.push(text.clone());
                return self.on_said(s, &text, confidence);
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
                let value = tool_result(value);
                if value.get("error").is_some_and(|e| !e.is_null()) {
                    self.event(
                        "tool_failed",
                        json!({ "state": state_name, "error": value["error"] }),
                    );
                }
                let (flow, state) = self.current(s)?;
                if let Some(save) = &state.save {
                    s.vars.insert(save.clone(), value.clone());
                }
                s.result = value;
                let next = self.choose_next(s, flow, &state_name, state)?;
                self.goto(s, &next)?;
                self.run(s)?;
            }
            Input::Extracted { values } => {
                let Some(utterance) = s.awaiting_model.take() else {
                    return Err(StepError::UnexpectedModelResult);
                };
                let partial = std::mem::take(&mut s.model_after_partial_rules);
                self.on_extracted(s, &utterance, &values, partial)?;
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

    fn on_said(
        &mut self,
        s: &mut Session,
        text: &str,
        confidence: Option<f32>,
    ) -> Result<bool, StepError> {
        let norm = normalize(text);
        let hits = self.engine.triggers.find(&norm);
        let reading = self.engine.understanding.read(&norm);
        let has = |kind: GlobalKind| {
            hits.iter()
                .any(|h| matches!(&h.meaning, Meaning::Global(k) if *k == kind))
        };
        let pending = s.pending.take();

        // A hazard outranks everything, at any confidence, in any state but its own flow. One
        // the caller ruled out at the safety question comes back only with what makes it certain.
        let ruled_out = |hazard: &str| {
            s.vars
                .get(RULED_OUT)
                .and_then(Value::as_array)
                .is_some_and(|list| list.iter().any(|h| h.as_str() == Some(hazard)))
        };
        if let Some(finding) = &reading.hazard
            && (!ruled_out(finding.hazard())
                || self
                    .engine
                    .understanding
                    .is_certain(finding.hazard(), &reading))
            && self.on_hazard(s, finding, text, &norm)?
        {
            return Ok(false);
        }
        if let Some(Pending::SafetyCheck {
            flow,
            hazard,
            text: first,
        }) = &pending
        {
            self.on_safety_answer(s, flow, hazard, first, &norm)?;
            return Ok(false);
        }
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
        if has(GlobalKind::Frustration) {
            return self.frustrated(s).map(|_| false);
        }
        if s.awaiting_tool.is_some() {
            return Ok(false);
        }
        if confidence.is_some_and(|c| f64::from(c) < self.engine.globals.no_match.min_confidence) {
            // A guess from the recognizer is worse than asking again.
            self.event("low_confidence", json!({ "confidence": confidence }));
            if s.flow.is_some() {
                self.no_match(s)?;
            } else {
                self.not_understood(s)?;
            }
            return Ok(false);
        }
        let word_count = norm.split_whitespace().count();
        if has(GlobalKind::LineCheck) && word_count <= REPEAT_MAX_WORDS + 2 {
            return self.line_check(s).map(|_| true);
        }
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
        if has(GlobalKind::Wait) && self.only_asks_to_wait(&norm, &reading, &hits) {
            return self.wait(s).map(|_| true);
        }
        match pending {
            Some(Pending::Clarify {
                choices,
                text: first,
            }) => {
                self.on_clarified(s, &choices, &first, text, &norm, (&reading, &hits))?;
                return Ok(false);
            }
            Some(Pending::Offer { flow }) if extract_yes_no(&norm) == Some(true) => {
                if self.engine.globals.human.flow.as_ref().map(|f| &f.value) == Some(&flow) {
                    self.human(s)?;
                } else {
                    self.start_flow(s, &flow, None, "", "")?;
                }
                return Ok(false);
            }
            _ => {}
        }

        if s.flow.is_some() {
            return self
                .on_said_in_flow(s, text, &norm, &hits, &reading)
                .map(|_| false);
        }

        // No active flow: the caller is telling us what they want.
        if has(GlobalKind::Goodbye)
            || (hits.is_empty() && extract_yes_no(&norm) == Some(false) && word_count <= 5)
        {
            self.goodbye(s)?;
            return Ok(false);
        }
        self.act_on_opening(s, text, &norm, &reading, &hits)?;
        Ok(false)
    }

    fn on_said_in_flow(
        &mut self,
        s: &mut Session,
        text: &str,
        norm: &str,
        hits: &[Hit],
        reading: &Reading,
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
        // Another request said in so many words ("actually can we just move it instead") takes
        // over, unless the words also answer the open question ("thursday instead").
        let answers_asked = asked
            .as_ref()
            .and_then(|a| flow.slots.get(a))
            .is_some_and(|def| {
                def.kind != SlotType::YesNo
                    && def.kind != SlotType::Text
                    && self.extract_value(s, def, text, norm, true).is_some()
            });
        if !answers_asked
            && norm.split_whitespace().count() >= SWITCH_MIN_WORDS
            && let Some((target, group)) = self.switch_to(reading, hits, norm, &flow.flow.value)
        {
            self.event(
                "intent",
                json!({ "intent": target, "switched_from": flow.flow.value }),
            );
            if self.engine.globals.human.flow.as_ref().map(|f| &f.value) == Some(&target) {
                return self.human(s);
            }
            return self.start_flow(s, &target, group, text, norm);
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
        if is_text_answer && is_question(norm) && self.answer_question(s, text, norm)? {
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
        if let Some(other) = self.other_answer(s, state, &found) {
            return self.resume_after_correction(s, flow, asked.as_deref(), &[other]);
        }
        if !found.changed.is_empty() {
            return self.resume_after_correction(s, flow, asked.as_deref(), &found.changed);
        }
        let asked_filled = asked.as_ref().is_some_and(|a| s.slot(a).is_some());
        if !asked_filled && asked.is_some() && !found.filled.is_empty() && s.model_available {
            // The rules read part of the answer but not what was asked ("the Fort Worth shop,
            // whenever the tech is free after lunch friday"): the model may read the rest.
            s.model_after_partial_rules = true;
            return self.ask_model(s, flow, text);
        }
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
        if self.answer_question(s, text, norm)? {
            return Ok(());
        }
        if s.model_available && asked.is_some() {
            return self.ask_model(s, flow, text);
        }
        self.no_match(s)
    }

    /// A filled slot changed (or a slot the open question also collects got a value): clear
    /// confirmations and resume where the current state's `also_collect` says, else at the
    /// state that collects it, so everything after it (availability, read-back) runs again.
    pub(crate) fn resume_after_correction(
        &mut self,
        s: &mut Session,
        flow: &FlowDef,
        asked: Option<&str>,
        changed: &[String],
    ) -> Result<(), StepError> {
        let Some(first_changed) = changed.first() else {
            return self.run(s);
        };
        for (name, def) in flow.slots.iter() {
            if def.kind == SlotType::YesNo {
                s.slots.insert(name.value.clone(), Value::Null);
            }
        }
        self.event("slot_corrected", json!({ "slots": changed }));
        let current = s.state.clone().unwrap_or_default();
        if let Some(to) = flow
            .states
            .get(&current)
            .and_then(|st| st.also_collect.get(first_changed))
        {
            self.goto(s, &to.value)?;
            return self.run(s);
        }
        let target = flow
            .states
            .iter()
            .find(|(_, st)| st.collect.as_ref().map(|c| &c.value) == Some(first_changed))
            .map(|(n, _)| n.value.clone());
        // The changed slot is collected further along than where we are, and the question
        // on the table is still open ("actually make it thursday" while asked for the
        // location): nothing after it has run yet, so stay and ask the open question again.
        let still_asking = asked.is_some_and(|a| s.slot(a).is_none());
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
        self.run(s)
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
            return self.on_said_in_flow(s, &text, &norm, &[], &Reading::default());
        }
        self.not_understood(s)
    }
}
