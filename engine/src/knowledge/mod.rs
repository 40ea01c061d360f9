//! Answers to the business's own questions ("what are your hours", "do you service heat
//! pumps"), retrieved from Markdown files the business writes. No network models: answers are
//! the business's own words, read aloud, so the agent cannot invent a price.
//!
//! A question finds the entry whose heading, keywords, example questions (`asks:`) and text
//! share the most specific words and word pairs with it ([`index`]); it finds nothing when
//! even the best entry leaves most of what was asked uncovered, so the agent says it is not
//! sure and offers a person instead of reading an answer to another question.

mod index;
mod markdown;
mod question;
mod terms;
#[cfg(test)]
mod tests;
mod words;

use std::collections::HashSet;

use index::{Evidence, Field, Index};
use markdown::{slug, split_sections, spoken_text};
pub use question::looks_like_question;

/// Whether `text` has a word that could name what a caller wants: "hey it's me", "i have a
/// question" and "can you help me" name nothing yet.
pub fn names_a_topic(text: &str) -> bool {
    terms::content_words(text).iter().any(|w| !w.generic)
}

/// Entries scoring at or below this are not answers (see [`score`]): about nine tenths of one
/// rare word's worth of evidence after discounting what the entry leaves uncovered. Set with
/// the labelled questions of `knowledge/calibration.txt` (the `calibration` test prints
/// precision and recall of the top answer).
pub const MIN_SCORE: f32 = 0.9;

/// One spoken answer: a `## Heading` section of a knowledge file.
#[derive(Debug, Clone, serde::Serialize)]
pub struct KnowledgeEntry {
    /// File stem and heading slug: "business/opening-hours".
    pub id: String,
    /// File name the entry came from: "business.md".
    pub source: String,
    /// The heading: "Opening hours".
    pub title: String,
    /// The section body, whitespace-collapsed, ready to be spoken.
    pub text: String,
    /// Example questions this entry answers (`asks:` lines), not spoken.
    pub asks: Vec<String>,
}

/// A knowledge file that can't be used.
#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError {
    #[error("knowledge file {file} has no `## Heading` sections")]
    NoSections { file: String },
    #[error("section `{heading}` in knowledge file {file} has no text to speak")]
    EmptySection { file: String, heading: String },
    #[error("knowledge entry id {id} occurs twice (same heading in the same file)")]
    DuplicateId { id: String },
}

/// The knowledge entries and their search index.
#[derive(Debug)]
pub struct KnowledgeBase {
    entries: Vec<KnowledgeEntry>,
    index: Index,
}

impl KnowledgeBase {
    /// Each `## Heading` section of a Markdown file is one entry (source = file name, id = file
    /// stem + "/" + slug of the heading); text is the section body, whitespace-collapsed, ready
    /// to be spoken. Lines at the top of a section, before its text, may add search terms that
    /// are not spoken: `keywords: a, b, c` (comma-separated phrases) and any number of
    /// `asks: <an example question>` lines, the ways callers ask for this answer. Text before
    /// the first `##` (e.g. a `#` title) is ignored.
    pub fn from_markdown(files: &[(String, String)]) -> Result<KnowledgeBase, KnowledgeError> {
        let mut entries = Vec::new();
        let mut index = Index::default();
        let mut seen = HashSet::new();
        for (file, content) in files {
            let stem = file
                .rsplit('/')
                .next()
                .unwrap_or(file)
                .trim_end_matches(".md");
            let sections = split_sections(content);
            if sections.is_empty() {
                return Err(KnowledgeError::NoSections { file: file.clone() });
            }
            for section in sections {
                let text = spoken_text(&section.body);
                if text.is_empty() {
                    return Err(KnowledgeError::EmptySection {
                        file: file.clone(),
                        heading: section.heading,
                    });
                }
                let id = format!("{stem}/{}", slug(&section.heading));
                if !seen.insert(id.clone()) {
                    return Err(KnowledgeError::DuplicateId { id });
                }
                index.begin_entry();
                index.add(Field::Heading, &section.heading);
                for keyword in &section.keywords {
                    index.add(Field::Keywords, keyword);
                }
                for ask in &section.asks {
                    index.add(Field::Asks, ask);
                }
                // Word pairs stay inside a sentence or clause.
                for clause in text.split(['.', ',', ';', '!', '?', ':']) {
                    index.add(Field::Text, clause);
                }
                entries.push(KnowledgeEntry {
                    id,
                    source: file.clone(),
                    title: section.heading,
                    text,
                    asks: section.asks,
                });
            }
        }
        index.finish();
        Ok(KnowledgeBase { entries, index })
    }

    /// Best entries for a normalized question, best first, each with its [`score`]. Only
    /// entries scoring above [`MIN_SCORE`] are returned; none when no entry answers.
    pub fn search(&self, query: &str, limit: usize) -> Vec<(&KnowledgeEntry, f32)> {
        let mut scored: Vec<(usize, f32)> = self
            .index
            .evidence(query)
            .into_iter()
            .map(score)
            .enumerate()
            .filter(|(_, s)| *s > MIN_SCORE)
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored
            .into_iter()
            .take(limit)
            .filter_map(|(i, s)| self.entries.get(i).map(|e| (e, s)))
            .collect()
    }

    /// All entries, in file and section order.
    pub fn entries(&self) -> &[KnowledgeEntry] {
        &self.entries
    }
}

/// An entry's score for a query: its BM25 scaled by the share of the question it covers, plus
/// the squared similarity with its closest example question (so only a close paraphrase of an
/// `asks:` line adds much).
fn score(evidence: Evidence) -> f32 {
    evidence.bm25 * evidence.coverage + evidence.asked * evidence.asked
}
