//! Words as knowledge search sees them: normalized, stemmed, without the words that carry no
//! topic. Negations and numbers are left out on purpose: "not" would steer every question to
//! the "not cooling" tips, and "one and a half" would match a passage that spells out a phone
//! number digit by digit.

use crate::extract::normalize::normalize;
use crate::extract::numbers::{tens_word, unit_word};

/// Words that carry no topic. Question words are here because every query has them.
const STOPWORDS: &[&str] = &[
    "a",
    "about",
    "also",
    "am",
    "an",
    "and",
    "any",
    "anybody",
    "anyone",
    "anything",
    "are",
    "as",
    "at",
    "be",
    "been",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "for",
    "from",
    "get",
    "gets",
    "getting",
    "got",
    "gonna",
    "gotta",
    "guys",
    "had",
    "has",
    "have",
    "he",
    "her",
    "here",
    "heres",
    "hes",
    "hey",
    "hi",
    "him",
    "his",
    "hello",
    "how",
    "hows",
    "i",
    "id",
    "if",
    "ill",
    "im",
    "in",
    "into",
    "is",
    "it",
    "its",
    "ive",
    "just",
    "kind",
    "kinda",
    "know",
    "like",
    "lets",
    "me",
    "might",
    "mine",
    "my",
    "of",
    "ok",
    "okay",
    "on",
    "or",
    "our",
    "ours",
    "please",
    "pretty",
    "question",
    "quick",
    "really",
    "she",
    "shes",
    "should",
    "so",
    "some",
    "somebody",
    "someone",
    "something",
    "sort",
    "sorta",
    "that",
    "thats",
    "the",
    "their",
    "them",
    "then",
    "there",
    "theres",
    "these",
    "they",
    "theyre",
    "thing",
    "this",
    "those",
    "thanks",
    "thank",
    "to",
    "tell",
    "u",
    "um",
    "up",
    "us",
    "very",
    "wanna",
    "want",
    "wanted",
    "wanting",
    "was",
    "we",
    "were",
    "what",
    "whats",
    "when",
    "whens",
    "where",
    "wheres",
    "which",
    "who",
    "whos",
    "why",
    "will",
    "with",
    "wondering",
    "would",
    "ya",
    "yall",
    "yeah",
    "yes",
    "you",
    "youd",
    "youll",
    "your",
    "youre",
    "yours",
    "youve",
    "well",
    "wed",
    "weve",
    "ours",
    "too",
    "now",
    "right",
    "sure",
    "guess",
    "maybe",
    "probably",
    "actually",
    "basically",
    "honestly",
    "mean",
    "said",
    "say",
    "says",
    "stuff",
    "wonder",
    "curious",
    "till",
    "til",
    "until",
    "type",
    "types",
    "form",
    "forms",
    "option",
    "options",
    "roughly",
    "approximately",
    "ballpark",
    "yalls",
    "lemme",
    "gimme",
    "wise",
    "myself",
    "yourself",
    "ourselves",
    "themselves",
    "itself",
    "himself",
    "herself",
];

/// Words that turn a statement around. They say nothing about the topic.
const NEGATIONS: &[&str] = &[
    "not", "no", "nope", "nor", "never", "dont", "doesnt", "didnt", "isnt", "arent", "wasnt",
    "werent", "wont", "cant", "cannot", "couldnt", "wouldnt", "shouldnt", "aint", "havent",
    "hasnt", "hadnt", "neither", "nothing", "none",
];

/// General words that describe rather than name a topic: common verbs, adjectives, adverbs,
/// times and parts of a house ("it went dark last week", "one bedroom barely gets air"). They
/// count for little when they match and cost little when the knowledge never uses them, so
/// the words that name what is asked ("generators", "thermostat") decide.
const GENERIC: &[&str] = &[
    // verbs
    "go",
    "goes",
    "going",
    "went",
    "gone",
    "come",
    "comes",
    "coming",
    "came",
    "make",
    "makes",
    "making",
    "made",
    "take",
    "takes",
    "taking",
    "took",
    "taken",
    "give",
    "gives",
    "giving",
    "gave",
    "given",
    "put",
    "puts",
    "putting",
    "keep",
    "keeps",
    "keeping",
    "kept",
    "let",
    "seem",
    "seems",
    "seemed",
    "feel",
    "feels",
    "felt",
    "look",
    "looks",
    "looked",
    "looking",
    "see",
    "sees",
    "saw",
    "seen",
    "think",
    "thinks",
    "thought",
    "try",
    "tries",
    "tried",
    "trying",
    "use",
    "uses",
    "used",
    "using",
    "need",
    "needs",
    "needed",
    "happen",
    "happens",
    "happened",
    "happening",
    "start",
    "starts",
    "started",
    "starting",
    "stop",
    "stops",
    "stopped",
    "turn",
    "turns",
    "turned",
    "turning",
    "run",
    "runs",
    "ran",
    "running",
    "work",
    "works",
    "worked",
    "working",
    "call",
    "calls",
    "called",
    "calling",
    "help",
    "helps",
    "helped",
    "find",
    "found",
    "show",
    "shows",
    "showed",
    "bring",
    "brought",
    "leave",
    "leaving",
    "left",
    "set",
    "move",
    "moved",
    "change",
    "changed",
    "changing",
    "live",
    "lives",
    "lived",
    "wait",
    "waiting",
    "hear",
    "heard",
    "notice",
    "noticed",
    "hope",
    "told",
    "ask",
    "asked",
    "asking",
    "buy",
    "bought",
    "sell",
    "sells",
    "selling",
    "sold",
    "handle",
    "handles",
    "deal",
    "push",
    "pushed",
    "hit",
    "become",
    "became",
    "act",
    "acting",
    "acts",
    "sit",
    "sits",
    "sitting",
    "stay",
    "stays",
    "stayed",
    "send",
    "sent",
    "accept",
    "accepts",
    "offer",
    "offers",
    // adjectives and adverbs
    "good",
    "happy",
    "bad",
    "big",
    "bigger",
    "small",
    "smaller",
    "little",
    "huge",
    "large",
    "high",
    "higher",
    "low",
    "lower",
    "new",
    "old",
    "older",
    "long",
    "longer",
    "real",
    "wrong",
    "weird",
    "strange",
    "crazy",
    "terrible",
    "awful",
    "worse",
    "worst",
    "better",
    "best",
    "great",
    "fine",
    "nice",
    "normal",
    "same",
    "different",
    "other",
    "another",
    "whole",
    "entire",
    "full",
    "empty",
    "dark",
    "ready",
    "sure",
    "possible",
    "able",
    "easy",
    "hard",
    "fast",
    "slow",
    "always",
    "sometimes",
    "often",
    "usually",
    "still",
    "again",
    "already",
    "ever",
    "even",
    "almost",
    "barely",
    "hardly",
    "only",
    "more",
    "most",
    "less",
    "least",
    "lot",
    "lots",
    "bit",
    "enough",
    "quite",
    "rather",
    "super",
    "totally",
    "completely",
    "suddenly",
    "recently",
    "lately",
    "anymore",
    "yet",
    "back",
    "away",
    "around",
    "over",
    "out",
    "down",
    "each",
    "every",
    "everything",
    "all",
    "way",
    "far",
    // times
    "day",
    "days",
    "week",
    "weeks",
    "month",
    "months",
    "year",
    "years",
    "morning",
    "mornings",
    "afternoon",
    "afternoons",
    "minute",
    "minutes",
    "second",
    "seconds",
    "time",
    "times",
    "last",
    "next",
    "first",
    "past",
    "ago",
    "yesterday",
    "while",
    "since",
    "before",
    "after",
    // people and parts of a house
    "house",
    "home",
    "room",
    "rooms",
    "bedroom",
    "bedrooms",
    "kitchen",
    "living",
    "attic",
    "closet",
    "garage",
    "basement",
    "upstairs",
    "downstairs",
    "floor",
    "wall",
    "walls",
    "ceiling",
    "window",
    "windows",
    "door",
    "doors",
    "yard",
    "backyard",
    "place",
    "apartment",
    "inside",
    "outside",
    "guy",
    "man",
    "lady",
    "wife",
    "husband",
    "kid",
    "kids",
    "family",
    "mom",
    "dad",
    "mother",
    "father",
    "son",
    "daughter",
    "neighbor",
    "neighbors",
    "landlord",
    "tenant",
    "people",
    "folks",
];

/// Number words beyond the units, teens and tens.
const NUMBER_WORDS: &[&str] = &[
    "hundred", "thousand", "million", "half", "quarter", "dozen", "oh",
];

pub(super) fn is_stopword(word: &str) -> bool {
    STOPWORDS.contains(&word)
}

pub(super) fn is_negation(word: &str) -> bool {
    NEGATIONS.contains(&word)
}

/// A general word: see [`GENERIC`].
pub(super) fn is_generic(word: &str) -> bool {
    GENERIC.contains(&word)
}

/// "one", "twenty", "half", "89", "10:30", "$89" as normalized ("89").
pub(super) fn is_number(word: &str) -> bool {
    word.chars().any(|c| c.is_ascii_digit())
        || unit_word(word).is_some()
        || tens_word(word).is_some()
        || NUMBER_WORDS.contains(&word)
}

/// A word that can carry a topic, stemmed.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Word {
    pub stem: String,
    /// A general word ([`is_generic`]): it counts for less.
    pub generic: bool,
    /// Within reach of a negation before it ("isnt cooling", "wont get cold").
    pub negated: bool,
    /// In a phrase that qualifies what was already asked about: "a trip charge *for fort
    /// worth*", "rebates *for heat pumps*".
    pub modifier: bool,
    /// Forms a pair with the word before it: nothing but stopwords between them, no negation
    /// or new clause ("blowing but not cold" has no pair "blowing cold").
    pub joins_previous: bool,
}

/// How many content words after a negation it reaches.
const NEGATION_REACH: usize = 2;

/// Prepositions that, after the thing asked about has been named, open a phrase qualifying it.
/// Not "of" or "about": "the price of a tune-up", "something about the dust" name the topic.
const MODIFYING_PREPOSITIONS: &[&str] = &[
    "for", "in", "on", "at", "during", "from", "near", "around", "with", "like", "by",
];

/// Words that start a new clause, ending a qualifying phrase.
const CLAUSE_WORDS: &[&str] = &[
    "and", "but", "or", "if", "because", "when", "so", "then", "is", "are", "was", "were", "do",
    "does", "did", "can", "could", "should", "would", "will", "what", "whats", "how", "why",
    "which", "who", "where",
];

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
        } else if CLAUSE_WORDS.contains(&w) {
            in_modifier = false;
            joins_previous = false;
            continue;
        } else if MODIFYING_PREPOSITIONS.contains(&w) {
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

/// Words callers wrap a question in, which say nothing about its shape either.
const SOCIAL_WORDS: &[&str] = &[
    "guys",
    "yall",
    "yalls",
    "just",
    "like",
    "hey",
    "hi",
    "hello",
    "so",
    "well",
    "okay",
    "ok",
    "yeah",
    "please",
    "really",
    "actually",
    "basically",
    "honestly",
    "quick",
    "question",
    "wondering",
    "sir",
    "maam",
];

/// Every word of a sentence but numbers and social words, stemmed, negations as "not": the
/// shape of a question.
pub(super) fn sentence_words(text: &str) -> Vec<String> {
    normalize(&text.replace(['/', ':', '.', '+', '-'], " "))
        .split(' ')
        .filter(|w| !w.is_empty() && !is_number(w) && !SOCIAL_WORDS.contains(w))
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
