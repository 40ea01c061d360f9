//! Answers to the business's own questions ("what are your hours", "do you service heat
//! pumps"), retrieved with BM25 from Markdown files the business writes. No network models:
//! answers are the business's own words, read aloud, so the agent cannot invent a price.

use std::collections::{HashMap, HashSet};

use crate::extract::normalize::normalize;

/// BM25 term-frequency saturation.
const K1: f32 = 1.2;
/// BM25 length normalization.
const B: f32 = 0.75;
/// Entries scoring at or below this are not answers. A single query word that occurs in only
/// one or two of ~20 sections scores about 1.5–3; words common to many sections ("ac",
/// "system") score well under 1. So 1.2 keeps one rare matching word as enough and drops
/// questions that only share generic words with the knowledge.
pub const MIN_SCORE: f32 = 1.2;

/// Words that carry no topic. Question words are here because every query has them.
const STOPWORDS: &str = "\
a about am an and any are as at be been but by can could did do does doing for from get \
got had has have he her here him his how i id if im in is it its ive just know like me \
might my of on or our please question she should so some that thats the their them then \
there these they this those to tell us was we were what whats when where which who why \
will with would you your youre yall want wondering wanted okay ok yeah hi hello um also \
really very all up yes no guys yall thanks thank";

fn is_stopword(word: &str) -> bool {
    STOPWORDS.split_whitespace().any(|s| s == word)
}

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

/// Per-entry term counts for BM25.
#[derive(Debug)]
struct Doc {
    terms: HashMap<String, u32>,
    len: f32,
}

/// A BM25 index over knowledge entries.
#[derive(Debug)]
pub struct KnowledgeBase {
    entries: Vec<KnowledgeEntry>,
    docs: Vec<Doc>,
    doc_freq: HashMap<String, u32>,
    avg_len: f32,
}

impl KnowledgeBase {
    /// Each `## Heading` section of a Markdown file is one entry (source = file name, id = file
    /// stem + "/" + slug of the heading); text is the section body, whitespace-collapsed, ready
    /// to be spoken. An optional line `keywords: a, b, c` directly under the heading adds search
    /// terms and is not spoken. Text before the first `##` (e.g. a `#` title) is ignored.
    pub fn from_markdown(files: &[(String, String)]) -> Result<KnowledgeBase, KnowledgeError> {
        let mut entries = Vec::new();
        let mut docs = Vec::new();
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
                let indexed = format!("{} {} {}", section.heading, section.keywords, text);
                let terms = terms(&indexed);
                let mut counts: HashMap<String, u32> = HashMap::new();
                for t in &terms {
                    *counts.entry(t.clone()).or_default() += 1;
                }
                docs.push(Doc {
                    len: terms.len() as f32,
                    terms: counts,
                });
                entries.push(KnowledgeEntry {
                    id,
                    source: file.clone(),
                    title: section.heading,
                    text,
                });
            }
        }
        let mut doc_freq: HashMap<String, u32> = HashMap::new();
        for doc in &docs {
            for term in doc.terms.keys() {
                *doc_freq.entry(term.clone()).or_default() += 1;
            }
        }
        let avg_len = if docs.is_empty() {
            1.0
        } else {
            (docs.iter().map(|d| d.len).sum::<f32>() / docs.len() as f32).max(1.0)
        };
        Ok(KnowledgeBase {
            entries,
            docs,
            doc_freq,
            avg_len,
        })
    }

    /// Best entries for a question, best first: BM25 (k1 = 1.2, b = 0.75) over normalized
    /// tokens with English stopwords removed and light stemming (plural s, -ing). Only entries
    /// scoring above [`MIN_SCORE`] are returned.
    pub fn search(&self, query: &str, limit: usize) -> Vec<(&KnowledgeEntry, f32)> {
        let mut query_terms = terms(query);
        query_terms.sort();
        query_terms.dedup();
        let n = self.docs.len() as f32;
        let mut scored: Vec<(usize, f32)> = self
            .docs
            .iter()
            .enumerate()
            .map(|(i, doc)| {
                let score = query_terms
                    .iter()
                    .map(|t| {
                        let tf = doc.terms.get(t).copied().unwrap_or(0) as f32;
                        if tf == 0.0 {
                            return 0.0;
                        }
                        let df = self.doc_freq.get(t).copied().unwrap_or(0) as f32;
                        let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
                        let norm = K1 * (1.0 - B + B * doc.len / self.avg_len);
                        idf * tf * (K1 + 1.0) / (tf + norm)
                    })
                    .sum::<f32>();
                (i, score)
            })
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

/// Does this normalized utterance look like a question ("do you service heat pumps", "how much
/// is a visit", "what are your hours", "are you open saturday", "is it normal that my ac freezes
/// up")? Requests phrased as questions ("can you book me in") are not: they are bookings.
pub fn looks_like_question(normalized: &str) -> bool {
    let words: Vec<&str> = normalized.split_whitespace().collect();
    let Some(first) = words.first().copied() else {
        return false;
    };
    const ASKING: &[&str] = &[
        "what", "whats", "when", "whens", "where", "wheres", "who", "whos", "why", "how", "hows",
        "which", "do", "does", "did", "are", "is", "isnt", "can", "could", "will", "would",
        "should", "have", "has", "may", "am", "aint", "dont", "doesnt", "arent",
    ];
    const PHRASES: &[&str] = &[
        "i was wondering",
        "im wondering",
        "wondering if",
        "wondering what",
        "i have a question",
        "quick question",
        "i want to know",
        "i wanted to know",
        "id like to know",
        "i need to know",
        "can you tell me",
        "could you tell me",
        "tell me",
        "curious",
        "do you know",
        "is it normal",
        "is that normal",
    ];
    // "can you book me", "could i schedule": requests, handled by booking flows.
    let request = matches!(first, "can" | "could" | "would" | "will")
        && words
            .get(1)
            .is_some_and(|w| matches!(*w, "you" | "i" | "we" | "someone"))
        && words.get(2).is_some_and(|w| {
            matches!(
                *w,
                "book"
                    | "schedule"
                    | "make"
                    | "set"
                    | "send"
                    | "get"
                    | "transfer"
                    | "come"
                    | "cancel"
                    | "reschedule"
                    | "have"
                    | "talk"
                    | "speak"
            )
        });
    if request {
        return false;
    }
    let padded = format!(" {normalized} ");
    ASKING.contains(&first) || PHRASES.iter().any(|p| padded.contains(&format!(" {p} ")))
}

struct Section {
    heading: String,
    keywords: String,
    body: Vec<String>,
}

fn split_sections(content: &str) -> Vec<Section> {
    let mut sections: Vec<Section> = Vec::new();
    for line in content.lines() {
        let trimmed = line.trim();
        if let Some(heading) = trimmed.strip_prefix("## ") {
            sections.push(Section {
                heading: heading.trim().trim_end_matches('#').trim().to_owned(),
                keywords: String::new(),
                body: Vec::new(),
            });
            continue;
        }
        let Some(section) = sections.last_mut() else {
            continue; // Before the first section: the file's title or notes.
        };
        let first_line = section.body.iter().all(|l| l.trim().is_empty());
        let keywords = trimmed
            .get(..9)
            .filter(|p| p.eq_ignore_ascii_case("keywords:"))
            .and_then(|_| trimmed.get(9..));
        match keywords {
            Some(k) if first_line && section.keywords.is_empty() => {
                section.keywords = k.replace(',', " ");
            }
            _ => section.body.push(line.to_owned()),
        }
    }
    sections
}

/// The body as one line of speech: Markdown bullets, emphasis and link targets dropped.
fn spoken_text(lines: &[String]) -> String {
    let mut out = String::new();
    for line in lines {
        let line = line.trim();
        let line = line
            .trim_start_matches('#')
            .trim_start_matches(['-', '*', '+', '>'])
            .trim();
        out.push(' ');
        out.push_str(&strip_links(line).replace(['*', '_', '`'], ""));
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// "[our site](https://…)" -> "our site".
fn strip_links(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(open) = rest.find("](") {
        let Some(close) = rest.get(open..).and_then(|r| r.find(')')) else {
            break;
        };
        out.push_str(rest.get(..open).unwrap_or_default());
        rest = rest.get(open + close + 1..).unwrap_or_default();
    }
    out.push_str(rest);
    out.replace('[', "")
}

fn slug(heading: &str) -> String {
    normalize(heading)
        .split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-")
        .replace([':', '/', '.', '+'], "-")
}

/// Search terms of a text: normalized, "a c" joined to "ac", stopwords out, stemmed.
fn terms(text: &str) -> Vec<String> {
    let normalized = normalize(&text.replace(['/', ':', '.', '+'], " "));
    let words: Vec<&str> = normalized.split(' ').filter(|w| !w.is_empty()).collect();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(w) = words.get(i).copied() {
        i += 1;
        if w == "a" && words.get(i) == Some(&"c") {
            out.push("ac".to_owned());
            i += 1;
            continue;
        }
        if !is_stopword(w) {
            out.push(stem(w));
        }
    }
    out
}

/// Light stemming so "pumps"/"pump", "freezes"/"freezing"/"freeze", "noises"/"noise" meet.
fn stem(word: &str) -> String {
    let mut w = word.to_owned();
    if w.len() > 4 && w.ends_with("ies") {
        w.truncate(w.len() - 3);
        w.push('y');
    } else if w.ends_with("sses") {
        w.truncate(w.len() - 2);
    } else if w.len() > 3 && w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") {
        w.truncate(w.len() - 1);
    }
    if w.len() > 5 && w.ends_with("ing") {
        w.truncate(w.len() - 3);
        // "running" -> "run", but "calling" stays "call".
        let b = w.as_bytes();
        if let [.., x, y] = b
            && x == y
            && !matches!(x, b'l' | b's' | b'z')
        {
            w.truncate(w.len() - 1);
        }
    }
    if w.len() > 3 && w.ends_with('e') {
        w.truncate(w.len() - 1);
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The business's real knowledge files, so these tests fail if an edit breaks an answer.
    fn real() -> KnowledgeBase {
        let files = [
            ("business.md", include_str!("../../knowledge/business.md")),
            ("services.md", include_str!("../../knowledge/services.md")),
            (
                "troubleshooting.md",
                include_str!("../../knowledge/troubleshooting.md"),
            ),
        ];
        let files: Vec<(String, String)> = files
            .iter()
            .map(|(n, c)| (n.to_string(), c.to_string()))
            .collect();
        match KnowledgeBase::from_markdown(&files) {
            Ok(kb) => kb,
            Err(e) => panic!("knowledge files must load: {e}"),
        }
    }

    fn top(kb: &KnowledgeBase, q: &str) -> Option<String> {
        kb.search(&normalize(q), 3)
            .first()
            .map(|(e, _)| e.id.clone())
    }

    #[test]
    fn parses_sections_keywords_and_markdown() {
        let md = "# Title\nignored intro\n\n## Opening Hours!\nkeywords: hours, open\n\nWe're open\n  *Monday*  to   Friday.\n\n## Where [we are](https://x.y)\n- Dallas and\n- Fort Worth.\n";
        let kb = match KnowledgeBase::from_markdown(&[("biz.md".into(), md.into())]) {
            Ok(kb) => kb,
            Err(e) => panic!("{e}"),
        };
        let e = kb.entries();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0].id, "biz/opening-hours");
        assert_eq!(e[0].source, "biz.md");
        assert_eq!(e[0].title, "Opening Hours!");
        assert_eq!(e[0].text, "We're open Monday to Friday.");
        assert_eq!(e[1].id, "biz/where-we-are-https-x-y");
        assert_eq!(e[1].text, "Dallas and Fort Worth.");
    }

    #[test]
    fn rejects_unusable_files() {
        let one = |name: &str, md: &str| {
            KnowledgeBase::from_markdown(&[(name.to_string(), md.to_string())])
        };
        assert!(matches!(
            one("empty.md", "# Just a title\nno sections"),
            Err(KnowledgeError::NoSections { file }) if file == "empty.md"
        ));
        assert!(matches!(
            one("a.md", "## Hours\nkeywords: x\n\n"),
            Err(KnowledgeError::EmptySection { heading, .. }) if heading == "Hours"
        ));
        assert!(matches!(
            one("a.md", "## Hours\nOpen.\n## hours\nClosed."),
            Err(KnowledgeError::DuplicateId { id }) if id == "a/hours"
        ));
    }

    #[test]
    fn real_files_load_and_every_section_has_keywords() {
        let kb = real();
        assert!(kb.entries().len() >= 18);
        for e in kb.entries() {
            assert!(!e.text.to_lowercase().contains("keywords:"), "{}", e.id);
            assert!(e.text.len() < 400, "{} is too long to speak", e.id);
        }
        let keyword_lines = [
            include_str!("../../knowledge/business.md"),
            include_str!("../../knowledge/services.md"),
            include_str!("../../knowledge/troubleshooting.md"),
        ]
        .iter()
        .map(|f| f.matches("\nkeywords:").count())
        .sum::<usize>();
        assert_eq!(keyword_lines, kb.entries().len());
    }

    #[test]
    fn callers_questions_find_the_right_answer() {
        let kb = real();
        let cases = [
            ("what are your hours", "business/opening-hours"),
            ("are you open saturday", "business/opening-hours"),
            ("uh what time do you close today", "business/opening-hours"),
            ("how much is a visit", "business/service-call-fee"),
            (
                "how much do you charge to come out",
                "business/service-call-fee",
            ),
            ("do you take credit cards", "business/payment"),
            ("do you service heat pumps", "services/heat-pumps"),
            (
                "do you guys work on furnaces",
                "services/heating-and-furnaces",
            ),
            ("do you do duct cleaning", "services/duct-work"),
            (
                "is it normal that my ac freezes up",
                "troubleshooting/ac-freezing-up",
            ),
            ("theres ice on the coils", "troubleshooting/ac-freezing-up"),
            (
                "my a c is blowing warm air",
                "troubleshooting/ac-not-cooling",
            ),
            (
                "the furnace is making a banging noise",
                "troubleshooting/strange-noises",
            ),
            (
                "why is my electric bill so high",
                "troubleshooting/high-energy-bills",
            ),
            (
                "my thermostat screen is blank",
                "troubleshooting/thermostat-problems",
            ),
            (
                "do you cover arlington",
                "business/service-area-and-locations",
            ),
        ];
        let wrong: Vec<String> = cases
            .iter()
            .filter(|(q, want)| top(&kb, q).as_deref() != Some(*want))
            .map(|(q, want)| {
                format!(
                    "{q:?}: got {:?}, want {want}",
                    kb.search(&normalize(q), 3)
                        .iter()
                        .map(|(e, s)| (e.id.as_str(), *s))
                        .collect::<Vec<_>>()
                )
            })
            .collect();
        assert!(wrong.is_empty(), "{wrong:#?}");
    }

    #[test]
    fn unrelated_questions_find_nothing() {
        let kb = real();
        for q in [
            "whats the weather like",
            "do you sell pizza",
            "yes",
            "",
            "um what",
        ] {
            assert_eq!(kb.search(&normalize(q), 3).len(), 0, "{q}");
        }
    }

    #[test]
    fn results_are_sorted_limited_and_above_threshold() {
        let kb = real();
        let hits = kb.search("ac not cooling noise thermostat", 2);
        assert_eq!(hits.len(), 2);
        assert!(hits[0].1 >= hits[1].1);
        assert!(hits.iter().all(|(_, s)| *s > MIN_SCORE));
        assert!(kb.search("thermostat", 0).is_empty());
    }

    #[test]
    fn stemming() {
        assert_eq!(stem("pumps"), stem("pump"));
        assert_eq!(stem("freezes"), stem("freezing"));
        assert_eq!(stem("freeze"), stem("freezing"));
        assert_eq!(stem("noises"), stem("noise"));
        assert_eq!(stem("batteries"), "battery");
        assert_eq!(stem("running"), "run");
        assert_eq!(stem("gas"), "gas");
    }

    #[test]
    fn questions() {
        for q in [
            "do you service heat pumps",
            "how much is a visit",
            "what are your hours",
            "are you open saturday",
            "is it normal that my ac freezes up",
            "yeah i was wondering if you do duct work",
            "quick question about the fee",
            "can you service a heat pump",
        ] {
            assert!(looks_like_question(&normalize(q)), "{q}");
        }
        for q in [
            "my ac is broken",
            "i want to book a visit",
            "yes",
            "can you book me for tomorrow",
            "could someone come out today",
            "",
            "john smith",
        ] {
            assert!(!looks_like_question(&normalize(q)), "{q}");
        }
    }
}
