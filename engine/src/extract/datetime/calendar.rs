//! Calendar arithmetic for date phrases: upcoming occurrences that are never in the past,
//! and numeric dates ("3/14", "2015-03-03").

use super::dates::month;
use crate::extract::numbers::digits;
use jiff::civil::{Date, Weekday};

pub(crate) fn add_days(d: Date, n: i64) -> Option<Date> {
    d.checked_add(jiff::Span::new().try_days(n).ok()?).ok()
}

pub(super) fn add_months(d: Date, n: i64) -> Option<Date> {
    d.checked_add(jiff::Span::new().try_months(n).ok()?).ok()
}

/// Next occurrence of `wd`; today counts only when `include_today`.
pub(super) fn next_weekday(today: Date, wd: Weekday, include_today: bool) -> Option<Date> {
    let mut n = i64::from(today.weekday().until(wd));
    if n == 0 && !include_today {
        n = 7;
    }
    add_days(today, n)
}

/// `wd` in the calendar week (Monday first) `weeks` after the current one.
pub(super) fn weekday_of_week(today: Date, wd: Weekday, weeks: i64) -> Option<Date> {
    let monday = add_days(today, -i64::from(today.weekday().to_monday_zero_offset()))?;
    add_days(monday, weeks * 7 + i64::from(wd.to_monday_zero_offset()))
}

/// Day `day` of this month if not past, else of the first following month that has it.
/// With a weekday ("tuesday the 19th") the first month where the day falls on it.
pub(super) fn upcoming_day_of_month(today: Date, day: u32, wd: Option<Weekday>) -> Option<Date> {
    let day = i8::try_from(day).ok().filter(|d| (1..=31).contains(d))?;
    let first = today.first_of_month();
    for k in 0..24 {
        let month_start = add_months(first, k)?;
        if let Ok(d) = Date::new(month_start.year(), month_start.month(), day)
            && d >= today
            && wd.is_none_or(|w| d.weekday() == w)
        {
            return Some(d);
        }
    }
    None
}

/// Month and day without a year: this year unless already past (then next year). A weekday
/// that does not match moves on to the next year where it does ("Fri, Jul 18").
pub(super) fn upcoming_month_day(
    today: Date,
    m: i8,
    day: u32,
    wd: Option<Weekday>,
) -> Option<Date> {
    let day = i8::try_from(day).ok()?;
    // The weekday may push to next year ("Fri, Jul 18" said in 2013); further than that it
    // is more likely a slip, so it is then ignored.
    for (k, check) in [(0, true), (1, true), (0, false), (1, false)] {
        let year = today.year().checked_add(k)?;
        if let Ok(d) = Date::new(year, m, day)
            && d >= today
            && (!check || wd.is_none_or(|w| d.weekday() == w))
        {
            return Some(d);
        }
    }
    None
}

pub(super) fn year_token(tok: Option<&&str>) -> Option<i16> {
    let y = digits(tok?)?;
    if (1900..=2100).contains(&y) && tok?.len() == 4 {
        i16::try_from(y).ok()
    } else {
        None
    }
}

pub(super) fn resolve_md(
    today: Date,
    m: i8,
    day: u32,
    year: Option<i16>,
    wd: Option<Weekday>,
) -> Option<Date> {
    match year {
        Some(y) => Date::new(y, m, i8::try_from(day).ok()?).ok(),
        None => upcoming_month_day(today, m, day, wd),
    }
}

/// Numeric dates: 3/14, 2/15/2013, 10-31-74, 2015-03-03, 10.31.1974, 31/oct/1974.
pub(super) fn numeric_date(tok: &str, today: Date) -> Option<Date> {
    let parts: Vec<&str> = tok.split(['/', '-', '.']).collect();
    if parts.len() < 2 || parts.len() > 3 {
        return None;
    }
    // A single '.' between digits is a decimal or "4.30", not a date.
    if parts.len() == 2 && tok.contains('.') {
        return None;
    }
    let num = |s: &str| digits(s).filter(|_| s.chars().all(|c| c.is_ascii_digit()));
    let (p0, p1) = (parts.first()?, parts.get(1)?);
    let p2 = parts.get(2);
    // ISO: 2015-03-03
    if p0.len() == 4 {
        let y = i16::try_from(num(p0)?).ok()?;
        let m = i8::try_from(num(p1)?).ok()?;
        let d = i8::try_from(num(p2?)?).ok()?;
        return Date::new(y, m, d).ok();
    }
    let year = match p2 {
        Some(y) => {
            let v = num(y)?;
            let full = match y.len() {
                2 if v < 50 => 2000 + v,
                2 => 1900 + v,
                4 => v,
                _ => return None,
            };
            Some(i16::try_from(full).ok()?)
        }
        None => None,
    };
    // 31/oct/1974
    if let Some(m) = month(p1) {
        let d = u32::try_from(num(p0)?).ok()?;
        return resolve_md(today, m, d, year, None);
    }
    let a = num(p0)?;
    let b = num(p1)?;
    // US order month/day; day/month only when the first cannot be a month.
    let (m, d) = if a > 12 && b <= 12 { (b, a) } else { (a, b) };
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    resolve_md(
        today,
        i8::try_from(m).ok()?,
        u32::try_from(d).ok()?,
        year,
        None,
    )
}
