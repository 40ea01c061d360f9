//! The flow language: what a flow file and the global patterns file may say.
//!
//! These types are both the YAML format (serde) and its JSON Schema (schemars). Names that the
//! validator must point at carry their source position (`Spanned`).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;

use super::spanned_map::SpannedMap;
use super::understanding::{ConceptsDef, HazardDef, IntentDef, NumberConceptDef, ScopeDef};

/// A string with its position in the source file.
pub type Name = Spanned<String>;

/// One flow: a named state graph that collects slots, calls tools and ends with an outcome.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FlowDef {
    /// The flow's name, unique across the flows folder (e.g. `booking`).
    #[schemars(with = "String")]
    pub flow: Name,
    /// One line for humans and diagrams.
    pub description: String,
    /// Keyword groups that start this flow when no flow is active (or that interrupt any flow,
    /// for high-priority flows such as emergencies).
    #[serde(default)]
    pub triggers: Vec<TriggerGroup>,
    /// What callers say when they want this flow, in their own words. At load the engine builds
    /// a classifier from every flow's examples; a business owner reads and extends them.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub examples: Vec<Name>,
    /// Concepts of which a caller must say at least one for the examples to vote for this
    /// flow (nobody asks for a person without a word for a person or for talking). Keywords
    /// still start it. Empty: no such condition.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub requires: Vec<Name>,
    /// Word classes this flow's hazards and every flow's examples may use (names are shared by
    /// all files and must be unique).
    #[serde(default)]
    pub concepts: ConceptsDef,
    /// Numbers said in range that count as a concept ("a hundred and five out" is `hot`).
    #[serde(default)]
    pub numbers: Vec<NumberConceptDef>,
    /// Hazards this flow handles, by id; one said in any state starts this flow at once with
    /// `vars.hazard` set to its id.
    #[serde(default)]
    pub hazards: SpannedMap<HazardDef>,
    /// The values this flow collects, by slot name.
    #[serde(default)]
    pub slots: SpannedMap<SlotDef>,
    /// The urgency level a call reaches when this flow starts (one of the business's
    /// `urgency` levels); a starting trigger's `set: { urgency: .. }` names another.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub urgency: Option<Name>,
    /// The state the flow starts in.
    #[schemars(with = "String")]
    pub initial: Name,
    /// The states, by name.
    pub states: SpannedMap<StateDef>,
}

/// A group of keywords that starts a flow.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TriggerGroup {
    /// Phrases matched anywhere in what the caller said (case-insensitive, whole words).
    pub keywords: Vec<String>,
    /// Higher wins when several flows match. Emergencies use 100 and interrupt any flow;
    /// anything at or above 50 may interrupt an active flow.
    #[serde(default)]
    pub priority: i32,
    /// When non-empty, the group only fires if one of these words is also said
    /// ("no heat" is urgent only with "freezing", "infant", ...).
    #[serde(default)]
    pub requires_any: Vec<String>,
    /// Variables set when the group fires, e.g. `{ hazard: gas }`.
    #[serde(default)]
    pub set: BTreeMap<String, String>,
    /// Text slots filled with what the caller said when the group fires (a caller who opens with
    /// "my AC is blowing warm air" has already described the issue).
    #[serde(default)]
    pub fill: Vec<String>,
}

/// The kinds of values a slot can hold; each has a rule-based extractor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SlotType {
    /// Free text, taken only when this slot is asked for.
    Text,
    /// A person's first and last name.
    PersonName,
    /// E.164 phone number; spoken digits are understood.
    Phone,
    /// One of the business's locations (by code).
    Location,
    /// A date and/or time in the business time zone.
    Datetime,
    /// Yes or no, read against the question asked.
    YesNo,
    /// A number ("two", "15").
    Number,
    /// One of `options`.
    Choice,
    /// A vehicle (year, make, model) from the business's `vehicles` catalogue: "a twenty
    /// nineteen mazda miata", "my x c ninety". The value has `year`, `make`, `model` and
    /// `text` ("2019 Mazda Miata").
    Vehicle,
    /// One of the business's `services`, by its name or an alias ("a deep clean", "the carpets
    /// are filthy"). The value has `name` and `minutes` (how long the visit lasts).
    Service,
    /// What the caller says to single out something they already have (a visit): days, times,
    /// parts of day, locations, "the second one", "the later one", other words ("the duct
    /// cleaning"), and what they set aside ("keep tomorrow's"). Filled from the parts of every
    /// utterance that talk about the existing thing (see `role`); a new description replaces
    /// the old one kind by kind. Tools match it against the records.
    Reference,
}

/// Whether a slot takes what the caller says about something they already have, or what they
/// ask for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SlotRole {
    /// What the caller asks for ("move it to friday", "switch it to the fort worth team").
    #[default]
    Request,
    /// What the caller says about the existing thing ("my appointment on wednesday", "the
    /// dallas one", "i'm on for thursday at nine").
    Reference,
}

/// A value the flow collects.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SlotDef {
    #[serde(rename = "type")]
    pub kind: SlotType,
    /// What the slot means, for tooling and LLM extraction.
    #[serde(default)]
    pub description: Option<String>,
    /// A template giving the value when the caller has not said one, e.g. `"{{ call.caller }}"`.
    #[serde(default)]
    pub default: Option<String>,
    /// Validation rules applied to an extracted value before it is accepted.
    #[serde(default)]
    pub rules: Vec<SlotRule>,
    /// Allowed values for `choice` slots.
    #[serde(default)]
    pub options: Vec<String>,
    /// Failed attempts before the call goes to a person (defaults to the global no-match limit).
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// For `yes_no` slots: words that agree when said without a negation, usually the action
    /// the question proposes (`[cancel]` for "Shall I cancel it?": "go ahead and cancel it" is
    /// yes, "don't cancel it" is no). Inflections count ("cancelled", "canceling").
    #[serde(default)]
    pub affirm: Vec<String>,
    /// For `yes_no` slots: words that decline when said without a negation (`[keep]` for
    /// "Shall I cancel it?").
    #[serde(default)]
    pub deny: Vec<String>,
    /// In a flow about something the caller already has (any slot has `role: reference` or is
    /// of type `reference`), each part of an utterance is read as about the existing thing or
    /// as a request by its wording ("i have one on wednesday" / "can we do thursday instead"),
    /// and datetime and location slots take only the parts of their role. A part with no cue
    /// goes to the role of the slot being asked; otherwise (the opening, a read-back) it is the
    /// request once the existing thing's day or place was already said, or when a request of
    /// that kind is being confirmed, else the reference. Defaults to `request`.
    #[serde(default)]
    pub role: SlotRole,
    /// For datetime slots: a template giving the datetime (`YYYY-MM-DDTHH:MM`) that relative
    /// answers start from, e.g. the existing visit's start. "a week later", "push it back two
    /// days", "the next day", "same time but thursday", "a couple hours later", "later that
    /// afternoon" resolve from it, and a new day alone keeps its time. While it renders to
    /// nothing (or fails), a relative answer is kept and resolved when the slot's state is
    /// reached.
    #[serde(default)]
    pub anchor: Option<String>,
    /// When asked, "i don't know", "not sure", "no idea" fill the slot with the string
    /// `"unknown"` instead of counting as not understood, so the flow can go on another way
    /// (`if: slots.location == 'unknown'`).
    #[serde(default)]
    pub allow_unknown: bool,
}

/// A check an extracted value must pass.
#[derive(Debug, Clone, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum SlotRule {
    /// Dates and times must not be in the past.
    Future,
    /// Text must have at least this many characters.
    MinLength(usize),
    /// Text must have at most this many characters.
    MaxLength(usize),
    /// Text must match this regular expression.
    Pattern(String),
    /// Numbers must be at least this.
    Min(i64),
    /// Numbers must be at most this.
    Max(i64),
}

/// One state. A state may say something, collect a slot, call a tool, hand the call to a person
/// or end the flow; then it moves on by `next` or the first matching `transitions` entry.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StateDef {
    /// Prompt that answers the caller's question (`vars.question`) from the knowledge base,
    /// said on entry before `say`; it gets the best passage as `answer`. With a language model
    /// configured, the model phrases the answer from the same passages instead.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub answer: Option<Name>,
    /// Prompt template said when the state is entered (for `collect`, the question).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub say: Option<Name>,
    /// Slot this state asks for. Passed through when the slot is already filled.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub collect: Option<Name>,
    /// Prompt used instead of `say` when the answer was not understood.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub reprompt: Option<Name>,
    /// Slots emptied when the state is entered (to ask again).
    #[serde(default)]
    pub clear: Vec<String>,
    /// Datetimes offered to the caller (an expression giving a list of ISO strings); answers
    /// such as "the first one" or "the 3 o'clock" pick from them.
    #[serde(default)]
    pub offers: Option<String>,
    /// Tool the runtime runs; its result is `result` in later conditions and templates.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub tool: Option<Name>,
    /// Tool arguments: templates rendered against the conversation.
    #[serde(default)]
    pub args: SpannedMap<String>,
    /// Keep the tool result under this name in `vars` for later states.
    #[serde(default)]
    pub save: Option<String>,
    /// Transfer the call to a person.
    #[serde(default)]
    pub handoff: Option<HandoffTarget>,
    /// End the flow with this outcome.
    #[serde(default)]
    pub end: Option<Outcome>,
    /// Go on in another flow: this one is left and the named flow starts at its initial
    /// state, reading the caller's last words as if they had opened with them ("no, move it
    /// to friday" starts `reschedule` with friday said).
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub link: Option<Name>,
    /// After `end`, hang up (default) or go back to asking how else to help.
    #[serde(default)]
    pub hangup: Option<bool>,
    /// Whether the caller may talk over this state's prompt (safety instructions are not).
    #[serde(default)]
    pub interruptible: Option<bool>,
    /// Where to go next when no transition applies.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub next: Option<Name>,
    /// Conditional moves, tried in order; an entry without `if` always matches.
    #[serde(default)]
    pub transitions: Vec<Transition>,
    /// Other slots this state's question also takes an answer for, each with the state to go
    /// to when one is given: what a value of another kind means when it is said here instead
    /// of an answer. At a yes/no read-back (`collect: confirm`), `{ when: check }` takes a new
    /// time said instead of a yes or a no ("how about 3 instead", "thursday morning") as the
    /// new `when`, read as if `when` were asked (a bare "3" is a time), and goes to `check`.
    /// Only when the question itself got no answer; "no, make it 3" is a correction as before.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, String>")]
    pub also_collect: SpannedMap<Name>,
}

impl StateDef {
    /// Every state this one may go to, in file order: `next`, each transition, then where
    /// `also_collect` answers lead.
    pub fn targets(&self) -> impl Iterator<Item = &Name> {
        self.next
            .iter()
            .chain(self.transitions.iter().map(|t| &t.to))
            .chain(self.also_collect.iter().map(|(_, to)| to))
    }
}

/// A conditional move to another state.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    /// A Jinja expression, e.g. `result.available` or `slots.confirm`.
    #[serde(default, rename = "if")]
    #[schemars(with = "Option<String>")]
    pub condition: Option<Name>,
    /// The target state.
    #[schemars(with = "String")]
    pub to: Name,
}

/// Who a call is handed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HandoffTarget {
    /// The business's human line.
    Human,
    /// Emergency dispatch.
    Emergency,
}

/// What a call achieved.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A visit was booked.
    Booked,
    /// A visit was moved.
    Rescheduled,
    /// A visit was cancelled.
    Cancelled,
    /// The call went to a person.
    Transferred,
    /// An emergency was handed to the on-call line.
    Emergency,
    /// A question was answered.
    Answered,
    /// The caller left before any of the above.
    Abandoned,
}

impl Outcome {
    /// Every outcome, in the order above.
    pub const ALL: [Outcome; 7] = [
        Outcome::Booked,
        Outcome::Rescheduled,
        Outcome::Cancelled,
        Outcome::Transferred,
        Outcome::Emergency,
        Outcome::Answered,
        Outcome::Abandoned,
    ];

    /// The outcome as stored in the call record (`booked`, `transferred`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Booked => "booked",
            Outcome::Rescheduled => "rescheduled",
            Outcome::Cancelled => "cancelled",
            Outcome::Transferred => "transferred",
            Outcome::Emergency => "emergency",
            Outcome::Answered => "answered",
            Outcome::Abandoned => "abandoned",
        }
    }
}

/// The global patterns file (`flows/global.yaml`): what works in every state.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GlobalsDef {
    /// Said when the call starts.
    #[schemars(with = "String")]
    pub greeting: Name,
    /// Said when no flow is active and the agent waits for what the caller wants.
    #[schemars(with = "String")]
    pub menu: Name,
    /// Said when an utterance starts nothing and answers nothing.
    #[schemars(with = "String")]
    pub not_understood: Name,
    /// "Talk to a person" / keypad 0: starts this flow.
    pub human: GlobalPattern,
    /// "Never mind": leaves the current flow.
    pub cancel: GlobalPattern,
    /// "What?": says the last thing again.
    pub repeat: GlobalPattern,
    /// "Bye": ends the call.
    pub goodbye: GlobalPattern,
    /// Words that mark a correction ("actually make it Thursday"): filled slots may change.
    pub correction: GlobalPattern,
    /// Questions answered from the knowledge base, then the flow resumes.
    pub questions: QuestionsDef,
    /// What happens when the caller says nothing.
    pub no_input: NoInputDef,
    /// What happens when the caller's answer is not understood.
    pub no_match: NoMatchDef,
    /// How intent is decided from examples and keywords, and the clarifying question.
    pub intent: IntentDef,
    /// Word classes shared by every flow (an existing visit, a person, ...).
    #[serde(default)]
    pub concepts: ConceptsDef,
    /// When a word does not count: negation, hypotheticals, the past, idioms.
    #[serde(default)]
    pub scope: ScopeDef,
    /// "Hold on a sec": the agent waits, and the question stays open.
    #[serde(default)]
    pub wait: Option<GlobalPattern>,
    /// "Can you hear me?", "you cut out": the agent says it is there and asks again.
    #[serde(default)]
    pub line_check: Option<GlobalPattern>,
    /// "This is ridiculous": the caller goes to a person at once.
    #[serde(default)]
    pub frustration: Option<GlobalPattern>,
    /// "Hi there": a greeting and nothing else, said before any flow, is greeted back.
    #[serde(default)]
    pub hello: Option<GlobalPattern>,
}

/// Keywords (and optionally a keypad digit) for one global pattern.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GlobalPattern {
    pub keywords: Vec<String>,
    /// A keypad digit with the same meaning.
    #[serde(default)]
    pub dtmf: Option<String>,
    /// Prompt said when the pattern fires.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub say: Option<Name>,
    /// Flow started when the pattern fires.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub flow: Option<Name>,
}

/// Questions answered from `knowledge/`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QuestionsDef {
    /// Flow started for a question asked when no flow is active.
    #[schemars(with = "String")]
    pub flow: Name,
    /// Prompt that reads an answer mid-flow (gets `answer`), before the flow's question again.
    #[schemars(with = "String")]
    pub answer: Name,
}

/// Silence handling.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoInputDef {
    /// Prompts for the first, second, ... silence; the last one repeats.
    #[schemars(with = "Vec<String>")]
    pub prompts: Vec<Name>,
    /// Silences in a row after which the agent says goodbye and hangs up.
    pub hang_up_after: u32,
    /// The goodbye said before hanging up.
    #[schemars(with = "String")]
    pub hang_up: Name,
}

/// Not-understood handling.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoMatchDef {
    /// Prompt said before the question again.
    #[schemars(with = "String")]
    pub say: Name,
    /// Prompt said instead of `say` when a yes/no question got neither a yes nor a no ("was
    /// that a yes or a no?"), before the state's `reprompt` (or its question) again.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub yes_no: Option<Name>,
    /// Failed attempts in one state after which the call goes to a person.
    pub max_attempts: u32,
    /// Flow started on escalation.
    #[schemars(with = "String")]
    pub escalate: Name,
    /// Speech recognized with less confidence than this (0 to 1) counts as not understood,
    /// unless it names an emergency or asks for a person: those are never ignored.
    #[serde(default = "default_min_confidence")]
    pub min_confidence: f64,
}

fn default_min_confidence() -> f64 {
    0.3
}
