//! The checks a flow must pass before it takes a call. Every problem is reported, each at the
//! line and column an author would fix.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use regex::Regex;
use serde_saphyr::Location;

use super::model::{FlowDef, GlobalsDef, SlotRule, SlotType, StateDef};
use super::parse::UnknownKey;
use super::suggest::{did_you_mean, nearest};
use super::{LoadError, SourceFile};
use crate::templates::Templates;
use crate::templates::names;
use crate::tool::ToolSpec;

pub(crate) struct Validator<'a> {
    pub templates: &'a Templates,
    pub tools: &'a [ToolSpec],
    pub prompts: &'a [String],
    pub flows: &'a [(FlowDef, &'a SourceFile)],
    /// Flows whose files could not be read, by file name: they exist, so naming them is no
    /// error, but nothing in them can be checked.
    pub unreadable_flows: &'a [String],
    /// Keys taken out of files as unknown, with the file's path.
    pub unknown_keys: &'a [(String, UnknownKey)],
    /// Whether the business has a vehicle catalogue (`vehicles:` in its business file).
    pub has_vehicles: bool,
    /// Whether the business lists `services`.
    pub has_services: bool,
    /// The business's urgency levels, most urgent first.
    pub urgency_levels: &'a [String],
}

impl Validator<'_> {
    fn prompt_exists(&self, name: &str) -> bool {
        self.prompts.iter().any(|p| p == name)
    }

    fn flow_exists(&self, name: &str) -> bool {
        self.flows.iter().any(|(f, _)| f.flow.value == name)
            || self.unreadable_flows.iter().any(|f| f == name)
    }

    fn flow_names(&self) -> impl Iterator<Item = &str> {
        self.flows.iter().map(|(f, _)| f.flow.value.as_str())
    }

    fn missing_prompt(&self, path: &str, name: &serde_saphyr::Spanned<String>) -> LoadError {
        LoadError::at(
            path,
            name.referenced,
            format!(
                "prompt `{}` does not exist (expected prompts/{}.j2){}",
                name.value,
                name.value,
                did_you_mean(&name.value, self.prompts.iter().map(String::as_str))
            ),
        )
    }

    /// The keys taken out of a state of this file as unknown.
    fn lost_keys<'k>(
        &'k self,
        path: &'k str,
        state: &'k str,
    ) -> impl Iterator<Item = &'k UnknownKey> {
        self.unknown_keys
            .iter()
            .filter(move |(file, key)| {
                file == path
                    && key.path.len() == 2
                    && key.path[0] == "states"
                    && key.path[1] == state
            })
            .map(|(_, key)| key)
    }

    /// The state lost a key that most likely was `field`, misspelt.
    fn lost_field(&self, path: &str, state: &str, field: &str) -> bool {
        self.lost_keys(path, state)
            .any(|k| k.near.as_deref() == Some(field))
    }

    pub fn check_globals(&self, g: &GlobalsDef, file: &SourceFile, errors: &mut Vec<LoadError>) {
        let mut prompt = |name: &serde_saphyr::Spanned<String>| {
            if !self.prompt_exists(&name.value) {
                errors.push(self.missing_prompt(&file.path, name));
            }
        };
        prompt(&g.greeting);
        prompt(&g.menu);
        prompt(&g.not_understood);
        prompt(&g.questions.answer);
        prompt(&g.no_input.hang_up);
        prompt(&g.no_match.say);
        if let Some(yes_no) = &g.no_match.yes_no {
            prompt(yes_no);
        }
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
                    format!(
                        "flow `{}` does not exist{}",
                        name.value,
                        did_you_mean(&name.value, self.flow_names())
                    ),
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
            if !self.flow_exists(&name.value) {
                errors.push(LoadError::at(
                    &file.path,
                    name.referenced,
                    format!(
                        "intent.clarify_between: flow `{}` does not exist{}",
                        name.value,
                        did_you_mean(&name.value, self.flow_names())
                    ),
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
        if let Some(urgency) = &flow.urgency
            && !self.urgency_levels.contains(&urgency.value)
        {
            errors.push(LoadError::at(
                path,
                urgency.referenced,
                format!(
                    "urgency `{}` is not one of the business's urgency levels ({})",
                    urgency.value,
                    if self.urgency_levels.is_empty() {
                        "it has none: add `urgency:` to the business file".to_string()
                    } else {
                        self.urgency_levels.join(", ")
                    }
                ),
            ));
        }
        for (_, hazard) in flow.hazards.iter() {
            if let Some(check) = &hazard.check
                && !self.prompt_exists(&check.value)
            {
                errors.push(self.missing_prompt(path, check));
            }
        }
        let graph = Graph::new(flow, self.lost_exits(flow, path));
        if !flow.states.contains_key(&flow.initial.value)
            && !graph.renamed.contains_key(&flow.initial.value)
        {
            errors.push(LoadError::at(
                path,
                flow.initial.referenced,
                format!(
                    "initial state `{}` does not exist{}",
                    flow.initial.value,
                    graph.guess(&flow.initial.value)
                ),
            ));
        }
        let mut uses = Vec::new();
        self.check_slots(flow, path, &mut uses, errors);
        self.check_triggers(flow, path, &mut uses, errors);
        for (state_name, state) in flow.states.iter() {
            let at = (state_name.value.as_str(), state_name.referenced);
            self.check_state(flow, &graph, path, at, state, &mut uses, errors);
        }
        report_slot_uses(flow, path, uses, errors);
        graph.check(flow, path, errors);
    }

    /// What each state's misspelt exit keys said, as far as it can be read: `nxt: b` still
    /// leads to `b`; a misspelt `transitions` list or an `end` leads who knows where.
    fn lost_exits(&self, flow: &FlowDef, path: &str) -> Vec<LostExit> {
        let mut lost = Vec::new();
        for (index, (name, _)) in flow.states.iter().enumerate() {
            for key in self.lost_keys(path, &name.value) {
                match (key.near.as_deref(), &key.value) {
                    (Some("next"), Some(target)) => lost.push(LostExit::To(index, target.clone())),
                    (Some("next" | "transitions" | "end" | "handoff" | "link"), _) => {
                        lost.push(LostExit::Unknown(index))
                    }
                    _ => {}
                }
            }
        }
        lost
    }

    fn check_slots(
        &self,
        flow: &FlowDef,
        path: &str,
        uses: &mut Vec<SlotUse>,
        errors: &mut Vec<LoadError>,
    ) {
        for (slot_name, slot) in flow.slots.iter() {
            if slot.kind == SlotType::Choice && slot.options.is_empty() {
                errors.push(LoadError::at(
                    path,
                    slot_name.referenced,
                    format!("choice slot `{}` needs `options`", slot_name.value),
                ));
            }
            if slot.kind == SlotType::Service && !self.has_services {
                errors.push(LoadError::at(
                    path,
                    slot_name.referenced,
                    format!(
                        "service slot `{}` needs `services:` (names and lengths) in the business file",
                        slot_name.value
                    ),
                ));
            }
            if slot.kind == SlotType::Vehicle && !self.has_vehicles {
                errors.push(LoadError::at(
                    path,
                    slot_name.referenced,
                    format!(
                        "vehicle slot `{}` needs a catalogue: add `vehicles:` (makes and models) to the business file",
                        slot_name.value
                    ),
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
                self.check_slot_refs(flow, path, &template, slot_name.referenced, uses);
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
                self.check_slot_refs(flow, path, &template, slot_name.referenced, uses);
            }
        }
    }

    fn check_triggers(
        &self,
        flow: &FlowDef,
        path: &str,
        uses: &mut Vec<SlotUse>,
        errors: &mut Vec<LoadError>,
    ) {
        for group in &flow.triggers {
            if group.keywords.iter().any(|k| k.trim().is_empty()) || group.keywords.is_empty() {
                errors.push(LoadError::at(
                    path,
                    flow.flow.referenced,
                    "trigger groups need non-empty keywords",
                ));
            }
            for slot in &group.fill {
                uses.push(SlotUse::of(flow, slot, || {
                    LoadError::at(
                        path,
                        flow.flow.referenced,
                        format!(
                            "trigger fills slot `{slot}`, which is not defined in `slots`{}",
                            did_you_mean(slot, flow.slots.keys())
                        ),
                    )
                }));
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn check_state(
        &self,
        flow: &FlowDef,
        graph: &Graph,
        path: &str,
        (state_name, at): (&str, Location),
        state: &StateDef,
        uses: &mut Vec<SlotUse>,
        errors: &mut Vec<LoadError>,
    ) {
        let fname = &flow.flow.value;
        for p in [&state.say, &state.reprompt, &state.answer]
            .into_iter()
            .flatten()
        {
            if !self.prompt_exists(&p.value) {
                errors.push(self.missing_prompt(path, p));
            } else {
                self.check_slot_refs(flow, path, &p.value, p.referenced, uses);
            }
        }
        if let Some(slot) = &state.collect {
            uses.push(SlotUse::of(flow, &slot.value, || {
                LoadError::at(
                    path,
                    slot.referenced,
                    format!(
                        "slot `{}` is not defined in `slots`{}",
                        slot.value,
                        did_you_mean(&slot.value, flow.slots.keys())
                    ),
                )
            }));
        }
        for (slot, _) in state.also_collect.iter() {
            uses.push(SlotUse::of(flow, &slot.value, || {
                LoadError::at(
                    path,
                    slot.referenced,
                    format!(
                        "`also_collect`: slot `{}` is not defined in `slots`{}",
                        slot.value,
                        did_you_mean(&slot.value, flow.slots.keys())
                    ),
                )
            }));
        }
        if let Some((first, _)) = state.also_collect.iter().next() {
            let asked = state.collect.as_ref().map(|c| c.value.as_str());
            let yes_no = asked
                .and_then(|a| flow.slots.get(a))
                .is_some_and(|d| d.kind == SlotType::YesNo);
            // An undefined collected slot is reported already.
            if !yes_no && asked.is_none_or(|a| flow.slots.contains_key(a)) {
                errors.push(LoadError::at(
                    path,
                    first.referenced,
                    format!(
                        "state `{state_name}`: `also_collect` is for a yes/no question (`collect` of a `yes_no` slot)"
                    ),
                ));
            }
        }
        for slot in &state.clear {
            uses.push(SlotUse::of(flow, slot, || {
                LoadError::at(
                    path,
                    at,
                    format!(
                        "state `{state_name}` clears slot `{slot}`, which is not defined{}",
                        did_you_mean(slot, flow.slots.keys())
                    ),
                )
            }));
        }
        if let Some(tool) = &state.tool {
            match self.tools.iter().find(|t| t.name == tool.value) {
                None => errors.push(LoadError::at(
                    path,
                    tool.referenced,
                    format!(
                        "tool `{}` does not exist (known tools: {}){}",
                        tool.value,
                        self.tools
                            .iter()
                            .map(|t| t.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                        did_you_mean(&tool.value, self.tools.iter().map(|t| t.name.as_str()))
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
        } else if !state.args.is_empty() && !self.lost_field(path, state_name, "tool") {
            errors.push(LoadError::at(path, at, "`args` without a `tool`"));
        }
        for key in state.args.keys() {
            self.check_slot_refs(flow, path, &names::arg(fname, state_name, key), at, uses);
        }
        for (i, t) in state.transitions.iter().enumerate() {
            if let Some(cond) = &t.condition {
                let template = names::condition(fname, state_name, i);
                self.check_slot_refs(flow, path, &template, cond.referenced, uses);
            }
        }
        let ends = state.end.is_some() || state.handoff.is_some() || state.link.is_some();
        let moves = state.next.is_some() || !state.transitions.is_empty();
        if let Some(link) = &state.link
            && !self.flow_exists(&link.value)
        {
            errors.push(LoadError::at(
                path,
                link.referenced,
                format!(
                    "state `{state_name}` links to flow `{}`, which does not exist{}",
                    link.value,
                    did_you_mean(&link.value, self.flow_names())
                ),
            ));
        }
        let exits = [
            state.end.is_some(),
            state.handoff.is_some(),
            state.link.is_some(),
        ];
        if exits.iter().filter(|&&b| b).count() > 1 {
            errors.push(LoadError::at(
                path,
                at,
                format!("state `{state_name}` may have only one of `end`, `handoff` and `link`"),
            ));
        }
        if ends && moves {
            errors.push(LoadError::at(
                path,
                at,
                format!("state `{state_name}` ends the flow, so it cannot also have `next` or `transitions`"),
            ));
        }
        // A misspelt `next`, `transitions`, `end`, `handoff` or `link` is reported as an
        // unknown key.
        let lost_way_out = ["next", "transitions", "end", "handoff", "link"]
            .iter()
            .any(|f| self.lost_field(path, state_name, f));
        if !ends && !moves && !lost_way_out {
            errors.push(LoadError::at(
                path,
                at,
                format!("state `{state_name}` has no way out: give it `next`, `transitions`, `end`, `handoff` or `link`"),
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
        if state.hangup.is_some()
            && state.end.is_none()
            && !self.lost_field(path, state_name, "end")
        {
            errors.push(LoadError::at(
                path,
                at,
                "`hangup` only applies to `end` states",
            ));
        }
        for target in state.targets() {
            // A renamed state is reported once, where it is defined (see `Graph::renamed`).
            if !flow.states.contains_key(&target.value)
                && !graph.renamed.contains_key(&target.value)
            {
                errors.push(LoadError::at(
                    path,
                    target.referenced,
                    format!(
                        "state `{}` does not exist{}",
                        target.value,
                        graph.guess(&target.value)
                    ),
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
        uses: &mut Vec<SlotUse>,
    ) {
        let Some(source) = self.templates.source(template) else {
            return;
        };
        for slot in slot_references(&source) {
            uses.push(SlotUse::of(flow, &slot, || {
                LoadError::at(
                    path,
                    at,
                    format!(
                        "`slots.{slot}` is not a slot of flow `{}`{}",
                        flow.flow.value,
                        did_you_mean(&slot, flow.slots.keys())
                    ),
                )
            }));
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

/// A place that names a slot, with the error to report if the slot is not defined.
struct SlotUse {
    name: String,
    error: Option<LoadError>,
}

impl SlotUse {
    fn of(flow: &FlowDef, name: &str, error: impl FnOnce() -> LoadError) -> SlotUse {
        SlotUse {
            name: name.to_string(),
            error: (!flow.slots.contains_key(name)).then(error),
        }
    }
}

/// Reports the slots used but not defined. A name used in several places that is close to a
/// defined slot nothing uses is most likely that definition, misspelt or renamed: one error at
/// the definition rather than one at every use.
fn report_slot_uses(flow: &FlowDef, path: &str, uses: Vec<SlotUse>, errors: &mut Vec<LoadError>) {
    let unused: Vec<&str> = flow
        .slots
        .keys()
        .filter(|k| !uses.iter().any(|u| u.name == *k))
        .collect();
    let mut renamed: BTreeMap<String, usize> = BTreeMap::new();
    for name in uses.iter().filter(|u| u.error.is_some()).map(|u| &u.name) {
        *renamed.entry(name.clone()).or_default() += 1;
    }
    renamed.retain(|name, count| *count > 1 && nearest(name, unused.iter().copied()).is_some());
    for (name, count) in &renamed {
        if let Some((defined, _)) = nearest(name, unused.iter().copied())
            .and_then(|d| flow.slots.iter().find(|(k, _)| k.value == d))
        {
            errors.push(LoadError::at(
                path,
                defined.referenced,
                format!(
                    "slot `{}` is used nowhere, while `{name}`, used {count} times, is not defined; did you mean `{name}`?",
                    defined.value
                ),
            ));
        }
    }
    errors.extend(
        uses.into_iter()
            .filter(|u| !renamed.contains_key(&u.name))
            .filter_map(|u| u.error),
    );
}

/// A state's way out that was written with a misspelt key.
enum LostExit {
    /// `nxt: b`: the state (by index) most likely goes to `b`.
    To(usize, String),
    /// A misspelt `transitions`, `end` or `handoff`: the state goes or ends who knows where.
    Unknown(usize),
}

/// What a state name that a flow goes to, but does not define, most likely means.
enum Guess {
    /// A defined state with a close name.
    Near(usize),
    /// The one state nothing leads to, when this is the one name that leads nowhere.
    Orphan(usize),
    /// A close state that is led to from elsewhere, or the one state nothing leads to: taken
    /// as the second, so that what only it leads to is not reported unreachable.
    Either { near: usize, orphan: usize },
}

impl Guess {
    /// The state taken for the missing name.
    fn state(&self) -> usize {
        match self {
            Guess::Near(i) | Guess::Orphan(i) | Guess::Either { orphan: i, .. } => *i,
        }
    }
}

/// A flow's states and where each may go, with every name that leads nowhere taken as the
/// state it most likely means: one misspelt name is one error, not one more for every state
/// that only it led to.
struct Graph {
    names: Vec<String>,
    edges: Vec<Vec<usize>>,
    /// States with a way out that goes somewhere unknown: they count as able to end.
    open: Vec<bool>,
    /// Those whose way out was a misspelt key.
    lost_open: Vec<bool>,
    /// A misspelt `transitions` list (or similar): what is unreachable cannot be told.
    exits_unknown: bool,
    start: Option<usize>,
    guesses: BTreeMap<String, Guess>,
    /// Names gone to from several places, each most likely a state nothing leads to, renamed:
    /// how many places name it, reported once at that state.
    renamed: BTreeMap<String, usize>,
}

impl Graph {
    fn new(flow: &FlowDef, lost: Vec<LostExit>) -> Graph {
        let names: Vec<String> = flow.states.keys().map(str::to_string).collect();
        let index = |name: &str| names.iter().position(|s| s == name);
        // Every state's targets by name, with what misspelt keys said.
        let mut targets: Vec<Vec<String>> = flow
            .states
            .iter()
            .map(|(_, s)| s.targets().map(|t| t.value.clone()).collect())
            .collect();
        let mut open = vec![false; names.len()];
        let mut exits_unknown = false;
        for exit in lost {
            match exit {
                LostExit::To(i, target) => targets[i].push(target),
                LostExit::Unknown(i) => {
                    open[i] = true;
                    exits_unknown = true;
                }
            }
        }
        let missing: Vec<String> = std::iter::once(flow.initial.value.clone())
            .chain(targets.iter().flatten().cloned())
            .filter(|t| index(t).is_none())
            .fold(Vec::new(), |mut seen, t| {
                if !seen.contains(&t) {
                    seen.push(t);
                }
                seen
            });
        let mut graph = Graph {
            guesses: BTreeMap::new(),
            renamed: BTreeMap::new(),
            edges: Vec::new(),
            lost_open: open.clone(),
            open,
            exits_unknown,
            start: None,
            names,
        };
        // A state renamed (or misspelt where it is defined): the one name that leads nowhere
        // and the one state nothing leads to are most likely the same, however far apart.
        graph.connect(&flow.initial.value, &targets);
        let reachable = graph.reachable();
        let orphans: Vec<usize> = (0..graph.names.len())
            .filter(|&i| {
                !reachable[i]
                    && !graph
                        .edges
                        .iter()
                        .enumerate()
                        .any(|(from, to)| from != i && to.contains(&i))
            })
            .collect();
        // Between two states as close, the one nothing leads to is more likely meant.
        let led_to = |state: &String| targets.iter().flatten().any(|t| t == state);
        let by_likelihood: Vec<&str> = graph
            .names
            .iter()
            .filter(|n| !led_to(n))
            .chain(graph.names.iter().filter(|n| led_to(n)))
            .map(String::as_str)
            .collect();
        let near = |name: &str| {
            nearest(name, by_likelihood.iter().copied())
                .and_then(|n| graph.names.iter().position(|s| s == n))
        };
        let guesses: BTreeMap<String, Guess> = match (missing.as_slice(), orphans.as_slice()) {
            ([name], [orphan]) => {
                let guess = match near(name) {
                    Some(i) if i == *orphan => Guess::Near(i),
                    // A misspelt use of another state is as likely: both are named.
                    Some(i) => Guess::Either {
                        near: i,
                        orphan: *orphan,
                    },
                    None => Guess::Orphan(*orphan),
                };
                BTreeMap::from([(name.clone(), guess)])
            }
            _ => missing
                .iter()
                .filter_map(|name| near(name).map(|i| (name.clone(), Guess::Near(i))))
                .collect(),
        };
        graph.guesses = guesses;
        graph.connect(&flow.initial.value, &targets);
        for name in &missing {
            let named = std::iter::once(&flow.initial.value)
                .chain(targets.iter().flatten())
                .filter(|t| *t == name)
                .count();
            let Some(guess) = graph.guesses.get(name) else {
                continue;
            };
            let guessed = &graph.names[guess.state()];
            let named_rightly = std::iter::once(&flow.initial.value)
                .chain(targets.iter().flatten())
                .any(|t| t == guessed);
            if named > 1 && !named_rightly {
                graph.renamed.insert(name.clone(), named);
            }
        }
        graph
    }

    /// Edges and the start from the targets by name, through the guesses.
    fn connect(&mut self, initial: &str, targets: &[Vec<String>]) {
        let resolve = |name: &str| match self.guesses.get(name) {
            Some(guess) => Some(guess.state()),
            None => self.names.iter().position(|s| s == name),
        };
        let start = resolve(initial);
        let mut open = self.lost_open.clone();
        let edges = targets
            .iter()
            .enumerate()
            .map(|(i, names)| {
                names
                    .iter()
                    .filter_map(|n| {
                        let to = resolve(n);
                        open[i] |= to.is_none();
                        to
                    })
                    .collect()
            })
            .collect();
        self.start = start;
        self.edges = edges;
        self.open = open;
    }

    /// `"; did you mean ..."` for a state name that is not defined.
    fn guess(&self, missing: &str) -> String {
        match self.guesses.get(missing) {
            Some(Guess::Near(i)) => format!("; did you mean `{}`?", self.names[*i]),
            Some(Guess::Orphan(i)) => format!(
                "; did you mean `{}`, which nothing leads to?",
                self.names[*i]
            ),
            Some(Guess::Either { near, orphan }) => format!(
                "; did you mean `{}`, or `{}`, which nothing leads to?",
                self.names[*near], self.names[*orphan]
            ),
            None => String::new(),
        }
    }

    fn reachable(&self) -> Vec<bool> {
        let mut reachable = vec![false; self.names.len()];
        let Some(start) = self.start else {
            return reachable;
        };
        let mut queue = VecDeque::from([start]);
        reachable[start] = true;
        while let Some(i) = queue.pop_front() {
            for &j in &self.edges[i] {
                if !reachable[j] {
                    reachable[j] = true;
                    queue.push_back(j);
                }
            }
        }
        reachable
    }

    /// Renamed states, unreachable states, and states from which no end can be reached.
    fn check(&self, flow: &FlowDef, path: &str, errors: &mut Vec<LoadError>) {
        for (name, count) in &self.renamed {
            if let Some(guess) = self.guesses.get(name)
                && let Some((defined, _)) = flow.states.iter().nth(guess.state())
            {
                errors.push(LoadError::at(
                    path,
                    defined.referenced,
                    format!(
                        "nothing leads to state `{}`, while `{name}`, named {count} times, does not exist; did you mean `{name}`?",
                        defined.value
                    ),
                ));
            }
        }
        if self.start.is_none() {
            return;
        }
        let reachable = self.reachable();
        let mut can_end: Vec<bool> = flow
            .states
            .iter()
            .zip(&self.open)
            .map(|((_, s), open)| {
                s.end.is_some() || s.handoff.is_some() || s.link.is_some() || *open
            })
            .collect();
        loop {
            let mut changed = false;
            for i in 0..self.names.len() {
                if !can_end[i] && self.edges[i].iter().any(|&j| can_end[j]) {
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
                if !self.exits_unknown {
                    errors.push(LoadError::at(
                        path,
                        name.referenced,
                        format!(
                            "state `{}` cannot be reached from `{}`",
                            name.value, flow.initial.value
                        ),
                    ));
                }
            } else if !can_end[i] {
                errors.push(LoadError::at(
                    path,
                    name.referenced,
                    format!("no end can be reached from state `{}`", name.value),
                ));
            }
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
