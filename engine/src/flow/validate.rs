//! The checks a flow must pass before it takes a call. Every problem is reported, each at the
//! line and column an author would fix.

use std::collections::{BTreeSet, VecDeque};

use regex::Regex;
use serde_saphyr::Location;

use super::model::{FlowDef, GlobalsDef, SlotRule, SlotType, StateDef};
use super::{LoadError, SourceFile};
use crate::templates::Templates;
use crate::templates::names;
use crate::tool::ToolSpec;

pub(crate) struct Validator<'a> {
    pub templates: &'a Templates,
    pub tools: &'a [ToolSpec],
    pub prompts: &'a [String],
    pub flows: &'a [(FlowDef, &'a SourceFile)],
}

impl Validator<'_> {
    fn prompt_exists(&self, name: &str) -> bool {
        self.prompts.iter().any(|p| p == name)
    }

    fn flow_exists(&self, name: &str) -> bool {
        self.flows.iter().any(|(f, _)| f.flow.value == name)
    }

    pub fn check_globals(&self, g: &GlobalsDef, file: &SourceFile, errors: &mut Vec<LoadError>) {
        let mut prompt = |name: &serde_saphyr::Spanned<String>| {
            if !self.prompt_exists(&name.value) {
                errors.push(missing_prompt(file, name));
            }
        };
        prompt(&g.greeting);
        prompt(&g.menu);
        prompt(&g.not_understood);
        prompt(&g.questions.answer);
        prompt(&g.no_input.hang_up);
        prompt(&g.no_match.say);
        for p in &g.no_input.prompts {
            prompt(p);
        }
        prompt(&g.intent.clarify);
        if let Some(lead_in) = &g.intent.safety_lead_in {
            prompt(lead_in);
        }
        let optional = [&g.wait, &g.line_check, &g.frustration, &g.hello];
        let patterns = [&g.human, &g.cancel, &g.repeat, &g.goodbye, &g.correction]
            .into_iter()
            .chain(optional.into_iter().flatten());
        for pattern in patterns.clone() {
            if let Some(say) = &pattern.say {
                prompt(say);
            }
        }
        let mut flow_ref = |name: &serde_saphyr::Spanned<String>| {
            if !self.flow_exists(&name.value) {
                errors.push(LoadError::at(
                    &file.path,
                    name.referenced,
                    format!("flow `{}` does not exist", name.value),
                ));
            }
        };
        for pattern in patterns {
            if let Some(flow) = &pattern.flow {
                flow_ref(flow);
            }
        }
        flow_ref(&g.questions.flow);
        flow_ref(&g.no_match.escalate);
        for name in &g.intent.clarify_between {
            if !self.flow_exists(name) {
                errors.push(LoadError::file(
                    &file.path,
                    format!("intent.clarify_between: flow `{name}` does not exist"),
                ));
            }
        }
        if g.no_input.prompts.is_empty() {
            errors.push(LoadError::file(
                &file.path,
                "no_input.prompts needs at least one prompt",
            ));
        }
    }

    pub fn check_flow(&self, flow: &FlowDef, file: &SourceFile, errors: &mut Vec<LoadError>) {
        let path = file.path.as_str();
        let name = &flow.flow.value;
        if self
            .flows
            .iter()
            .filter(|(f, _)| &f.flow.value == name)
            .count()
            > 1
        {
            errors.push(LoadError::at(
                path,
                flow.flow.referenced,
                format!("flow `{name}` is defined in more than one file"),
            ));
        }
        for (_, hazard) in flow.hazards.iter() {
            if let Some(check) = &hazard.check
                && !self.prompt_exists(&check.value)
            {
                errors.push(missing_prompt(file, check));
            }
        }
        if !flow.states.contains_key(&flow.initial.value) {
            errors.push(LoadError::at(
                path,
                flow.initial.referenced,
                format!("initial state `{}` does not exist", flow.initial.value),
            ));
        }
        self.check_slots(flow, path, errors);
        self.check_triggers(flow, path, errors);
        for (state_name, state) in flow.states.iter() {
            self.check_state(
                flow,
                path,
                &state_name.value,
                state_name.referenced,
                state,
                errors,
            );
        }
        check_graph(flow, path, errors);
    }

    fn check_slots(&self, flow: &FlowDef, path: &str, errors: &mut Vec<LoadError>) {
        for (slot_name, slot) in flow.slots.iter() {
            if slot.kind == SlotType::Choice && slot.options.is_empty() {
                errors.push(LoadError::at(
                    path,
                    slot_name.referenced,
                    format!("choice slot `{}` needs `options`", slot_name.value),
                ));
            }
            for rule in &slot.rules {
                if let SlotRule::Pattern(re) = rule
                    && let Err(e) = Regex::new(re)
                {
                    errors.push(LoadError::at(
                        path,
                        slot_name.referenced,
                        format!("slot `{}`: invalid pattern: {e}", slot_name.value),
                    ));
                }
                if matches!(rule, SlotRule::Future) && slot.kind != SlotType::Datetime {
                    errors.push(LoadError::at(
                        path,
                        slot_name.referenced,
                        format!(
                            "slot `{}`: rule `future` needs a datetime slot",
                            slot_name.value
                        ),
                    ));
                }
            }
            if slot.default.is_some() {
                let template = names::default(&flow.flow.value, &slot_name.value);
                self.check_slot_refs(flow, path, &template, slot_name.referenced, errors);
            }
            if slot.anchor.is_some() {
                if slot.kind != SlotType::Datetime {
                    errors.push(LoadError::at(
                        path,
                        slot_name.referenced,
                        format!("slot `{}`: `anchor` needs a datetime slot", slot_name.value),
                    ));
                }
                let template = names::anchor(&flow.flow.value, &slot_name.value);
                self.check_slot_refs(flow, path, &template, slot_name.referenced, errors);
            }
        }
    }

    fn check_triggers(&self, flow: &FlowDef, path: &str, errors: &mut Vec<LoadError>) {
        for group in &flow.triggers {
            if group.keywords.iter().any(|k| k.trim().is_empty()) || group.keywords.is_empty() {
                errors.push(LoadError::at(
                    path,
                    flow.flow.referenced,
                    "trigger groups need non-empty keywords",
                ));
            }
            for slot in &group.fill {
                if !flow.slots.contains_key(slot) {
                    errors.push(LoadError::at(
                        path,
                        flow.flow.referenced,
                        format!("trigger fills slot `{slot}`, which is not defined in `slots`"),
                    ));
                }
            }
        }
    }

    fn check_state(
        &self,
        flow: &FlowDef,
        path: &str,
        state_name: &str,
        at: Location,
        state: &StateDef,
        errors: &mut Vec<LoadError>,
    ) {
        let fname = &flow.flow.value;
        for p in [&state.say, &state.reprompt, &state.answer]
            .into_iter()
            .flatten()
        {
            if !self.prompt_exists(&p.value) {
                errors.push(missing_prompt_path(path, p));
            } else {
                self.check_slot_refs(flow, path, &p.value, p.referenced, errors);
            }
        }
        if let Some(slot) = &state.collect
            && !flow.slots.contains_key(&slot.value)
        {
            errors.push(LoadError::at(
                path,
                slot.referenced,
                format!("slot `{}` is not defined in `slots`", slot.value),
            ));
        }
        for slot in &state.clear {
            if !flow.slots.contains_key(slot) {
                errors.push(LoadError::at(
                    path,
                    at,
                    format!("state `{state_name}` clears slot `{slot}`, which is not defined"),
                ));
            }
        }
        if let Some(tool) = &state.tool {
            match self.tools.iter().find(|t| t.name == tool.value) {
                None => errors.push(LoadError::at(
                    path,
                    tool.referenced,
                    format!(
                        "tool `{}` does not exist (known tools: {})",
                        tool.value,
                        self.tools
                            .iter()
                            .map(|t| t.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )),
                Some(spec) => {
                    for required in &spec.required {
                        if !state.args.contains_key(required) {
                            errors.push(LoadError::at(
                                path,
                                tool.referenced,
                                format!("tool `{}` needs argument `{required}`", tool.value),
                            ));
                        }
                    }
                    for arg in state.args.keys() {
                        if !spec.args.iter().any(|a| a == arg) {
                            errors.push(LoadError::at(
                                path,
                                tool.referenced,
                                format!("tool `{}` takes no argument `{arg}`", tool.value),
                            ));
                        }
                    }
                }
            }
        } else if !state.args.is_empty() {
            errors.push(LoadError::at(path, at, "`args` without a `tool`"));
        }
        for key in state.args.keys() {
            self.check_slot_refs(flow, path, &names::arg(fname, state_name, key), at, errors);
        }
        for (i, t) in state.transitions.iter().enumerate() {
            if let Some(cond) = &t.condition {
                let template = names::condition(fname, state_name, i);
                self.check_slot_refs(flow, path, &template, cond.referenced, errors);
            }
        }
        let ends = state.end.is_some() || state.handoff.is_some();
        let moves = state.next.is_some() || !state.transitions.is_empty();
        if ends && moves {
            errors.push(LoadError::at(
                path,
                at,
                format!("state `{state_name}` ends the flow, so it cannot also have `next` or `transitions`"),
            ));
        }
        if !ends && !moves {
            errors.push(LoadError::at(
                path,
                at,
                format!("state `{state_name}` has no way out: give it `next`, `transitions`, `end` or `handoff`"),
            ));
        }
        if state.tool.is_some() && state.collect.is_some() {
            errors.push(LoadError::at(
                path,
                at,
                format!(
                    "state `{state_name}` both calls a tool and collects a slot; split it in two"
                ),
            ));
        }
        if state.hangup.is_some() && state.end.is_none() {
            errors.push(LoadError::at(
                path,
                at,
                "`hangup` only applies to `end` states",
            ));
        }
        let targets = state
            .next
            .iter()
            .chain(state.transitions.iter().map(|t| &t.to));
        for target in targets {
            if !flow.states.contains_key(&target.value) {
                errors.push(LoadError::at(
                    path,
                    target.referenced,
                    format!("state `{}` does not exist", target.value),
                ));
            }
        }
        if let Some(last) = state.transitions.last()
            && last.condition.is_some()
            && state.next.is_none()
        {
            errors.push(LoadError::at(
                path,
                last.to.referenced,
                format!("state `{state_name}`: the last transition has a condition and there is no `next`, so the flow can get stuck; add an entry without `if`"),
            ));
        }
    }

    /// Every `slots.NAME` a template mentions must be a slot of the flow.
    fn check_slot_refs(
        &self,
        flow: &FlowDef,
        path: &str,
        template: &str,
        at: Location,
        errors: &mut Vec<LoadError>,
    ) {
        let Some(source) = self.templates.source(template) else {
            return;
        };
        for slot in slot_references(&source) {
            if !flow.slots.contains_key(&slot) {
                errors.push(LoadError::at(
                    path,
                    at,
                    format!("`slots.{slot}` is not a slot of flow `{}`", flow.flow.value),
                ));
            }
        }
    }
}

/// Slot names mentioned as `slots.NAME` or `slots["NAME"]`.
pub fn slot_references(source: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let bytes = source.as_bytes();
    let mut from = 0;
    while let Some(pos) = source[from..].find("slots") {
        let start = from + pos;
        let after = start + "slots".len();
        from = after;
        let preceded_ok = start == 0
            || !(bytes[start - 1].is_ascii_alphanumeric()
                || bytes[start - 1] == b'_'
                || bytes[start - 1] == b'.');
        if !preceded_ok {
            continue;
        }
        let rest = &source[after..];
        let name: String = if let Some(r) = rest.strip_prefix('.') {
            r.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        } else if let Some(r) = rest.strip_prefix("[\"").or_else(|| rest.strip_prefix("['")) {
            r.chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        } else {
            String::new()
        };
        if !name.is_empty() {
            found.insert(name);
        }
    }
    found
}

fn missing_prompt(file: &SourceFile, name: &serde_saphyr::Spanned<String>) -> LoadError {
    missing_prompt_path(&file.path, name)
}

fn missing_prompt_path(path: &str, name: &serde_saphyr::Spanned<String>) -> LoadError {
    LoadError::at(
        path,
        name.referenced,
        format!(
            "prompt `{}` does not exist (expected prompts/{}.j2)",
            name.value, name.value
        ),
    )
}

/// Unreachable states, and states from which no end can be reached.
fn check_graph(flow: &FlowDef, path: &str, errors: &mut Vec<LoadError>) {
    let states: Vec<&str> = flow.states.keys().collect();
    let index = |name: &str| states.iter().position(|s| *s == name);
    let edges: Vec<Vec<usize>> = flow
        .states
        .iter()
        .map(|(_, s)| {
            s.next
                .iter()
                .chain(s.transitions.iter().map(|t| &t.to))
                .filter_map(|t| index(&t.value))
                .collect()
        })
        .collect();
    let Some(start) = index(&flow.initial.value) else {
        return;
    };

    let mut reachable = vec![false; states.len()];
    let mut queue = VecDeque::from([start]);
    reachable[start] = true;
    while let Some(i) = queue.pop_front() {
        for &j in &edges[i] {
            if !reachable[j] {
                reachable[j] = true;
                queue.push_back(j);
            }
        }
    }

    let mut can_end: Vec<bool> = flow
        .states
        .iter()
        .map(|(_, s)| s.end.is_some() || s.handoff.is_some())
        .collect();
    loop {
        let mut changed = false;
        for i in 0..states.len() {
            if !can_end[i] && edges[i].iter().any(|&j| can_end[j]) {
                can_end[i] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }

    for (i, (name, _)) in flow.states.iter().enumerate() {
        if !reachable[i] {
            errors.push(LoadError::at(
                path,
                name.referenced,
                format!(
                    "state `{}` cannot be reached from `{}`",
                    name.value, flow.initial.value
                ),
            ));
        } else if !can_end[i] {
            errors.push(LoadError::at(
                path,
                name.referenced,
                format!("no end can be reached from state `{}`", name.value),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_slot_references() {
        let refs =
            slot_references("{{ slots.when.date }} {% if slots['name'] %}x{% endif %} myslots.x");
        assert_eq!(refs.into_iter().collect::<Vec<_>>(), vec!["name", "when"]);
    }
}
