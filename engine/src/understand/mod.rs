//! Understanding what a caller means, deterministically and from data: concepts (word classes)
//! with their scope, hazards made of concepts, and intent from each flow's examples.
//!
//! Everything is declared in the flow files (`concepts:`, `numbers:`, `hazards:`, `examples:`,
//! and `scope:` in `global.yaml`) and compiled once at load; reading an utterance is one pass of
//! phrase lookups plus a nearest-example search.

pub mod classifier;
pub mod hazards;
pub mod lexicon;
pub mod numbers;
pub mod scope;

use crate::extract::datetime::extract_datetime;
use crate::extract::normalize::normalize;
use crate::flow::model::{FlowDef, GlobalsDef};
use crate::flow::suggest::did_you_mean;
use crate::flow::understanding::{ConceptDef, ScopeDef};
use crate::flow::{LoadError, SourceFile};

use classifier::{Classifier, Feature, LabelScore, TrainingExample, stem};
use hazards::{Hazard, HazardFinding};
use lexicon::{ConceptId, Lexicon, Occurrence, drop_shadowed};
use numbers::{NumberRule, number_occurrences};
use scope::{Clause, Said, ScopeIds};

/// One utterance's tokens and what scope made of the concepts in them.
struct Concepts<'t> {
    tokens: Vec<&'t str>,
    said: Vec<Said>,
    clauses: Vec<Clause>,
    /// Where the words after the caller's last self-correction start, if enough follow it.
    corrected_from: Option<usize>,
}

/// Weight of a concept feature against a word's: concepts are what lets an example stand for
/// sentences that share its meaning but not its words.
const CONCEPT_WEIGHT: f32 = 1.5;
/// Examples of two flows at least this alike (cosine) are reported by `flows check`.
const COLLISION_SIMILARITY: f32 = 0.85;
/// Weight of the sentence-shape features (a question first, a question after a statement).
const QUESTION_WEIGHT: f32 = 3.0;
/// Verbs that open a yes/no question ("can you", "do you").
const QUESTION_AUX: &[&str] = &[
    "is", "are", "do", "does", "did", "can", "could", "would", "should", "will", "was", "were",
    "am", "have", "has",
];
/// Of those, the ones that ask someone to do something ("can you send someone") rather than
/// ask whether something is so ("is that normal", "do you install")...
const REQUEST_AUX: &[&str] = &["can", "could", "would", "will"];
/// ...when the next word is who would do it or get it ("can a dirty filter make you sick" asks
/// what is so).
const REQUEST_AGENTS: &[&str] = &[
    "you", "u", "ya", "yall", "someone", "somebody", "anyone", "anybody", "your", "i", "we",
];
/// Any date works for telling whether a day or a time is named at all.
const PRESENCE_REFERENCE: jiff::civil::DateTime = jiff::civil::date(2024, 1, 3).at(12, 0, 0, 0);
/// Fewest words after a self-correction that say what the caller wants instead.
const MIN_CORRECTED_WORDS: usize = 3;

/// What a question clause asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum QuestionKind {
    /// "why does it...", "how much is...".
    Wh,
    /// Whether something is so: "is that normal", "do you install...".
    YesNo,
    /// For something to be done: "can you send someone", "could you put in...".
    Request,
}

impl QuestionKind {
    fn label(self) -> &'static str {
        match self {
            QuestionKind::Wh => "wh",
            QuestionKind::YesNo => "aux",
            QuestionKind::Request => "request",
        }
    }
}

/// The kind of question clause `clause` of `tokens` is, by its first question word.
fn question_kind(tokens: &[&str], clause: &Clause) -> QuestionKind {
    let words = tokens.get(clause.start..clause.end).unwrap_or_default();
    let opener = words
        .iter()
        .position(|t| t.starts_with("wh") || t.starts_with("how") || QUESTION_AUX.contains(t));
    let Some(at) = opener else {
        return QuestionKind::YesNo;
    };
    let word = words[at];
    if word.starts_with("wh") || word.starts_with("how") {
        QuestionKind::Wh
    } else if REQUEST_AUX.contains(&word)
        && words
            .get(at + 1)
            .is_some_and(|w| REQUEST_AGENTS.contains(w))
    {
        QuestionKind::Request
    } else {
        QuestionKind::YesNo
    }
}

/// The compiled understanding of one project.
#[derive(Debug, Default)]
pub struct Understanding {
    lexicon: Lexicon,
    scope: ScopeIds,
    numbers: Vec<NumberRule>,
    hazards: Vec<Hazard>,
    classifier: Classifier,
    /// Flows whose examples vote only when one of these concepts is said.
    requires: Vec<(String, Vec<ConceptId>)>,
}

/// What one utterance says, as the engine reads it.
#[derive(Debug, Clone, Default)]
pub struct Reading {
    /// Concepts said, with their scope.
    pub said: Vec<Said>,
    pub clauses: Vec<Clause>,
    pub hazard: Option<HazardFinding>,
    /// What the intent classifier sees of it (the words after a self-correction, if any);
    /// [`Understanding::intents`] scores them only when a turn needs intent.
    pub features: Vec<Feature>,
    /// Some clause asks for information ("is that normal", "what do you charge"), not only for
    /// something to be done ("can you send someone").
    pub asks_information: bool,
}

impl Reading {
    /// Is `concept` said and counting?
    pub fn counts(&self, concept: Option<ConceptId>) -> bool {
        concept.is_some_and(|c| self.said.iter().any(|s| s.concept == c && s.counts))
    }
}

/// Normalizes a phrase of the concept language, keeping `*` and `#`.
fn normalize_pattern(phrase: &str) -> String {
    phrase
        .split_whitespace()
        .map(|w| {
            if w == "#" {
                "#".to_string()
            } else if let Some(stem) = w.strip_suffix('*') {
                let n = normalize(stem);
                if n.is_empty() { n } else { format!("{n}*") }
            } else {
                normalize(w)
            }
        })
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

impl Understanding {
    /// Compiles every concept, hazard and example; errors name the file and position.
    ///
    /// With `complete` false some flow file could not be read, so its concepts are missing:
    /// a concept nobody defines is then not reported, since that file may define it.
    pub fn build(
        globals: &GlobalsDef,
        globals_file: &SourceFile,
        flows: &[(FlowDef, &SourceFile)],
        complete: bool,
    ) -> Result<Understanding, Vec<LoadError>> {
        let mut errors = Vec::new();
        let mut u = Understanding::default();
        u.scope = u.add_scope(&globals.scope);

        // Every file's concepts, names unique across files.
        let mut sources: Vec<(&crate::flow::understanding::ConceptsDef, &SourceFile)> =
            vec![(&globals.concepts, globals_file)];
        sources.extend(flows.iter().map(|(f, file)| (&f.concepts, *file)));
        let mut defined: Vec<String> = Vec::new();
        let mut first_at: Vec<String> = Vec::new();
        let mut compounds = Vec::new();
        for (concepts, file) in &sources {
            for (name, def) in concepts.iter() {
                if let Some(i) = defined.iter().position(|d| *d == name.value) {
                    errors.push(LoadError::at(
                        &file.path,
                        name.referenced,
                        format!(
                            "concept `{}` is defined twice (first at {})",
                            name.value, first_at[i]
                        ),
                    ));
                    continue;
                }
                if u.lexicon.id(&name.value).is_some() {
                    errors.push(LoadError::at(
                        &file.path,
                        name.referenced,
                        format!("concept name `{}` is reserved for scope words", name.value),
                    ));
                    continue;
                }
                defined.push(name.value.clone());
                first_at.push(format!("{}:{}", file.path, name.referenced.line()));
                let id = u.lexicon.intern(&name.value);
                match def {
                    ConceptDef::Phrases(phrases) => {
                        for p in phrases {
                            u.lexicon.add_phrase(id, &normalize_pattern(p));
                        }
                    }
                    ConceptDef::Compound(c) => compounds.push((id, c, name, *file)),
                }
            }
        }
        // A number rule may name a concept of its own ("hot" said as "a hundred and five").
        for (flow, _) in flows {
            for rule in &flow.numbers {
                if !defined.contains(&rule.concept) {
                    defined.push(rule.concept.clone());
                }
                let concept = u.lexicon.intern(&rule.concept);
                u.numbers.push(NumberRule {
                    concept,
                    measure: rule.measure,
                    at_least: rule.at_least,
                    at_most: rule.at_most,
                    indoors: rule.indoors,
                });
            }
        }
        let known =
            |lexicon: &Lexicon, n: &str| lexicon.id(n).filter(|_| defined.iter().any(|d| d == n));
        let guess = |n: &str| did_you_mean(n, defined.iter().map(String::as_str));
        // Reported only when every file was read (see `complete`).
        let mut unknown: Vec<LoadError> = Vec::new();
        for (id, c, name, file) in compounds {
            let mut parts = Vec::new();
            for part in &c.all {
                match known(&u.lexicon, part) {
                    Some(p) => parts.push(p),
                    None => unknown.push(unknown_concept(file, name, part, &guess(part))),
                }
            }
            u.lexicon.add_compound(id, parts, c.within);
        }

        for (flow, file) in flows {
            for (hazard_name, def) in flow.hazards.iter() {
                let mut ids = |names: &[String]| -> Vec<ConceptId> {
                    names
                        .iter()
                        .filter_map(|n| {
                            let id = known(&u.lexicon, n);
                            if id.is_none() {
                                unknown.push(unknown_concept(file, hazard_name, n, &guess(n)));
                            }
                            id
                        })
                        .collect()
                };
                let groups = def.when.iter().map(|g| ids(g)).collect();
                let unless = ids(&def.unless);
                let doubt = ids(&def.doubt);
                let certain = ids(&def.certain);
                u.hazards.push(Hazard {
                    id: hazard_name.value.clone(),
                    flow: flow.flow.value.clone(),
                    groups,
                    unless,
                    doubt,
                    certain,
                    check: def.check.as_ref().map(|c| c.value.clone()),
                });
            }
        }
        for (flow, file) in flows {
            let mut ids = Vec::new();
            for name in &flow.requires {
                match known(&u.lexicon, &name.value) {
                    Some(id) => ids.push(id),
                    None => unknown.push(LoadError::at(
                        &file.path,
                        name.referenced,
                        format!(
                            "requires: unknown concept `{}`{}",
                            name.value,
                            guess(&name.value)
                        ),
                    )),
                }
            }
            if !ids.is_empty() {
                u.requires.push((flow.flow.value.clone(), ids));
            }
        }
        for name in &globals.scope.timeless {
            match known(&u.lexicon, name) {
                Some(id) => u.scope.timeless.push(id),
                None => unknown.push(LoadError::file(
                    &globals_file.path,
                    format!("scope.timeless: unknown concept `{name}`{}", guess(name)),
                )),
            }
        }
        if complete {
            errors.extend(unknown);
        }
        if !errors.is_empty() {
            return Err(errors);
        }

        let mut examples = Vec::new();
        for (flow, file) in flows {
            for example in &flow.examples {
                let norm = normalize(&example.value);
                let c = u.concepts(&norm);
                examples.push(TrainingExample {
                    label: flow.flow.value.clone(),
                    text: example.value.clone(),
                    origin: format!(
                        "{}:{}:{}",
                        file.path,
                        example.referenced.line(),
                        example.referenced.column()
                    ),
                    features: u.features(&c.tokens, &c.said, &c.clauses),
                });
            }
        }
        u.classifier = Classifier::new(examples);
        Ok(u)
    }

    fn add_scope(&mut self, scope: &ScopeDef) -> ScopeIds {
        let mut add = |name: &str, phrases: &[String]| -> Option<ConceptId> {
            if phrases.is_empty() {
                return None;
            }
            let id = self.lexicon.intern(name);
            for p in phrases {
                self.lexicon.add_phrase(id, &normalize_pattern(p));
            }
            Some(id)
        };
        ScopeIds {
            negation: add("@negation", &scope.negation),
            contrast: add("@contrast", &scope.contrast),
            hedge: add("@hedge", &scope.hedges),
            clause_break: add("@clause_break", &scope.clause_breaks),
            hypothetical: add("@hypothetical", &scope.hypothetical),
            question_start: add("@question_start", &scope.question_starts),
            question_word: add("@question_word", &scope.question_words),
            past: add("@past", &scope.past),
            past_tense: add("@past_tense", &scope.past_tense),
            resolved: add("@resolved", &scope.resolved),
            recurrence: add("@recurrence", &scope.recurrence),
            idiom: add("@idiom", &scope.idioms),
            correction: add("@correction", &scope.corrections),
            timeless: Vec::new(),
        }
    }

    pub fn concept_name(&self, id: ConceptId) -> &str {
        self.lexicon.name(id)
    }

    /// Tokens, concepts with scope, and clauses of a normalized utterance.
    fn concepts<'t>(&self, norm: &'t str) -> Concepts<'t> {
        let tokens: Vec<&str> = norm.split_whitespace().collect();
        let mut found = self.lexicon.phrase_occurrences(&tokens);
        drop_shadowed(&mut found);
        self.drop_idiom_overlaps(&mut found);
        found.extend(number_occurrences(&self.numbers, &tokens));
        let clauses = scope::clauses(&self.scope, &tokens, &found);
        found.extend(self.compound_occurrences(&found, &clauses));
        let said = scope::judge(&self.scope, &tokens, &found, &clauses);
        // "i need to cancel, actually no, can we move it": what they want comes after the
        // last self-correction, when enough words follow it.
        let corrected_from = found
            .iter()
            .filter(|o| self.scope.correction == Some(o.concept) && o.start > 0)
            .map(|o| o.end)
            .max()
            .filter(|end| tokens.len().saturating_sub(*end) >= MIN_CORRECTED_WORDS);
        Concepts {
            tokens,
            said,
            clauses,
            corrected_from,
        }
    }

    /// Words of an idiom mean nothing on their own: "emergency heat on the screen" says no
    /// "heat on", so any occurrence that overlaps an idiom goes.
    fn drop_idiom_overlaps(&self, found: &mut Vec<Occurrence>) {
        let Some(idiom) = self.scope.idiom else {
            return;
        };
        let idioms: Vec<Occurrence> = found
            .iter()
            .filter(|o| o.concept == idiom)
            .copied()
            .collect();
        found.retain(|o| {
            o.concept == idiom || !idioms.iter().any(|i| o.start < i.end && i.start < o.end)
        });
    }

    /// Compounds, in declaration order so one may be built of earlier ones.
    fn compound_occurrences(&self, found: &[Occurrence], clauses: &[Clause]) -> Vec<Occurrence> {
        let mut all: Vec<Occurrence> = found.to_vec();
        let mut added = Vec::new();
        let clause_of = |at: usize| clauses.iter().position(|c| at >= c.start && at < c.end);
        for compound in &self.lexicon.compounds {
            let Some((&first, rest)) = compound.parts.split_first() else {
                continue;
            };
            for anchor in all.iter().filter(|o| o.concept == first) {
                let clause = clause_of(anchor.start);
                let (mut start, mut end) = (anchor.start, anchor.end);
                let mut parts = vec![*anchor];
                let complete = rest.iter().all(|part| {
                    let near = all.iter().find(|o| {
                        o.concept == *part
                            && clause_of(o.start) == clause
                            && gap(anchor, o) <= compound.within
                    });
                    if let Some(o) = near {
                        start = start.min(o.start);
                        end = end.max(o.end);
                        parts.push(*o);
                    }
                    near.is_some()
                });
                // "the ac doesnt go out": a negation between the parts denies the whole.
                let negated_inside = found.iter().any(|n| {
                    Some(n.concept) == self.scope.negation
                        && n.start >= start
                        && n.end <= end
                        && !parts.iter().any(|p| n.start >= p.start && n.end <= p.end)
                });
                if complete && !negated_inside {
                    added.push(Occurrence {
                        concept: compound.concept,
                        start,
                        end,
                    });
                }
            }
            all.extend(added.iter().filter(|o| o.concept == compound.concept));
        }
        added
    }

    /// Features of an utterance for the intent classifier.
    fn features(&self, tokens: &[&str], said: &[Said], clauses: &[Clause]) -> Vec<Feature> {
        let stems: Vec<String> = tokens.iter().map(|t| stem(t)).collect();
        let mut out: Vec<Feature> = Vec::with_capacity(stems.len() * 2 + said.len());
        for s in &stems {
            out.push((format!("w:{s}"), 1.0));
        }
        for pair in stems.windows(2) {
            out.push((format!("b:{}_{}", pair[0], pair[1]), 1.0));
        }
        for s in said {
            let prefix = if s.negated { "n" } else { "c" };
            out.push((
                format!("{prefix}:{}", self.lexicon.name(s.concept)),
                CONCEPT_WEIGHT,
            ));
        }
        // The shape of the sentence: what kind of question opens it ("why does it...",
        // "is that normal", "can you send..."), and whether one follows a statement.
        if let Some(first) = clauses.first().filter(|c| c.question) {
            let kind = question_kind(tokens, first).label();
            out.push((format!("q:{kind}"), QUESTION_WEIGHT));
        }
        // A question after a statement: asking something ("...is that normal") or asking for
        // something to be done ("...can you send someone") are different requests.
        let later: Vec<QuestionKind> = clauses
            .iter()
            .skip(1)
            .filter(|c| c.question)
            .map(|c| question_kind(tokens, c))
            .collect();
        if later.iter().any(|k| *k != QuestionKind::Request) {
            out.push(("q:later".to_string(), QUESTION_WEIGHT));
        }
        if later.contains(&QuestionKind::Request) {
            out.push(("q:later_request".to_string(), QUESTION_WEIGHT));
        }
        // What a request asks to have done ("can you put in a humidifier", "could someone check
        // why it runs"): the concepts inside a request, wherever it stands, tell work asked for
        // from the same words asked about ("do you install humidifiers").
        for (index, clause) in clauses.iter().enumerate() {
            if !clause.question || question_kind(tokens, clause) != QuestionKind::Request {
                continue;
            }
            for s in said.iter().filter(|s| s.clause == index && !s.negated) {
                out.push((
                    format!("r:{}", self.lexicon.name(s.concept)),
                    CONCEPT_WEIGHT,
                ));
            }
        }
        // Naming a day or a time ("anything open thursday afternoon") is how a request for a
        // visit sounds. Only whether one is named matters here, so any reference date will do.
        let text = tokens.join(" ");
        if extract_datetime(&text, PRESENCE_REFERENCE, false)
            .is_some_and(|m| m.date.is_some() || m.time.is_some() || m.earliest.is_some())
        {
            out.push(("t:when".to_string(), QUESTION_WEIGHT));
        }
        out
    }

    /// Reads a normalized utterance: concepts with their scope, the hazard, and the features
    /// its intent is scored on.
    pub fn read(&self, norm: &str) -> Reading {
        let c = self.concepts(norm);
        let hazard = hazards::find(&self.hazards, &c.said);
        let features = match c.corrected_from {
            Some(from) => {
                let tail = c.tokens[from..].join(" ");
                let t = self.concepts(&tail);
                self.features(&t.tokens, &t.said, &t.clauses)
            }
            None => self.features(&c.tokens, &c.said, &c.clauses),
        };
        let asks_information = c.clauses.iter().any(|clause| {
            clause.question && question_kind(&c.tokens, clause) != QuestionKind::Request
        });
        Reading {
            said: c.said,
            clauses: c.clauses,
            asks_information,
            hazard,
            features,
        }
    }

    /// Every flow with examples scored for a reading, best first.
    pub fn intents(&self, reading: &Reading) -> Vec<LabelScore> {
        if self.classifier.is_empty() {
            return Vec::new();
        }
        let mut scores = self.classifier.classify(&reading.features);
        // Said in any scope: "not a machine" is about talking to a person too.
        let said = |c: &ConceptId| reading.said.iter().any(|s| s.concept == *c);
        let mut silenced = false;
        for score in scores.iter_mut() {
            if let Some((_, needed)) = self.requires.iter().find(|(f, _)| *f == score.label)
                && !needed.iter().any(said)
            {
                score.score = 0.0;
                silenced = true;
            }
        }
        if silenced {
            // Stable: the order among the rest stays as the classifier left it.
            scores.sort_by(|a, b| b.score.total_cmp(&a.score));
        }
        scores
    }

    /// Examples of two flows that read almost alike, as problems an author should fix: each
    /// makes the agent guess between the two flows. For `frontdesk flows check`.
    pub fn example_collisions(&self) -> Vec<String> {
        let c = &self.classifier;
        c.collisions(COLLISION_SIMILARITY)
            .into_iter()
            .map(|x| {
                format!(
                    "{}: example {:?} of flow `{}` reads like {:?} of flow `{}` ({}), similarity {:.2}",
                    c.example_origin(x.second),
                    c.example_text(x.second),
                    c.example_label(x.second),
                    c.example_text(x.first),
                    c.example_label(x.first),
                    c.example_origin(x.first),
                    x.similarity
                )
            })
            .collect()
    }

    pub fn classifier(&self) -> &Classifier {
        &self.classifier
    }

    /// Whether the reading says one of `hazard`'s `certain` concepts (someone feels dizzy):
    /// what it takes to bring back a hazard the caller already ruled out.
    pub fn is_certain(&self, hazard: &str, reading: &Reading) -> bool {
        self.hazards
            .iter()
            .filter(|h| h.id == hazard)
            .any(|h| h.certain.iter().any(|c| reading.counts(Some(*c))))
    }
}

/// Words between two occurrences (0 when they touch or overlap).
fn gap(a: &Occurrence, b: &Occurrence) -> usize {
    b.start
        .saturating_sub(a.end)
        .max(a.start.saturating_sub(b.end))
}

fn unknown_concept(
    file: &SourceFile,
    at: &crate::flow::model::Name,
    name: &str,
    guess: &str,
) -> LoadError {
    LoadError::at(
        &file.path,
        at.referenced,
        format!("unknown concept `{name}`{guess}"),
    )
}
