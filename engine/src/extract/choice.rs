//! Which of the offered options the caller picked: "the second one", "the last one", "the two
//! thirty", "dallas".
//!
//! Explicit ordinals win; then the option whose words the caller repeated; a bare number
//! ("two") is read as a position only when it matches no option's words, because for offered
//! times "two" usually means "2 PM".

use super::normalize::tokens;
use super::numbers::{tens_word, unit_word};

const ORDINALS: &[(&str, usize)] = &[
    ("first", 1),
    ("1st", 1),
    ("second", 2),
    ("2nd", 2),
    ("third", 3),
    ("3rd", 3),
    ("fourth", 4),
    ("4th", 4),
    ("fifth", 5),
    ("5th", 5),
    ("sixth", 6),
    ("6th", 6),
    ("seventh", 7),
    ("7th", 7),
    ("eighth", 8),
    ("8th", 8),
    ("ninth", 9),
    ("9th", 9),
    ("tenth", 10),
    ("10th", 10),
];

/// Words that say nothing about which option ("the one at", "i'll take", "please").
const STOPWORDS: &[&str] = &[
    "the", "a", "an", "one", "ones", "option", "number", "please", "i", "ill", "id", "take", "go",
    "with", "lets", "do", "that", "this", "at", "on", "in", "for", "is", "its", "like", "would",
    "want", "choose", "pick", "prefer", "yeah", "yes", "ok", "okay", "sure", "um", "of", "and",
    "to", "me", "works", "work", "better", "best", "sounds", "good", "fine", "how", "about",
];

/// A number said as a word or written ("seven", "16", and "to"/"for" as recognizers write two
/// and four).
fn cardinal(w: &str) -> Option<usize> {
    match w {
        "to" | "too" => Some(2),
        "for" => Some(4),
        _ => unit_word(w)
            .or_else(|| tens_word(w))
            .and_then(|v| usize::try_from(v).ok())
            .or_else(|| w.parse().ok()),
    }
}

/// Option and utterance words in one comparable form: number words as digits, "2:30" split.
fn comparable(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let words = tokens(text);
    for (i, w) in words.iter().enumerate() {
        if w == "one" && !one_is_number(&words, i) {
            out.push(w.clone());
            continue;
        }
        for part in w.split([':', '/', '.']) {
            // "2nd" -> "2"; words keep their endings.
            let part = if part.starts_with(|c: char| c.is_ascii_digit()) {
                part.trim_end_matches(|c: char| c.is_ascii_alphabetic())
            } else {
                part
            };
            // "to" and "for" are words far more often than numbers.
            let is_word_number = !matches!(part, "to" | "too" | "for");
            match cardinal(part).filter(|_| is_word_number) {
                Some(n) => out.push(n.to_string()),
                None => out.push(part.to_owned()),
            }
        }
    }
    out.retain(|w| !matches!(w.as_str(), "00" | "0"));
    out
}

/// "the one at two" uses "one" as a pronoun; "at one", "one thirty", "one pm" as a number.
fn one_is_number(words: &[String], i: usize) -> bool {
    let prev = i
        .checked_sub(1)
        .and_then(|j| words.get(j))
        .map(String::as_str);
    let next = words.get(i + 1).map(String::as_str);
    matches!(prev, Some("at" | "around" | "about" | "by"))
        || matches!(
            next,
            Some("am" | "pm" | "oclock" | "thirty" | "fifteen" | "forty" | "fourty" | "o")
        )
}

/// Picks one of the offered options: ordinals ("the first one", "second", "the last one",
/// "number two", "option 2"), or the option's words (exact or fuzzy). Returns the option's index.
pub fn extract_choice(text: &str, options: &[String]) -> Option<usize> {
    if options.is_empty() {
        return None;
    }
    let words = tokens(text);
    if let Some(i) = ordinal_choice(&words, options.len()) {
        return Some(i);
    }
    if let Some(i) = content_choice(text, options) {
        return Some(i);
    }
    // "two" / "the 2 please": only the position is left.
    let content: Vec<&String> = words
        .iter()
        .filter(|w| !STOPWORDS.contains(&w.as_str()) || cardinal(w).is_some())
        .collect();
    if let [only] = content.as_slice() {
        let n = cardinal(only)?;
        return (1..=options.len()).contains(&n).then(|| n - 1);
    }
    None
}

fn ordinal_choice(words: &[String], len: usize) -> Option<usize> {
    let last = len.checked_sub(1)?;
    for (i, w) in words.iter().enumerate() {
        let w = w.as_str();
        let next = words.get(i + 1).map(String::as_str);
        let hit = match w {
            "last" | "latter" | "latest" | "final" => Some(last),
            "former" | "earliest" => Some(0),
            // "the earlier one" / "the later one" between two offers.
            "earlier" if next == Some("one") => Some(0),
            "later" if next == Some("one") => Some(last),
            "number" | "option" | "choice" => {
                next.and_then(cardinal).and_then(|n| n.checked_sub(1))
            }
            _ => ORDINALS
                .iter()
                .find(|(o, _)| *o == w)
                .and_then(|(_, n)| n.checked_sub(1)),
        };
        if let Some(h) = hit.filter(|h| *h <= last) {
            return Some(h);
        }
    }
    None
}

/// Scores each option by the words of it the caller said. Words shared by every option
/// ("tuesday" when all slots are on Tuesday) count little; distinctive ones count fully.
fn content_choice(text: &str, options: &[String]) -> Option<usize> {
    let said: Vec<String> = comparable(text)
        .into_iter()
        .filter(|w| !STOPWORDS.contains(&w.as_str()) || w.chars().all(|c| c.is_ascii_digit()))
        .collect();
    if said.is_empty() {
        return None;
    }
    let option_words: Vec<Vec<String>> = options.iter().map(|o| comparable(o)).collect();
    let shared = |w: &String| option_words.iter().all(|ow| ow.contains(w));
    let matches = |w: &String| {
        said.iter().any(|s| {
            s == w
                || (w.len() >= 4
                    && s.len() >= 4
                    && !w.chars().all(|c| c.is_ascii_digit())
                    && strsim::jaro_winkler(s, w) >= 0.88)
        })
    };
    let scores: Vec<f32> = option_words
        .iter()
        .map(|ow| {
            let mut score = 0.0;
            for w in ow.iter().filter(|w| !STOPWORDS.contains(&w.as_str())) {
                match (matches(w), shared(w)) {
                    (true, false) => score += 1.0,
                    (true, true) => score += 0.25,
                    // An unsaid distinctive word ("30" of "2:30") makes the option less likely.
                    (false, false) => score -= 0.1,
                    (false, true) => {}
                }
            }
            score
        })
        .collect();
    let matched_any = |i: usize| {
        option_words.get(i).is_some_and(|ow| {
            ow.iter()
                .any(|w| !STOPWORDS.contains(&w.as_str()) && matches(w))
        })
    };
    let (best, best_score) = scores
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, s)| (i, *s))?;
    let runner_up = scores
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != best)
        .map(|(_, s)| *s)
        .fold(f32::NEG_INFINITY, f32::max);
    (matched_any(best) && best_score > runner_up + 0.05).then_some(best)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn teen_and_tens_words_are_numbers() {
        let o = opts(&["Monday June 14", "Tuesday June 16", "Friday June 19"]);
        assert_eq!(extract_choice("june sixteen", &o), Some(1));
        assert_eq!(extract_choice("the one on june nineteen", &o), Some(2));
        assert_eq!(extract_choice("fourteen", &o), Some(0));
        let o = opts(&["9:00 AM", "1:30 PM", "4:00 PM"]);
        assert_eq!(extract_choice("one thirty", &o), Some(1));
    }

    #[test]
    fn ordinals() {
        let o = opts(&["Tuesday at 9 AM", "Tuesday at 11 AM", "Wednesday at 2 PM"]);
        assert_eq!(extract_choice("the first one", &o), Some(0));
        assert_eq!(extract_choice("uh second", &o), Some(1));
        assert_eq!(extract_choice("the last one please", &o), Some(2));
        assert_eq!(extract_choice("number two", &o), Some(1));
        assert_eq!(extract_choice("option 3", &o), Some(2));
        assert_eq!(extract_choice("the 3rd", &o), Some(2));
        assert_eq!(extract_choice("fourth", &o), None);
    }

    #[test]
    fn option_words() {
        let o = opts(&["Tuesday at 9 AM", "Tuesday at 11 AM", "Wednesday at 2 PM"]);
        assert_eq!(extract_choice("the wednesday one", &o), Some(2));
        assert_eq!(extract_choice("lets do eleven", &o), Some(1));
        assert_eq!(extract_choice("the nine am", &o), Some(0));
        assert_eq!(extract_choice("wensday works", &o), Some(2));
        // "tuesday" fits two options equally.
        assert_eq!(extract_choice("tuesday", &o), None);
    }

    #[test]
    fn bare_number_prefers_option_content() {
        let o = opts(&["2 PM", "3 PM"]);
        assert_eq!(extract_choice("two", &o), Some(0));
        assert_eq!(extract_choice("three please", &o), Some(1));
        let o = opts(&["Dallas", "Fort Worth", "Arlington"]);
        assert_eq!(extract_choice("two", &o), Some(1));
        assert_eq!(extract_choice("fort worth", &o), Some(1));
        assert_eq!(extract_choice("arlinton", &o), Some(2));
    }

    #[test]
    fn close_times() {
        let o = opts(&["2:00 PM", "2:30 PM"]);
        assert_eq!(extract_choice("two thirty", &o), Some(1));
        assert_eq!(extract_choice("the 2 oclock", &o), Some(0));
        assert_eq!(extract_choice("two pm", &o), Some(0));
        let o = opts(&["1 PM", "2 PM"]);
        assert_eq!(extract_choice("the one at two", &o), Some(1));
        assert_eq!(extract_choice("one pm", &o), Some(0));
        assert_eq!(extract_choice("at one", &o), Some(0));
    }

    #[test]
    fn nothing_chosen() {
        let o = opts(&["Dallas", "Fort Worth"]);
        assert_eq!(extract_choice("i dont know", &o), None);
        assert_eq!(extract_choice("houston", &o), None);
        assert_eq!(extract_choice("five", &o), None);
        assert_eq!(extract_choice("first", &[]), None);
    }
}
