//! Rule-based date/time extraction from caller utterances (ASR or typed text).
//!
//! Two passes over the tokens: dates first (they own ordinals and "3/14"), then clock times,
//! bounds ("after 3") and parts of day on what is left. Everything is civil time relative
//! to the `now` the caller passes in.

mod calendar;
mod dates;
mod relative;
mod times;
mod tokens;
mod windows;

#[cfg(test)]
mod tests;

pub(crate) use dates::{month, weekday};
pub use relative::{RelativeMention, extract_relative};

use crate::extract::numbers::{parse_ordinal, unit_word};
use jiff::civil::{Date, DateTime, Time};
use times::{Clock, Meridiem, clock_at, resolve_hour};
use windows::{PartOfDay, bound_at, in_duration, lunch_time, parts_of_day, start_preference};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
/// A day and/or time a caller named, as a receptionist would read it against `now`.
pub struct DateTimeMention {
    /// The day, when one is named or implied ("tomorrow", "the 5th").
    pub date: Option<Date>,
    /// The time of day, when one is named ("at 2", "noon").
    pub time: Option<Time>,
    /// A window, when the caller gave a part of day or a bound instead of a clock time:
    /// "morning" -> 08:00..12:00, "afternoon" -> 12:00..17:00, "evening" -> 17:00..21:00,
    /// "after lunch" -> earliest 13:00, "after 3" -> earliest 15:00, "before noon" -> latest 12:00.
    pub earliest: Option<Time>,
    /// Latest time of a window ("before 3", "morning").
    pub latest: Option<Time>,
    /// Which start of the day (inside the window, if any) the caller wants when no clock time
    /// was given: "end of the day" -> the last, "first thing" -> the first. The extractor does
    /// not know opening hours; the scheduler does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefer: Option<StartPreference>,
}

/// The first or the last start of a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StartPreference {
    /// The earliest start that fits ("first thing").
    First,
    /// The latest start that fits ("end of the day").
    Last,
}

impl StartPreference {
    /// The form used in slot JSON (`"first"`, `"last"`).
    pub fn as_str(self) -> &'static str {
        match self {
            StartPreference::First => "first",
            StartPreference::Last => "last",
        }
    }

    /// Reads a stored preference (`first` or `last`).
    pub fn parse(text: &str) -> Option<StartPreference> {
        match text {
            "first" => Some(StartPreference::First),
            "last" => Some(StartPreference::Last),
            _ => None,
        }
    }
}

/// Token range `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: usize,
    pub end: usize,
}

/// Words before a bare number that make it a time even when no time was asked for.
const TIME_CUES: &[&str] = &[
    "at",
    "around",
    "about",
    "approximately",
    "by",
    "until",
    "till",
    "til",
    "after",
    "before",
    "between",
    "from",
    "say",
    "maybe",
    "roughly",
    // "'round two" as recognizers write "around two".
    "round",
];

/// Words after a number that make it a count, not a time ("2 units", "3 days").
pub(super) const COUNT_NOUNS: &[&str] = &[
    "people",
    "persons",
    "person",
    "units",
    "unit",
    "systems",
    "system",
    "hours",
    "hour",
    "minutes",
    "minute",
    "mins",
    "days",
    "day",
    "weeks",
    "week",
    "months",
    "month",
    "years",
    "year",
    "times",
    "dollars",
    "bucks",
    "bedrooms",
    "bedroom",
    "bathrooms",
    "rooms",
    "floors",
    "stories",
    "story",
    "tons",
    "ton",
    "degrees",
    "percent",
    "kids",
    "adults",
    "things",
    "of",
    "feet",
    "foot",
    "inch",
    "inches",
    "square",
    "sq",
    "zones",
    "vents",
    "thermostats",
    "furnaces",
    "windows",
    "doors",
    "car",
    "cars",
    "dogs",
    "cats",
    "year-old",
    "stars",
    "star",
    "bed",
    "bath",
];

/// Words that may follow a bare hour said in answer to "what time?" ("two works", "ten then").
const BARE_FOLLOWERS: &[&str] = &[
    "or", "and", "then", "works", "work", "would", "is", "sounds", "maybe", "please", "ok", "okay",
    "thanks", "thank", "sharp", "good", "fine", "on", "tomorrow", "today", "if", "should", "that",
    "this", "next", "is", "for", "at", "in", "instead",
];

/// Words before a bare number that make it a determiner phrase ("that one", "the two").
const BARE_BLOCKERS: &[&str] = &[
    "that", "this", "the", "which", "a", "any", "no", "every", "each", "those", "these", "number",
];

pub(super) fn time(h: i8, m: i8) -> Option<Time> {
    Time::new(h, m, 0, 0).ok()
}

/// Finds a date and/or time in an utterance. `now` is business-local time.
/// `asked` is true when the agent just asked for a date/time: then a bare number ("two",
/// "10 30") is read as a time; when false, bare numbers alone are NOT a time (they may be a
/// phone number, a count).
pub fn extract_datetime(text: &str, now: DateTime, asked: bool) -> Option<DateTimeMention> {
    let owned = tokens::tokenize(text);
    let t: Vec<&str> = owned.iter().map(String::as_str).collect();
    let today = now.date();
    let mut used = vec![false; t.len()];
    let mark = |used: &mut Vec<bool>, s: Span| {
        for u in used.iter_mut().take(s.end).skip(s.start) {
            *u = true;
        }
    };
    // The digits of a phone number are never a date or a time.
    for run in phone_runs(&t) {
        mark(&mut used, run);
    }

    // Pass 1: dates. The last one wins ("not thursday, make it this sunday").
    let mut date: Option<Date> = None;
    let mut date_spans: Vec<Span> = Vec::new();
    let mut i = 0;
    while i < t.len() {
        if used.get(i).copied().unwrap_or(true) {
            i += 1;
            continue;
        }
        if let Some((d, span)) = dates::date_at(&t, i, today)
            && span.end > i
            && !used
                .get(span.start..span.end)
                .is_some_and(|u| u.iter().any(|x| *x))
        {
            // "trouble since the 3rd" describes the past, not a visit.
            let since = i.checked_sub(1).and_then(|p| t.get(p)) == Some(&"since");
            if !since {
                date = Some(d);
            }
            date_spans.push(span);
            mark(&mut used, span);
            i = span.end;
        } else if let Some(n) = dates::invalid_month_day(&t, i) {
            i += n;
        } else {
            i += 1;
        }
    }

    let parts = parts_of_day(&t, asked);
    let hint_for = |s: Span| -> Option<Meridiem> {
        parts
            .iter()
            .filter(|p| p.meridiem.is_some())
            .min_by_key(|p| {
                if p.at >= s.end {
                    p.at - s.end
                } else {
                    s.start.saturating_sub(p.at)
                }
            })
            .and_then(|p| p.meridiem)
    };

    // "in 2 hours", "in half an hour": a date and time from now.
    let mut from_now: Option<DateTime> = None;
    // Pass 2: bounds and clock times.
    let mut earliest: Option<Time> = None;
    let mut latest: Option<Time> = None;
    let mut best: Option<(u8, Time)> = None;
    let mut i = 0;
    while i < t.len() {
        if used.get(i).copied().unwrap_or(true) {
            i += 1;
            continue;
        }
        if let Some((dt, n)) = in_duration(&t, i, now) {
            from_now = Some(dt);
            mark(
                &mut used,
                Span {
                    start: i,
                    end: i + n,
                },
            );
            i += n;
            continue;
        }
        if let Some((lo, hi, n)) = bound_at(&t, i, &used, &hint_for) {
            earliest = lo.or(earliest);
            latest = hi.or(latest);
            mark(
                &mut used,
                Span {
                    start: i,
                    end: i + n,
                },
            );
            i += n;
            continue;
        }
        if let Some(c) = clock_at(&t, i)
            && !used
                .get(c.span.start..c.span.end)
                .is_some_and(|u| u.iter().any(|x| *x))
            && let Some(priority) = clock_priority(&t, &c, &date_spans, &parts, asked)
            && let Some((h, m)) = resolve_hour(&c, hint_for(c.span))
            && let Some(tm) = time(h, m)
        {
            if best.is_none_or(|(p, _)| priority >= p) {
                best = Some((priority, tm));
            }
            mark(&mut used, c.span);
            i = c.span.end;
            continue;
        }
        i += 1;
    }

    let mut clock = best.map(|(_, tm)| tm);
    if let Some(dt) = from_now {
        date = date.or(Some(dt.date()));
        clock = clock.or(Some(dt.time()));
    }
    // "around lunch": noon, when no clock time was said.
    clock = clock.or_else(|| lunch_time(&t, &used, asked || date.is_some()));
    // "i get off at four and it's a half hour drive": free from 16:30.
    if let (Some(from), Some(minutes)) = (earliest, windows::travel_minutes(&t)) {
        earliest = from
            .checked_add(jiff::Span::new().minutes(minutes))
            .ok()
            .or(Some(from));
    }
    if clock.is_none() && earliest.is_none() && latest.is_none() {
        // A part of day alone gives a window ("next monday morning").
        if let Some(p) = parts.last() {
            earliest = time(p.window.0, 0);
            latest = time(p.window.1, 0);
        }
    }
    let prefer = if clock.is_none() {
        start_preference(&t, date.is_some())
    } else {
        None
    };
    if date.is_none() && clock.is_none() && earliest.is_none() && latest.is_none() {
        // "as soon as possible", "whenever": a mention with nothing fixed, i.e. the first
        // opening; "end of the day", "first thing": the last or first start of a day.
        return (prefer.is_some() || soonest(&t, asked)).then_some(DateTimeMention {
            date: None,
            time: None,
            earliest: None,
            latest: None,
            prefer,
        });
    }
    Some(DateTimeMention {
        date,
        time: clock,
        earliest,
        latest,
        prefer,
    })
}

/// Runs of digits as a phone number is read out ("214 555 0199", "+1 214-555-0199", "two one
/// four five five five ..."): seven digits or more in consecutive tokens.
fn phone_runs(t: &[&str]) -> Vec<Span> {
    let digits_of = |w: &str| -> Option<usize> {
        if w.bytes().all(|b| b.is_ascii_digit()) && !w.is_empty() {
            return Some(w.len());
        }
        // "214-555-0199", "1-800-555-0100": groups of three or more digits (a leading country
        // code aside); "2026-06-12" or "4.30" are not phone digits.
        let groups: Vec<&str> = w.split(['-', '.']).collect();
        if groups.len() > 1
            && groups.iter().enumerate().all(|(k, g)| {
                !g.is_empty()
                    && g.bytes().all(|b| b.is_ascii_digit())
                    && (g.len() >= 3 || (k == 0 && *g == "1"))
            })
        {
            return Some(groups.iter().map(|g| g.len()).sum());
        }
        match w {
            "oh" | "o" | "zero" | "double" => Some(1),
            "triple" => Some(2),
            _ => match unit_word(w) {
                Some(0..=9) => Some(1),
                Some(_) => Some(2),
                None => crate::extract::numbers::tens_word(w).map(|_| 2),
            },
        }
    };
    let mut runs = Vec::new();
    let mut start = 0;
    let mut count = 0;
    for i in 0..=t.len() {
        match t.get(i).and_then(|w| digits_of(w)) {
            Some(n) => {
                if count == 0 {
                    start = i;
                }
                count += n;
            }
            None => {
                if count >= 7 {
                    runs.push(Span { start, end: i });
                }
                count = 0;
            }
        }
    }
    runs
}

/// Phrases asking for the first opening. Always meant as a time for the visit. ("the first
/// available" is left out: with offers on the table it picks the first of them.)
const SOONEST: &[&[&str]] = &[
    &["as", "soon", "as", "possible"],
    &["as", "soon", "as", "you", "can"],
    &["as", "early", "as", "possible"],
    &["asap"],
    &["a", "s", "a", "p"],
    &["soonest"],
    &["next", "available"],
    &["earliest", "available"],
    &["next", "opening"],
    &["earliest", "opening"],
    &["right", "away"],
];
/// Only as the answer to "when?": "whenever", "anytime", "earliest you have".
const SOONEST_WHEN_ASKED: &[&[&str]] = &[
    &["whenever"],
    &["anytime"],
    &["any", "time"],
    &["earliest"],
    &["any", "day"],
    &["doesnt", "matter"],
    &["dont", "care"],
    &["whatever", "works"],
    &["whatever", "you", "have"],
    &["whatevers"],
];

/// Does the caller ask for the first opening rather than a particular time?
fn soonest(t: &[&str], asked: bool) -> bool {
    let has = |p: &[&str]| t.windows(p.len()).any(|w| w == p);
    SOONEST.iter().any(|p| has(p)) || (asked && SOONEST_WHEN_ASKED.iter().any(|p| has(p)))
}

/// How sure we are that a clock candidate is a time: 2 = cued, 1 = bare but asked.
fn clock_priority(
    t: &[&str],
    c: &Clock,
    date_spans: &[Span],
    parts: &[PartOfDay],
    asked: bool,
) -> Option<u8> {
    let (s, e) = (c.span.start, c.span.end);
    let prev = s.checked_sub(1).and_then(|p| t.get(p)).copied();
    let next = t.get(e).copied();
    if next.is_some_and(|n| COUNT_NOUNS.contains(&n)) && c.meridiem.is_none() {
        return None;
    }
    if c.bare_digits {
        // Phone numbers: runs of digit groups ("214 555 0123").
        let digit_run = |tok: Option<&str>| {
            tok.is_some_and(|w| w.len() >= 3 && w.bytes().all(|b| b.is_ascii_digit()))
        };
        if digit_run(prev) || digit_run(next) {
            return None;
        }
    }
    if c.strong {
        return Some(2);
    }
    // Digit strings ("five five five one two", "1234 oak street") are not times.
    let numberish = |w: Option<&str>| {
        w.is_some_and(|w| unit_word(w).is_some() || w.bytes().all(|b| b.is_ascii_digit()))
    };
    if numberish(prev) || numberish(next) {
        return None;
    }
    if c.bare_digits
        && c.span.end == c.span.start + 1
        && t.get(s).is_some_and(|w| w.len() >= 3)
        && next.is_some_and(|n| !BARE_FOLLOWERS.contains(&n) && !is_time_word(n))
    {
        return None;
    }
    let near_part = parts.iter().any(|p| {
        p.at + 1 == s
            || p.at == e
            || (t.get(e) == Some(&"in") && p.at <= e + 2 && p.at > e)
            || (matches!(t.get(e), Some(&"this" | &"tomorrow")) && p.at == e + 1)
    });
    let near_date = date_spans.iter().any(|d| {
        d.end == s
            || d.start == e
            || (d.end + 1 == s && matches!(t.get(d.end), Some(&"at" | &"around" | &"about")))
            || (e + 1 == d.start && matches!(t.get(e), Some(&"on")))
    });
    // "make it three", "how about ten": a time offered in place of another.
    let prev2 = s.checked_sub(2).and_then(|p| t.get(p)).copied();
    let prev_cue = prev.is_some_and(|p| TIME_CUES.contains(&p))
        || (prev == Some("it") && prev2 == Some("make"))
        // "as late as 5", "as early as seven"
        || (prev == Some("as") && matches!(prev2, Some("late" | "early")));
    // "one" is mostly a pronoun ("book one on the 9th"): it needs "at"-like cue or a part of
    // day, or must be the whole answer to "what time?".
    if e == s + 1 && t.get(s) == Some(&"one") && !prev_cue && !near_part {
        let whole_answer = prev.is_none()
            && next.is_none_or(|n| {
                matches!(n, "then" | "please" | "works" | "is" | "sounds" | "would")
            });
        return (asked && whole_answer).then_some(1);
    }
    let cued = prev_cue || near_part || near_date;
    if cued {
        return Some(2);
    }
    if !asked {
        return None;
    }
    // Asked "what time?": a bare number is a time, unless it reads as "that one".
    if prev.is_some_and(|p| BARE_BLOCKERS.contains(&p) || parse_ordinal(&[p]).is_some()) {
        return None;
    }
    let single = e == s + 1;
    if single && !c.bare_digits && next.is_some_and(|n| !BARE_FOLLOWERS.contains(&n)) {
        return None;
    }
    Some(1)
}

/// Words that may follow a time: am/pm, parts of day, relative days, weekdays.
fn is_time_word(w: &str) -> bool {
    matches!(
        w,
        "am" | "pm"
            | "oclock"
            | "in"
            | "on"
            | "this"
            | "tomorrow"
            | "today"
            | "tonight"
            | "morning"
            | "afternoon"
            | "evening"
            | "night"
            | "next"
    ) || dates::weekday(w, true).is_some()
}
