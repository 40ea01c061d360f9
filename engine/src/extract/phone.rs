//! Phone numbers as callers say them: digits, words, "oh", "double five", "area code", "+44".
//!
//! The utterance is cut into runs of digit-like words (joined by harmless connectors such as
//! "dash" or "and then"); the first run that forms a valid number wins. Numbers are returned
//! in E.164 so storage and transfers never see spoken forms.

use std::borrow::Cow;

use super::normalize::tokens;
use super::numbers::{tens_word, unit_word};

/// Words that may sit inside a spoken number without ending it.
const CONNECTORS: &[&str] = &[
    "dash", "hyphen", "and", "then", "area", "code", "is", "its", "number", "my", "the", "at",
    "sorry", "so", "okay", "ok", "space", "comma", "period", "dot", "yeah",
];

/// Phrases that mean "use the number I'm calling from" (matched on normalized text).
const CALLER_ID_PHRASES: &[&str] = &[
    "calling from",
    "called from",
    "calling on",
    "this number",
    "same number",
    "same one",
    "this one",
    "this phone",
    "this line",
    "caller id",
    "number you see",
    "number that shows",
    "number showing",
    "use this",
    "one im on",
    "number im on",
    "you have it",
    "you already have",
];

/// E.164 out ("+12145550123"). Handles "two one four five five five zero one two three",
/// "214 555 0123", "(214) 555-0123", "oh" for zero, "double five", "triple seven",
/// "area code 214", mixed digits/words, 11 digits starting with 1, "+44 …" international with
/// plus. `caller_id` (E.164) is returned for "the one i'm calling from", "this number",
/// "same number", "you can use this one" when no number is spoken.
/// NANP validation for 10/11-digit US numbers (area code and exchange not starting with 0/1).
/// `caller_id` may be withheld ("anonymous", "+266696687"): then "this number" gives nothing.
pub fn extract_phone(text: &str, caller_id: Option<&str>) -> Option<String> {
    let caller_id = caller_id.and_then(caller_id_number);
    let caller_id = caller_id.as_deref();
    let words = tokens(text);
    let runs = digit_runs(&words);
    if let Some(found) = runs.iter().find_map(validate) {
        return Some(found);
    }
    // "214 555 0123 and 2 pm works": a valid number followed by an unrelated number.
    if let Some(found) = runs.iter().find_map(valid_prefix) {
        return Some(found);
    }
    // "555 0123 area code 214": the area code came after the local number.
    if let (Some(area), Some(local)) = (
        runs.iter()
            .find(|r| r.after_area_code && r.digits.len() == 3),
        runs.iter().find(|r| r.digits.len() == 7),
    ) {
        let joined = Run {
            digits: format!("{}{}", area.digits, local.digits),
            plus: false,
            after_area_code: true,
            ..Run::default()
        };
        if let Some(found) = validate(&joined) {
            return Some(found);
        }
    }
    // A number interrupted by a stray word ("two one four wait five five five ..."):
    // all the digits together may still be exactly one number.
    if runs.len() > 1 {
        let joined = Run {
            digits: runs.iter().map(|r| r.digits.as_str()).collect(),
            plus: runs.first().is_some_and(|r| r.plus),
            ..Run::default()
        };
        if let Some(found) = validate(&joined) {
            return Some(found);
        }
    }
    let padded = format!(" {} ", words.join(" "));
    let means_caller_id = CALLER_ID_PHRASES
        .iter()
        .any(|p| padded.contains(&format!(" {p} ")));
    if means_caller_id {
        return caller_id.map(str::to_owned);
    }
    None
}

/// What carriers send instead of a withheld number, as words or spelled on a keypad (Twilio
/// gives an anonymous caller as "+266696687", ANONYMOUS on the keys).
const WITHHELD: &[&str] = &[
    "anonymous",
    "restricted",
    "unknown",
    "unavailable",
    "private",
    "blocked",
    "withheld",
];

/// The caller's own number from a caller ID, in E.164 ("+12145550123", "214-555-0123"), or
/// `None` when it is withheld ("anonymous", "restricted", "unknown", empty, or one of those
/// words spelled on a keypad) or is not a phone number at all ("client:alice").
pub fn caller_id_number(caller_id: &str) -> Option<String> {
    let lowered = caller_id.trim().to_lowercase();
    if lowered.is_empty() || WITHHELD.iter().any(|w| lowered.contains(w)) {
        return None;
    }
    if lowered.chars().any(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let digits: String = lowered.chars().filter(char::is_ascii_digit).collect();
    if WITHHELD.iter().any(|w| keypad_digits(w) == digits) {
        return None;
    }
    validate(&Run {
        plus: lowered.starts_with('+'),
        digits,
        ..Run::default()
    })
}

/// The keys that spell a word on a phone keypad ("anonymous" -> "266696687").
fn keypad_digits(word: &str) -> String {
    word.chars()
        .filter_map(|c| {
            let key = match c {
                'a'..='c' => '2',
                'd'..='f' => '3',
                'g'..='i' => '4',
                'j'..='l' => '5',
                'm'..='o' => '6',
                'p'..='s' => '7',
                't'..='v' => '8',
                'w'..='z' => '9',
                _ => return None,
            };
            Some(key)
        })
        .collect()
}

#[derive(Debug, Default)]
struct Run {
    digits: String,
    plus: bool,
    after_area_code: bool,
    /// Digit counts at which a spoken word ended ("214 555" -> [3, 6]).
    bounds: Vec<usize>,
    /// The first token of the run.
    first: usize,
    /// After each token that added digits: the digit count and the token index after it.
    ends: Vec<(usize, usize)>,
}

/// A digit said as a word ("oh" and "o" are zero).
pub(crate) fn spoken_digit(w: &str) -> Option<u8> {
    match w {
        "oh" | "o" => Some(0),
        _ => unit_word(w)
            .filter(|v| *v < 10)
            .and_then(|v| u8::try_from(v).ok()),
    }
}

/// A digit word inside a run of digits, where recognizers also write "to", "too", "for".
fn digit_word(w: &str) -> Option<u8> {
    match w {
        "to" | "too" => Some(2),
        "for" => Some(4),
        _ => spoken_digit(w),
    }
}

/// "ten" to "nineteen".
fn teen_word(w: &str) -> Option<u8> {
    unit_word(w)
        .filter(|v| *v >= 10)
        .and_then(|v| u8::try_from(v).ok())
}

/// The tens digit of "twenty" to "ninety".
fn tens_digit(w: &str) -> Option<u8> {
    tens_word(w).and_then(|v| u8::try_from(v / 10).ok())
}

/// Written digits in a token: "214", "+44", "555.0123". `None` for anything else.
fn written_digits(w: &str) -> Option<(bool, String)> {
    let (plus, rest) = match w.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, w),
    };
    let digits: String = rest.chars().filter(|c| *c != '.').collect();
    (!digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit())).then_some((plus, digits))
}

/// Ambiguous words ("oh", "o", "to", "too", "for") only count as digits next to other digits,
/// so "oh yeah" or "i want to" never start a number.
fn is_ambiguous(w: &str) -> bool {
    matches!(w, "oh" | "o" | "to" | "too" | "for")
}

fn is_numberish(w: &str) -> bool {
    (digit_word(w).is_some() && !is_ambiguous(w))
        || teen_word(w).is_some()
        || tens_digit(w).is_some()
        || matches!(w, "double" | "triple")
        || written_digits(w).is_some()
}

fn digit_runs(words: &[String]) -> Vec<Run> {
    let mut runs = Vec::new();
    let mut cur = Run::default();
    let mut pending_plus = false;
    let mut area_code = false;
    let mut i = 0;
    while let Some(w) = words.get(i) {
        let w = w.as_str();
        if !cur.digits.is_empty() && cur.bounds.last() != Some(&cur.digits.len()) {
            cur.bounds.push(cur.digits.len());
        }
        let next = words.get(i + 1).map(String::as_str);
        let prev = i
            .checked_sub(1)
            .and_then(|j| words.get(j))
            .map(String::as_str);
        i += 1;
        let at = i - 1;
        if w == "code" && prev == Some("area") {
            // "area code" may start a new number or sit inside one.
            if !cur.digits.is_empty() && cur.digits.len() != 1 {
                runs.push(std::mem::take(&mut cur));
            }
            area_code = true;
            continue;
        }
        if w == "plus" {
            pending_plus = true;
            continue;
        }
        let repeat = match w {
            "double" => 2,
            "triple" => 3,
            _ => 0,
        };
        if repeat > 0
            && let Some(d) = next.and_then(digit_word)
        {
            start(&mut cur, at, &mut pending_plus, &mut area_code);
            for _ in 0..repeat {
                cur.digits.push(char::from(b'0' + d));
            }
            i += 1;
            cur.ends.push((cur.digits.len(), i));
            continue;
        }
        if let Some((plus, digits)) = written_digits(w) {
            if plus && !cur.digits.is_empty() {
                runs.push(std::mem::take(&mut cur));
            }
            pending_plus |= plus;
            start(&mut cur, at, &mut pending_plus, &mut area_code);
            cur.digits.push_str(&digits);
            cur.ends.push((cur.digits.len(), i));
            continue;
        }
        if let Some(d) = digit_word(w) {
            // Only when more digits follow: "... one two three for the visit" ends the number;
            // a final "oh" ("one two three oh") is a zero.
            let near_digits = next.is_some_and(|n| is_numberish(n) || matches!(n, "oh" | "o"))
                || (matches!(w, "oh" | "o") && !cur.digits.is_empty() && next.is_none());
            if !is_ambiguous(w) || near_digits {
                start(&mut cur, at, &mut pending_plus, &mut area_code);
                cur.digits.push(char::from(b'0' + d));
                if next == Some("hundred") {
                    cur.digits.push_str("00");
                    i += 1;
                } else if next == Some("thousand") {
                    cur.digits.push_str("000");
                    i += 1;
                }
                cur.ends.push((cur.digits.len(), i));
                continue;
            }
        }
        if let Some(t) = teen_word(w) {
            start(&mut cur, at, &mut pending_plus, &mut area_code);
            cur.digits.push_str(&t.to_string());
            cur.ends.push((cur.digits.len(), i));
            continue;
        }
        if let Some(t) = tens_digit(w) {
            start(&mut cur, at, &mut pending_plus, &mut area_code);
            cur.digits.push(char::from(b'0' + t));
            // "twenty three" is 23; "twenty" alone is 20.
            match next.and_then(digit_word) {
                Some(u) if u > 0 && next.is_some_and(|n| !is_ambiguous(n)) => {
                    cur.digits.push(char::from(b'0' + u));
                    i += 1;
                }
                _ => cur.digits.push('0'),
            }
            cur.ends.push((cur.digits.len(), i));
            continue;
        }
        if CONNECTORS.contains(&w) {
            continue;
        }
        if !cur.digits.is_empty() {
            runs.push(std::mem::take(&mut cur));
        }
        pending_plus = false;
        area_code = false;
    }
    if !cur.digits.is_empty() {
        runs.push(cur);
    }
    runs
}

/// Marks the beginning of a run (at token `at`) with what preceded it ("plus", "area code").
fn start(cur: &mut Run, at: usize, pending_plus: &mut bool, area_code: &mut bool) {
    if cur.digits.is_empty() {
        cur.first = at;
        cur.plus = *pending_plus;
        cur.after_area_code = *area_code;
    }
    *pending_plus = false;
    *area_code = false;
}

/// The run cut at a word boundary to 10 digits (or 11 starting with 1).
fn valid_prefix(run: &Run) -> Option<String> {
    valid_prefix_at(run).map(|(_, number)| number)
}

/// [`valid_prefix`] with the digit count it was cut at.
fn valid_prefix_at(run: &Run) -> Option<(usize, String)> {
    run.bounds.iter().find_map(|&b| {
        let prefix = run.digits.get(..b)?;
        let fits = b == 10 || (b == 11 && prefix.starts_with('1'));
        if !fits || run.plus {
            return None;
        }
        validate(&Run {
            digits: prefix.to_owned(),
            ..Run::default()
        })
        .map(|number| (b, number))
    })
}

/// The text without the words of the phone numbers said in it, so that "call me on eight one
/// seven five five five ..." gives no time or count to other extractors. Returned unchanged
/// (not even normalized) when it holds no phone number.
pub fn without_phone_numbers(text: &str) -> Cow<'_, str> {
    let words = tokens(text);
    let spans: Vec<(usize, usize)> = digit_runs(&words)
        .iter()
        .filter_map(|run| {
            let digits = if validate(run).is_some() {
                run.digits.len()
            } else {
                valid_prefix_at(run)?.0
            };
            let end = run.ends.iter().find(|(len, _)| *len == digits)?.1;
            Some((run.first, end))
        })
        .collect();
    if spans.is_empty() {
        return Cow::Borrowed(text);
    }
    let kept: Vec<&str> = words
        .iter()
        .enumerate()
        .filter(|(i, _)| !spans.iter().any(|(from, to)| (*from..*to).contains(i)))
        .map(|(_, w)| w.as_str())
        .collect();
    Cow::Owned(kept.join(" "))
}

fn validate(run: &Run) -> Option<String> {
    let d = run.digits.as_str();
    let international = if run.plus {
        Some(d)
    } else {
        d.strip_prefix("011").filter(|rest| rest.len() >= 8)
    };
    if let Some(intl) = international {
        if let Some(us) = intl.strip_prefix('1') {
            return nanp(us);
        }
        let ok = (8..=15).contains(&intl.len()) && !intl.starts_with('0');
        return ok.then(|| format!("+{intl}"));
    }
    match d.len() {
        10 => nanp(d),
        11 => d.strip_prefix('1').and_then(nanp),
        _ => None,
    }
}

/// A 10-digit North American number: area code and exchange start with 2–9.
fn nanp(ten: &str) -> Option<String> {
    let b = ten.as_bytes();
    let ok = b.len() == 10
        && b.iter().all(u8::is_ascii_digit)
        && b.first().is_some_and(|c| *c >= b'2')
        && b.get(3).is_some_and(|c| *c >= b'2');
    ok.then(|| format!("+1{ten}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: Option<&str> = Some("+14695550199");

    fn p(text: &str) -> Option<String> {
        extract_phone(text, ME)
    }

    #[test]
    fn digits_in_any_punctuation() {
        let want = Some("+12145550123".to_string());
        assert_eq!(p("214 555 0123"), want);
        assert_eq!(p("(214) 555-0123"), want);
        assert_eq!(p("2145550123"), want);
        assert_eq!(p("214.555.0123"), want);
        assert_eq!(p("my number is 1 214 555 0123 thanks"), want);
        assert_eq!(p("+1 214-555-0123"), want);
    }

    #[test]
    fn spoken_words() {
        let want = Some("+12145550123".to_string());
        assert_eq!(p("two one four five five five zero one two three"), want);
        assert_eq!(
            p("uh its two one four five five five oh one two three"),
            want
        );
        assert_eq!(p("two one four double five five oh one two three"), want);
        assert_eq!(p("two one four triple five zero one two three"), want);
        assert_eq!(p("214 five five five 0123"), want);
        assert_eq!(p("two fourteen five five five oh one twenty three"), want);
        assert_eq!(
            p("one two one four five five five zero one two three"),
            want
        );
    }

    #[test]
    fn area_code_phrasing() {
        let want = Some("+12145550123".to_string());
        assert_eq!(p("area code 214 and then 555 0123"), want);
        assert_eq!(
            p("its area code two one four, five five five, oh one two three"),
            want
        );
        assert_eq!(p("555 0123 area code 214"), want);
        assert_eq!(
            p("eight hundred five five five one two one two"),
            Some("+18005551212".into())
        );
    }

    #[test]
    fn interrupted_number_still_joins() {
        assert_eq!(
            p("two one four wait five five five zero one two three"),
            Some("+12145550123".into())
        );
    }

    #[test]
    fn international_needs_plus() {
        assert_eq!(p("+44 20 7946 0958"), Some("+442079460958".into()));
        assert_eq!(
            p("plus four four two zero seven nine four six oh nine five eight"),
            Some("+442079460958".into())
        );
        assert_eq!(p("011 44 20 7946 0958"), Some("+442079460958".into()));
        // Without a plus the same digits are not a US number.
        assert_eq!(p("44 20 7946 0958"), None);
    }

    #[test]
    fn nanp_rules_reject_bad_numbers() {
        assert_eq!(p("114 555 0123"), None); // area code starts with 1
        assert_eq!(p("214 055 0123"), None); // exchange starts with 0
        assert_eq!(p("555 0123"), None); // seven digits, no area code
        assert_eq!(p("2 1 4 5 5 5 0 1 2"), None); // nine digits
        assert_eq!(p("21455501234"), None); // eleven digits not starting with 1
    }

    #[test]
    fn caller_id_phrases() {
        let me = Some("+14695550199".to_string());
        assert_eq!(p("the one im calling from"), me);
        assert_eq!(p("yeah you can use this one"), me);
        assert_eq!(p("same number"), me);
        assert_eq!(p("just use the number I'm calling from"), me);
        assert_eq!(p("this number is fine"), me);
        assert_eq!(extract_phone("this number", None), None);
        // A spoken number beats the caller id.
        assert_eq!(
            p("not this one, use 817 555 0199"),
            Some("+18175550199".into())
        );
    }

    #[test]
    fn number_followed_by_other_talk() {
        let want = Some("+12145550123".to_string());
        assert_eq!(
            p("two one four five five five zero one two three for the dallas visit"),
            want
        );
        assert_eq!(p("its 214 555 0123 and 2 pm works"), want);
        assert_eq!(
            p("two one four five five five one two three oh"),
            Some("+12145551230".into())
        );
        // A trailing exclamation after a complete number doesn't spoil it.
        assert_eq!(p("214 555 0123 oh"), want);
    }

    #[test]
    fn withheld_caller_ids_are_no_number() {
        for withheld in [
            "anonymous",
            "Anonymous",
            "restricted",
            "UNKNOWN",
            "",
            "  ",
            "+266696687",
            "+7378742833",
            "+8656696",
            "+86282452253",
            "client:alice",
        ] {
            assert_eq!(caller_id_number(withheld), None, "{withheld}");
            assert_eq!(
                extract_phone("you can use this number", Some(withheld)),
                None
            );
        }
        assert_eq!(
            caller_id_number("+12145550123"),
            Some("+12145550123".into())
        );
        assert_eq!(
            caller_id_number("(817) 555-0142"),
            Some("+18175550142".into())
        );
        // A spoken number does not need the caller id.
        assert_eq!(
            extract_phone(
                "call me on two one four five five five zero one four four",
                Some("anonymous")
            ),
            Some("+12145550144".into())
        );
    }

    #[test]
    fn number_with_its_area_code_said_first() {
        let want = Some("+19725550187".to_string());
        assert_eq!(p("area code 972 555 0187"), want);
        assert_eq!(
            p("its area code nine seven two and then five five five oh one eight seven"),
            want
        );
        assert_eq!(p("the area code is 972 and the number is 555 0187"), want);
    }

    #[test]
    fn numbers_leave_the_rest_of_the_text() {
        assert_eq!(
            without_phone_numbers(
                "ruth and call me on nine seven two five five five zero one one two tomorrow at ten"
            ),
            "ruth and call me on tomorrow at ten"
        );
        assert_eq!(
            without_phone_numbers("its 214 555 0123 and 2 pm works"),
            "its and 2 pm works"
        );
        assert_eq!(
            without_phone_numbers("two one four five five five zero one two three four five"),
            "four five"
        );
        // Without a phone number the text comes back as it was.
        assert_eq!(
            without_phone_numbers("Friday at 10, please."),
            "Friday at 10, please."
        );
        assert_eq!(
            without_phone_numbers("five five five zero one two three"),
            "five five five zero one two three"
        );
    }

    #[test]
    fn non_numbers() {
        assert_eq!(p("i want to book a visit for tomorrow"), None);
        assert_eq!(p("oh yeah sure"), None);
        assert_eq!(p("at 2 pm"), None);
        assert_eq!(p(""), None);
    }
}
