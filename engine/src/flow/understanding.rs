//! The parts of the flow language that say what callers mean: word classes (concepts), hazards
//! built from them, the scope words that decide when a word does not count, and the numbers
//! (temperatures, ages) that turn into concepts.
//!
//! A concept is a list of phrases. A phrase is normalized words; a word ending in `*` matches
//! any word it starts ("smell*" is smell, smells, smelly), and `#` matches a spoken or written
//! number ("# month old").

use schemars::JsonSchema;
use serde::Deserialize;

use super::model::Name;
use super::spanned_map::SpannedMap;

/// Concept name to what says it.
pub type ConceptsDef = SpannedMap<ConceptDef>;

/// A concept: phrases, or other concepts said close together in one clause.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ConceptDef {
    /// Phrases that say it: `[smell*, odor, reek*]`.
    Phrases(Vec<String>),
    /// Every concept of `all` said within `within` words of each other in one clause:
    /// `{ all: [heat_source, not_working] }`.
    Compound(CompoundDef),
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompoundDef {
    pub all: Vec<String>,
    /// Most words between two of the parts (default 4).
    #[serde(default = "default_within")]
    pub within: usize,
}

fn default_within() -> usize {
    4
}

/// One hazard the flow handles, e.g. `gas`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HazardDef {
    /// Groups of concepts; the hazard is present when every concept of one group is said and
    /// counts (not negated, not hypothetical, not in the past and resolved).
    pub when: Vec<Vec<String>>,
    /// Concepts that, said and counting, mean this hazard is not present after all
    /// ("she's fine", a mild day).
    #[serde(default)]
    pub unless: Vec<String>,
    /// Concepts that split the evidence when said with the hazard (a low battery with an
    /// alarm): the agent asks `check` instead of assuming either way...
    #[serde(default)]
    pub doubt: Vec<String>,
    /// ...unless one of these is said too (someone feels dizzy).
    #[serde(default)]
    pub certain: Vec<String>,
    /// Prompt of the one safety question asked when the evidence is split. Without it, split
    /// evidence counts as the hazard.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub check: Option<Name>,
}

/// What is being measured by a number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    /// "it's a hundred and five out", "fifty degrees inside".
    Temperature,
    /// "she's ninety", "my eighty four year old mother".
    Age,
}

/// A concept said by a number in range: `{ concept: hot, measure: temperature, at_least: 90 }`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NumberConceptDef {
    pub concept: String,
    pub measure: Measure,
    #[serde(default)]
    pub at_least: Option<i64>,
    #[serde(default)]
    pub at_most: Option<i64>,
    /// Only temperatures said of the inside of a home (`true`) or of the outdoors (`false`).
    #[serde(default)]
    pub indoors: Option<bool>,
}

/// The words that decide whether a concept said in an utterance counts.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScopeDef {
    /// Words that deny what follows them in the same clause ("no sparks", "not a leak").
    #[serde(default)]
    pub negation: Vec<String>,
    /// Words that set aside only what comes right after them ("instead of cool", "rather than
    /// a new one"), where a negation would reach on into the request that follows.
    #[serde(default)]
    pub contrast: Vec<String>,
    /// Words a caller corrects themselves with ("cancel it, actually no, move it"): what they
    /// want is what comes after.
    #[serde(default)]
    pub corrections: Vec<String>,
    /// Phrases with a negation word that deny nothing ("not sure", "dont know").
    #[serde(default)]
    pub hedges: Vec<String>,
    /// Words that start a new clause and end a negation's reach ("but", "and").
    #[serde(default)]
    pub clause_breaks: Vec<String>,
    /// Words that make a clause hypothetical ("if", "in case", "what should i do").
    #[serde(default)]
    pub hypothetical: Vec<String>,
    /// First words of a clause that asks rather than tells ("is it", "do you").
    #[serde(default)]
    pub question_starts: Vec<String>,
    /// Words that start a question wherever they stand ("what do i do", "should i").
    #[serde(default)]
    pub question_words: Vec<String>,
    /// Words that put a clause in a past long enough ago not to count ("last winter", "years
    /// ago", "at my old house"); "since last winter" is still now.
    #[serde(default)]
    pub past: Vec<String>,
    /// Words that tell a clause in the past tense ("had", "went off", "yesterday"); words ending
    /// in "ed" count too. Such a clause does not count when a resolution follows it.
    #[serde(default)]
    pub past_tense: Vec<String>,
    /// Words that say the danger was dealt with ("fixed", "shut it off", "dried out").
    #[serde(default)]
    pub resolved: Vec<String>,
    /// Words that bring a past danger back to now ("again", "came back").
    #[serde(default)]
    pub recurrence: Vec<String>,
    /// Concepts that stay true whatever the tense or a resolution ("just had a baby last
    /// week" is still a newborn at home).
    #[serde(default)]
    pub timeless: Vec<String>,
    /// Figures of speech whose words never count ("fire up the furnace", "on fire lol").
    #[serde(default)]
    pub idioms: Vec<String>,
}

/// How intent is decided and when to ask instead of guessing.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IntentDef {
    /// Below this confidence (0 to 1: how far the best flow is ahead of the next, relative to
    /// its score) the agent asks one clarifying question instead of starting a flow.
    #[serde(default = "default_min_confidence")]
    pub min_confidence: f64,
    /// The flows the clarifying question may offer (empty: any). Others are never asked
    /// about: the best of them is taken as it is.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    pub clarify_between: Vec<Name>,
    /// Prompt of the clarifying question; gets `choices` (the two candidate flows' names).
    #[schemars(with = "String")]
    pub clarify: Name,
    /// Prompt said before the safety question of a hazard whose evidence is split, if any.
    #[serde(default)]
    #[schemars(with = "Option<String>")]
    pub safety_lead_in: Option<Name>,
}

fn default_min_confidence() -> f64 {
    0.15
}
