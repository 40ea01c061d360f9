//! Scope: which concepts said in an utterance count. The utterance is cut into clauses at
//! clause breaks and question words; a concept occurrence then does not count when it is
//! negated ("no sparks"), hypothetical ("if i ever smell gas"), asked about ("is a gas smell an
//! emergency"), long past ("back in march"), or told in the past and then resolved ("we smelled
//! gas yesterday and the gas company fixed it"), unless the caller says it is back ("again").
//!
//! The words are the business's (`scope:` in `flows/global.yaml`); only the grammar is here.

use super::lexicon::{ConceptId, Occurrence};

/// The scope word classes, as concepts of the shared lexicon.
#[derive(Debug, Clone, Default)]
pub struct ScopeIds {
    pub negation: Option<ConceptId>,
    pub contrast: Option<ConceptId>,
    pub hedge: Option<ConceptId>,
    pub clause_break: Option<ConceptId>,
    pub hypothetical: Option<ConceptId>,
    pub question_start: Option<ConceptId>,
    pub question_word: Option<ConceptId>,
    pub past: Option<ConceptId>,
    pub past_tense: Option<ConceptId>,
    pub resolved: Option<ConceptId>,
    pub recurrence: Option<ConceptId>,
    pub idiom: Option<ConceptId>,
    pub correction: Option<ConceptId>,
    /// Concepts a past or a resolution does not undo (a newborn is still a newborn).
    pub timeless: Vec<ConceptId>,
}

impl ScopeIds {
    fn is(&self, id: Option<ConceptId>, o: &Occurrence) -> bool {
        id.is_some() && id == Some(o.concept)
    }

    /// Scope words are not concepts a hazard or an intent is made of.
    pub fn is_scope(&self, concept: ConceptId) -> bool {
        [
            self.negation,
            self.contrast,
            self.hedge,
            self.clause_break,
            self.hypothetical,
            self.question_start,
            self.question_word,
            self.past,
            self.past_tense,
            self.resolved,
            self.recurrence,
            self.idiom,
            self.correction,
        ]
        .contains(&Some(concept))
    }
}

/// A stretch of the utterance that one negation or one "if" reaches.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Clause {
    pub start: usize,
    pub end: usize,
    /// Asks rather than tells ("is that smoke", "what should i do").
    pub question: bool,
    /// "if", "in case", "ever".
    pub hypothetical: bool,
    /// "last winter", "years ago" (but not "since last winter").
    pub long_past: bool,
    /// Told in the past tense ("we smelled", "it went off").
    pub past_tense: bool,
    /// Says something was dealt with ("fixed", "turns out").
    pub resolved: bool,
    /// Says it is back ("went off again", "came back").
    pub recurrence: bool,
}

/// A concept said in the utterance, with what its scope makes of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Said {
    pub concept: ConceptId,
    pub start: usize,
    pub end: usize,
    pub clause: usize,
    /// A negation stands before it in its clause.
    pub negated: bool,
    /// Said of now, as fact: not negated, asked, hypothetical, or past and dealt with.
    pub counts: bool,
}

/// Words a negation may reach back over.
const NEGATION_REACH: usize = 5;
/// Words a contrast ("instead of") may reach back over: only the thing it sets aside.
const CONTRAST_REACH: usize = 2;
/// Discourse "no" ("no, i smell gas") answers the agent; it does not deny what follows it.
const DISCOURSE_NO: &[&str] = &["no", "nope", "nah"];
const SUBJECTS: &[&str] = &[
    "i", "im", "ive", "we", "were", "it", "its", "theres", "there", "my", "our", "the", "this",
    "that", "he", "she", "hes", "shes", "they", "theyre", "you",
];
/// Words ending in "ed" that are not past-tense verbs.
const NOT_PAST_ED: &[&str] = &[
    "need", "seed", "feed", "speed", "bleed", "shed", "bed", "red", "weed",
];

/// Clauses of `tokens`, given the scope words found in them.
pub fn clauses(ids: &ScopeIds, tokens: &[&str], found: &[Occurrence]) -> Vec<Clause> {
    let mut cuts: Vec<(usize, bool)> = vec![(0, false)];
    for o in found {
        let starts_question = ids.is(ids.question_word, o);
        let cut = ids.is(ids.clause_break, o) || ids.is(ids.hypothetical, o) || starts_question;
        if cut && o.start > 0 {
            cuts.push((o.start, starts_question));
        }
    }
    cuts.sort();
    cuts.dedup_by_key(|c| c.0);
    // Lead-in words alone ("yeah", "hi so") are not a clause: they belong to what follows.
    let only_breaks = |from: usize, to: usize| {
        (from..to).all(|t| {
            found
                .iter()
                .any(|o| ids.is(ids.clause_break, o) && o.start <= t && t < o.end)
        })
    };
    let mut merged: Vec<(usize, bool)> = Vec::with_capacity(cuts.len());
    for cut in cuts {
        match merged.last_mut() {
            Some(last) if only_breaks(last.0, cut.0) => last.1 |= cut.1,
            _ => merged.push(cut),
        }
    }
    let cuts = merged;
    let mut out = Vec::with_capacity(cuts.len());
    for (i, &(start, question_word)) in cuts.iter().enumerate() {
        let end = cuts.get(i + 1).map_or(tokens.len(), |c| c.0);
        if start >= end {
            continue;
        }
        let within = |o: &&Occurrence| o.start >= start && o.start < end;
        let has = |id: Option<ConceptId>| found.iter().filter(within).any(|o| ids.is(id, o));
        // A question opens the clause, after the break word that opened it ("and is it").
        let first_content = found
            .iter()
            .filter(|o| ids.is(ids.clause_break, o) && o.start == start)
            .map(|o| o.end)
            .max()
            .unwrap_or(start);
        let opens_with = |id: Option<ConceptId>| {
            found
                .iter()
                .any(|o| ids.is(id, o) && (o.start == start || o.start == first_content))
        };
        let long_past = found.iter().filter(within).any(|o| {
            ids.is(ids.past, o) && !(o.start > 0 && tokens.get(o.start - 1) == Some(&"since"))
        });
        let past_verb = tokens[start..end].iter().any(|w| {
            w.len() >= 5 && w.ends_with("ed") && !NOT_PAST_ED.iter().any(|n| w.ends_with(n))
        });
        let resolved = found
            .iter()
            .filter(within)
            .any(|o| ids.is(ids.resolved, o) && !negated_at(ids, tokens, found, start, o));
        out.push(Clause {
            start,
            end,
            question: question_word
                || opens_with(ids.question_word)
                || opens_with(ids.question_start),
            hypothetical: has(ids.hypothetical),
            long_past,
            past_tense: past_verb || has(ids.past_tense),
            resolved,
            recurrence: has(ids.recurrence),
        });
    }
    out
}

/// Is `o` negated by a negation before it in the clause starting at `clause_start`?
fn negated_at(
    ids: &ScopeIds,
    tokens: &[&str],
    found: &[Occurrence],
    clause_start: usize,
    o: &Occurrence,
) -> bool {
    found.iter().any(|n| {
        let reach = if ids.is(ids.negation, n) {
            NEGATION_REACH
        } else if ids.is(ids.contrast, n) {
            CONTRAST_REACH
        } else {
            return false;
        };
        n.end <= o.start
            && n.start >= clause_start
            && o.start - n.end <= reach
            && !is_discourse_no(tokens, n)
    })
}

/// What scope makes of every non-scope occurrence.
pub fn judge(
    ids: &ScopeIds,
    tokens: &[&str],
    found: &[Occurrence],
    clauses: &[Clause],
) -> Vec<Said> {
    let last_resolution = clauses.iter().rposition(|c| c.resolved);
    // "It's back again" brings back its own clause, and the one before when it names nothing
    // itself ("we had a gas smell last year and it's back").
    let has_content = |c: &Clause| {
        found
            .iter()
            .any(|o| !ids.is_scope(o.concept) && o.start >= c.start && o.start < c.end)
    };
    let back: Vec<bool> = (0..clauses.len())
        .map(|i| {
            clauses[i].recurrence
                || clauses
                    .get(i + 1)
                    .is_some_and(|next| next.recurrence && !has_content(next))
        })
        .collect();
    let clause_of = |at: usize| {
        clauses
            .iter()
            .position(|c| at >= c.start && at < c.end)
            .unwrap_or(0)
    };
    found
        .iter()
        .filter(|o| !ids.is_scope(o.concept))
        .map(|o| {
            let index = clause_of(o.start);
            let clause = clauses.get(index).copied().unwrap_or_default();
            let negated = negated_at(ids, tokens, found, clause.start, o);
            let resolved_later = clause.past_tense && last_resolution.is_some_and(|r| r >= index);
            let dealt_with = (clause.long_past || clause.resolved || resolved_later)
                && !back.get(index).copied().unwrap_or(false)
                && !ids.timeless.contains(&o.concept);
            Said {
                concept: o.concept,
                start: o.start,
                end: o.end,
                clause: index,
                negated,
                counts: !negated && !clause.question && !clause.hypothetical && !dealt_with,
            }
        })
        .collect()
}

fn is_discourse_no(tokens: &[&str], n: &Occurrence) -> bool {
    n.end == n.start + 1
        && tokens
            .get(n.start)
            .is_some_and(|w| DISCOURSE_NO.contains(w))
        && tokens.get(n.end).is_some_and(|w| SUBJECTS.contains(w))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::understand::lexicon::{Lexicon, drop_shadowed};

    struct Fixture {
        lexicon: Lexicon,
        ids: ScopeIds,
    }

    fn fixture() -> Fixture {
        let mut lexicon = Lexicon::default();
        let mut add = |name: &str, phrases: &[&str]| {
            let id = lexicon.intern(name);
            for p in phrases {
                lexicon.add_phrase(id, p);
            }
            id
        };
        let ids = ScopeIds {
            negation: Some(add("@negation", &["no", "not", "dont"])),
            contrast: Some(add("@contrast", &["instead of"])),
            hedge: Some(add("@hedge", &["not sure"])),
            clause_break: Some(add("@clause_break", &["but", "and", "so", "hi"])),
            hypothetical: Some(add("@hypothetical", &["if"])),
            question_start: Some(add("@question_start", &["is"])),
            question_word: Some(add("@question_word", &["what", "is that"])),
            past: Some(add("@past", &["last year"])),
            past_tense: Some(add("@past_tense", &["had", "yesterday"])),
            resolved: Some(add("@resolved", &["fixed"])),
            recurrence: Some(add("@recurrence", &["again"])),
            idiom: Some(add("@idiom", &["fire up"])),
            correction: None,
            timeless: Vec::new(),
        };
        add("smoke", &["smoke"]);
        add("gas", &["gas"]);
        add("odor", &["smell*"]);
        add("fire", &["fire"]);
        Fixture { lexicon, ids }
    }

    /// The concepts that count, by name.
    fn counting(text: &str) -> Vec<String> {
        let f = fixture();
        let tokens: Vec<&str> = text.split(' ').collect();
        let mut found = f.lexicon.phrase_occurrences(&tokens);
        drop_shadowed(&mut found);
        let clauses = clauses(&f.ids, &tokens, &found);
        judge(&f.ids, &tokens, &found, &clauses)
            .into_iter()
            .filter(|s| s.counts)
            .map(|s| f.lexicon.name(s.concept).to_string())
            .collect()
    }

    #[test]
    fn negation_reaches_to_the_clause_end() {
        assert!(counting("there is no smoke").is_empty());
        assert!(counting("no smell no smoke").is_empty());
        assert_eq!(counting("no smoke but i smell gas"), ["odor", "gas"]);
        // "no" answering the agent denies nothing.
        assert_eq!(counting("no i smell gas"), ["odor", "gas"]);
        // A hedge is not a denial.
        assert_eq!(counting("im not sure but there is smoke"), ["smoke"]);
        assert_eq!(counting("not sure theres smoke"), ["smoke"]);
    }

    #[test]
    fn a_contrast_sets_aside_only_what_follows_it() {
        assert_eq!(counting("smoke instead of gas"), ["smoke"]);
        // A negation would reach "smoke" too; "instead of" stops at the thing it replaces.
        assert!(counting("not gas silly me smoke").is_empty());
        assert_eq!(counting("instead of gas silly me smoke"), ["smoke"]);
    }

    #[test]
    fn questions_and_hypotheticals_do_not_count() {
        assert!(counting("is gas smell dangerous").is_empty());
        assert!(counting("what if i smell gas").is_empty());
        assert!(counting("hi is gas smell dangerous").is_empty());
        assert_eq!(counting("i smell gas what do i do"), ["odor", "gas"]);
        assert!(counting("it puffs out fog is that smoke").is_empty());
    }

    #[test]
    fn the_past_counts_only_when_it_is_back() {
        assert!(counting("we had gas smell last year").is_empty());
        assert!(counting("we had gas smell yesterday and they fixed it").is_empty());
        assert_eq!(counting("gas smell yesterday and today"), ["gas", "odor"]);
        assert_eq!(
            counting("we had gas smell last year and it is back again"),
            ["gas", "odor"]
        );
        // Fixed after the smell is said: the smell was dealt with.
        assert_eq!(counting("they fixed it but i smell gas"), ["odor", "gas"]);
    }

    #[test]
    fn idioms_hide_their_words() {
        assert!(counting("time to fire up the furnace").is_empty());
        assert_eq!(counting("the furnace is on fire"), ["fire"]);
    }
}
