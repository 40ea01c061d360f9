//! What the caller wants: hazards first, then a person, then the flow their words are closest
//! to (examples and keywords together), asking one short question when it is not clear.

use serde_json::json;

use super::globals::is_question;
use super::{INTENT_PRIORITY, RULED_OUT, StepError, Turn};
use crate::extract::normalize::normalize;
use crate::extract::yes_no::extract_yes_no;
use crate::session::{Pending, Session};
use crate::triggers::{Hit, Meaning};
use crate::understand::Reading;
use crate::understand::hazards::HazardFinding;

/// A keyword's weight next to the example scores: its trigger priority times this, at most
/// [`KEYWORD_BONUS_MAX`]. A "reschedule" (priority 20) weighs 0.2, a symptom (5) 0.05.
const KEYWORD_BONUS_PER_PRIORITY: f32 = 0.01;
const KEYWORD_BONUS_MAX: f32 = 0.2;
/// Keywords at or above this priority are requests even when phrased as a question ("is it
/// too late to reschedule").
const REQUEST_PRIORITY: i32 = 20;
/// Added to the questions flow when the words ask for information ("how much is", "do you").
const QUESTION_BONUS: f32 = 0.1;
/// Below this the words are not a request at all.
const NOTHING_BELOW: f32 = 0.12;
/// Added to the two flows the clarifying question named when reading its answer.
const CLARIFIED_BONUS: f32 = 0.1;
/// How much more another flow must score than the active one to take over mid-flow.
const SWITCH_MARGIN: f32 = 0.15;
/// The least score of a flow that takes over mid-flow.
const SWITCH_MIN: f32 = 0.45;

/// The keyword group that named `flow`, if the caller said one (for its `set` and `fill`).
fn keyword_group(hits: &[Hit], flow: &str) -> Option<usize> {
    hits.iter().find_map(|h| match &h.meaning {
        Meaning::Flow { flow: f, group } if f == flow => Some(*group),
        _ => None,
    })
}

/// What an utterance asks for.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Intent {
    /// Start this flow (with the keyword group that matched, for its `set` and `fill`).
    Flow {
        flow: String,
        group: Option<usize>,
        confidence: f32,
    },
    /// A question for the knowledge base.
    Question { confidence: f32 },
    /// Two flows are about as likely: ask.
    Unclear {
        choices: Vec<String>,
        confidence: f32,
    },
    /// Nothing we do.
    Nothing,
}

impl Intent {
    pub(crate) fn confidence(&self) -> f32 {
        match self {
            Intent::Flow { confidence, .. }
            | Intent::Question { confidence }
            | Intent::Unclear { confidence, .. } => *confidence,
            Intent::Nothing => 0.0,
        }
    }
}

impl Turn<'_> {
    /// Flow scores: examples, plus keywords said; best first.
    pub(crate) fn flow_scores(
        &self,
        reading: &Reading,
        hits: &[Hit],
        norm: &str,
    ) -> Vec<(String, f32)> {
        let mut scores: Vec<(String, f32)> = self
            .engine
            .understanding
            .intents(reading)
            .iter()
            .map(|l| (l.label.clone(), l.score))
            .collect();
        let asks = self.asks_for_information(norm);
        // "cancel my estimate": the request word decides; the service it names is a mention.
        let requested = hits
            .iter()
            .any(|h| matches!(h.meaning, Meaning::Flow { .. }) && h.priority >= REQUEST_PRIORITY);
        let mut bonus: Vec<(String, f32)> = Vec::new();
        for hit in hits {
            let Meaning::Flow { flow, .. } = &hit.meaning else {
                continue;
            };
            // A question that mentions a symptom or a service is asked, not a request.
            if (asks || requested) && hit.priority < REQUEST_PRIORITY {
                continue;
            }
            let weight = (hit.priority as f32 * KEYWORD_BONUS_PER_PRIORITY).min(KEYWORD_BONUS_MAX);
            match bonus.iter_mut().find(|(f, _)| f == flow) {
                Some((_, b)) => *b = b.max(weight),
                None => bonus.push((flow.clone(), weight)),
            }
        }
        // A question the business's own knowledge answers is most likely just that.
        let questions = self.engine.globals.questions.flow.value.clone();
        // "can you put in a humidifier" asks for work, not for an answer.
        let asks_something = asks || reading.asks_information;
        if asks_something && self.best_answer(norm).is_some() {
            bonus.push((questions, QUESTION_BONUS));
        } else if asks {
            bonus.push((questions, QUESTION_BONUS / 2.0));
        }
        for (flow, b) in bonus {
            match scores.iter_mut().find(|(f, _)| *f == flow) {
                Some((_, score)) => *score += b,
                None => scores.push((flow, b)),
            }
        }
        scores.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scores
    }

    /// The intent of an utterance said when no flow is active.
    pub(crate) fn opening_intent(&self, reading: &Reading, hits: &[Hit], norm: &str) -> Intent {
        // Words that name nothing ("hey it's me", "i have a question") start nothing: the
        // examples they share words with would only be guessed at.
        if hits.is_empty() && reading.said.is_empty() && !crate::knowledge::names_a_topic(norm) {
            return Intent::Nothing;
        }
        let scores = self.flow_scores(reading, hits, norm);
        let questions = &self.engine.globals.questions.flow.value;
        let human = self.engine.globals.human.flow.as_ref().map(|f| &f.value);
        let Some((top, top_score)) = scores.first().cloned() else {
            return if is_question(norm) {
                Intent::Question { confidence: 0.5 }
            } else {
                Intent::Nothing
            };
        };
        let second = scores.get(1).cloned();
        // How far ahead the best flow is, relative to its score.
        let confidence = match &second {
            Some((_, s)) if top_score > 0.0 => ((top_score - s) / top_score).clamp(0.0, 1.0),
            _ => 1.0,
        };
        if top_score < NOTHING_BELOW {
            return if is_question(norm) {
                Intent::Question { confidence }
            } else {
                Intent::Nothing
            };
        }
        if &top == questions {
            return Intent::Question { confidence };
        }
        // Between the flows the clarifying question may name, the best two too close to call.
        let offerable = &self.engine.globals.intent.clarify_between;
        let listed: Vec<&(String, f32)> = scores
            .iter()
            .filter(|(f, _)| offerable.is_empty() || offerable.iter().any(|o| &o.value == f))
            .filter(|(f, _)| f != questions && Some(f) != human)
            .take(2)
            .collect();
        // The caller said the request word of exactly one of the two ("so cancel that"):
        // that answers the clarifying question before it is asked.
        let requested: Vec<&String> = hits
            .iter()
            .filter(|h| h.priority >= REQUEST_PRIORITY)
            .filter_map(|h| match &h.meaning {
                Meaning::Flow { flow, .. } => Some(flow),
                _ => None,
            })
            .collect();
        if let [(first, first_score), (second, second_score)] = listed[..]
            && *first == top
            && *first_score > 0.0
            && f64::from((first_score - second_score) / first_score)
                < self.engine.globals.intent.min_confidence
        {
            let said_one = |f: &String| requested.contains(&f);
            if said_one(first) != said_one(second) {
                let flow = if said_one(first) { first } else { second };
                return Intent::Flow {
                    flow: flow.clone(),
                    group: keyword_group(hits, flow),
                    confidence,
                };
            }
            return Intent::Unclear {
                choices: vec![first.clone(), second.clone()],
                confidence,
            };
        }
        Intent::Flow {
            group: keyword_group(hits, &top),
            flow: top,
            confidence,
        }
    }

    /// Another flow the caller clearly asks for while in `current` ("actually can we just move
    /// it" while cancelling), if any.
    pub(crate) fn switch_to(
        &self,
        reading: &Reading,
        hits: &[Hit],
        norm: &str,
        current: &str,
    ) -> Option<(String, Option<usize>)> {
        let scores = self.flow_scores(reading, hits, norm);
        let (top, top_score) = scores.first()?.clone();
        let questions = &self.engine.globals.questions.flow.value;
        if top == current || &top == questions || top_score < SWITCH_MIN {
            return None;
        }
        let current_score = scores
            .iter()
            .find(|(f, _)| f == current)
            .map_or(0.0, |(_, s)| *s);
        if top_score - current_score < SWITCH_MARGIN {
            return None;
        }
        let group = hits.iter().find_map(|h| match &h.meaning {
            Meaning::Flow { flow, group } if *flow == top && h.priority >= INTENT_PRIORITY => {
                Some(*group)
            }
            _ => None,
        });
        // Only a request said in so many words moves the caller to another flow.
        group.map(|g| (top, Some(g)))
    }

    /// Starts the flow that handles a hazard, or asks the safety question when the evidence
    /// is split. Returns false when the hazard's flow is the one already running.
    pub(crate) fn on_hazard(
        &mut self,
        s: &mut Session,
        finding: &HazardFinding,
        text: &str,
        norm: &str,
    ) -> Result<bool, StepError> {
        match finding {
            HazardFinding::Present { flow, hazard } => {
                if s.flow.as_deref() == Some(flow.as_str()) {
                    return Ok(false);
                }
                self.event("hazard", json!({ "hazard": hazard }));
                s.vars.insert("hazard".into(), json!(hazard));
                self.start_flow(s, flow, None, text, norm)?;
            }
            HazardFinding::Unsure {
                flow,
                hazard,
                check,
            } => {
                if s.flow.as_deref() == Some(flow.as_str()) {
                    return Ok(false);
                }
                self.event("hazard_unsure", json!({ "hazard": hazard }));
                if let Some(lead_in) = self.engine.globals.intent.safety_lead_in.clone() {
                    self.say(s, &lead_in.value, true, None)?;
                }
                self.say(s, check, true, None)?;
                s.pending = Some(Pending::SafetyCheck {
                    flow: flow.clone(),
                    hazard: hazard.clone(),
                    text: text.to_string(),
                });
                self.listen(s);
            }
        }
        Ok(true)
    }

    /// The answer to the safety question: yes (or anything but a clear no) is the hazard; a
    /// clear no goes back to what the caller first asked for.
    pub(crate) fn on_safety_answer(
        &mut self,
        s: &mut Session,
        flow: &str,
        hazard: &str,
        first_words: &str,
        norm: &str,
    ) -> Result<(), StepError> {
        if extract_yes_no(norm) == Some(false) {
            self.event("hazard_ruled_out", json!({ "hazard": hazard }));
            let list = s.vars.entry(RULED_OUT.to_string()).or_insert(json!([]));
            if let Some(list) = list.as_array_mut() {
                list.push(json!(hazard));
            }
            let first = normalize(first_words);
            let reading = self.engine.understanding.read(&first);
            let hits = self.engine.triggers.find(&first);
            return self.act_on_opening(s, first_words, &first, &reading, &hits);
        }
        let finding = HazardFinding::Present {
            flow: flow.to_string(),
            hazard: hazard.to_string(),
        };
        self.on_hazard(s, &finding, first_words, norm).map(|_| ())
    }

    /// The caller's answer to "is this about A or B?".
    pub(crate) fn on_clarified(
        &mut self,
        s: &mut Session,
        choices: &[String],
        first_words: &str,
        text: &str,
        norm: &str,
        (answer_reading, answer_hits): (&Reading, &[Hit]),
    ) -> Result<(), StepError> {
        let words: Vec<&str> = norm.split_whitespace().collect();
        let ordinal = if words.iter().any(|w| matches!(*w, "first" | "former")) {
            Some(0)
        } else if words
            .iter()
            .any(|w| matches!(*w, "second" | "latter" | "last"))
        {
            Some(1)
        } else {
            None
        };
        let together = normalize(&format!("{first_words} {text}"));
        let reading = self.engine.understanding.read(&together);
        let hits = self.engine.triggers.find(&together);
        let score_of = |scores: &[(String, f32)], flow: &str| {
            scores
                .iter()
                .find(|(f, _)| f == flow)
                .map_or(0.0, |(_, s)| *s)
        };
        let answer_scores = self.flow_scores(answer_reading, answer_hits, norm);
        let scores = self.flow_scores(&reading, &hits, &together);
        // The answer may also name something else entirely ("neither, i need to cancel").
        let questions = &self.engine.globals.questions.flow.value;
        let pick = ordinal.and_then(|i| choices.get(i)).cloned().or_else(|| {
            let candidates = answer_scores
                .iter()
                .map(|(f, _)| f)
                .filter(|f| *f != questions);
            candidates
                .max_by(|a, b| {
                    let weigh = |f: &String| {
                        let asked = if choices.contains(f) {
                            CLARIFIED_BONUS
                        } else {
                            0.0
                        };
                        score_of(&answer_scores, f) + score_of(&scores, f) + asked
                    };
                    weigh(a).total_cmp(&weigh(b))
                })
                .cloned()
        });
        match pick {
            Some(flow) => {
                let group = keyword_group(&hits, &flow);
                self.event("intent", json!({ "flow": flow, "clarified": true }));
                self.start_flow(s, &flow, group, first_words, &normalize(first_words))
            }
            None => self.not_understood(s),
        }
    }

    /// The question an opening starts with, when a request follows it in another clause and
    /// the knowledge base answers it.
    fn leading_question(&self, reading: &Reading, norm: &str) -> Option<String> {
        let first = reading.clauses.first().filter(|c| c.question)?;
        if reading.clauses.len() < 2 {
            return None;
        }
        let tokens: Vec<&str> = norm.split_whitespace().collect();
        let question = tokens.get(first.start..first.end)?.join(" ");
        (self.shaped_as_information_question(&question) && self.best_answer(&question).is_some())
            .then_some(question)
    }

    /// Acts on what an opening asks for.
    pub(crate) fn act_on_opening(
        &mut self,
        s: &mut Session,
        text: &str,
        norm: &str,
        reading: &Reading,
        hits: &[Hit],
    ) -> Result<(), StepError> {
        let intent = self.opening_intent(reading, hits, norm);
        self.event(
            "intent",
            json!({
                "intent": match &intent {
                    Intent::Flow { flow, .. } => flow.clone(),
                    Intent::Question { .. } => "question".to_string(),
                    Intent::Unclear { .. } => "unclear".to_string(),
                    Intent::Nothing => "nothing".to_string(),
                },
                "confidence": (intent.confidence() * 100.0).round() / 100.0,
            }),
        );
        match intent {
            Intent::Flow { flow, group, .. } => {
                if self.engine.globals.human.flow.as_ref().map(|f| &f.value) == Some(&flow) {
                    return self.human(s);
                }
                // "are you open tomorrow, i need someone to look at my ac": the question is
                // answered first, then the request goes ahead.
                if let Some(question) = self.leading_question(reading, norm) {
                    let prompt = self.engine.globals.questions.answer.value.clone();
                    if self.speak_answer(s, &prompt, &question, true)? {
                        s.outcomes.push(crate::flow::model::Outcome::Answered);
                    }
                }
                self.start_flow(s, &flow, group, text, norm)
            }
            // Read as a question: the questions flow answers it, or says it has no answer and
            // offers a person.
            Intent::Question { .. } => self.ask_questions_flow(s, text, norm),
            Intent::Unclear { choices, .. } => {
                let prompt = self.engine.globals.intent.clarify.value.clone();
                self.say(s, &prompt, true, Some(json!({ "choices": choices })))?;
                s.pending = Some(Pending::Clarify {
                    choices,
                    text: text.to_string(),
                });
                self.listen(s);
                Ok(())
            }
            Intent::Nothing => {
                if self.only_greets(norm) {
                    return self.hello(s);
                }
                if !(norm.split_whitespace().count() > 2 && self.start_question(s, text, norm)?) {
                    self.not_understood(s)?;
                }
                Ok(())
            }
        }
    }
}
