//! Date phrases: relative days, weekdays, day of month, month + day, numeric dates,
//! "in three days", "a week from friday". Every resolver is relative to `today`.

use super::Span;
use super::calendar::{
    add_days, add_months, next_weekday, numeric_date, resolve_md, upcoming_day_of_month,
    weekday_of_week, year_token,
};
use crate::extract::numbers::{parse_cardinal, parse_ordinal};
use jiff::civil::{Date, Weekday};

pub(crate) fn weekday(tok: &str, alone: bool) -> Option<Weekday> {
    let tok = tok
        .strip_suffix('s')
        .filter(|t| t.ends_with("day"))
        .unwrap_or(tok);
    let wd = match tok {
        "monday" | "mon" => Weekday::Monday,
        "tuesday" | "tue" | "tues" => Weekday::Tuesday,
        "wednesday" | "wed" | "wednes" => Weekday::Wednesday,
        "thursday" | "thu" | "thur" | "thurs" => Weekday::Thursday,
        "friday" | "fri" => Weekday::Friday,
        "saturday" => Weekday::Saturday,
        "sunday" => Weekday::Sunday,
        // "sat"/"sun" are ordinary words; only trusted when they are the whole phrase
        // or clearly in a date context (checked by the caller through `alone`).
        "sat" if alone => Weekday::Saturday,
        "sun" if alone => Weekday::Sunday,
        _ => return None,
    };
    Some(wd)
}

pub(crate) fn month(tok: &str) -> Option<i8> {
    let m = match tok {
        "january" | "jan" => 1,
        "february" | "feb" | "febuary" => 2,
        "march" | "mar" => 3,
        "april" | "apr" => 4,
        "may" => 5,
        "june" | "jun" => 6,
        "july" | "jul" => 7,
        "august" | "aug" => 8,
        "september" | "sep" | "sept" => 9,
        "october" | "oct" => 10,
        "november" | "nov" => 11,
        "december" | "dec" => 12,
        _ => return None,
    };
    Some(m)
}

/// Day of month at `i`: an ordinal ("7th", "seventh", "twenty first") or, when
/// `allow_cardinal`, a plain number 1..=31 ("march 3").
fn day_number(t: &[&str], i: usize, allow_cardinal: bool) -> Option<(u32, usize)> {
    let rest = t.get(i..)?;
    if let Some((v, n)) = parse_ordinal(rest)
        && (1..=31).contains(&v)
    {
        return Some((v, n));
    }
    if allow_cardinal {
        let (v, n) = parse_cardinal(rest)?;
        // "march 3 2015": a 4-digit cardinal is a year, not a day.
        if (1..=31).contains(&v)
            && rest
                .first()
                .is_some_and(|f| f.len() <= 2 || !f.chars().all(|c| c.is_ascii_digit()))
        {
            return Some((u32::try_from(v).ok()?, n));
        }
    }
    None
}

/// Words after an ordinal that make it "the first available", not a date.
const NOT_A_DATE_AFTER: &[&str] = &[
    "available",
    "one",
    "ones",
    "time",
    "times",
    "thing",
    "floor",
    "opening",
    "openings",
    "slot",
    "slots",
    "appointment",
    "option",
    "place",
    "visit",
    "person",
    "step",
    "unit",
    "house",
    "street",
    "avenue",
    "st",
    "ave",
    "grade",
    "priority",
    "choice",
    "week",
    "weekend",
    "month",
];

/// "of this month" / "of next month" / "of the month" after a day number: month offset.
fn of_relative_month(t: &[&str], i: usize) -> Option<(i64, usize)> {
    let mut j = i;
    if t.get(j) == Some(&"day") {
        j += 1;
    }
    if !matches!(t.get(j), Some(&"of") | Some(&"in")) {
        return None;
    }
    j += 1;
    if t.get(j) == Some(&"the") {
        j += 1;
    }
    let off = match t.get(j).copied() {
        Some("this" | "current") => 0,
        Some("next" | "coming") => 1,
        Some("month") => return Some((0, j + 1 - i)),
        _ => return None,
    };
    (t.get(j + 1) == Some(&"month")).then_some((off, j + 2 - i))
}

/// "of march" / "march" after a day number (with an optional year).
fn of_month(t: &[&str], i: usize) -> Option<(i8, Option<i16>, usize)> {
    let mut j = i;
    if t.get(j) == Some(&"day") {
        j += 1;
    }
    if matches!(t.get(j), Some(&"of") | Some(&"in")) {
        j += 1;
    }
    let m = month(t.get(j)?)?;
    j += 1;
    let year = year_token(t.get(j));
    if year.is_some() {
        j += 1;
    }
    Some((m, year, j - i))
}

/// Unit words for "in 3 days", "a week from friday".
fn day_unit(tok: &str) -> Option<i64> {
    match tok {
        "day" | "days" => Some(1),
        "week" | "weeks" => Some(7),
        "fortnight" => Some(14),
        _ => None,
    }
}

/// "a", "one", "two", "couple of", "a couple of", "few" -> count and tokens consumed.
fn count_at(t: &[&str], i: usize) -> Option<(i64, usize)> {
    match (
        t.get(i).copied(),
        t.get(i + 1).copied(),
        t.get(i + 2).copied(),
    ) {
        (Some("a"), Some("couple"), Some("of")) => Some((2, 3)),
        (Some("a" | "one"), Some(u), _) if day_unit(u).is_some() => Some((1, 1)),
        (Some("couple"), Some("of"), _) => Some((2, 2)),
        _ => {
            let (v, n) = parse_cardinal(t.get(i..)?)?;
            (1..=400).contains(&v).then_some((v, n))
        }
    }
}

/// "february 30th": a month and day that do not form a date. Returns the tokens to skip so
/// the day number is not re-read as a day of the current month.
pub(crate) fn invalid_month_day(t: &[&str], i: usize) -> Option<usize> {
    month(t.get(i)?)?;
    let j = i + 1 + usize::from(t.get(i + 1) == Some(&"the"));
    let (_, n) = day_number(t, j, true)?;
    Some(j + n - i)
}

/// Tries every date pattern at token `i`. Returns the date and the span it covers.
pub(crate) fn date_at(t: &[&str], i: usize, today: Date) -> Option<(Date, Span)> {
    let tok = *t.get(i)?;
    let next = t.get(i + 1).copied();
    let span = |n: usize| Span {
        start: i,
        end: i + n,
    };
    let alone = t.len() == 1
        || matches!(
            i.checked_sub(1).and_then(|p| t.get(p)),
            Some(&"on" | &"this" | &"next")
        );

    // Relative days.
    if tok == "day" && next == Some("after") && t.get(i + 2) == Some(&"tomorrow") {
        return Some((add_days(today, 2)?, span(3)));
    }
    if matches!(
        tok,
        "tomorrow" | "tomorrows" | "tmrw" | "tomorow" | "tommorow" | "tommorrow"
    ) {
        return Some((add_days(today, 1)?, span(1)));
    }
    if matches!(tok, "today" | "tonight" | "tonite") {
        return Some((today, span(1)));
    }
    if tok == "this" && matches!(next, Some("morning" | "afternoon" | "evening")) {
        // The part of day itself stays for the time pass.
        return Some((today, span(1)));
    }
    if matches!(tok, "weekend") {
        // "this weekend": the coming Saturday; "the weekend after next" a week on; a day named
        // with it picks that day ("this weekend, sunday maybe").
        let after_next = t.get(i + 1) == Some(&"after") && t.get(i + 2) == Some(&"next");
        let skip = if after_next { 3 } else { 1 };
        let saturday = add_days(
            next_weekday(today, Weekday::Saturday, true)?,
            if after_next { 7 } else { 0 },
        )?;
        if let Some((wd, n)) = weekday_after(t, i + skip, 2)
            && matches!(wd, Weekday::Saturday | Weekday::Sunday)
        {
            let d = add_days(saturday, i64::from(Weekday::Saturday.until(wd)))?;
            return Some((d, span(skip + n)));
        }
        return Some((saturday, span(skip)));
    }
    // "next week tuesday", "the week after next on friday", "this week maybe thursday".
    if let Some((weeks, n)) = week_ahead(t, i)
        && let Some((wd, m)) = weekday_after(t, i + n, 3)
    {
        let d = weekday_of_week(today, wd, weeks)?;
        // "this week" never means a day already gone.
        let d = if d < today {
            next_weekday(today, wd, true)?
        } else {
            d
        };
        return Some((d, span(n + m)));
    }

    // "this/next/coming <weekday>", "<weekday> after next".
    if let Some(wd) = next.and_then(|n| weekday(n, true)) {
        let date = match tok {
            "this" => Some(next_weekday(today, wd, true)?),
            // "this coming friday" said on a Friday is a week away.
            "coming" | "upcoming" => Some(next_weekday(today, wd, false)?),
            // Both corpora read "next X" as X of next calendar week.
            "next" => Some(weekday_of_week(today, wd, 1)?),
            _ => None,
        };
        if let Some(d) = date {
            let (d2, extra) = weekday_tail(t, i + 2, d, today, wd)?;
            return Some((d2, span(2 + extra)));
        }
    }
    if let Some(wd) = weekday(
        tok,
        alone || t.get(i + 1).is_some_and(|n| month(n).is_some()),
    ) {
        // "tuesday the 19th", "monday feb 18", "fri jul 18".
        let mut j = i + 1;
        if let Some(m) = t.get(j).and_then(|n| month(n))
            && let Some((d, n)) = day_number(t, j + 1, true)
        {
            let year = year_token(t.get(j + 1 + n));
            let end = j + 1 + n + usize::from(year.is_some());
            return Some((
                resolve_md(today, m, d, year, Some(wd))?,
                Span { start: i, end },
            ));
        }
        if t.get(j) == Some(&"the") {
            j += 1;
        }
        // "thursday first thing" is not "thursday the first".
        if let Some((d, n)) = day_number(t, j, false)
            && t.get(j + n).is_none_or(|w| !NOT_A_DATE_AFTER.contains(w))
        {
            if let Some((m, year, k)) = of_month(t, j + n) {
                return Some((
                    resolve_md(today, m, d, year, Some(wd))?,
                    Span {
                        start: i,
                        end: j + n + k,
                    },
                ));
            }
            return Some((
                upcoming_day_of_month(today, d, Some(wd))?,
                Span {
                    start: i,
                    end: j + n,
                },
            ));
        }
        let base = next_weekday(today, wd, false)?;
        let (d, extra) = weekday_tail(t, i + 1, base, today, wd)?;
        return Some((d, span(1 + extra)));
    }

    // "<count> <weekday>s from now": the count-th coming occurrence.
    if let Some((count, n)) = count_at(t, i)
        && let Some(wd) = t.get(i + n).and_then(|w| weekday(w, true))
        && t.get(i + n + 1) == Some(&"from")
        && matches!(t.get(i + n + 2), Some(&"now" | &"today"))
    {
        let first = next_weekday(today, wd, false)?;
        return Some((add_days(first, (count - 1) * 7)?, span(n + 3)));
    }

    // "in 3 days", "in a week", "3 days from now", "a week from friday".
    if (tok == "in" || tok == "within")
        && let Some((count, n)) = count_at(t, i + 1)
        && let Some(unit) = t.get(i + 1 + n).and_then(|u| day_unit(u))
    {
        return Some((add_days(today, count * unit)?, span(2 + n)));
    }
    if let Some((count, n)) = count_at(t, i)
        && let Some(unit) = t.get(i + n).and_then(|u| day_unit(u))
        && t.get(i + n + 1) == Some(&"hence")
    {
        return Some((add_days(today, count * unit)?, span(n + 2)));
    }
    if let Some((count, n)) = count_at(t, i)
        && let Some(unit) = t.get(i + n).and_then(|u| day_unit(u))
        && matches!(t.get(i + n + 1), Some(&"from" | &"after"))
    {
        let j = i + n + 2;
        let offset = count * unit;
        let (base, used) = match t.get(j).copied() {
            Some("now" | "today") => (today, 1),
            Some("tomorrow") => (add_days(today, 1)?, 1),
            Some("this" | "next") => {
                let (d, s) = date_at(t, j, today)?;
                (d, s.end - j)
            }
            Some(w) if weekday(w, true).is_some() => {
                let (d, s) = date_at(t, j, today)?;
                (d, s.end - j)
            }
            _ => return None,
        };
        return Some((add_days(base, offset)?, span(n + 2 + used)));
    }

    // "first tuesday of october", "last friday of the month".
    if let Some((d, n)) = nth_weekday_of(t, i, today) {
        return Some((d, span(n)));
    }

    // Month first: "march 3rd", "march the 3rd", "february 15 2013".
    if let Some(m) = month(tok) {
        let mut j = i + 1;
        if t.get(j) == Some(&"the") {
            j += 1;
        }
        if let Some((d, n)) = day_number(t, j, true) {
            let year = year_token(t.get(j + n));
            let mut end = j + n + usize::from(year.is_some());
            // "jul 18 fri": a trailing weekday constrains the year like a leading one.
            let wd = t.get(end).and_then(|w| weekday(w, true));
            end += usize::from(wd.is_some());
            return Some((resolve_md(today, m, d, year, wd)?, Span { start: i, end }));
        }
        return None;
    }

    // Day first: "the 7th", "9th of this month", "3rd of march", "15 of february".
    let starts_with_the = matches!(tok, "the" | "on");
    let j = if starts_with_the { i + 1 } else { i };
    if starts_with_the && t.get(j) == Some(&"the") {
        return None; // "on the 7th" is matched starting at "the".
    }
    if let Some((d, n)) = day_number(t, j, false) {
        if let Some(found) = day_of_named_month(t, today, d, i, j + n) {
            return found;
        }
        let digit_form = t
            .get(j)
            .is_some_and(|w| w.starts_with(|c: char| c.is_ascii_digit()));
        let follower_ok = t.get(j + n).is_none_or(|w| !NOT_A_DATE_AFTER.contains(w));
        // "on second thought": a word ordinal needs "the" ("on the second").
        let starts_with_the = starts_with_the && (tok == "the" || digit_form);
        if (starts_with_the || digit_form || t.len() == n) && follower_ok {
            return Some((
                upcoming_day_of_month(today, d, None)?,
                Span {
                    start: i,
                    end: j + n,
                },
            ));
        }
    }
    // "15 of february", "4 of july", "20 of next month"
    if let Some((v, n)) = parse_cardinal(t.get(j..)?)
        && (1..=31).contains(&v)
        && t.get(j + n) == Some(&"of")
    {
        let d = u32::try_from(v).ok()?;
        if let Some(found) = day_of_named_month(t, today, d, i, j + n) {
            return found;
        }
    }
    if tok.contains(['/', '-', '.']) {
        return numeric_date(tok, today).map(|d| (d, span(1)));
    }
    None
}

/// "next week", "the week after next", "this week" at `i`: weeks ahead and tokens consumed.
fn week_ahead(t: &[&str], i: usize) -> Option<(i64, usize)> {
    let at = |k: usize| t.get(i + k).copied();
    match (at(0), at(1), at(2), at(3)) {
        (Some("the"), Some("week"), Some("after"), Some("next")) => Some((2, 4)),
        (Some("week"), Some("after"), Some("next"), _) => Some((2, 3)),
        (Some("next"), Some("week"), _, _) => Some((1, 2)),
        (Some("this"), Some("week"), _, _) => Some((0, 2)),
        _ => None,
    }
}

/// Words that may stand between a week or weekend and the day named in it ("next week on
/// tuesday", "this weekend say sunday").
const WEEKDAY_LEAD_INS: &[&str] = &[
    "on",
    "say",
    "maybe",
    "probably",
    "sometime",
    "some",
    "time",
    "like",
    "the",
    "preferably",
];

/// A weekday at `i`, after at most `skip` lead-in words: the weekday and tokens consumed.
fn weekday_after(t: &[&str], i: usize, skip: usize) -> Option<(Weekday, usize)> {
    for k in 0..=skip {
        let w = t.get(i + k)?;
        if let Some(wd) = weekday(w, true) {
            return Some((wd, k + 1));
        }
        if !WEEKDAY_LEAD_INS.contains(w) {
            return None;
        }
    }
    None
}

/// After a weekday: "next week", "of next week", "this week", "after next".
/// Returns the adjusted date and the number of extra tokens consumed.
fn weekday_tail(
    t: &[&str],
    j: usize,
    base: Date,
    today: Date,
    wd: Weekday,
) -> Option<(Date, usize)> {
    let (skip, after) = if matches!(t.get(j), Some(&"of") | Some(&"from") | Some(&"in")) {
        (1, j + 1)
    } else {
        (0, j)
    };
    match (t.get(after).copied(), t.get(after + 1).copied()) {
        (Some("next"), Some("week")) => Some((weekday_of_week(today, wd, 1)?, skip + 2)),
        (Some("this"), Some("week")) => {
            // Never in the past: a weekday already gone this week means the coming one.
            let d = weekday_of_week(today, wd, 0)?;
            Some((
                if d < today {
                    next_weekday(today, wd, true)?
                } else {
                    d
                },
                skip + 2,
            ))
        }
        (Some("after"), Some("next")) if skip == 0 => {
            Some((add_days(next_weekday(today, wd, false)?, 7)?, 2))
        }
        _ => Some((base, 0)),
    }
}

/// "first|second|third|fourth|last <weekday> of|in <month>|this month|next month".
fn nth_weekday_of(t: &[&str], i: usize, today: Date) -> Option<(Date, usize)> {
    let nth: i8 = match *t.get(i)? {
        "the" => return nth_weekday_of(t, i + 1, today).map(|(d, n)| (d, n + 1)),
        "first" | "1st" => 1,
        "second" | "2nd" => 2,
        "third" | "3rd" => 3,
        "fourth" | "4th" => 4,
        "fifth" | "5th" => 5,
        "last" => -1,
        _ => return None,
    };
    let wd = weekday(t.get(i + 1)?, true)?;
    if !matches!(t.get(i + 2), Some(&"of") | Some(&"in")) {
        return None;
    }
    let mut j = i + 3;
    if t.get(j) == Some(&"the") {
        j += 1;
    }
    let (month_start, end, fixed) = match t.get(j).copied() {
        Some("this" | "current") if t.get(j + 1) == Some(&"month") => {
            (today.first_of_month(), j + 2, true)
        }
        Some("next") if t.get(j + 1) == Some(&"month") => {
            (add_months(today.first_of_month(), 1)?, j + 2, true)
        }
        Some("month") => (today.first_of_month(), j + 1, true),
        Some(w) => {
            let m = month(w)?;
            match year_token(t.get(j + 1)) {
                Some(y) => (Date::new(y, m, 1).ok()?, j + 2, true),
                None => (Date::new(today.year(), m, 1).ok()?, j + 1, false),
            }
        }
        None => return None,
    };
    let d = month_start.nth_weekday_of_month(nth, wd).ok()?;
    if d < today && !fixed {
        let later = add_months(month_start, 12)?
            .nth_weekday_of_month(nth, wd)
            .ok()?;
        return Some((later, end - i));
    }
    Some((d, end - i))
}

/// Day `d` followed by "of this month" / "of next month" / "of march" starting at `at`; the
/// phrase began at token `start`. `None` when no month phrase follows; `Some(None)` when one
/// does but the day does not exist in that month (the whole phrase is then not a date).
fn day_of_named_month(
    t: &[&str],
    today: Date,
    d: u32,
    start: usize,
    at: usize,
) -> Option<Option<(Date, Span)>> {
    if let Some((off, k)) = of_relative_month(t, at) {
        let date = add_months(today.first_of_month(), off).and_then(|month_start| {
            let day = i8::try_from(d).ok()?;
            Date::new(month_start.year(), month_start.month(), day).ok()
        });
        return Some(date.map(|date| (date, Span { start, end: at + k })));
    }
    let (m, year, k) = of_month(t, at)?;
    Some(resolve_md(today, m, d, year, None).map(|date| (date, Span { start, end: at + k })))
}
