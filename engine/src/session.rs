//! Per-call state, and what goes into and comes out of one engine turn.
//!
//! A [`Session`] is plain serde data so that it can live in a session store (memory, Redis)
//! between webhook turns.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::flow::model::{Outcome, SlotType};

/// Who is calling whom.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallInfo {
    /// Twilio's CallSid, or any unique id.
    pub id: String,
    /// The caller's number (E.164) when known.
    pub caller: Option<String>,
    /// The number that was dialled.
    pub called: Option<String>,
    /// What the business knows of the caller, looked up by caller ID before the greeting
    /// (`name`, `vehicles`); templates read it as `call.customer`.
    #[serde(default)]
    pub customer: Option<serde_json::Value>,
}

/// Everything the engine remembers about one call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Session {
    /// Who called whom, and the call's id.
    pub call: CallInfo,
    /// The active flow, if any.
    pub flow: Option<String>,
    /// The active state of that flow.
    pub state: Option<String>,
    /// Slot values of the active flow (JSON; `null` when empty).
    pub slots: BTreeMap<String, Value>,
    /// Values flows keep: trigger `set`s and saved tool results.
    pub vars: BTreeMap<String, Value>,
    /// The last tool result.
    pub result: Value,
    /// A tool call is out and its result awaited.
    pub awaiting_tool: Option<String>,
    /// Failed attempts in the current state.
    pub attempts: u32,
    /// Per slot of the active flow: answers the flow took and then asked for again (a start
    /// that is full, a read-back the caller said no to), counted across states.
    #[serde(default)]
    pub refusals: BTreeMap<String, u32>,
    /// Silences in a row.
    pub silences: u32,
    /// What the agent said on its last turn (for "what?").
    pub last_said: Vec<String>,
    /// What each finished flow achieved, in order.
    pub outcomes: Vec<Outcome>,
    /// Where the call was transferred, if it was.
    pub transfer_to: Option<String>,
    /// The call is over.
    pub ended: bool,
    /// Caller turns so far.
    pub turns: u32,
    /// What the caller said, in order (for prompts, tools and later for the LLM).
    pub heard: Vec<String>,
    /// What the agent was saying when the caller cut in, if it was.
    pub interrupted: Option<String>,
    /// The runtime can ask a language model for slot values the rules missed.
    #[serde(default)]
    pub model_available: bool,
    /// A model extraction is out for this utterance; its values are awaited.
    #[serde(default)]
    pub awaiting_model: Option<String>,
    /// The rules already filled other slots from that utterance, just not the one asked:
    /// without values from the model the flow goes on from there.
    #[serde(default)]
    pub model_after_partial_rules: bool,
    /// A question the agent asked about what the caller meant, whose answer is awaited.
    #[serde(default)]
    pub pending: Option<Pending>,
    /// The most urgent level the call reached (the business's `urgency` levels).
    #[serde(default)]
    pub urgency: Option<String>,
}

/// What the agent asked about the caller's meaning, and what the answer decides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Pending {
    /// "Is this about a new visit, or one you already have?": one of `choices` (flow names)
    /// for what the caller said first (`text`).
    Clarify { choices: Vec<String>, text: String },
    /// The safety question of a hazard whose evidence was split.
    SafetyCheck {
        flow: String,
        hazard: String,
        text: String,
    },
    /// The agent offered to start `flow` ("I can connect you with a person"): a yes takes it.
    Offer { flow: String },
}

impl Session {
    /// A session for a call that has not started yet (see `Input::Start`).
    pub fn new(call: CallInfo) -> Session {
        Session {
            call,
            result: Value::Null,
            ..Session::default()
        }
    }

    /// The outcome of the call as a whole: the first thing it achieved that changed something,
    /// else an answered question, else nothing.
    pub fn outcome(&self) -> Outcome {
        let decisive = self
            .outcomes
            .iter()
            .find(|o| !matches!(o, Outcome::Answered | Outcome::Abandoned));
        match decisive {
            Some(o) => *o,
            None if self.outcomes.contains(&Outcome::Answered) => Outcome::Answered,
            None => Outcome::Abandoned,
        }
    }

    /// A filled slot of the current flow.
    pub fn slot(&self, name: &str) -> Option<&Value> {
        self.slots.get(name).filter(|v| !v.is_null())
    }

    /// Whether a language model may be asked to read answers the rules missed on this call.
    pub fn set_model_available(&mut self, available: bool) {
        self.model_available = available;
    }

    /// The runtime handed the call to a person at `to` outside the flows (a service failed
    /// mid-call): the call's outcome is a transfer.
    pub fn handed_to_person(&mut self, to: &str) {
        self.transfer_to = Some(to.to_string());
        self.outcomes.push(Outcome::Transferred);
    }

    /// A turn failed and the runtime handed the call to a person at `to`: the conversation is
    /// over.
    pub fn turn_failed(&mut self, to: &str) {
        self.handed_to_person(to);
        self.ended = true;
    }
}

/// What happens on the line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Input {
    /// The call was answered.
    Start,
    /// The caller said something (speech recognition text, with its confidence when known).
    Said {
        /// What was recognized.
        text: String,
        /// The recognizer's confidence, 0 to 1.
        #[serde(default)]
        confidence: Option<f32>,
    },
    /// Keypad digits.
    Digits {
        /// The digits pressed, in order.
        digits: String,
    },
    /// The caller said nothing within the timeout.
    NoInput,
    /// The result of a `CallTool` output.
    ToolResult {
        /// What the tool returned; `ok`/`error` say whether it failed.
        value: Value,
    },
    /// The answer to an `Extract` output: a phrase per slot, as the caller might have said it
    /// (empty when the model had nothing or could not be reached). The phrases go through the
    /// same extractors and rules as the caller's own words.
    Extracted {
        /// Slot name to phrase.
        values: BTreeMap<String, String>,
    },
    /// The caller talked over the agent; `heard_so_far` is what was played before the cut.
    Interrupted {
        /// The words of the cut line that were played.
        heard_so_far: String,
    },
    /// The caller hung up.
    Hangup,
}

/// What the engine asks the runtime to do, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Output {
    /// Speak this text. Non-interruptible text must be played to the end.
    Say {
        /// The words.
        text: String,
        /// Whether the caller may cut it short by talking.
        interruptible: bool,
    },
    /// Wait for the caller; `expecting` says what kind of answer, `hints` help recognition.
    Listen {
        /// The kind of answer asked for, if a slot is asked.
        expecting: Option<SlotType>,
        /// Words likely to be said (option names, locations) for the recognizer.
        hints: Vec<String>,
    },
    /// Run a tool and answer with `Input::ToolResult`.
    CallTool {
        /// The tool, one of the runtime's [`crate::ToolSpec`]s.
        name: String,
        /// Its arguments, rendered from the flow.
        args: Value,
    },
    /// Transfer the call.
    Transfer {
        /// The number to dial.
        to: String,
        /// Why: `human`, `emergency`, or the flow's reason.
        reason: String,
    },
    /// End the call.
    Hangup,
    /// Something worth recording (flow started, slot filled, outcome...).
    Event {
        /// What happened: `flow_started`, `slot_filled`, `hazard`, ...
        kind: String,
        /// Its details.
        detail: Value,
    },
    /// The rules found nothing in the caller's answer: ask a language model, and answer with
    /// `Input::Extracted`.
    Extract {
        /// What to ask the model.
        request: ModelRequest,
    },
    /// Answer the caller's question from the knowledge base: say `answer.text`, or let a
    /// language model phrase an answer from `answer.passages` alone. Nothing comes back: the
    /// engine has already moved on (the flow's question follows).
    Answer {
        /// The passages found, and the text to say without a model.
        answer: KnowledgeAnswer,
    },
}

impl Output {
    /// The words this output puts on the line without a model, if any.
    pub fn spoken_text(&self) -> Option<&str> {
        match self {
            Output::Say { text, .. } => Some(text),
            Output::Answer { answer } => Some(&answer.text),
            _ => None,
        }
    }
}

/// A question the knowledge base can answer, with what a model may use to phrase the answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KnowledgeAnswer {
    /// The caller's question, in their words.
    pub question: String,
    /// The most relevant knowledge sections, best first. A model may say only what is here.
    pub passages: Vec<Passage>,
    /// What to say without a model: the flow's answer prompt reading the best passage.
    pub text: String,
    /// Whether the caller may talk over the answer.
    pub interruptible: bool,
}

/// One knowledge section offered as grounds for an answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Passage {
    /// "services/heat-pumps".
    pub id: String,
    /// The section heading.
    pub title: String,
    /// The section text.
    pub text: String,
}

/// What a model needs to pull slot values out of an utterance the rules could not read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRequest {
    /// What the caller just said.
    pub utterance: String,
    /// The slot the agent asked for.
    pub asked: Option<String>,
    /// The agent's last words (the question on the table).
    pub question: Vec<String>,
    /// Empty slots of the active flow, the asked one first.
    pub slots: Vec<ModelSlot>,
    /// What the caller said before, oldest first.
    pub heard: Vec<String>,
    /// Today in the business's time zone (`YYYY-MM-DD`, weekday).
    pub today: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
/// A slot the model is asked to read from the caller's words.
pub struct ModelSlot {
    /// The slot's name.
    pub name: String,
    /// Its type.
    pub kind: SlotType,
    /// What it means, from the flow.
    pub description: Option<String>,
    /// Allowed values (choices, location names).
    pub options: Vec<String>,
}
