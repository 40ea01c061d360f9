//! Cuts streamed text into sentences, so the first one can be spoken while the model is still
//! writing the rest.
//!
//! A sentence ends at `.`, `!` or `?` (optionally followed by closing quotes or brackets) when
//! whitespace follows, or at a line break. A `.` does not end a sentence after a title such as
//! "Dr." or after "e.g."; after "a.m." / "p.m." / "etc." it does only when the next word is
//! capitalised. Decimals ("3.5") and times ("8.30") never have whitespace after the dot, so
//! they need no rule. Because a boundary depends on what follows, a sentence is released only
//! once the next character has arrived (or at [`SentenceSplitter::finish`]).

/// Abbreviations after which a `.` never ends a sentence (lower case, without the last dot).
const NEVER_ENDS: &[&str] = &[
    "dr", "mr", "mrs", "ms", "prof", "st", "jr", "sr", "mt", "ft", "ave", "blvd", "rd", "no",
    "nos", "tel", "vs", "approx", "apt", "dept", "e.g", "i.e", "cf", "jan", "feb", "mar", "apr",
    "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec", "mon", "tue", "tues", "wed", "thu",
    "thur", "thurs", "fri", "sat", "sun", "u.s", "min", "hr", "hrs",
];

/// Abbreviations that often end a sentence too: they end one only before a capital letter.
const ENDS_BEFORE_CAPITAL: &[&str] = &["a.m", "p.m", "etc", "inc", "ltd", "co", "corp"];

/// Accumulates text and hands back each complete sentence as soon as it is known to be complete.
#[derive(Debug, Default, Clone)]
pub struct SentenceSplitter {
    buffer: String,
}

impl SentenceSplitter {
    pub fn new() -> Self {
        SentenceSplitter::default()
    }

    /// Adds a piece of text and returns the sentences it completed, trimmed, in order.
    pub fn push(&mut self, text: &str) -> Vec<String> {
        self.buffer.push_str(text);
        let mut sentences = Vec::new();
        while let Some(end) = find_boundary(&self.buffer) {
            let rest = self.buffer.split_off(end);
            let sentence = std::mem::replace(&mut self.buffer, rest);
            let sentence = sentence.trim();
            if !sentence.is_empty() {
                sentences.push(sentence.to_string());
            }
        }
        sentences
    }

    /// The text left over once the stream has ended, if any.
    pub fn finish(&mut self) -> Option<String> {
        let rest = std::mem::take(&mut self.buffer);
        let rest = rest.trim();
        (!rest.is_empty()).then(|| rest.to_string())
    }

    /// Text received but not yet released as a sentence.
    pub fn pending(&self) -> &str {
        &self.buffer
    }
}

/// Splits a whole text at once (for non-streamed answers).
pub fn split_sentences(text: &str) -> Vec<String> {
    let mut splitter = SentenceSplitter::new();
    let mut sentences = splitter.push(text);
    sentences.extend(splitter.finish());
    sentences
}

/// The byte offset just after the first complete sentence in `text`, if one is known complete.
fn find_boundary(text: &str) -> Option<usize> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for (i, &(offset, c)) in chars.iter().enumerate() {
        if c == '\n' {
            if text[..offset].trim().is_empty() {
                continue;
            }
            return Some(offset + 1);
        }
        if !matches!(c, '.' | '!' | '?' | '…') {
            continue;
        }
        // Closing quotes and brackets belong to the sentence they close.
        let mut j = i + 1;
        while j < chars.len() && matches!(chars[j].1, '"' | '\'' | ')' | ']' | '”' | '’') {
            j += 1;
        }
        let Some(&(end, next)) = chars.get(j) else {
            // Nothing after the mark yet: wait for more text.
            return None;
        };
        if !next.is_whitespace() {
            // "3.5", "e.g", "...": not a boundary (a later mark may still be one).
            continue;
        }
        if c == '.' {
            let word = word_before(text, offset);
            if NEVER_ENDS.contains(&word.as_str()) || is_initial(&word) {
                continue;
            }
            if ENDS_BEFORE_CAPITAL.contains(&word.as_str()) {
                match chars[j..]
                    .iter()
                    .map(|&(_, c)| c)
                    .find(|c| !c.is_whitespace())
                {
                    // The next word has not arrived yet: decide when it has.
                    None => return None,
                    Some(first) if !first.is_uppercase() => continue,
                    Some(_) => {}
                }
            }
        }
        return Some(end);
    }
    None
}

/// The word ending at byte `dot` (exclusive), lower-cased, without leading punctuation.
fn word_before(text: &str, dot: usize) -> String {
    let before = &text[..dot];
    let start = before.rfind(|c: char| c.is_whitespace()).map_or(0, |i| {
        i + before[i..].chars().next().map_or(1, char::len_utf8)
    });
    before[start..]
        .trim_start_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase()
}

/// A single letter, as in "J. Smith".
fn is_initial(word: &str) -> bool {
    let mut chars = word.chars();
    matches!((chars.next(), chars.next()), (Some(c), None) if c.is_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_on_terminal_punctuation() {
        assert_eq!(
            split_sentences("Sure! We open at nine. Do you want a table? Great."),
            vec![
                "Sure!",
                "We open at nine.",
                "Do you want a table?",
                "Great."
            ]
        );
    }

    #[test]
    fn keeps_abbreviations_decimals_and_times_together() {
        assert_eq!(
            split_sentences(
                "Dr. Smith sees patients, e.g. on Mondays. The fee is 3.5 dollars. We open at 8.30 today."
            ),
            vec![
                "Dr. Smith sees patients, e.g. on Mondays.",
                "The fee is 3.5 dollars.",
                "We open at 8.30 today."
            ]
        );
    }

    #[test]
    fn am_pm_ends_a_sentence_only_before_a_capital() {
        assert_eq!(
            split_sentences("We open at 8 a.m. on weekdays. We close at 6 p.m. See you then."),
            vec![
                "We open at 8 a.m. on weekdays.",
                "We close at 6 p.m.",
                "See you then."
            ]
        );
    }

    #[test]
    fn initials_and_closing_quotes() {
        assert_eq!(
            split_sentences("Ask for J. Smith. She said \"hello.\" Then she left."),
            vec!["Ask for J. Smith.", "She said \"hello.\"", "Then she left."]
        );
    }

    #[test]
    fn streaming_waits_for_the_character_after_the_mark() {
        let mut splitter = SentenceSplitter::new();
        assert!(splitter.push("Hello").is_empty());
        assert!(splitter.push(" there.").is_empty(), "could still be 3.5");
        assert_eq!(splitter.push(" How"), vec!["Hello there."]);
        assert_eq!(splitter.push(" are you? Dr"), vec!["How are you?"]);
        assert!(splitter.push(". ").is_empty(), "a title");
        assert!(
            splitter.push("Who is at 6 p.m. ").is_empty(),
            "next word unknown"
        );
        assert!(
            splitter.push("today").is_empty(),
            "lowercase: not a boundary"
        );
        assert_eq!(splitter.push("? "), vec!["Dr. Who is at 6 p.m. today?"]);
        assert_eq!(splitter.push("Bye"), Vec::<String>::new());
        assert_eq!(splitter.finish().as_deref(), Some("Bye"));
        assert_eq!(splitter.finish(), None);
    }

    #[test]
    fn token_by_token_matches_whole_text() {
        let text = "Yes, we do. Our hours are 9 a.m. to 5 p.m. on weekdays. Parking is free!";
        let mut splitter = SentenceSplitter::new();
        let mut streamed = Vec::new();
        for c in text.chars() {
            streamed.extend(splitter.push(&c.to_string()));
        }
        streamed.extend(splitter.finish());
        assert_eq!(streamed, split_sentences(text));
        assert_eq!(
            streamed,
            vec![
                "Yes, we do.",
                "Our hours are 9 a.m. to 5 p.m. on weekdays.",
                "Parking is free!"
            ]
        );
    }

    #[test]
    fn line_breaks_end_sentences_and_blank_text_is_dropped() {
        assert_eq!(
            split_sentences("\n\nOptions:\n- haircut\n- colour\n  \n"),
            vec!["Options:", "- haircut", "- colour"]
        );
        assert!(split_sentences("   ").is_empty());
    }

    #[test]
    fn multibyte_text() {
        assert_eq!(
            split_sentences("Café ouvert… Très bien. Ça va?"),
            vec!["Café ouvert…", "Très bien.", "Ça va?"]
        );
    }
}
