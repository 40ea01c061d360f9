//! Scoring questions against knowledge entries.
//!
//! Each entry is one bag of terms from its heading, its `keywords:` phrases, its `asks:`
//! example questions and its spoken text. Terms are stemmed content words, the pairs of
//! adjacent content words inside one phrase or sentence ("trip charge", "gas bill"), and
//! negated words ("isnt cooling" and "wont cool" both give "not cool"), so a phrase outranks
//! the same words scattered. Ranking is BM25 over those terms. Whether the best entry answers
//! at all is a second question: the share of the query's information (idf) that the entry
//! covers, where a word the knowledge never uses counts as information the entry lacks
//! ("military discount" shares only a generic word with the fee passage). A query word the
//! knowledge does not know is read as the known word closest in spelling when they start alike
//! and share most of their letter trigrams ("diagnose" as "diagnosis", "furnance" as "furnace").

use std::collections::HashMap;

use super::terms::{bigram, content_words, negated, sentence_words, trigram_overlap, trigrams};

/// BM25 term-frequency saturation.
const K1: f32 = 1.2;
/// BM25 length normalization.
const B: f32 = 0.75;
/// How much a general word ("went", "house", "last") counts next to a word that names a topic.
const GENERIC_WEIGHT: f32 = 0.3;
/// How much a word in a qualifying phrase ("the trip fee for my side of dallas") counts next to the
/// thing asked about.
const MODIFIER_WEIGHT: f32 = 0.5;
/// Information of a word no entry uses, in units of a word only one entry uses.
const UNKNOWN_WORD_INFORMATION: f32 = 1.4;
/// Least trigram overlap for an unknown query word to be read as a known one.
const FUZZY_MIN_OVERLAP: f32 = 0.6;
/// Shortest unknown word read by spelling: short words are too alike ("car", "ac").
const FUZZY_MIN_LEN: usize = 5;

/// A query or phrase as terms: content words, each with how much it counts, and the pair and
/// negation keys.
struct PhraseTerms {
    words: Vec<(String, f32)>,
    pairs: Vec<String>,
}

fn phrase_terms(text: &str) -> PhraseTerms {
    let words = content_words(text);
    let mut pairs: Vec<String> = words
        .windows(2)
        .filter(|w| w[1].joins_previous)
        .map(|w| bigram(&w[0].stem, &w[1].stem))
        .collect();
    pairs.extend(words.iter().filter(|w| w.negated).map(|w| negated(&w.stem)));
    let words = words
        .into_iter()
        .map(|w| {
            let generic = if w.generic { GENERIC_WEIGHT } else { 1.0 };
            let modifier = if w.modifier { MODIFIER_WEIGHT } else { 1.0 };
            (w.stem, generic * modifier)
        })
        .collect();
    PhraseTerms { words, pairs }
}

/// A whole sentence as features for comparing it with example questions: every word but
/// fillers and numbers (function words give a question its shape: "what kind of work do you
/// do"), stemmed, and every pair of adjacent words.
fn sentence_features(text: &str) -> HashMap<String, f32> {
    let words: Vec<String> = sentence_words(text);
    let mut features: HashMap<String, f32> = HashMap::new();
    for word in &words {
        *features.entry(word.clone()).or_default() += 1.0;
    }
    for pair in words.windows(2) {
        *features.entry(bigram(&pair[0], &pair[1])).or_default() += 1.0;
    }
    features
}

/// Where an entry's text comes from. Every field counts the same in BM25; example questions
/// are also compared whole with the caller's question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Field {
    Heading,
    Keywords,
    Asks,
    Text,
}

#[derive(Debug, Default)]
struct Doc {
    /// Weighted occurrences of each term.
    terms: HashMap<String, f32>,
    len: f32,
}

/// One entry's evidence for a query.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Evidence {
    /// BM25 over words, pairs and negations, in units of the idf of a word one entry uses.
    pub bm25: f32,
    /// Share of the query's word information (idf) found in the entry, unknown words included.
    pub coverage: f32,
    /// Cosine similarity of the whole query, function words and word pairs included, with the
    /// closest of the entry's example questions.
    pub asked: f32,
}

#[derive(Debug, Default)]
pub(super) struct Index {
    docs: Vec<Doc>,
    doc_freq: HashMap<String, u32>,
    avg_len: f32,
    /// Every single-word term, with its trigrams, for reading unknown words.
    vocabulary: Vec<(String, Vec<String>)>,
    /// The example questions: entry index and sentence features.
    asks: Vec<(usize, HashMap<String, f32>)>,
    /// In how many example questions each sentence feature occurs.
    ask_freq: HashMap<String, u32>,
}

impl Index {
    /// Starts a new entry; the following [`Index::add`] calls fill it.
    pub(super) fn begin_entry(&mut self) {
        self.docs.push(Doc::default());
    }

    /// Adds one phrase or sentence of the current entry.
    pub(super) fn add(&mut self, field: Field, text: &str) {
        if field == Field::Asks && !self.docs.is_empty() {
            let features = sentence_features(text);
            self.asks.push((self.docs.len() - 1, features));
        }
        let Some(doc) = self.docs.last_mut() else {
            return;
        };
        let terms = phrase_terms(text);
        for term in terms.words.into_iter().map(|(w, _)| w).chain(terms.pairs) {
            *doc.terms.entry(term).or_default() += 1.0;
            doc.len += 1.0;
        }
    }

    /// Computes document frequencies once every entry is added.
    pub(super) fn finish(&mut self) {
        self.doc_freq.clear();
        for doc in &self.docs {
            for term in doc.terms.keys() {
                *self.doc_freq.entry(term.clone()).or_default() += 1;
            }
        }
        self.avg_len = if self.docs.is_empty() {
            1.0
        } else {
            (self.docs.iter().map(|d| d.len).sum::<f32>() / self.docs.len() as f32).max(1.0)
        };
        let mut vocabulary: Vec<(String, Vec<String>)> = self
            .doc_freq
            .keys()
            .filter(|t| !t.contains(' '))
            .map(|t| (t.clone(), trigrams(t)))
            .collect();
        vocabulary.sort();
        self.vocabulary = vocabulary;
        self.ask_freq.clear();
        for (_, features) in &self.asks {
            for feature in features.keys() {
                *self.ask_freq.entry(feature.clone()).or_default() += 1;
            }
        }
        let weighted: Vec<(usize, HashMap<String, f32>)> = self
            .asks
            .iter()
            .map(|(entry, features)| (*entry, self.weigh_features(features)))
            .collect();
        self.asks = weighted;
    }

    /// Sentence features weighted by their rarity among the example questions, unit length.
    fn weigh_features(&self, features: &HashMap<String, f32>) -> HashMap<String, f32> {
        let n = self.asks.len() as f32;
        let mut weighted: HashMap<String, f32> = features
            .iter()
            .map(|(f, count)| {
                let df = self.ask_freq.get(f).copied().unwrap_or(0) as f32;
                let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
                (f.clone(), count * idf)
            })
            .collect();
        let norm = weighted.values().map(|v| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            for v in weighted.values_mut() {
                *v /= norm;
            }
        }
        weighted
    }

    /// Per entry, the cosine similarity of the query with its closest example question.
    fn asked(&self, query: &str) -> Vec<f32> {
        let query = self.weigh_features(&sentence_features(query));
        let mut best = vec![0.0f32; self.docs.len()];
        for (entry, features) in &self.asks {
            let cosine: f32 = query
                .iter()
                .filter_map(|(f, w)| features.get(f).map(|v| v * w))
                .sum();
            if let Some(b) = best.get_mut(*entry) {
                *b = b.max(cosine);
            }
        }
        best
    }

    /// BM25 inverse document frequency of a term some entry uses.
    fn idf(&self, term: &str) -> f32 {
        let n = self.docs.len() as f32;
        let df = self.doc_freq.get(term).copied().unwrap_or(0) as f32;
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
    }

    /// The idf of a word only one entry uses: the unit scores are measured in, so that a
    /// threshold means the same for a knowledge base of five entries or fifty.
    fn unit(&self) -> f32 {
        let n = self.docs.len() as f32;
        (1.0 + (n - 0.5) / 1.5).ln().max(f32::EPSILON)
    }

    /// What a query word says about the question: its idf, or for a word no entry uses, a
    /// little more than the rarest known word.
    fn information(&self, word: &str) -> f32 {
        if self.doc_freq.contains_key(word) {
            self.idf(word)
        } else {
            UNKNOWN_WORD_INFORMATION * self.unit()
        }
    }

    /// The known word an unknown one most likely is.
    fn closest_known(&self, word: &str) -> Option<&str> {
        if self.doc_freq.contains_key(word) {
            return None;
        }
        // A short plural or possessive the stemmer leaves alone ("acs").
        if let Some(singular) = word.strip_suffix('s')
            && let Some((known, _)) = self.doc_freq.get_key_value(singular)
        {
            return Some(known.as_str());
        }
        if word.len() < FUZZY_MIN_LEN {
            return None;
        }
        let grams = trigrams(word);
        // Misspellings and misrecognitions keep the start of a word; a word that only ends like
        // a known one is another word ("fireplace" is not "replace").
        let start: String = word.chars().take(2).collect();
        self.vocabulary
            .iter()
            .filter(|(known, _)| known.starts_with(&start))
            .map(|(known, known_grams)| (known.as_str(), trigram_overlap(&grams, known_grams)))
            .filter(|(_, overlap)| *overlap >= FUZZY_MIN_OVERLAP)
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(a.0)))
            .map(|(known, _)| known)
    }

    /// Evidence of every entry, in entry order.
    pub(super) fn evidence(&self, query: &str) -> Vec<Evidence> {
        let terms = phrase_terms(query);
        // Each distinct query word with the information it carries; an unknown word keeps the
        // information of an unknown word (it lacks an answer) unless it reads as a known one.
        let mut words: Vec<(String, f32)> = Vec::new();
        for (word, weight) in terms.words {
            let (word, information) = match self.closest_known(&word) {
                Some(known) => (known.to_owned(), self.idf(known) * weight),
                None => {
                    let information = self.information(&word) * weight;
                    (word, information)
                }
            };
            match words.iter_mut().find(|(w, _)| *w == word) {
                Some(seen) => seen.1 = seen.1.max(information),
                None => words.push((word, information)),
            }
        }
        let mut pairs = terms.pairs;
        pairs.sort();
        pairs.dedup();
        let weighted: Vec<(&str, f32)> = words
            .iter()
            .map(|(w, information)| (w.as_str(), *information))
            .chain(pairs.iter().map(|p| (p.as_str(), self.idf(p))))
            .collect();
        let total: f32 = words.iter().map(|(_, information)| information).sum();
        let unit = self.unit();
        let asked = self.asked(query);
        self.docs
            .iter()
            .zip(asked)
            .map(|(doc, asked)| {
                let norm = K1 * (1.0 - B + B * doc.len / self.avg_len);
                let bm25 = weighted
                    .iter()
                    .map(|(t, information)| {
                        let tf = doc.terms.get(*t).copied().unwrap_or(0.0);
                        information * tf * (K1 + 1.0) / (tf + norm)
                    })
                    .sum::<f32>();
                let covered: f32 = words
                    .iter()
                    .filter(|(w, _)| doc.terms.contains_key(w))
                    .map(|(_, information)| information)
                    .sum();
                Evidence {
                    bm25: bm25 / unit,
                    coverage: if total > 0.0 { covered / total } else { 0.0 },
                    asked,
                }
            })
            .collect()
    }
}
