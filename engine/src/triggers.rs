//! Keyword triggers: one Aho-Corasick automaton over every flow's keywords and the global
//! patterns, so one pass over an utterance finds everything it could mean.
//!
//! Matching is on normalized text, whole words only. A flow keyword preceded closely by a negation
//! ("it's not a gas leak", "i don't want a person") does not fire.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};

/// What a keyword stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Meaning {
    /// Group `group` of flow `flow`'s triggers.
    Flow { flow: String, group: usize },
    /// A global pattern.
    Global(GlobalKind),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GlobalKind {
    Human,
    Cancel,
    Repeat,
    Goodbye,
    Correction,
    Wait,
    LineCheck,
    Frustration,
}

/// One keyword with what it means.
#[derive(Debug, Clone)]
pub struct Keyword {
    /// Normalized phrase.
    pub phrase: String,
    pub meaning: Meaning,
    pub priority: i32,
    /// Normalized context words, one of which must also appear.
    pub requires_any: Vec<String>,
}

/// A keyword found in an utterance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    pub meaning: Meaning,
    pub priority: i32,
    pub phrase: String,
}

/// The automaton and the keywords behind it.
pub struct TriggerIndex {
    automaton: Option<AhoCorasick>,
    keywords: Vec<Keyword>,
}

/// Words that cancel a keyword said just after them.
const NEGATIONS: &[&str] = &[
    "not", "no", "dont", "doesnt", "didnt", "isnt", "arent", "wasnt", "aint", "never", "without",
    "cant", "wont", "nothing", "nobody",
];
/// Words that end the reach of a negation ("it's not a leak but i smell gas").
const CLAUSE_BREAKS: &[&str] = &["but", "and", "though", "although", "just", "so", "now"];
/// How many words before a keyword a negation may stand.
const NEGATION_WINDOW: usize = 3;

impl TriggerIndex {
    pub fn new(keywords: Vec<Keyword>) -> Result<TriggerIndex, aho_corasick::BuildError> {
        let automaton = if keywords.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .match_kind(MatchKind::Standard)
                    .ascii_case_insensitive(true)
                    .build(keywords.iter().map(|k| k.phrase.as_str()))?,
            )
        };
        Ok(TriggerIndex {
            automaton,
            keywords,
        })
    }

    /// Every keyword in `normalized` that stands as whole words, is not negated, and has its
    /// context; best first (highest priority, then longest phrase, then earliest).
    pub fn find(&self, normalized: &str) -> Vec<Hit> {
        let Some(automaton) = &self.automaton else {
            return Vec::new();
        };
        let bytes = normalized.as_bytes();
        let mut hits: Vec<(Hit, usize)> = Vec::new();
        // Overlapping search: "no heat" inside "theres no heat" and "heat" elsewhere both count.
        for m in automaton.find_overlapping_iter(normalized) {
            let (start, end) = (m.start(), m.end());
            let at_word_start = start == 0 || bytes[start - 1] == b' ';
            let at_word_end = end == bytes.len() || bytes[end] == b' ';
            if !at_word_start || !at_word_end {
                continue;
            }
            let keyword = &self.keywords[m.pattern().as_usize()];
            if !keyword.requires_any.is_empty()
                && !keyword
                    .requires_any
                    .iter()
                    .any(|w| contains_phrase(normalized, w))
            {
                continue;
            }
            let negatable = match &keyword.meaning {
                Meaning::Flow { .. } => true,
                Meaning::Global(kind) => *kind == GlobalKind::Human,
            };
            if negatable && is_negated(&normalized[..start]) {
                continue;
            }
            let hit = Hit {
                meaning: keyword.meaning.clone(),
                priority: keyword.priority,
                phrase: keyword.phrase.clone(),
            };
            // One hit per meaning: the longest phrase is the most telling ("say that again"
            // rather than "sorry").
            match hits.iter_mut().find(|(h, _)| h.meaning == hit.meaning) {
                Some((existing, at)) if hit.phrase.len() > existing.phrase.len() => {
                    *existing = hit;
                    *at = start;
                }
                Some(_) => {}
                None => hits.push((hit, start)),
            }
        }
        hits.sort_by(|(a, a_start), (b, b_start)| {
            b.priority
                .cmp(&a.priority)
                .then(b.phrase.len().cmp(&a.phrase.len()))
                .then(a_start.cmp(b_start))
        });
        hits.into_iter().map(|(h, _)| h).collect()
    }

    pub fn keywords(&self) -> &[Keyword] {
        &self.keywords
    }
}

/// Whole-word containment on normalized text.
pub fn contains_phrase(normalized: &str, phrase: &str) -> bool {
    if phrase.is_empty() {
        return false;
    }
    let bytes = normalized.as_bytes();
    let mut from = 0;
    while let Some(pos) = normalized[from..].find(phrase) {
        let start = from + pos;
        let end = start + phrase.len();
        let ok_start = start == 0 || bytes[start - 1] == b' ';
        let ok_end = end == bytes.len() || bytes[end] == b' ';
        if ok_start && ok_end {
            return true;
        }
        from = start + 1;
        if from >= normalized.len() {
            break;
        }
    }
    false
}

/// Is the text just before a keyword a negation of it?
fn is_negated(before: &str) -> bool {
    for word in before.split_whitespace().rev().take(NEGATION_WINDOW) {
        if CLAUSE_BREAKS.contains(&word) {
            return false;
        }
        if NEGATIONS.contains(&word) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kw(phrase: &str, flow: &str, priority: i32, requires: &[&str]) -> Keyword {
        Keyword {
            phrase: phrase.to_string(),
            meaning: Meaning::Flow {
                flow: flow.to_string(),
                group: 0,
            },
            priority,
            requires_any: requires.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn index() -> TriggerIndex {
        TriggerIndex::new(vec![
            kw("gas leak", "emergency", 100, &[]),
            kw("smell gas", "emergency", 100, &[]),
            kw(
                "no heat",
                "emergency",
                100,
                &["freezing", "infant", "elderly", "pipes"],
            ),
            kw("no heat", "booking", 10, &[]),
            kw("isnt cooling", "booking", 10, &[]),
            kw("schedule", "booking", 10, &[]),
            Keyword {
                phrase: "a person".into(),
                meaning: Meaning::Global(GlobalKind::Human),
                priority: 90,
                requires_any: vec![],
            },
        ])
        .unwrap()
    }

    fn flows(hits: &[Hit]) -> Vec<String> {
        hits.iter()
            .map(|h| match &h.meaning {
                Meaning::Flow { flow, .. } => flow.clone(),
                Meaning::Global(g) => format!("{g:?}"),
            })
            .collect()
    }

    #[test]
    fn negated_emergency_does_not_fire() {
        let hits = index().find("its not a gas leak the ac just isnt cooling");
        assert_eq!(flows(&hits), vec!["booking"]);
    }

    #[test]
    fn negation_stops_at_a_clause_break() {
        let hits = index().find("its not the ac but i smell gas");
        assert_eq!(flows(&hits), vec!["emergency"]);
    }

    #[test]
    fn no_heat_is_urgent_only_with_danger_words() {
        assert_eq!(flows(&index().find("we have no heat")), vec!["booking"]);
        assert_eq!(
            flows(&index().find("theres no heat and the pipes are freezing")),
            vec!["emergency", "booking"]
        );
    }

    #[test]
    fn whole_words_only() {
        assert!(index().find("rescheduled").is_empty());
        assert_eq!(
            flows(&index().find("can i talk to a person")),
            vec!["Human"]
        );
        assert!(index().find("i dont want a person").is_empty());
    }
}
