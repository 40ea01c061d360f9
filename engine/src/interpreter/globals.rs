//! The patterns that work in every state: silence, not understood, a person, goodbye,
//! questions from the knowledge base, repeat.

use serde_json::json;

use super::{REPEAT_MAX_WORDS, StepError, Turn};
use crate::extract::normalize::normalize;
use crate::flow::model::{FlowDef, HandoffTarget, Outcome, SlotType};
use crate::knowledge::looks_like_question;
use crate::session::{KnowledgeAnswer, Output, Passage, Pending, Session};
use crate::triggers::{GlobalKind, Hit, Meaning};
use crate::understand::Reading;

/// Longest "hold on, let me grab my calendar" taken as only a request to wait.
const WAIT_MAX_WORDS: usize = 12;

/// Knowledge sections offered to a model as grounds for one answer.
const MAX_PASSAGES: usize = 3;

impl<'e> Turn<'e> {
    pub(crate) fn on_silence(&mut self, s: &mut Session) -> Result<(), StepError> {
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
    pub(crate) fn ask_again(&mut self, s: &mut Session, reprompt: bool) -> Result<(), StepError> {
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
        } else if s.flow.is_none() && s.pending.is_some() {
            // A question about what the caller meant is still open: ask it again.
            for text in s.last_said.clone() {
                self.out.push(Output::Say {
                    text,
                    interruptible: true,
                });
            }
        } else if s.flow.is_none() {
            let menu = self.engine.globals.menu.value.clone();
            self.say(s, &menu, true, None)?;
        }
        self.listen(s);
        Ok(())
    }

    /// Failed attempts at a slot before the call goes to a person: the slot's own
    /// `max_attempts`, else the global no-match limit.
    pub(crate) fn max_attempts(&self, flow: &FlowDef, slot: &str) -> u32 {
        flow.slots
            .get(slot)
            .and_then(|d| d.max_attempts)
            .unwrap_or(self.engine.globals.no_match.max_attempts)
    }

    pub(crate) fn no_match(&mut self, s: &mut Session) -> Result<(), StepError> {
        s.attempts += 1;
        let (flow, state) = self.current(s)?;
        let max = match &state.collect {
            Some(slot) => self.max_attempts(flow, &slot.value),
            None => self.engine.globals.no_match.max_attempts,
        };
        if s.attempts >= max {
            return self.escalate(s);
        }
        // A question the knowledge base has nothing for is not "didn't catch that": the prompt
        // can say so and point to a person.
        let question_unanswered = s.heard.last().is_some_and(|heard| {
            let norm = normalize(heard);
            is_question(&norm) && self.best_answer(&norm).is_none()
        });
        // A yes/no question that got neither is asked for what it needs, in words of its own.
        let yes_no = state
            .collect
            .as_ref()
            .and_then(|c| flow.slots.get(&c.value))
            .is_some_and(|d| d.kind == SlotType::YesNo);
        let no_match = &self.engine.globals.no_match;
        let say = match &no_match.yes_no {
            Some(prompt) if yes_no && !question_unanswered && !s.vars.contains_key("rejected") => {
                prompt.value.clone()
            }
            _ => no_match.say.value.clone(),
        };
        self.say(
            s,
            &say,
            true,
            Some(json!({ "question_unanswered": question_unanswered })),
        )?;
        if question_unanswered && let Some(flow) = &self.engine.globals.human.flow {
            // The prompt points to a person: "yes, please" takes that offer.
            s.pending = Some(Pending::Offer {
                flow: flow.value.clone(),
            });
        }
        s.vars.remove("rejected");
        self.ask_again(s, true)
    }

    pub(crate) fn not_understood(&mut self, s: &mut Session) -> Result<(), StepError> {
        s.attempts += 1;
        if s.attempts >= self.engine.globals.no_match.max_attempts {
            return self.escalate(s);
        }
        let prompt = self.engine.globals.not_understood.value.clone();
        self.say(s, &prompt, true, None)?;
        self.listen(s);
        Ok(())
    }

    pub(crate) fn escalate(&mut self, s: &mut Session) -> Result<(), StepError> {
        self.event("escalated", json!({ "attempts": s.attempts }));
        // Prompts may tell a caller we could not understand from one who asked for a person.
        s.vars.insert("escalated".into(), json!(true));
        let flow = self.engine.globals.no_match.escalate.value.clone();
        self.start_flow(s, &flow, None, "", "")
    }

    /// The flow turned away the caller's answer for `slot` once too often (the start they
    /// keep asking for is full): a person takes over. Prompts see `vars.refused`, the slot.
    pub(crate) fn escalate_refused(
        &mut self,
        s: &mut Session,
        slot: &str,
        refusals: u32,
    ) -> Result<(), StepError> {
        self.event(
            "escalated",
            json!({ "slot": slot, "refusals": refusals, "reason": "refused" }),
        );
        s.vars.insert("escalated".into(), json!(true));
        s.vars.insert("refused".into(), json!(slot));
        let flow = self.engine.globals.no_match.escalate.value.clone();
        self.start_flow(s, &flow, None, "", "")
    }

    pub(crate) fn human(&mut self, s: &mut Session) -> Result<(), StepError> {
        let g = &self.engine.globals.human;
        if let Some(say) = g.say.clone() {
            self.say(s, &say.value, true, None)?;
        }
        match g.flow.clone() {
            Some(flow) => self.start_flow(s, &flow.value, None, "", ""),
            None => {
                let to = self.engine.business.phones.at(self.now).human;
                self.transfer(s, HandoffTarget::Human, to);
                Ok(())
            }
        }
    }

    /// "This is ridiculous": an apology, then a person.
    pub(crate) fn frustrated(&mut self, s: &mut Session) -> Result<(), StepError> {
        self.event("frustration", json!({}));
        let Some(pattern) = self.engine.globals.frustration.clone() else {
            return self.human(s);
        };
        if let Some(say) = &pattern.say {
            self.say(s, &say.value, true, None)?;
        }
        match &pattern.flow {
            Some(flow) if self.engine.globals.human.flow.as_ref() == Some(flow) => {
                s.vars.insert("frustrated".into(), json!(true));
                self.start_flow(s, &flow.value, None, "", "")
            }
            Some(flow) => self.start_flow(s, &flow.value, None, "", ""),
            None => self.human(s),
        }
    }

    /// "Can you hear me?": yes, and the question again.
    pub(crate) fn line_check(&mut self, s: &mut Session) -> Result<(), StepError> {
        if let Some(say) = self
            .engine
            .globals
            .line_check
            .as_ref()
            .and_then(|p| p.say.clone())
        {
            self.say(s, &say.value, true, None)?;
        }
        for text in s.last_said.clone() {
            self.out.push(Output::Say {
                text,
                interruptible: true,
            });
        }
        self.listen(s);
        Ok(())
    }

    /// Whether the caller only greeted ("hi there", "um hello"): nothing but the `hello`
    /// pattern's words and lead-ins.
    pub(crate) fn only_greets(&self, norm: &str) -> bool {
        let Some(pattern) = &self.engine.globals.hello else {
            return false;
        };
        let mut rest = format!(" {norm} ");
        let mut greeted = false;
        // Longest first: "hey there" before "hey", or "there" would be left over.
        let mut phrases: Vec<String> = pattern
            .keywords
            .iter()
            .map(|k| crate::extract::normalize::normalize(k))
            .filter(|p| !p.is_empty())
            .collect();
        phrases.sort_by_key(|p| std::cmp::Reverse(p.len()));
        for phrase in phrases {
            let phrase = format!(" {phrase} ");
            while rest.contains(&phrase) {
                rest = rest.replacen(&phrase, " ", 1);
                greeted = true;
            }
        }
        greeted
            && rest
                .split_whitespace()
                .all(|w| DISCOURSE_LEAD_INS.contains(&w))
    }

    /// "Hi there": greeted back, and asked how to help; no attempt is spent.
    pub(crate) fn hello(&mut self, s: &mut Session) -> Result<(), StepError> {
        if let Some(say) = self
            .engine
            .globals
            .hello
            .as_ref()
            .and_then(|p| p.say.clone())
        {
            self.say(s, &say.value, true, None)?;
        }
        self.listen(s);
        Ok(())
    }

    /// "Hold on a sec": the agent waits; the open question stays open and no attempt is spent.
    pub(crate) fn wait(&mut self, s: &mut Session) -> Result<(), StepError> {
        if let Some(say) = self
            .engine
            .globals
            .wait
            .as_ref()
            .and_then(|p| p.say.clone())
        {
            self.say(s, &say.value, true, None)?;
        }
        self.listen(s);
        Ok(())
    }

    /// A request to wait that carries nothing else the flow could use: no hazard, no other
    /// request, no answer to the open question.
    pub(crate) fn only_asks_to_wait(&self, norm: &str, reading: &Reading, hits: &[Hit]) -> bool {
        reading.hazard.is_none()
            && norm.split_whitespace().count() <= WAIT_MAX_WORDS
            && !hits.iter().any(|h| {
                matches!(
                    h.meaning,
                    Meaning::Flow { .. } | Meaning::Global(GlobalKind::Human)
                )
            })
    }

    /// Starts the questions flow for a question (or a statement the knowledge answers).
    /// Returns false, saying nothing, when it is neither.
    pub(crate) fn start_question(
        &mut self,
        s: &mut Session,
        text: &str,
        norm: &str,
    ) -> Result<bool, StepError> {
        if self.best_answer(norm).is_none() && !is_question(norm) {
            return Ok(false);
        }
        self.ask_questions_flow(s, text, norm)?;
        Ok(true)
    }

    /// Starts the questions flow for `text`, with the knowledge base's answer if it has one.
    pub(crate) fn ask_questions_flow(
        &mut self,
        s: &mut Session,
        text: &str,
        norm: &str,
    ) -> Result<(), StepError> {
        let answer = self.best_answer(norm);
        s.vars.insert("question".into(), json!(text));
        s.vars.insert(
            "answer".into(),
            answer
                .map(serde_json::Value::String)
                .unwrap_or(serde_json::Value::Null),
        );
        let flow = self.engine.globals.questions.flow.value.clone();
        self.start_flow(s, &flow, None, text, norm)
    }

    pub(crate) fn goodbye(&mut self, s: &mut Session) -> Result<(), StepError> {
        if let Some(say) = self.engine.globals.goodbye.say.clone() {
            self.say(s, &say.value, true, None)?;
        }
        self.leave_flow(s);
        self.hang_up(s);
        Ok(())
    }

    /// Answers a question from the knowledge base mid-flow, then asks the flow's question again.
    pub(crate) fn answer_question(
        &mut self,
        s: &mut Session,
        text: &str,
        norm: &str,
    ) -> Result<bool, StepError> {
        if !is_question(norm) {
            return Ok(false);
        }
        let prompt = self.engine.globals.questions.answer.value.clone();
        if !self.speak_answer(s, &prompt, text, true)? {
            return Ok(false);
        }
        s.outcomes.push(Outcome::Answered);
        self.ask_again(s, false)?;
        Ok(true)
    }

    /// Answers `question` from the knowledge base with `prompt`, which reads the best passage
    /// (`answer` in its context). The runtime may have a model phrase it from the passages
    /// instead. Returns false, saying nothing, when no passage is relevant.
    pub(crate) fn speak_answer(
        &mut self,
        s: &Session,
        prompt: &str,
        question: &str,
        interruptible: bool,
    ) -> Result<bool, StepError> {
        let passages: Vec<Passage> = self
            .engine
            .knowledge
            .search(&normalize(question), MAX_PASSAGES)
            .into_iter()
            .map(|(entry, _)| Passage {
                id: entry.id.clone(),
                title: entry.title.clone(),
                text: entry.text.clone(),
            })
            .collect();
        let Some(best) = passages.first() else {
            return Ok(false);
        };
        let text = self.render_text(s, prompt, Some(json!({ "answer": best.text })))?;
        self.event(
            "question_answered",
            json!({ "answer": best.text, "passage": best.id }),
        );
        if !text.is_empty() {
            self.out.push(Output::Answer {
                answer: KnowledgeAnswer {
                    question: question.to_string(),
                    passages,
                    text,
                    interruptible,
                },
            });
        }
        Ok(true)
    }

    pub(crate) fn best_answer(&self, norm: &str) -> Option<String> {
        self.engine
            .knowledge
            .search(norm, 1)
            .first()
            .map(|(entry, _)| entry.text.clone())
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
pub(crate) fn is_question(norm: &str) -> bool {
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

impl Turn<'_> {
    /// "what?", "huh", "say that again", "sorry can you repeat that": a short utterance that is
    /// only a request to hear the last prompt again. A single repeat word ("sorry", "what")
    /// counts only in a very short utterance; a phrase ("say that again") in a short one.
    pub(crate) fn asks_to_repeat(&self, norm: &str, word_count: usize) -> bool {
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
    pub(crate) fn asks_for_information(&self, norm: &str) -> bool {
        self.shaped_as_information_question(norm)
            && crate::extract::datetime::extract_datetime(norm, self.now, false).is_none()
    }

    /// The shape of a question for information, whatever day it names ("are you open
    /// tomorrow").
    pub(crate) fn shaped_as_information_question(&self, norm: &str) -> bool {
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
        match rest {
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
        }
    }
}
