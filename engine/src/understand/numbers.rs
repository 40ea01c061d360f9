//! Numbers that are temperatures or ages ("it's a hundred and five out", "fifty degrees in the
//! house", "my mom's ninety two", "an eighty four year old"), turned into the concepts the
//! business configured for their ranges (`numbers:` in a flow file).

use crate::extract::numbers::parse_cardinal;
use crate::flow::understanding::Measure;

use super::lexicon::{ConceptId, Occurrence};

/// A configured range: numbers of `measure` within it are `concept`.
#[derive(Debug, Clone)]
pub struct NumberRule {
    pub concept: ConceptId,
    pub measure: Measure,
    pub at_least: Option<i64>,
    pub at_most: Option<i64>,
    pub indoors: Option<bool>,
}

/// A number read as a measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Reading {
    measure: Measure,
    value: i64,
    /// `Some(true)` inside a home, `Some(false)` outdoors, `None` not said.
    indoors: Option<bool>,
    start: usize,
    end: usize,
}

/// Words between a cue and its number that change nothing ("it's like ninety").
const SOFTENERS: &[&str] = &[
    "like",
    "about",
    "around",
    "almost",
    "nearly",
    "over",
    "only",
    "just",
    "already",
    "at",
    "literally",
    "maybe",
    "probably",
    "under",
];
/// Words right before a number that make it a temperature.
const TEMPERATURE_BEFORE: &[&str] = &[
    "its", "hit", "to", "reach", "reaching", "high", "low", "been", "stays", "says", "reads",
    "shows", "of",
];
/// Words right after a number that make it a temperature ("in" only before a place indoors:
/// "fifty in the house", not "ten in plano").
const TEMPERATURE_AFTER: &[&str] = &[
    "degrees", "degree", "outside", "out", "inside", "indoors", "tonight", "today", "in",
];
/// Words right before an hour that make it a time of day ("come at four today").
const CLOCK_BEFORE: &[&str] = &["at", "around", "by", "til", "till", "until"];
/// Words right after a number that make it a time of day.
const CLOCK_AFTER: &[&str] = &["am", "pm", "oclock"];
const INDOOR_AFTER: &[&[&str]] = &[
    &["inside"],
    &["indoors"],
    &["in", "the", "house"],
    &["in", "the", "home"],
    &["in", "here"],
    &["in", "my"],
    &["in", "our"],
    &["in", "the", "apartment"],
    &["in", "her"],
    &["in", "his"],
    &["in", "their"],
];
const OUTDOOR_AFTER: &[&str] = &["outside", "out", "tonight", "today", "outdoors"];
/// Words shortly before a number that put it inside ("the house is fifty").
const INDOOR_BEFORE: &[&str] = &[
    "house",
    "inside",
    "thermostat",
    "indoors",
    "apartment",
    "home",
];
/// Possessive determiners: "my mom's ninety" is an age.
const POSSESSIVE: &[&str] = &["my", "our", "his", "her", "their"];
/// Subjects of "is" whose number is not an age.
const NOT_PERSON: &[&str] = &[
    "it",
    "house",
    "temperature",
    "thermostat",
    "inside",
    "outside",
    "that",
    "this",
    "there",
    "temp",
    "bill",
    "unit",
    "home",
    "apartment",
    "room",
];
/// "she's", "i'm": what follows is usually an age.
const PERSON_BE: &[&str] = &["im", "shes", "hes", "whos", "aged", "age"];

/// Every number in `tokens` read as a temperature or an age.
fn readings(tokens: &[&str]) -> Vec<Reading> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let Some((value, used)) = parse_cardinal(&tokens[i..]) else {
            i += 1;
            continue;
        };
        let (start, end) = (i, i + used);
        i = end;
        let after = |k: usize| tokens.get(end + k).copied().unwrap_or("");
        // "two month old", "six week old": ages of babies, configured as phrases.
        if matches!(
            after(0),
            "month" | "months" | "week" | "weeks" | "day" | "days"
        ) {
            continue;
        }
        let mut before = start;
        while before > 0 && SOFTENERS.contains(&tokens[before - 1]) {
            before -= 1;
        }
        let prev = before.checked_sub(1).and_then(|b| tokens.get(b)).copied();
        let prev2 = before.checked_sub(2).and_then(|b| tokens.get(b)).copied();
        let age = matches!(after(0), "year" | "years" | "yr" | "yrs")
            || prev.is_some_and(|p| PERSON_BE.contains(&p))
            || (matches!(prev, Some("is" | "was"))
                && prev2.is_some_and(|s| !NOT_PERSON.contains(&s)))
            || (prev.is_some_and(|p| {
                p.len() > 2
                    && p.ends_with('s')
                    && !matches!(p, "its" | "thats" | "whats" | "theres")
            }) && prev2.is_some_and(|d| POSSESSIVE.contains(&d)));
        if age && !TEMPERATURE_AFTER[..2].contains(&after(0)) {
            out.push(Reading {
                measure: Measure::Age,
                value,
                indoors: None,
                start,
                end,
            });
            continue;
        }
        if is_clock_time(tokens, start, end, value) {
            continue;
        }
        let temperature_after = match after(0) {
            "in" => INDOOR_AFTER.iter().any(|p| tokens[end..].starts_with(p)),
            word => TEMPERATURE_AFTER.contains(&word),
        };
        let temperature = temperature_after
            || prev.is_some_and(|p| TEMPERATURE_BEFORE.contains(&p))
            || (matches!(prev, Some("is" | "was"))
                && prev2.is_some_and(|s| NOT_PERSON.contains(&s)));
        if !temperature {
            continue;
        }
        let rest = &tokens[end..];
        let rest = if rest.first().is_some_and(|w| w.starts_with("degree")) {
            &rest[1..]
        } else {
            rest
        };
        let indoors = if INDOOR_AFTER.iter().any(|p| rest.starts_with(p)) {
            Some(true)
        } else if rest.first().is_some_and(|w| OUTDOOR_AFTER.contains(w)) {
            Some(false)
        } else if tokens[start.saturating_sub(4)..start]
            .iter()
            .any(|w| INDOOR_BEFORE.contains(w))
        {
            Some(true)
        } else {
            None
        };
        out.push(Reading {
            measure: Measure::Temperature,
            value,
            indoors,
            start,
            end,
        });
    }
    out
}

/// Whether the number `value` at `tokens[start..end]` is an hour of the day: "four pm", "at ten
/// o'clock", or "at four" after a word that is not a reading's ("it's at ten outside" is cold).
fn is_clock_time(tokens: &[&str], start: usize, end: usize, value: i64) -> bool {
    if !(1..=12).contains(&value) {
        return false;
    }
    let after = tokens.get(end).copied().unwrap_or("");
    if CLOCK_AFTER.contains(&after)
        || (matches!(after, "a" | "p") && tokens.get(end + 1) == Some(&"m"))
    {
        return true;
    }
    let before = |k: usize| start.checked_sub(k).and_then(|i| tokens.get(i)).copied();
    before(1).is_some_and(|w| CLOCK_BEFORE.contains(&w))
        && !before(2).is_some_and(|w| {
            TEMPERATURE_BEFORE.contains(&w) || matches!(w, "is" | "was" | "stuck" | "set")
        })
}

/// Occurrences of the configured number concepts.
pub fn number_occurrences(rules: &[NumberRule], tokens: &[&str]) -> Vec<Occurrence> {
    if rules.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for r in readings(tokens) {
        for rule in rules {
            let in_range = rule.at_least.is_none_or(|min| r.value >= min)
                && rule.at_most.is_none_or(|max| r.value <= max);
            let place = match rule.indoors {
                None => true,
                Some(true) => r.indoors == Some(true),
                Some(false) => r.indoors != Some(true),
            };
            if rule.measure == r.measure && in_range && place {
                out.push(Occurrence {
                    concept: rule.concept,
                    start: r.start,
                    end: r.end,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &str) -> Vec<(Measure, i64, Option<bool>)> {
        let tokens: Vec<&str> = text.split(' ').collect();
        readings(&tokens)
            .into_iter()
            .map(|r| (r.measure, r.value, r.indoors))
            .collect()
    }

    #[test]
    fn temperatures_with_place() {
        use Measure::Temperature as T;
        assert_eq!(read("its a hundred and three out"), [(T, 103, Some(false))]);
        assert_eq!(
            read("its like fifty two in the house"),
            [(T, 52, Some(true))]
        );
        assert_eq!(read("the house is forty degrees"), [(T, 40, Some(true))]);
        assert_eq!(
            read("supposed to get down to nine tonight"),
            [(T, 9, Some(false))]
        );
        assert_eq!(read("its ninety eight"), [(T, 98, None)]);
    }

    #[test]
    fn ages() {
        use Measure::Age as A;
        assert_eq!(read("my grandpa is eighty one"), [(A, 81, None)]);
        assert_eq!(read("my nanas ninety three"), [(A, 93, None)]);
        assert_eq!(read("shes like seventy nine"), [(A, 79, None)]);
        assert_eq!(read("a seventy seven year old"), [(A, 77, None)]);
    }

    #[test]
    fn other_numbers_are_neither() {
        assert!(read("unit twelve has four residents").is_empty());
        assert!(read("a three month old").is_empty());
        assert!(read("come at four").is_empty());
        // Hours of the day, though a place or a day follows.
        assert!(read("got anything thursday at 10 in plano").is_empty());
        assert!(read("could someone come out at 3 today").is_empty());
        assert!(read("around 9 am tonight works").is_empty());
    }

    #[test]
    fn a_reading_at_an_hour_like_number_is_still_a_temperature() {
        use Measure::Temperature as T;
        assert_eq!(read("its at 10 outside"), [(T, 10, Some(false))]);
        assert_eq!(
            read("the thermostat is at 9 in the house"),
            [(T, 9, Some(true))]
        );
        assert_eq!(read("its 95 in dallas"), [(T, 95, None)]);
    }
}
