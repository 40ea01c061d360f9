//! Moving through a flow: starting and leaving it, entering a state, and running from state
//! to state until one needs the caller or a tool, or the flow ends.

use serde_json::{Value, json};

use super::{Correcting, StepError, Turn};
use crate::extract::normalize::free_text;
use crate::extract::phone::caller_id_number;
use crate::flow::model::{FlowDef, HandoffTarget, SlotDef, SlotType, StateDef};
use crate::session::{Output, Session};
use crate::templates::names;
use crate::triggers::Meaning;

/// States one turn may pass through before it must stop and listen.
const MAX_HOPS: usize = 64;

impl Turn<'_> {
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
        let set_by_trigger = group
            .and_then(|g| flow.triggers.get(g))
            .filter(|g| g.set.contains_key("urgency"))
            .and_then(|_| s.vars.get("urgency"))
            .and_then(Value::as_str)
            .map(str::to_string);
        if let Some(level) =
            set_by_trigger.or_else(|| flow.urgency.as_ref().map(|u| u.value.clone()))
        {
            self.raise_urgency(s, &level);
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
        // Defaults after the opening: a number the caller said beats the caller ID.
        for (name, def) in flow.slots.iter() {
            if s.slot(&name.value).is_none()
                && let Some(value) = self.slot_default(s, flow_name, &name.value, def)?
            {
                s.slots.insert(name.value.clone(), value);
            }
        }
        self.goto(s, &flow.initial.value.clone())?;
        self.run(s)
    }

    /// The call reaches `level` unless it already reached a more urgent one.
    fn raise_urgency(&mut self, s: &mut Session, level: &str) {
        let business = &self.engine.business;
        let Some(rank) = business.urgency_rank(level) else {
            return;
        };
        let current = s.urgency.as_deref().and_then(|u| business.urgency_rank(u));
        if current.is_none_or(|c| rank < c) {
            s.urgency = Some(level.to_string());
            self.event("urgency", json!({ "level": level }));
        }
    }

    /// A slot's default for this call, `None` when it gives nothing usable: no default, an
    /// empty value, or for a phone slot a caller ID that is withheld or not a number.
    pub(super) fn slot_default(
        &self,
        s: &Session,
        flow: &str,
        slot: &str,
        def: &SlotDef,
    ) -> Result<Option<Value>, StepError> {
        if def.default.is_none() {
            return Ok(None);
        }
        let value = self.render_value(s, &names::default(flow, slot))?;
        Ok(match (def.kind, value) {
            (_, Value::Null) => None,
            (_, Value::String(t)) if t.trim().is_empty() => None,
            (SlotType::Phone, Value::String(t)) => caller_id_number(&t).map(Value::String),
            (_, value) => Some(value),
        })
    }

    /// Whether the slot holds its default rather than something the caller said.
    pub(super) fn holds_default(
        &self,
        s: &Session,
        flow: &str,
        slot: &str,
        def: &SlotDef,
    ) -> Result<bool, StepError> {
        let Some(current) = s.slot(slot) else {
            return Ok(false);
        };
        Ok(self.slot_default(s, flow, slot, def)?.as_ref() == Some(current))
    }

    pub(super) fn leave_flow(&mut self, s: &mut Session) {
        s.flow = None;
        s.state = None;
        s.awaiting_tool = None;
        s.attempts = 0;
        s.refusals.clear();
    }

    pub(super) fn goto(&mut self, s: &mut Session, state_name: &str) -> Result<(), StepError> {
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
        // A state that empties its own slot to ask again turns away the answer it held ("that
        // time is already taken"): a failed attempt at that slot, whichever state asks it.
        if let Some(asked) = &state.collect
            && state.clear.contains(&asked.value)
            && s.slot(&asked.value).is_some()
        {
            *s.refusals.entry(asked.value.clone()).or_default() += 1;
        }
        for slot in &state.clear {
            s.slots.insert(slot.clone(), Value::Null);
        }
        s.state = Some(state_name.to_string());
        Ok(())
    }

    /// Moves through states until one needs the caller or a tool, or the flow ends.
    pub(super) fn run(&mut self, s: &mut Session) -> Result<(), StepError> {
        for _ in 0..MAX_HOPS {
            let (flow, state) = self.current(s)?;
            let state_name = s.state.clone().unwrap_or_default();
            let interruptible = state.interruptible.unwrap_or(true);

            if let Some(tool) = &state.tool {
                let mut args = serde_json::Map::new();
                for key in state.args.keys() {
                    let value =
                        self.render_value(s, &names::arg(&flow.flow.value, &state_name, key))?;
                    args.insert(key.to_string(), value);
                }
                self.enter_speech(s, state, interruptible)?;
                s.awaiting_tool = Some(state_name);
                self.out.push(Output::CallTool {
                    name: tool.value.clone(),
                    args: Value::Object(args),
                });
                return Ok(());
            }
            if let Some(slot) = &state.collect {
                self.place_pending(s, flow, &slot.value);
                if s.slot(&slot.value).is_none() {
                    // Asking again for what was turned away as often as a slot may go
                    // unanswered: a person takes over rather than the same refusal again.
                    let refusals = s.refusals.get(&slot.value).copied().unwrap_or(0);
                    if refusals >= self.max_attempts(flow, &slot.value) {
                        return self.escalate_refused(s, &slot.value, refusals);
                    }
                    self.enter_speech(s, state, interruptible)?;
                    self.listen(s);
                    return Ok(());
                }
            } else {
                self.enter_speech(s, state, interruptible)?;
            }
            if let Some(link) = &state.link {
                let to = link.value.clone();
                let text = s.heard.last().cloned().unwrap_or_default();
                let norm = crate::extract::normalize::normalize(&text);
                self.event("flow_linked", json!({ "from": flow.flow.value, "to": to }));
                return self.start_flow(s, &to, None, &text, &norm);
            }
            if let Some(target) = state.handoff {
                let phones = self.engine.business.phones.at(self.now);
                let to = match target {
                    HandoffTarget::Human => phones.human,
                    HandoffTarget::Emergency => phones.emergency,
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

    /// What a state says on entry: the knowledge answer to the caller's question (`answer`),
    /// then its prompt (`say`).
    fn enter_speech(
        &mut self,
        s: &Session,
        state: &StateDef,
        interruptible: bool,
    ) -> Result<(), StepError> {
        if let Some(prompt) = &state.answer {
            let question = s
                .vars
                .get("question")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            self.speak_answer(s, &prompt.value, &question, interruptible)?;
        }
        if let Some(say) = &state.say {
            self.say(s, &say.value, interruptible, None)?;
        }
        Ok(())
    }

    pub(super) fn choose_next(
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
}

/// Is `from` connected to `to` by the flow's transitions?
pub(super) fn reaches(flow: &FlowDef, from: &str, to: &str) -> bool {
    let mut seen: Vec<&str> = Vec::new();
    let mut queue: Vec<&str> = vec![from];
    while let Some(name) = queue.pop() {
        let Some(state) = flow.states.get(name) else {
            continue;
        };
        for n in state.targets().map(|t| t.value.as_str()) {
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
