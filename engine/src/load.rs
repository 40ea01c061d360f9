//! Loading: flows, prompts, knowledge and the business become one validated [`Engine`].

use std::collections::BTreeMap;

use crate::business::Business;
use crate::extract::location::LocationMatcher;
use crate::extract::normalize::normalize;
use crate::extract::service::ServiceCatalog;
use crate::extract::vehicle::VehicleCatalog;
use crate::flow::model::{FlowDef, GlobalPattern, GlobalsDef, SlotRule, StateDef};
use crate::flow::parse::{UnknownKey, parse_flow, parse_globals};
use crate::flow::validate::Validator;
use crate::flow::{LoadError, LoadErrors, SourceFile};
use crate::knowledge::KnowledgeBase;
use crate::runtime_lines::RuntimeLine;
use crate::templates::{TemplateKind, Templates, names};
use crate::tool::ToolSpec;
use crate::triggers::{GlobalKind, Keyword, Meaning, TriggerIndex};
use crate::understand::Understanding;

/// Everything the engine is built from, read by the application.
#[derive(Debug, Clone)]
pub struct Sources {
    /// The business: `config/business.yaml`.
    pub business: Business,
    /// `flows/global.yaml`.
    pub globals: SourceFile,
    /// Every other `flows/*.yaml`.
    pub flows: Vec<SourceFile>,
    /// Prompt templates by name (`booking/ask_when` for `prompts/booking/ask_when.j2`).
    pub prompts: Vec<(String, SourceFile)>,
    /// `knowledge/*.md`.
    pub knowledge: Vec<SourceFile>,
    /// The tools the runtime provides.
    pub tools: Vec<ToolSpec>,
}

/// The loaded, validated engine. Built once, shared by every call.
pub struct Engine {
    pub(crate) business: Business,
    pub(crate) globals: GlobalsDef,
    pub(crate) flows: BTreeMap<String, FlowDef>,
    pub(crate) templates: Templates,
    pub(crate) triggers: TriggerIndex,
    pub(crate) knowledge: KnowledgeBase,
    pub(crate) understanding: Understanding,
    /// The business's locations, prepared for matching what callers say.
    pub(crate) locations: LocationMatcher,
    /// The business's vehicle catalogue, prepared for matching.
    pub(crate) vehicles: VehicleCatalog,
    /// The business's services, prepared for matching.
    pub(crate) services: ServiceCatalog,
    pub(crate) tools: Vec<ToolSpec>,
    prompt_names: Vec<String>,
    /// `flow/slot` of slots whose value names a location, for hints.
    pub(crate) location_hints: Vec<String>,
    /// Compiled `pattern` rules of every slot, by source (compiled once, not per utterance).
    pub(crate) patterns: BTreeMap<String, regex::Regex>,
    /// The business as templates see it (`business.name`, `business.locations`...).
    pub(crate) business_context: minijinja::Value,
}

impl Engine {
    /// Parses and validates everything; on failure returns every error found, each with its
    /// `file:line:column`.
    pub fn load(sources: Sources) -> Result<Engine, LoadErrors> {
        let mut errors: Vec<LoadError> = Vec::new();
        let mut templates = Templates::new();

        for (name, file) in &sources.prompts {
            if let Err(e) = templates.add(name, &file.text, TemplateKind::Text) {
                errors.push(LoadError {
                    file: file.path.clone(),
                    line: e.line().unwrap_or(1) as u64,
                    column: 1,
                    message: format!("template error: {}", template_message(&e)),
                });
            }
        }

        let parsed = parse_globals(&sources.globals);
        errors.extend(parsed.errors);
        let mut unknown_keys: Vec<(String, UnknownKey)> = parsed
            .unknown_keys
            .into_iter()
            .map(|k| (sources.globals.path.clone(), k))
            .collect();
        let globals = parsed.value;

        let mut flows: Vec<(FlowDef, &SourceFile)> = Vec::new();
        // A flow file that cannot be read still defines its flow (named by the file): other
        // files naming it are not wrong, and what its concepts would have said is unknown.
        let mut unreadable_flows: Vec<String> = Vec::new();
        for file in &sources.flows {
            let parsed = parse_flow(file);
            errors.extend(parsed.errors);
            unknown_keys.extend(
                parsed
                    .unknown_keys
                    .into_iter()
                    .map(|k| (file.path.clone(), k)),
            );
            match parsed.value {
                Some(flow) => flows.push((flow, file)),
                None => unreadable_flows.push(flow_name_of_file(&file.path)),
            }
        }

        for (flow, file) in &flows {
            compile_flow_templates(flow, file, &mut templates, &mut errors);
        }

        let prompt_names: Vec<String> = sources.prompts.iter().map(|(n, _)| n.clone()).collect();
        for line in RuntimeLine::ALL {
            let name = line.prompt();
            if !prompt_names.iter().any(|n| n == name) {
                errors.push(LoadError::file(
                    "prompts",
                    format!("missing prompt `{name}` (prompts/{name}.j2): the runtime says it when a call cannot go on as the flows say"),
                ));
            }
        }
        let urgency_levels: Vec<String> = sources
            .business
            .urgency
            .iter()
            .map(|u| u.level.clone())
            .collect();
        if sources.business.urgency.iter().any(|u| u.alert_on_call)
            && !prompt_names.iter().any(|n| n == "sms/urgent_alert")
        {
            errors.push(LoadError::file(
                "prompts",
                "missing prompt `sms/urgent_alert` (prompts/sms/urgent_alert.j2): an urgency level with `alert_on_call` texts it to the on-call numbers",
            ));
        }
        let validator = Validator {
            templates: &templates,
            tools: &sources.tools,
            prompts: &prompt_names,
            flows: &flows,
            unreadable_flows: &unreadable_flows,
            unknown_keys: &unknown_keys,
            has_vehicles: !sources.business.vehicles.is_empty(),
            has_services: !sources.business.services.is_empty(),
            urgency_levels: &urgency_levels,
        };
        if let Some(globals) = &globals {
            validator.check_globals(globals, &sources.globals, &mut errors);
        }
        // The flows do not depend on the global file: they are checked even when it is broken.
        for (flow, file) in &flows {
            validator.check_flow(flow, file, &mut errors);
        }

        let knowledge = match KnowledgeBase::from_markdown(
            &sources
                .knowledge
                .iter()
                .map(|f| (f.path.clone(), f.text.clone()))
                .collect::<Vec<_>>(),
        ) {
            Ok(kb) => Some(kb),
            Err(e) => {
                errors.push(LoadError::file("knowledge", e.to_string()));
                None
            }
        };

        let understanding = match &globals {
            Some(g) => {
                match Understanding::build(g, &sources.globals, &flows, unreadable_flows.is_empty())
                {
                    Ok(u) => Some(u),
                    Err(e) => {
                        errors.extend(e);
                        None
                    }
                }
            }
            None => None,
        };

        let (Some(globals), Some(knowledge), Some(understanding), true) =
            (globals, knowledge, understanding, errors.is_empty())
        else {
            errors.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
            errors.dedup();
            return Err(LoadErrors(errors));
        };

        let triggers = match TriggerIndex::new(keywords(&globals, &flows)) {
            Ok(t) => t,
            Err(e) => {
                return Err(LoadErrors(vec![LoadError::file(
                    &sources.globals.path,
                    format!("keywords: {e}"),
                )]));
            }
        };

        let location_hints = sources
            .business
            .locations
            .iter()
            .map(|l| l.name.clone())
            .collect();
        let business_context =
            minijinja::Value::from(minijinja::value::Serde(business_context(&sources.business)));
        let patterns = flows
            .iter()
            .flat_map(|(f, _)| f.slots.iter().flat_map(|(_, slot)| slot.rules.iter()))
            .filter_map(|rule| match rule {
                SlotRule::Pattern(source) => regex::Regex::new(source)
                    .ok()
                    .map(|re| (source.clone(), re)),
                _ => None,
            })
            .collect();
        let locations = LocationMatcher::new(&sources.business.locations);
        let vehicles = VehicleCatalog::new(&sources.business.vehicles);
        let services = ServiceCatalog::new(&sources.business.services);
        Ok(Engine {
            services,
            locations,
            vehicles,
            patterns,
            business_context,
            business: sources.business,
            globals,
            flows: flows
                .into_iter()
                .map(|(f, _)| (f.flow.value.clone(), f))
                .collect(),
            templates,
            triggers,
            knowledge,
            understanding,
            tools: sources.tools,
            prompt_names,
            location_hints,
        })
    }

    /// The business the engine was loaded for.
    pub fn business(&self) -> &Business {
        &self.business
    }

    /// A flow by name.
    pub fn flow(&self, name: &str) -> Option<&FlowDef> {
        self.flows.get(name)
    }

    /// Every flow.
    pub fn flows(&self) -> impl Iterator<Item = &FlowDef> {
        self.flows.values()
    }

    /// `flows/global.yaml`, parsed.
    pub fn globals(&self) -> &GlobalsDef {
        &self.globals
    }

    /// The knowledge base, searched for answers.
    pub fn knowledge(&self) -> &KnowledgeBase {
        &self.knowledge
    }

    /// The compiled understanding: concepts, scope, hazards and the examples classifier.
    pub fn understanding(&self) -> &Understanding {
        &self.understanding
    }

    /// The tools the runtime offers.
    pub fn tools(&self) -> &[ToolSpec] {
        &self.tools
    }

    /// Names of all prompt templates.
    pub fn prompt_names(&self) -> &[String] {
        &self.prompt_names
    }

    pub(crate) fn state(&self, flow: &str, state: &str) -> Option<&StateDef> {
        self.flows.get(flow)?.states.get(state)
    }
}

/// `booking` for `flows/booking.yaml`: a flow is named after its file.
fn flow_name_of_file(path: &str) -> String {
    let file = path.rsplit(['/', '\\']).next().unwrap_or(path);
    file.split('.').next().unwrap_or(file).to_string()
}

fn business_context(b: &Business) -> serde_json::Value {
    serde_json::json!({
        "name": b.name,
        "trade": b.trade,
        "service_fee": b.service_fee,
        "agent_name": b.persona.agent_name,
        "phones": b.phones,
        "locations": b.locations.iter().map(|l| serde_json::json!({"code": l.code, "name": l.name})).collect::<Vec<_>>(),
        "location_names": b.locations.iter().map(|l| l.name.clone()).collect::<Vec<_>>(),
        "vehicle_makes": b.vehicles.iter().map(|v| v.make.clone()).collect::<Vec<_>>(),
        "services": b.services.iter().map(|s| serde_json::json!({"name": s.name, "minutes": s.minutes})).collect::<Vec<_>>(),
        "visit_minutes": b.visit_minutes,
    })
}

/// minijinja's message without its "(in template:line)" decoration.
pub(crate) fn template_message(e: &minijinja::Error) -> String {
    match e.detail() {
        Some(detail) => format!("{}: {detail}", e.kind()),
        None => e.kind().to_string(),
    }
}

fn compile_flow_templates(
    flow: &FlowDef,
    file: &SourceFile,
    templates: &mut Templates,
    errors: &mut Vec<LoadError>,
) {
    let name = &flow.flow.value;
    let mut add = |tname: String, source: &str, kind, at, what: &str| {
        if let Err(e) = templates.add(&tname, source, kind) {
            errors.push(LoadError::at(
                &file.path,
                at,
                format!("{what} `{source}`: {}", template_message(&e)),
            ));
        }
    };
    for (slot_name, slot) in flow.slots.iter() {
        if let Some(default) = &slot.default {
            add(
                names::default(name, &slot_name.value),
                default,
                TemplateKind::Value,
                slot_name.referenced,
                "slot default",
            );
        }
        if let Some(anchor) = &slot.anchor {
            add(
                names::anchor(name, &slot_name.value),
                anchor,
                TemplateKind::Value,
                slot_name.referenced,
                "slot anchor",
            );
        }
    }
    for (i, group) in flow.triggers.iter().enumerate() {
        for (key, value) in &group.set {
            add(
                names::set(name, i, key),
                value,
                TemplateKind::Value,
                flow.flow.referenced,
                "trigger value",
            );
        }
    }
    for (state_name, state) in flow.states.iter() {
        let s = &state_name.value;
        for (i, t) in state.transitions.iter().enumerate() {
            if let Some(cond) = &t.condition {
                add(
                    names::condition(name, s, i),
                    &cond.value,
                    TemplateKind::Condition,
                    cond.referenced,
                    "condition",
                );
            }
        }
        for (key, value) in state.args.iter() {
            add(
                names::arg(name, s, &key.value),
                value,
                TemplateKind::Value,
                key.referenced,
                "tool argument",
            );
        }
        if let Some(offers) = &state.offers {
            add(
                names::offers(name, s),
                offers,
                TemplateKind::Value,
                state_name.referenced,
                "offers",
            );
        }
    }
}

fn global_keywords(pattern: &GlobalPattern, kind: GlobalKind, priority: i32) -> Vec<Keyword> {
    pattern
        .keywords
        .iter()
        .map(|k| Keyword {
            phrase: normalize(k),
            meaning: Meaning::Global(kind),
            priority,
            requires_any: Vec::new(),
        })
        .filter(|k| !k.phrase.is_empty())
        .collect()
}

/// Priority of "talk to a person": above every flow start, below emergencies.
pub const HUMAN_PRIORITY: i32 = 90;
/// Flow triggers at or above this interrupt an active flow.
pub const INTERRUPT_PRIORITY: i32 = 50;

fn keywords(globals: &GlobalsDef, flows: &[(FlowDef, &SourceFile)]) -> Vec<Keyword> {
    let mut all = Vec::new();
    all.extend(global_keywords(
        &globals.human,
        GlobalKind::Human,
        HUMAN_PRIORITY,
    ));
    all.extend(global_keywords(&globals.cancel, GlobalKind::Cancel, 0));
    all.extend(global_keywords(&globals.repeat, GlobalKind::Repeat, 0));
    all.extend(global_keywords(&globals.goodbye, GlobalKind::Goodbye, 0));
    all.extend(global_keywords(
        &globals.correction,
        GlobalKind::Correction,
        0,
    ));
    for (pattern, kind) in [
        (&globals.wait, GlobalKind::Wait),
        (&globals.line_check, GlobalKind::LineCheck),
        (&globals.frustration, GlobalKind::Frustration),
    ] {
        if let Some(pattern) = pattern {
            all.extend(global_keywords(pattern, kind, 0));
        }
    }
    for (flow, _) in flows {
        for (group_index, group) in flow.triggers.iter().enumerate() {
            let requires: Vec<String> = group.requires_any.iter().map(|w| normalize(w)).collect();
            for k in &group.keywords {
                let phrase = normalize(k);
                if phrase.is_empty() {
                    continue;
                }
                all.push(Keyword {
                    phrase,
                    meaning: Meaning::Flow {
                        flow: flow.flow.value.clone(),
                        group: group_index,
                    },
                    priority: group.priority,
                    requires_any: requires.clone(),
                });
            }
        }
    }
    all
}
