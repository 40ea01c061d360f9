//! Concepts: named word classes found in an utterance, each occurrence with its token span.
//!
//! A concept is either a list of phrases or a compound of other concepts said close together
//! in one clause ("heater" + "went out" is `no_heating`). Phrases are normalized words; a word
//! ending in `*` matches any word it starts, `#` matches a number ("# month old"). When a longer
//! occurrence of one concept covers a shorter one of another ("smoke detector" over "smoke"), the
//! shorter one is dropped, as a reader would.

use std::collections::HashMap;

use crate::extract::numbers::parse_cardinal;

/// Index of a concept in the [`Lexicon`].
pub type ConceptId = usize;

/// One word of a phrase.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    Word(String),
    Prefix(String),
    Number,
}

impl Pattern {
    fn parse(word: &str) -> Pattern {
        if word == "#" {
            Pattern::Number
        } else if let Some(stem) = word.strip_suffix('*').filter(|s| !s.is_empty()) {
            Pattern::Prefix(stem.to_string())
        } else {
            Pattern::Word(word.to_string())
        }
    }
}

#[derive(Debug, Clone)]
struct Phrase {
    concept: ConceptId,
    words: Vec<Pattern>,
}

/// A compound concept: every part said within `within` tokens of each other in one clause.
#[derive(Debug, Clone)]
pub struct Compound {
    pub concept: ConceptId,
    pub parts: Vec<ConceptId>,
    pub within: usize,
}

/// An occurrence of a concept: tokens `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Occurrence {
    pub concept: ConceptId,
    pub start: usize,
    pub end: usize,
}

/// Every concept's phrases, indexed by first word.
#[derive(Debug, Default)]
pub struct Lexicon {
    names: Vec<String>,
    ids: HashMap<String, ConceptId>,
    phrases: Vec<Phrase>,
    /// Phrases whose first word is exact, by that word.
    by_first_word: HashMap<String, Vec<usize>>,
    /// Phrases starting with a prefix or a number (few; tried at every token).
    other_starts: Vec<usize>,
    pub(crate) compounds: Vec<Compound>,
}

impl Lexicon {
    /// The id of `name`, creating the concept if it is new.
    pub fn intern(&mut self, name: &str) -> ConceptId {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.names.len();
        self.names.push(name.to_string());
        self.ids.insert(name.to_string(), id);
        id
    }

    pub fn id(&self, name: &str) -> Option<ConceptId> {
        self.ids.get(name).copied()
    }

    pub fn name(&self, id: ConceptId) -> &str {
        self.names.get(id).map(String::as_str).unwrap_or("?")
    }

    /// Adds a normalized phrase to `concept`. Empty phrases are ignored.
    pub fn add_phrase(&mut self, concept: ConceptId, normalized: &str) {
        let words: Vec<Pattern> = normalized.split_whitespace().map(Pattern::parse).collect();
        let Some(first) = words.first() else {
            return;
        };
        let index = self.phrases.len();
        match first {
            Pattern::Word(w) => self.by_first_word.entry(w.clone()).or_default().push(index),
            Pattern::Prefix(_) | Pattern::Number => self.other_starts.push(index),
        }
        self.phrases.push(Phrase { concept, words });
    }

    pub fn add_compound(&mut self, concept: ConceptId, parts: Vec<ConceptId>, within: usize) {
        self.compounds.push(Compound {
            concept,
            parts,
            within,
        });
    }

    /// Phrase occurrences in `tokens`, before compounds and shadowing.
    pub(crate) fn phrase_occurrences(&self, tokens: &[&str]) -> Vec<Occurrence> {
        let mut found = Vec::new();
        for start in 0..tokens.len() {
            let token = tokens[start];
            let without_s = token.strip_suffix('s').filter(|w| !w.is_empty());
            let candidates = self
                .by_first_word
                .get(token)
                .into_iter()
                .chain(without_s.and_then(|w| self.by_first_word.get(w)))
                .flatten()
                .chain(self.other_starts.iter());
            for &p in candidates {
                let phrase = &self.phrases[p];
                if let Some(end) = match_phrase(&phrase.words, tokens, start) {
                    found.push(Occurrence {
                        concept: phrase.concept,
                        start,
                        end,
                    });
                }
            }
        }
        found
    }
}

/// Where `words` matching at `tokens[start..]` ends, if they match.
fn match_phrase(words: &[Pattern], tokens: &[&str], start: usize) -> Option<usize> {
    let mut at = start;
    for word in words {
        let token = *tokens.get(at)?;
        match word {
            // "ac's" and "heat's" arrive as "acs" and "heats"; plurals too.
            Pattern::Word(w) => {
                if token != w && token.strip_suffix('s') != Some(w.as_str()) {
                    return None;
                }
                at += 1;
            }
            Pattern::Prefix(p) => {
                if !token.starts_with(p.as_str()) {
                    return None;
                }
                at += 1;
            }
            Pattern::Number => {
                let (_, used) = parse_cardinal(&tokens[at..])?;
                at += used;
            }
        }
    }
    Some(at)
}

/// Drops occurrences strictly inside a longer occurrence ("smoke" inside "smoke detector",
/// "two month old" inside "twenty two month old").
pub(crate) fn drop_shadowed(found: &mut Vec<Occurrence>) {
    let all = found.clone();
    found.retain(|o| {
        !all.iter().any(|other| {
            other.start <= o.start
                && other.end >= o.end
                && (other.end - other.start) > (o.end - o.start)
        })
    });
    found.sort_by_key(|o| (o.start, o.end, o.concept));
    found.dedup();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lexicon() -> Lexicon {
        let mut lx = Lexicon::default();
        let odor = lx.intern("odor");
        let smoke = lx.intern("smoke");
        let alarm = lx.intern("alarm");
        let infant = lx.intern("infant");
        lx.add_phrase(odor, "smell*");
        lx.add_phrase(odor, "reek*");
        lx.add_phrase(smoke, "smoke");
        lx.add_phrase(alarm, "smoke detector*");
        lx.add_phrase(infant, "# month old");
        lx
    }

    fn names(lx: &Lexicon, text: &str) -> Vec<String> {
        let tokens: Vec<&str> = text.split(' ').collect();
        let mut found = lx.phrase_occurrences(&tokens);
        drop_shadowed(&mut found);
        found
            .iter()
            .map(|o| format!("{}@{}", lx.name(o.concept), o.start))
            .collect()
    }

    #[test]
    fn prefixes_numbers_and_shadowing() {
        let lx = lexicon();
        assert_eq!(names(&lx, "it smells and reeks"), ["odor@1", "odor@3"]);
        assert_eq!(names(&lx, "the smoke detectors beep"), ["alarm@1"]);
        assert_eq!(names(&lx, "smoke everywhere"), ["smoke@0"]);
        assert_eq!(names(&lx, "a twenty two month old"), ["infant@1"]);
        assert_eq!(names(&lx, "the smoke detectors beep"), ["alarm@1"]);
        assert_eq!(names(&lx, "smokes"), ["smoke@0"]);
        assert!(names(&lx, "a month old").is_empty());
    }
}
