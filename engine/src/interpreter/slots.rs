//! Filling slots from an utterance: every open slot of the active flow is offered the text,
//! not only the one being asked; filled slots change only on a correction.

use jiff::civil::{Date, DateTime, Time};
use serde_json::{Value, json};

use super::roles::{Anchoring, Routing, merge_reference};
use super::{StepError, Turn};
use crate::extract::choice::extract_choice;
use crate::extract::datetime::{DateTimeMention, extract_datetime};
use crate::extract::name::extract_person_name_among;
use crate::extract::normalize::free_text;
use crate::extract::numbers::{extract_number, parse_ordinal};
use crate::extract::phone::{extract_phone, without_phone_numbers};
use crate::extract::yes_no::{YesNoContext, extract_yes_no, extract_yes_no_in};
use crate::flow::model::{FlowDef, SlotDef, SlotRule, SlotType, StateDef};
use crate::session::Session;
use crate::speak::speak_datetime;
use crate::templates::names;
use crate::templates::parse_datetime;

/// What one utterance did to the slots.
#[derive(Debug, Default)]
pub struct Extraction {
    /// Empty slots that got a value.
    pub filled: Vec<String>,
    /// Filled slots whose value changed (corrections).
    pub changed: Vec<String>,
    /// A rule that refused the asked slot's value.
    pub rejected: Option<String>,
}

/// Whether an utterance may change slots that are already filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Correcting {
    /// Only empty slots are filled.
    No,
    /// Filled slots may change (the caller is answering a yes/no read-back).
    Implicit,
    /// The caller said "actually", "make it", "instead": filled slots may change, and a bare
    /// number for a filled date and time is the new hour ("no, make it three instead").
    Explicit,
}

/// What an answer to offered times means.
enum OfferAnswer {
    /// One of the offers, as the slot's value.
    Pick(Value),
    /// A time that was not offered: a new request. `day` is the one day every offer was on,
    /// for an answer that names only a time ("what about four").
    NotOffered {
        day: Option<Date>,
    },
    /// "yes" to several offers.
    Which,
    Nothing,
}

/// "the first one", "the second", "the last one", "the earlier one", "the later one": 1-based
/// position in time order, negative from the end.
fn offer_position(norm: &str) -> Option<i64> {
    let t: Vec<&str> = norm.split_whitespace().collect();
    t.iter().enumerate().find_map(|(i, w)| {
        let p = match *w {
            "earlier" | "earliest" | "sooner" | "soonest" | "first" => 1,
            "later" | "latest" | "last" => -1,
            _ => match parse_ordinal(&t[i..]) {
                Some((n, 1)) if (2..=9).contains(&n) => i64::from(n),
                _ => return None,
            },
        };
        // "the first thing in the morning" asks for a time, not an offer.
        let next = t.get(i + 1).copied();
        (next.is_none()
            || matches!(
                next,
                Some("one" | "option" | "time" | "slot" | "please" | "works" | "is" | "sounds")
            ))
        .then_some(p)
    })
}

/// A time said alone gets the day every offer was on.
fn with_day(mut value: Value, day: Option<Date>) -> Value {
    if let (Some(day), Some(obj)) = (day, value.as_object_mut())
        && obj.get("date").is_none_or(Value::is_null)
        && obj.get(super::roles::PENDING_KEY).is_none()
    {
        obj.insert("date".into(), json!(day.to_string()));
    }
    value
}

/// The value of an `allow_unknown` slot whose answer was "i don't know".
const UNKNOWN: &str = "unknown";

/// Phrases that say the caller does not know the answer.
const DONT_KNOW: &[&str] = &[
    "dont know",
    "do not know",
    "dunno",
    "not sure",
    "no idea",
    "no clue",
    "dont remember",
    "cant remember",
    "do not remember",
    "forget",
    "forgot",
    "dont have it",
    "dont have that",
    "not certain",
];

fn says_unknown(norm: &str) -> bool {
    DONT_KNOW.iter().any(|p| contains_words(norm, p))
}

/// Phrases that introduce a name when the name was not asked for.
const NAME_INTRODUCTIONS: &[&str] = &["my name is", "this is", "name is", "names", "i am", "im"];

impl Turn<'_> {
    pub(crate) fn extract_into(
        &mut self,
        s: &mut Session,
        flow: &FlowDef,
        state: &StateDef,
        text: &str,
        norm: &str,
        mode: Correcting,
    ) -> Result<Extraction, StepError> {
        let correction = mode != Correcting::No;
        let asked = state.collect.as_ref().map(|c| c.value.as_str());
        let mut found = Extraction::default();
        let state_name = s.state.clone().unwrap_or_default();
        // A yes/no question answered with neither: the slots the state also collects are read
        // as if they were asked, so "3" said to "shall I book it for 10?" is a time.
        let others_asked = !state.also_collect.is_empty()
            && asked
                .and_then(|a| flow.slots.get(a))
                .is_some_and(|d| d.kind == SlotType::YesNo && !says_yes_or_no(d, norm));
        let also_asked: Vec<&SlotDef> = if others_asked {
            state
                .also_collect
                .keys()
                .filter_map(|k| flow.slots.get(k))
                .collect()
        } else {
            Vec::new()
        };
        let routing = Routing::new(
            flow,
            asked.and_then(|a| flow.slots.get(a)),
            &also_asked,
            norm,
        );
        // The caller said again a time or place already read back to them.
        let mut restated = false;
        let (whole_text, whole_norm) = (text, norm);
        for (name, def) in flow.slots.iter() {
            let name = name.value.as_str();
            let is_asked = asked == Some(name);
            let also_asked = others_asked && state.also_collect.contains_key(name);
            // A default (the caller ID as the callback number) is a guess the caller's own
            // words replace: "call me on my cell ..." fills the slot as if it were empty.
            let defaulted = self.holds_default(s, &flow.flow.value, name, def)?;
            let filled = s.slot(name).is_some() && !defaulted;
            if filled && !correction {
                continue;
            }
            // Free text, yes/no, numbers and choices only make sense as an answer to their own
            // question ("yes" to "is that all?" must not confirm a booking).
            let only_when_asked = matches!(
                def.kind,
                SlotType::Text | SlotType::YesNo | SlotType::Number | SlotType::Choice
            );
            if only_when_asked && !is_asked && !also_asked {
                continue;
            }
            if def.kind == SlotType::Reference {
                let Some(reference) = routing
                    .as_ref()
                    .and_then(|r| r.reference(s, flow, def, self))
                else {
                    continue;
                };
                let value = merge_reference(s.slot(name), &reference);
                if !filled {
                    found.filled.push(name.to_string());
                } else if s.slot(name) != Some(&value) && reference.is_specific() {
                    // A new day, place or "the other one" is a correction; loose words that
                    // only say the same thing again ("yes, the duct one") are not.
                    found.changed.push(name.to_string());
                }
                s.slots.insert(name.to_string(), value.clone());
                self.event("slot_filled", json!({ "slot": name, "value": value }));
                continue;
            }
            // In a flow about an existing visit, a slot reads only its side of the utterance.
            let routed = routing
                .as_ref()
                .and_then(|r| r.text_for(s, flow, def, self));
            let (text, norm) = match &routed {
                Some(part) if part.is_empty() => continue,
                Some(part) => (part.as_str(), part.as_str()),
                None => (whole_text, whole_norm),
            };
            let offered = if is_asked && state.offers.is_some() {
                self.offered(s, &flow.flow.value, &state_name)?
            } else {
                Vec::new()
            };
            // Correcting a time already given: a bare hour is a time, as if it had been asked.
            let as_asked = is_asked
                || also_asked
                || (filled && mode == Correcting::Explicit && def.kind == SlotType::Datetime);
            let value = if offered.is_empty() {
                self.slot_value(s, flow, name, def, text, norm, as_asked, None)
            } else {
                match self.pick_offer(&offered, text, norm) {
                    OfferAnswer::Pick(value) => Some(value),
                    OfferAnswer::Which => {
                        // "yes" to several times: the state's reprompt asks which.
                        found.rejected = Some("which_offer".to_string());
                        continue;
                    }
                    OfferAnswer::NotOffered { day } => self
                        .slot_value(s, flow, name, def, text, norm, as_asked, day)
                        .map(|v| with_day(v, day)),
                    OfferAnswer::Nothing => {
                        self.slot_value(s, flow, name, def, text, norm, as_asked, None)
                    }
                }
            };
            // "i don't know" is an answer to a question that allows it.
            let value = value.or_else(|| {
                (is_asked && def.allow_unknown && says_unknown(whole_norm)).then(|| json!(UNKNOWN))
            });
            let Some(mut value) = value else { continue };
            if defaulted && s.slot(name) == Some(&value) {
                continue;
            }
            if let Some(rule) = self.broken_rule(def, &value) {
                if is_asked || also_asked {
                    found.rejected = Some(rule);
                }
                continue;
            }
            if filled {
                let old = s.slot(name).cloned().unwrap_or(Value::Null);
                if def.kind == SlotType::Datetime {
                    value = merge_datetime(&old, &value);
                }
                if old != value && !(is_asked && def.kind == SlotType::YesNo) {
                    found.changed.push(name.to_string());
                } else if old == value
                    && matches!(def.kind, SlotType::Datetime | SlotType::Location)
                {
                    restated = true;
                }
            } else {
                found.filled.push(name.to_string());
            }
            s.slots.insert(name.to_string(), value.clone());
            self.event("slot_filled", json!({ "slot": name, "value": value }));
        }
        // "Shall I make the change to Friday at 10?" - "friday at ten please": saying back
        // exactly what was read out, and nothing else, agrees to it.
        if let Some(asked) = asked
            && restated
            && found.changed.is_empty()
            && s.slot(asked).is_none()
            && flow
                .slots
                .get(asked)
                .is_some_and(|d| d.kind == SlotType::YesNo)
            && extract_yes_no(norm).is_none()
        {
            s.slots.insert(asked.to_string(), json!(true));
            found.filled.push(asked.to_string());
            self.event(
                "slot_filled",
                json!({ "slot": asked, "value": true, "restated": true }),
            );
        }
        Ok(found)
    }

    /// A slot's value from its words: datetimes with an `anchor` are placed against it.
    #[allow(clippy::too_many_arguments)]
    fn slot_value(
        &self,
        s: &Session,
        flow: &FlowDef,
        name: &str,
        def: &SlotDef,
        text: &str,
        norm: &str,
        asked: bool,
        offered_day: Option<Date>,
    ) -> Option<Value> {
        if def.kind == SlotType::Datetime && def.anchor.is_some() {
            // A day alone keeps the time already asked for, if any, else the anchor's; a time
            // alone likewise keeps the day.
            let has = |key: &str| {
                s.slot(name)
                    .and_then(|v| v.get(key))
                    .is_some_and(|t| !t.is_null())
            };
            let anchoring = Anchoring {
                at: self.anchor(s, &flow.flow.value, name),
                day_keeps_time: !has("time"),
                time_keeps_day: !has("date"),
                offered_day,
            };
            return self.anchored_datetime(text, asked, &anchoring);
        }
        self.extract_value(s, def, text, norm, asked)
    }

    /// The slot a state also collects (`also_collect`) that this utterance gave a value,
    /// while the state's own question went unanswered: the state says where it leads.
    pub(crate) fn other_answer(
        &self,
        s: &Session,
        state: &StateDef,
        found: &Extraction,
    ) -> Option<String> {
        let asked = state.collect.as_ref()?;
        if s.slot(&asked.value).is_some() {
            return None;
        }
        state
            .also_collect
            .keys()
            .find(|slot| found.filled.iter().chain(&found.changed).any(|f| f == slot))
            .map(str::to_string)
    }

    pub(crate) fn extract_value(
        &self,
        s: &Session,
        def: &SlotDef,
        text: &str,
        norm: &str,
        asked: bool,
    ) -> Option<Value> {
        match def.kind {
            SlotType::Text => (!norm.is_empty()).then(|| json!(free_text(text))),
            SlotType::PersonName => {
                if !asked && !NAME_INTRODUCTIONS.iter().any(|p| contains_words(norm, p)) {
                    return None;
                }
                extract_person_name_among(text, &self.engine.locations).map(Value::String)
            }
            SlotType::Phone => extract_phone(text, s.call.caller.as_deref()).map(Value::String),
            SlotType::Location => self
                .engine
                .locations
                .find(text, asked)
                .and_then(|i| self.engine.business.locations.get(i))
                .map(|l| json!({ "code": l.code, "name": l.name })),
            SlotType::Datetime => {
                // "call me on eight one seven five five five ..." names no time.
                let text = without_phone_numbers(text);
                extract_datetime(&text, self.now, asked).map(|m| mention_json(&m))
            }
            SlotType::YesNo => {
                let context = YesNoContext {
                    affirm: &def.affirm,
                    deny: &def.deny,
                };
                extract_yes_no_in(norm, &context).map(Value::Bool)
            }
            SlotType::Number => extract_number(text).map(|n| json!(n)),
            SlotType::Service => self
                .engine
                .services
                .find(text)
                .map(|s| json!({ "name": s.name, "minutes": s.minutes })),
            SlotType::Vehicle => self.engine.vehicles.find(text, asked).map(|v| v.to_json()),
            SlotType::Choice => extract_choice(text, &def.options)
                .and_then(|i| def.options.get(i))
                .map(|o| json!(o)),
            // Read by `Routing::reference` in `extract_into`.
            SlotType::Reference => None,
        }
    }

    /// The datetimes the current state offered, as rendered from its `offers` expression.
    fn offered(&self, s: &Session, flow: &str, state: &str) -> Result<Vec<DateTime>, StepError> {
        let value = self.render_value(s, &names::offers(flow, state))?;
        Ok(value
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|v| v.as_str().and_then(parse_datetime))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// What an answer to offered times means: "the first one", "the three o'clock", "the
    /// earlier one" and "tuesday" pick one; a time that was not offered ("what about four")
    /// is a new request; a bare "yes" picks the only offer, or asks which of several.
    fn pick_offer(&self, offered: &[DateTime], text: &str, norm: &str) -> OfferAnswer {
        let mut in_order = offered.to_vec();
        in_order.sort();
        let pick = |dt: &DateTime| OfferAnswer::Pick(datetime_json(dt.date(), Some(dt.time())));
        let one_day = in_order
            .first()
            .map(|dt| dt.date())
            .filter(|d| in_order.iter().all(|o| o.date() == *d));
        if let Some(m) = extract_datetime(text, self.now, true)
            && (m.time.is_some() || m.date.is_some() || m.earliest.is_some() || m.latest.is_some())
        {
            let fits = |dt: &&DateTime| {
                let t = dt.time();
                m.time.is_none_or(|x| x == t)
                    && m.date.is_none_or(|d| d == dt.date())
                    && (m.time.is_some()
                        || (m.earliest.is_none_or(|e| t >= e) && m.latest.is_none_or(|l| t < l)))
            };
            return match in_order.iter().find(fits) {
                Some(dt) => pick(dt),
                None => OfferAnswer::NotOffered {
                    day: one_day.filter(|_| m.date.is_none()),
                },
            };
        }
        if let Some(p) = offer_position(norm) {
            let n = in_order.len() as i64;
            let index = if p < 0 { n + p } else { p - 1 };
            if let Some(dt) = usize::try_from(index).ok().and_then(|i| in_order.get(i)) {
                return pick(dt);
            }
        }
        let spoken: Vec<String> = in_order.iter().map(|dt| speak_datetime(*dt)).collect();
        if let Some(dt) = extract_choice(text, &spoken).and_then(|i| in_order.get(i)) {
            return pick(dt);
        }
        if extract_yes_no(norm) == Some(true) {
            return match in_order.as_slice() {
                [only] => pick(only),
                _ => OfferAnswer::Which,
            };
        }
        OfferAnswer::Nothing
    }

    fn broken_rule(&self, def: &SlotDef, value: &Value) -> Option<String> {
        for rule in &def.rules {
            let ok = match rule {
                SlotRule::Future => datetime_is_future(value, self.now),
                SlotRule::MinLength(n) => value.as_str().is_none_or(|t| t.chars().count() >= *n),
                SlotRule::MaxLength(n) => value.as_str().is_none_or(|t| t.chars().count() <= *n),
                // The validator refuses flows whose patterns do not compile.
                SlotRule::Pattern(source) => {
                    match (self.engine.patterns.get(source), value.as_str()) {
                        (Some(re), Some(t)) => re.is_match(t),
                        _ => true,
                    }
                }
                SlotRule::Min(n) => value.as_i64().is_none_or(|v| v >= *n),
                SlotRule::Max(n) => value.as_i64().is_none_or(|v| v <= *n),
            };
            if !ok {
                return Some(rule_name(rule).to_string());
            }
        }
        None
    }
}

fn rule_name(rule: &SlotRule) -> &'static str {
    match rule {
        SlotRule::Future => "future",
        SlotRule::MinLength(_) => "min_length",
        SlotRule::MaxLength(_) => "max_length",
        SlotRule::Pattern(_) => "pattern",
        SlotRule::Min(_) => "min",
        SlotRule::Max(_) => "max",
    }
}

/// The words answer a yes/no question, read against it (its `affirm` and `deny` words).
fn says_yes_or_no(def: &SlotDef, norm: &str) -> bool {
    let context = YesNoContext {
        affirm: &def.affirm,
        deny: &def.deny,
    };
    extract_yes_no_in(norm, &context).is_some()
}

fn contains_words(norm: &str, phrase: &str) -> bool {
    crate::triggers::contains_phrase(norm, phrase)
}

fn hhmm(t: Time) -> String {
    format!("{:02}:{:02}", t.hour(), t.minute())
}

fn datetime_json(date: Date, time: Option<Time>) -> Value {
    json!({ "date": date.to_string(), "time": time.map(hhmm), "earliest": null, "latest": null })
}

/// The JSON form of a datetime slot: `{date, time, earliest, latest}`, each a string or null,
/// and `prefer` (`"first"` or `"last"` start of the day) only when the caller said which.
pub fn mention_json(m: &DateTimeMention) -> Value {
    let mut value = json!({
        "date": m.date.map(|d| d.to_string()),
        "time": m.time.map(hhmm),
        "earliest": m.earliest.map(hhmm),
        "latest": m.latest.map(hhmm),
    });
    if let (Some(prefer), Some(obj)) = (m.prefer, value.as_object_mut()) {
        obj.insert("prefer".into(), json!(prefer.as_str()));
    }
    value
}

/// A correction keeps what it does not mention: "make it Thursday" keeps the time.
fn merge_datetime(old: &Value, new: &Value) -> Value {
    let mut merged = new.clone();
    let has = |v: &Value, k: &str| v.get(k).is_some_and(|x| !x.is_null());
    if let Some(obj) = merged.as_object_mut() {
        if !has(new, "date") && has(old, "date") {
            obj.insert("date".into(), old["date"].clone());
        }
        let new_has_clock = ["time", "earliest", "latest", "prefer"]
            .iter()
            .any(|k| has(new, k));
        if !new_has_clock {
            for k in ["time", "earliest", "latest"] {
                obj.insert(k.into(), old.get(k).cloned().unwrap_or(Value::Null));
            }
            if has(old, "prefer") {
                obj.insert("prefer".into(), old["prefer"].clone());
            }
        }
    }
    merged
}

fn datetime_is_future(value: &Value, now: DateTime) -> bool {
    let date = value
        .get("date")
        .and_then(Value::as_str)
        .and_then(|d| d.parse::<Date>().ok());
    let time = value
        .get("time")
        .and_then(Value::as_str)
        .and_then(|t| t.parse::<Time>().ok());
    match (date, time) {
        (Some(d), _) if d < now.date() => false,
        (Some(d), Some(t)) if d == now.date() => t > now.time(),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrections_keep_what_they_do_not_mention() {
        let old = json!({"date": "2026-06-02", "time": "14:00", "earliest": null, "latest": null});
        let new = json!({"date": "2026-06-04", "time": null, "earliest": null, "latest": null});
        assert_eq!(
            merge_datetime(&old, &new),
            json!({"date": "2026-06-04", "time": "14:00", "earliest": null, "latest": null})
        );
    }

    #[test]
    fn a_new_day_keeps_the_wish_for_the_last_start() {
        let old = json!({"date": "2026-06-04", "time": null, "earliest": null, "latest": null, "prefer": "last"});
        let new = json!({"date": "2026-06-05", "time": null, "earliest": null, "latest": null});
        assert_eq!(
            merge_datetime(&old, &new),
            json!({"date": "2026-06-05", "time": null, "earliest": null, "latest": null, "prefer": "last"})
        );
        // A clock time replaces the wish.
        let at_ten = json!({"date": null, "time": "10:00", "earliest": null, "latest": null});
        assert_eq!(
            merge_datetime(&old, &at_ten),
            json!({"date": "2026-06-04", "time": "10:00", "earliest": null, "latest": null})
        );
    }

    #[test]
    fn prefer_appears_only_when_said() {
        let mut m = DateTimeMention {
            date: None,
            time: None,
            earliest: None,
            latest: None,
            prefer: None,
        };
        assert!(mention_json(&m).get("prefer").is_none());
        m.prefer = Some(crate::extract::datetime::StartPreference::First);
        assert_eq!(mention_json(&m)["prefer"], json!("first"));
    }

    #[test]
    fn past_times_are_not_future() {
        let now: DateTime = "2026-06-01T09:12".parse().unwrap();
        assert!(!datetime_is_future(&json!({"date": "2026-05-31"}), now));
        assert!(!datetime_is_future(
            &json!({"date": "2026-06-01", "time": "08:00"}),
            now
        ));
        assert!(datetime_is_future(
            &json!({"date": "2026-06-01", "time": "14:00"}),
            now
        ));
        assert!(datetime_is_future(
            &json!({"date": null, "time": "08:00"}),
            now
        ));
    }
}
