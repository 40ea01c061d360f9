//! Asking a language model for slot values the rules missed. The engine never talks to a model
//! itself: it asks the runtime (`Output::Extract`), like a tool call, and treats what comes
//! back (`Input::Extracted`) exactly as if the caller had said those phrases, so a model's
//! guess passes the same extractors and rules: an unknown location or a closed day is refused.

use serde_json::json;

use super::slots::{Correcting, Extraction};
use super::{StepError, Turn};
use crate::extract::normalize::normalize;
use crate::flow::model::{FlowDef, SlotType};
use crate::session::{ModelRequest, ModelSlot, Output, Session};
use crate::triggers::{GlobalKind, Meaning};

/// Longest phrase taken from a model for one slot: anything longer is not an answer.
const MAX_PHRASE_CHARS: usize = 120;

impl Turn<'_> {
    fn is_correction(&self, utterance: &str) -> bool {
        self.engine
            .triggers
            .find(&normalize(utterance))
            .iter()
            .any(|h| matches!(h.meaning, Meaning::Global(GlobalKind::Correction)))
    }

    pub(crate) fn ask_model(
        &mut self,
        s: &mut Session,
        flow: &FlowDef,
        utterance: &str,
    ) -> Result<(), StepError> {
        let asked = s
            .state
            .as_ref()
            .and_then(|st| flow.states.get(st))
            .and_then(|st| st.collect.as_ref())
            .map(|c| c.value.clone());
        // A correction ("actually make it ...") may change filled slots, so offer those too.
        let correcting = self.is_correction(utterance);
        let mut slots: Vec<ModelSlot> = flow
            .slots
            .iter()
            .filter(|(name, def)| {
                s.slot(&name.value).is_none() || (correcting && def.kind != SlotType::YesNo)
            })
            .map(|(name, def)| ModelSlot {
                name: name.value.clone(),
                kind: def.kind,
                description: def.description.clone(),
                options: match def.kind {
                    SlotType::Location => self
                        .engine
                        .business()
                        .locations
                        .iter()
                        .map(|l| l.name.clone())
                        .collect(),
                    _ => def.options.clone(),
                },
            })
            .collect();
        slots.sort_by_key(|slot| Some(&slot.name) != asked.as_ref());
        let date = self.now.date();
        let request = ModelRequest {
            utterance: utterance.to_string(),
            asked,
            question: s.last_said.clone(),
            slots,
            heard: s.heard.iter().rev().skip(1).rev().cloned().collect(),
            today: format!("{date} ({})", date.strftime("%A")),
        };
        s.awaiting_model = Some(utterance.to_string());
        self.out.push(Output::Extract { request });
        Ok(())
    }

    pub(crate) fn on_extracted(
        &mut self,
        s: &mut Session,
        utterance: &str,
        values: &std::collections::BTreeMap<String, String>,
        after_partial_rules: bool,
    ) -> Result<(), StepError> {
        if s.flow.is_none() {
            return self.not_understood(s);
        }
        let (flow, state) = self.current(s)?;
        let mode = if self.is_correction(utterance) {
            Correcting::Explicit
        } else {
            Correcting::No
        };
        let mut found = Extraction::default();
        for (name, _) in flow.slots.iter() {
            let Some(phrase) = values.get(&name.value).map(|p| p.trim()) else {
                continue;
            };
            if phrase.is_empty() || phrase.chars().count() > MAX_PHRASE_CHARS {
                continue;
            }
            let one = self.extract_into(s, flow, state, phrase, &normalize(phrase), mode)?;
            found.filled.extend(one.filled);
            found.changed.extend(one.changed);
            found.rejected = found.rejected.or(one.rejected);
        }
        self.event(
            "model_extraction",
            json!({ "values": values, "filled": found.filled, "changed": found.changed,
                    "rejected": found.rejected }),
        );
        let asked = state.collect.as_ref().map(|c| c.value.clone());
        if let Some(other) = self.other_answer(s, state, &found) {
            return self.resume_after_correction(s, flow, asked.as_deref(), &[other]);
        }
        if !found.changed.is_empty() {
            return self.resume_after_correction(s, flow, asked.as_deref(), &found.changed);
        }
        let asked_filled = asked.as_ref().is_some_and(|a| s.slot(a).is_some());
        if asked_filled || !found.filled.is_empty() || after_partial_rules {
            s.attempts = 0;
            return self.run(s);
        }
        if let Some(rule) = found.rejected {
            s.vars.insert("rejected".into(), json!(rule));
        }
        self.no_match(s)
    }
}
