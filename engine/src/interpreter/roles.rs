//! Slots of flows about something the caller already has: which part of an utterance each
//! slot may read (`role`), the caller's description of the existing thing (`reference`
//! slots), and datetimes relative to it (`anchor`).

use jiff::civil::{Date, DateTime};
use serde_json::{Value, json};

use super::Turn;
use super::slots::mention_json;
use crate::extract::datetime::{RelativeMention, extract_datetime, extract_relative};
use crate::extract::reference::{VisitReference, read_reference};
use crate::extract::roles::{Part, PartRole, read_roles, text_of};
use crate::flow::model::{FlowDef, SlotDef, SlotRole, SlotType};
use crate::session::Session;
use crate::templates::names;
use crate::templates::parse_datetime;

/// Key under which a datetime slot keeps a relative answer until its anchor is known.
pub(crate) const PENDING_KEY: &str = "relative";
const PENDING: &str = PENDING_KEY;

/// What an anchored datetime answer may take from its anchor.
pub(crate) struct Anchoring {
    /// The anchor, when it can be known yet.
    pub at: Option<DateTime>,
    /// A day alone keeps the anchor's time: the request has no time yet.
    pub day_keeps_time: bool,
    /// A time alone keeps the anchor's day: the request has no day yet.
    pub time_keeps_day: bool,
    /// The one day every offer on the table was on: a time alone is on that day.
    pub offered_day: Option<Date>,
}

/// How one utterance divides between the slots of a flow with roles.
pub(crate) struct Routing {
    parts: Vec<Part>,
    /// Role of the slot being asked, if it has one (a `reference` slot counts as reference).
    asked_role: Option<SlotRole>,
    /// A yes/no question is on the table.
    asked_yes_no: bool,
    /// Nothing is asked: the opening of the flow.
    opening: bool,
    /// Roles of the slots read as if asked beside a yes/no question (`also_collect`), by kind.
    also_asked: Vec<(SlotType, SlotRole)>,
}

fn role_of(def: &SlotDef) -> Option<SlotRole> {
    match def.kind {
        SlotType::Reference => Some(SlotRole::Reference),
        SlotType::Datetime | SlotType::Location => Some(def.role),
        _ => None,
    }
}

fn part_role(role: SlotRole) -> PartRole {
    match role {
        SlotRole::Reference => PartRole::Reference,
        SlotRole::Request => PartRole::Request,
    }
}

impl Routing {
    /// `None` for flows without reference slots: every slot reads the whole utterance.
    /// `also_asked`: the slots read as if they were asked too.
    pub fn new(
        flow: &FlowDef,
        asked: Option<&SlotDef>,
        also_asked: &[&SlotDef],
        norm: &str,
    ) -> Option<Routing> {
        let uses_roles = flow
            .slots
            .iter()
            .any(|(_, d)| d.kind == SlotType::Reference || d.role == SlotRole::Reference);
        if !uses_roles {
            return None;
        }
        Some(Routing {
            parts: read_roles(norm),
            asked_role: asked.and_then(role_of),
            asked_yes_no: asked.is_some_and(|d| d.kind == SlotType::YesNo),
            opening: asked.is_none(),
            also_asked: also_asked
                .iter()
                .filter_map(|d| role_of(d).map(|role| (d.kind, role)))
                .collect(),
        })
    }

    /// Where words with no cue go, for a slot of `kind`.
    fn neutral_role(&self, s: &Session, flow: &FlowDef, kind: SlotType, turn: &Turn) -> PartRole {
        if let Some(role) = self.asked_role {
            return part_role(role);
        }
        if let Some((_, role)) = self.also_asked.iter().find(|(k, _)| *k == kind) {
            return part_role(*role);
        }
        if kind == SlotType::Reference {
            return if self.opening {
                PartRole::Reference
            } else {
                PartRole::Neutral
            };
        }
        // Confirming a new time: a bare correction ("no, four") is about the request.
        let request_filled = flow.slots.iter().any(|(name, d)| {
            d.kind == kind && d.role == SlotRole::Request && s.slot(&name.value).is_some()
        });
        if self.asked_yes_no && request_filled {
            return PartRole::Request;
        }
        // "i have one tomorrow afternoon ... thursday would be better": once the existing
        // thing has its day (or place), an uncued one is the request.
        let reference = text_of(&self.parts, PartRole::Reference);
        let reference_has_it = match kind {
            SlotType::Datetime => extract_datetime(&reference, turn.now, false).is_some(),
            SlotType::Location => turn.engine.locations.find(&reference, false).is_some(),
            _ => false,
        };
        if reference_has_it {
            PartRole::Request
        } else {
            PartRole::Reference
        }
    }

    /// The words a datetime, location or reference slot may read; `None` for other slots
    /// (they read the whole utterance).
    pub fn text_for(
        &self,
        s: &Session,
        flow: &FlowDef,
        def: &SlotDef,
        turn: &Turn,
    ) -> Option<String> {
        let role = part_role(role_of(def)?);
        let neutral = self.neutral_role(s, flow, def.kind, turn);
        let words: Vec<&str> = self
            .parts
            .iter()
            .filter(|p| p.role == role || (p.role == PartRole::Neutral && neutral == role))
            .map(|p| p.text.as_str())
            .collect();
        Some(words.join(" "))
    }

    /// The caller's description of the existing thing in this utterance, if any.
    pub fn reference(
        &self,
        s: &Session,
        flow: &FlowDef,
        def: &SlotDef,
        turn: &Turn,
    ) -> Option<VisitReference> {
        let neutral = self.neutral_role(s, flow, def.kind, turn);
        // Runs of words about the visit, neighbours joined ("the second" + "one").
        let mut about: Vec<String> = Vec::new();
        let mut joined = false;
        for p in &self.parts {
            let counts = p.role == PartRole::Reference
                || (p.role == PartRole::Neutral && neutral == PartRole::Reference);
            match (counts, joined, about.last_mut()) {
                (true, true, Some(last)) => {
                    last.push(' ');
                    last.push_str(&p.text);
                }
                (true, _, _) => about.push(p.text.clone()),
                _ => {}
            }
            joined = counts;
        }
        let about: Vec<&str> = about.iter().map(String::as_str).collect();
        let aside: Vec<&str> = self
            .parts
            .iter()
            .filter(|p| p.role == PartRole::Exclude)
            .map(|p| p.text.as_str())
            .collect();
        let asked = self.asked_role == Some(SlotRole::Reference);
        read_reference(
            &about,
            &aside,
            turn.now,
            &turn.engine.business.locations,
            asked,
        )
    }
}

/// A reference slot's new value: the older description with the newer one laid over it.
pub(crate) fn merge_reference(old: Option<&Value>, new: &VisitReference) -> Value {
    let old: Option<VisitReference> = old.and_then(|v| serde_json::from_value(v.clone()).ok());
    let merged = match old {
        Some(old) => old.merged_with(new),
        None => new.clone(),
    };
    serde_json::to_value(merged).unwrap_or(Value::Null)
}

impl Turn<'_> {
    /// The datetime relative answers of `slot` start from, when it can be known yet.
    pub(crate) fn anchor(&self, s: &Session, flow: &str, slot: &str) -> Option<DateTime> {
        // An anchor that cannot render yet (the visit is not looked up) is simply not known.
        let value = self.render_value(s, &names::anchor(flow, slot)).ok()?;
        value.as_str().and_then(parse_datetime)
    }

    /// A datetime answer for a slot with an `anchor`: relative answers are placed against it
    /// (or kept until it is known), and so are a day alone or a time alone when the request
    /// has no time or day of its own yet ("thursday instead" keeps the visit's hour, "can we
    /// do eleven" its day).
    pub(crate) fn anchored_datetime(
        &self,
        text: &str,
        asked: bool,
        a: &Anchoring,
    ) -> Option<Value> {
        let absolute = extract_datetime(text, self.now, asked);
        let relative = extract_relative(text, self.now).or_else(|| {
            let m = absolute.as_ref()?;
            let has_clock = m.time.is_some() || m.earliest.is_some() || m.latest.is_some();
            match m.date {
                Some(date) if !has_clock && a.day_keeps_time => Some(RelativeMention::on_day(date)),
                None if has_clock && a.offered_day.is_none() && a.time_keeps_day => {
                    Some(RelativeMention {
                        time: m.time,
                        earliest: m.earliest,
                        latest: m.latest,
                        ..RelativeMention::default()
                    })
                }
                _ => None,
            }
        });
        match (relative, a.at) {
            (Some(rel), Some(anchor)) => Some(mention_json(&rel.resolve(anchor))),
            (Some(rel), None) => Some(json!({
                "date": rel.date.map(|d| d.to_string()),
                "time": null, "earliest": null, "latest": null,
                PENDING: rel,
            })),
            (None, _) => absolute.map(|mut m| {
                // A time alone after offers for one day is on that day.
                if m.date.is_none() {
                    m.date = a.offered_day;
                }
                mention_json(&m)
            }),
        }
    }

    /// A relative answer kept for `slot` is placed now that its anchor is known; if the anchor
    /// still is not, the answer is dropped and the question asked.
    pub(crate) fn place_pending(&mut self, s: &mut Session, flow: &FlowDef, slot: &str) {
        let Some(pending) = s.slot(slot).and_then(|v| v.get(PENDING)).cloned() else {
            return;
        };
        let anchor = self.anchor(s, &flow.flow.value, slot);
        let placed = match (serde_json::from_value::<RelativeMention>(pending), anchor) {
            (Ok(rel), Some(anchor)) => mention_json(&rel.resolve(anchor)),
            _ => Value::Null,
        };
        self.event("slot_placed", json!({ "slot": slot, "value": placed }));
        s.slots.insert(slot.to_string(), placed);
    }
}
