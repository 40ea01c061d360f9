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

#[cfg(test)]
mod tests;

pub use relative::{RelativeMention, extract_relative};

use crate::extract::numbers::{parse_ordinal, unit_word};
use jiff::civil::{Date, DateTime, Time};
use times::{Clock, Meridiem, clock_at, resolve_hour};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DateTimeMention {
    pub date: Option<Date>,
    pub time: Option<Time>,
    /// A window, when the caller gave a part of day or a bound instead of a clock time:
    /// "morning" -> 08:00..12:00, "afternoon" -> 12:00..17:00, "evening" -> 17:00..21:00,
    /// "after lunch" -> earliest 13:00, "after 3" -> earliest 15:00, "before noon" -> latest 12:00.
    pub earliest: Option<Time>,
    pub latest: Option<Time>,
}

/// Token range `start..end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: usize,
    pub end: usize,
}

/// A part of day mentioned somewhere in the utterance.
#[derive(Debug, Clone, Copy)]
struct PartOfDay {
    at: usize,
    meridiem: Option<Meridiem>,
    window: (i8, i8),
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
];

/// Words after a number that make it a count, not a time ("2 units", "3 days").
const COUNT_NOUNS: &[&str] = &[
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

fn time(h: i8, m: i8) -> Option<Time> {
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

    // Pass 1: dates. The last one wins ("not thursday, make it this sunday").
    let mut date: Option<Date> = None;
    let mut date_spans: Vec<Span> = Vec::new();
    let mut i = 0;
    while i < t.len() {
        if let Some((d, span)) = dates::date_at(&t, i, today)
            && span.end > i
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

    let parts = parts_of_day(&t);
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
    if clock.is_none() && earliest.is_none() && latest.is_none() {
        // A part of day alone gives a window ("next monday morning").
        if let Some(p) = parts.last() {
            earliest = time(p.window.0, 0);
            latest = time(p.window.1, 0);
        }
    }
    if date.is_none() && clock.is_none() && earliest.is_none() && latest.is_none() {
        // "as soon as possible", "whenever": a mention with nothing fixed, i.e. the first
        // opening.
        return soonest(&t, asked).then_some(DateTimeMention {
            date: None,
            time: None,
            earliest: None,
            latest: None,
        });
    }
    Some(DateTimeMention {
        date,
        time: clock,
        earliest,
        latest,
    })
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
        || (prev == Some("it") && prev2 == Some("make"));
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

fn parts_of_day(t: &[&str]) -> Vec<PartOfDay> {
    let mut out = Vec::new();
    for (i, tok) in t.iter().enumerate() {
        let (meridiem, window) = match *tok {
            "morning" | "mornin" => (Some(Meridiem::Am), (8, 12)),
            "afternoon" => (Some(Meridiem::Pm), (12, 17)),
            "evening" | "tonight" | "tonite" | "night" => (Some(Meridiem::Pm), (17, 21)),
            "lunch" | "lunchtime" => (None, (12, 13)),
            // "3 in the am"
            "am" if i > 0 && t.get(i - 1) == Some(&"the") => (Some(Meridiem::Am), (8, 12)),
            "pm" if i > 0 && t.get(i - 1) == Some(&"the") => (Some(Meridiem::Pm), (12, 17)),
            _ => continue,
        };
        // "last night", "yesterday morning", "since this morning": when the trouble started,
        // not when the visit should be.
        let before = |k: usize| i.checked_sub(k).and_then(|p| t.get(p)).copied();
        if matches!(before(1), Some("last" | "yesterday" | "since" | "past"))
            || (before(1) == Some("this") && before(2) == Some("since"))
        {
            continue;
        }
        // "early morning" / "late afternoon": the first or second half of the window.
        let mid = (window.0 + window.1) / 2;
        let window = match i.checked_sub(1).and_then(|p| t.get(p)) {
            Some(&"early") => (window.0, mid),
            Some(&"late") => (mid, window.1),
            _ => window,
        };
        out.push(PartOfDay {
            at: i,
            meridiem,
            window,
        });
    }
    out
}

/// A negation shortly before `i` ("can't go until", "not available till").
fn negated_before(t: &[&str], i: usize) -> bool {
    let from = i.saturating_sub(4);
    t.get(from..i).is_some_and(|w| {
        w.iter().any(|w| {
            matches!(
                *w,
                "not" | "cant" | "cannot" | "can't" | "wont" | "won't" | "dont" | "isnt" | "never"
            )
        })
    })
}

/// "in 2 hours", "in an hour", "in half an hour", "in 30 minutes".
fn in_duration(t: &[&str], i: usize, now: DateTime) -> Option<(DateTime, usize)> {
    if *t.get(i)? != "in" {
        return None;
    }
    let (mins_per, count, n) = match (
        t.get(i + 1).copied(),
        t.get(i + 2).copied(),
        t.get(i + 3).copied(),
    ) {
        (Some("half"), Some("an"), Some("hour")) => (30, 1, 3),
        (Some("an" | "a"), Some("hour"), _) => (60, 1, 2),
        (Some("a"), Some("couple"), Some("of")) => {
            let unit = *t.get(i + 4)?;
            let per = if unit.starts_with("hour") {
                60
            } else if unit.starts_with("min") {
                1
            } else {
                return None;
            };
            (per, 2, 4)
        }
        (Some("a"), Some("few"), Some(u)) if u.starts_with("hour") => (60, 3, 3),
        (Some("few"), Some(u), _) if u.starts_with("hour") => (60, 3, 2),
        (Some("a"), Some("couple"), Some(u)) if u.starts_with("hour") => (60, 2, 3),
        _ => {
            let (v, n) = crate::extract::numbers::parse_cardinal(t.get(i + 1..)?)?;
            let unit = *t.get(i + 1 + n)?;
            let per = match unit {
                "hour" | "hours" | "hrs" | "hr" | "h" => 60,
                "minute" | "minutes" | "mins" | "min" => 1,
                _ => return None,
            };
            (per, v, n + 1)
        }
    };
    let total = i64::from(mins_per).checked_mul(count)?;
    if !(1..=24 * 60 * 7).contains(&total) {
        return None;
    }
    let dt = now
        .checked_add(jiff::Span::new().try_minutes(total).ok()?)
        .ok()?;
    Some((dt, n + 1))
}

/// "after 3", "before noon", "after lunch", "by 5", "no later than 4", "between 2 and 4".
/// Returns (earliest, latest, tokens consumed).
fn bound_at(
    t: &[&str],
    i: usize,
    used: &[bool],
    hint_for: &dyn Fn(Span) -> Option<Meridiem>,
) -> Option<(Option<Time>, Option<Time>, usize)> {
    #[derive(Clone, Copy, PartialEq)]
    enum Kind {
        After,
        Before,
        Between,
    }
    let (kind, kw) = match (*t.get(i)?, t.get(i + 1).copied(), t.get(i + 2).copied()) {
        ("no" | "not", Some("later"), Some("than")) => (Kind::Before, 3),
        ("no" | "not", Some("earlier"), Some("than")) => (Kind::After, 3),
        ("not", Some("before"), _) => (Kind::After, 2),
        ("not", Some("after"), _) => (Kind::Before, 2),
        ("later", Some("than"), _) => (Kind::After, 2),
        ("earlier", Some("than"), _) => (Kind::Before, 2),
        ("after" | "from", _, _) => (Kind::After, 1),
        // "can't go until 4:30" is a lower bound, not an upper one.
        ("until" | "till" | "til", _, _) if negated_before(t, i) => (Kind::After, 1),
        ("before" | "by" | "until" | "till" | "til", _, _) => (Kind::Before, 1),
        ("between", _, _) => (Kind::Between, 1),
        _ => return None,
    };
    let free = |s: Span| {
        !used
            .get(s.start..s.end)
            .is_some_and(|u| u.iter().any(|x| *x))
    };
    let target = |j: usize, after: bool| -> Option<(Time, usize)> {
        match *t.get(j)? {
            "lunch" | "lunchtime" => return Some((time(if after { 13 } else { 12 }, 0)?, 1)),
            "work" => return Some((time(17, 0)?, 1)),
            _ => {}
        }
        let c = clock_at(t, j)?;
        if !free(c.span) || t.get(c.span.end).is_some_and(|n| COUNT_NOUNS.contains(n)) {
            return None;
        }
        let (h, m) = resolve_hour(&c, hint_for(c.span))?;
        Some((time(h, m)?, c.span.end - j))
    };
    let j = i + kw;
    // "from 2 to 4", "between 2 and 4"
    let start = j + usize::from(t.get(j) == Some(&"the"));
    if let Some((lo, n)) = target(start, true) {
        let k = start + n;
        if ((kind == Kind::Between && t.get(k) == Some(&"and"))
            || (t.get(i) == Some(&"from")
                && matches!(t.get(k), Some(&"to" | &"till" | &"until" | &"til"))))
            && let Some((hi, m)) = target(k + 1, false)
        {
            return Some((Some(lo), Some(hi), k + 1 + m - i));
        }
        return match kind {
            Kind::After => Some((Some(lo), None, k - i)),
            Kind::Before => {
                let (hi, n2) = target(start, false)?;
                Some((None, Some(hi), start + n2 - i))
            }
            Kind::Between => None,
        };
    }
    None
}
