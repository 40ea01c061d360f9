//! Words as knowledge search sees them: normalized, stemmed, without the words that carry no
//! topic. Negations and numbers are left out on purpose: "not" would steer every question to
//! the "not cooling" tips, and "one and a half" would match a passage that spells out a phone
//! number digit by digit.

use std::collections::HashSet;
use std::sync::LazyLock;

use super::words::{
    CLAUSE_WORDS, GENERIC, MODIFYING_PREPOSITIONS, NEGATIONS, NUMBER_WORDS, SOCIAL_WORDS, STOPWORDS,
};
use crate::extract::normalize::normalize;
use crate::extract::numbers::{tens_word, unit_word};

/// A word class of [`super::words`], as a set.
type WordClass = LazyLock<HashSet<&'static str>>;

fn word_class(list: &'static str) -> HashSet<&'static str> {
    list.split_whitespace().collect()
}

static STOPWORD: WordClass = LazyLock::new(|| word_class(STOPWORDS));
static NEGATION: WordClass = LazyLock::new(|| word_class(NEGATIONS));
static GENERAL: WordClass = LazyLock::new(|| word_class(GENERIC));
static NUMBER_WORD: WordClass = LazyLock::new(|| word_class(NUMBER_WORDS));
static SOCIAL: WordClass = LazyLock::new(|| word_class(SOCIAL_WORDS));
static MODIFYING_PREPOSITION: WordClass = LazyLock::new(|| word_class(MODIFYING_PREPOSITIONS));
static CLAUSE_WORD: WordClass = LazyLock::new(|| word_class(CLAUSE_WORDS));

pub(super) fn is_stopword(word: &str) -> bool {
    STOPWORD.contains(word)
}

pub(super) fn is_negation(word: &str) -> bool {
    NEGATION.contains(word)
}

/// A general word: see [`super::words::GENERIC`].
pub(super) fn is_generic(word: &str) -> bool {
    GENERAL.contains(word)
}

/// "one", "twenty", "half", "89", "10:30", "$89" as normalized ("89").
pub(super) fn is_number(word: &str) -> bool {
    word.chars().any(|c| c.is_ascii_digit())
        || unit_word(word).is_some()
        || tens_word(word).is_some()
        || NUMBER_WORD.contains(word)
}

/// A word that can carry a topic, stemmed.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Word {
    pub stem: String,
    /// A general word ([`is_generic`]): it counts for less.
    pub generic: bool,
    /// Within reach of a negation before it ("isnt cooling", "wont get cold").
    pub negated: bool,
    /// In a phrase that qualifies what was already asked about: "the trip fee *for my side of
    /// dallas*", "discounts *on a new furnace*".
    pub modifier: bool,
    /// Forms a pair with the word before it: nothing but stopwords between them, no negation
    /// or new clause ("blowing but not cold" has no pair "blowing cold").
    pub joins_previous: bool,
}

/// How many content words after a negation it reaches.
const NEGATION_REACH: usize = 2;

/// The words of a text that can carry its topic, in order, stemmed: normalized, "a c" joined
/// to "ac", stopwords, negations and numbers out; the words a negation reaches and the words
/// of a qualifying phrase are marked.
pub(super) fn content_words(text: &str) -> Vec<Word> {
    let normalized = normalize(&text.replace(['/', ':', '.', '+', '-'], " "));
    let words: Vec<&str> = normalized.split(' ').filter(|w| !w.is_empty()).collect();
    let mut out: Vec<Word> = Vec::new();
    let mut negation_left = 0;
    let mut in_modifier = false;
    let mut joins_previous = false;
    let mut i = 0;
    while let Some(w) = words.get(i).copied() {
        i += 1;
        let (stem_of_word, generic) = if w == "a" && words.get(i) == Some(&"c") {
            i += 1;
            ("ac".to_owned(), false)
        } else if is_negation(w) {
            negation_left = NEGATION_REACH;
            joins_previous = false;
            continue;
        } else if CLAUSE_WORD.contains(w) {
            in_modifier = false;
            joins_previous = false;
            continue;
        } else if MODIFYING_PREPOSITION.contains(w) {
            // Only once something specific has been named.
            in_modifier = out.iter().any(|word| !word.generic);
            continue;
        } else if is_stopword(w) || is_number(w) {
            continue;
        } else {
            (stem(w), is_generic(w))
        };
        out.push(Word {
            stem: stem_of_word,
            generic,
            negated: negation_left > 0,
            modifier: in_modifier,
            joins_previous,
        });
        joins_previous = true;
        negation_left = negation_left.saturating_sub(1);
    }
    out
}

/// Every word of a sentence but numbers and social words, stemmed, negations as "not": the
/// shape of a question.
pub(super) fn sentence_words(text: &str) -> Vec<String> {
    normalize(&text.replace(['/', ':', '.', '+', '-'], " "))
        .split(' ')
        .filter(|w| !w.is_empty() && !is_number(w) && !SOCIAL.contains(w))
        .map(|w| {
            if is_negation(w) {
                "not".to_owned()
            } else {
                stem(w)
            }
        })
        .collect()
}

/// The key a pair of adjacent content words is indexed under ("trip charge", "gas bill").
pub(super) fn bigram(first: &str, second: &str) -> String {
    format!("{first} {second}")
}

/// The key of a negated word, whatever the negation was: "isnt cooling", "wont cool" and
/// "not cooling" all meet at "not cool".
pub(super) fn negated(word: &str) -> String {
    format!("not {word}")
}

/// Character trigrams of a word with its boundaries ("#he", "hea", "eat", "at#").
pub(super) fn trigrams(word: &str) -> Vec<String> {
    let padded: Vec<char> = format!("#{word}#").chars().collect();
    let mut grams: Vec<String> = padded.windows(3).map(|w| w.iter().collect()).collect();
    grams.sort();
    grams.dedup();
    grams
}

/// Dice overlap of two sorted, deduplicated trigram lists: 1 for the same word.
pub(super) fn trigram_overlap(a: &[String], b: &[String]) -> f32 {
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    let shared = a.iter().filter(|g| b.binary_search(g).is_ok()).count();
    2.0 * shared as f32 / (a.len() + b.len()) as f32
}

/// Light stemming so "pumps"/"pump", "freezes"/"freezing"/"freeze", "noises"/"noise",
/// "cleaned"/"clean" meet.
pub(super) fn stem(word: &str) -> String {
    let mut w = word.to_owned();
    if w.len() > 4 && w.ends_with("ies") {
        w.truncate(w.len() - 3);
        w.push('y');
    } else if w.ends_with("sses") {
        w.truncate(w.len() - 2);
    } else if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") {
        w.truncate(w.len() - 1);
    }
    let suffix = if w.len() > 5 && w.ends_with("ing") {
        3
    } else if w.len() > 4 && w.ends_with("ied") {
        w.truncate(w.len() - 3);
        w.push('y');
        0
    } else if w.len() > 3 && w.ends_with("ed") && !w.ends_with("eed") {
        2
    } else {
        0
    };
    if suffix > 0 {
        w.truncate(w.len() - suffix);
        // "running" -> "run", "stopped" -> "stop", but "calling" stays "call".
        let b = w.as_bytes();
        if let [.., x, y] = b
            && x == y
            && !matches!(x, b'l' | b's' | b'z')
        {
            w.truncate(w.len() - 1);
        }
    }
    if w.len() > 2 && w.ends_with('e') {
        w.truncate(w.len() - 1);
    }
    w
}
