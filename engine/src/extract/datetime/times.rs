//! Clock times: "10:30", "two thirty", "half past three", "quarter to four", "4 pm",
//! "noon", "1030", and the am/pm policy for a service business.

use super::Span;
use crate::extract::numbers::{digits, parse_cardinal, tens_word, unit_word};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Meridiem {
    Am,
    Pm,
}

/// A clock time as said, before am/pm resolution.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    pub hour: i8,
    pub minute: i8,
    pub span: Span,
    /// Explicit am/pm right after the time ("4 pm", "ten am").
    pub meridiem: Option<Meridiem>,
    /// Self-evidently a time ("10:30", "half past", "o'clock", "noon", am/pm), as opposed to
    /// bare numbers that need a cue ("at", a part of day, a date) or an asked question.
    pub strong: bool,
    /// 24-hour form ("18:00", "09:30"): no am/pm guessing.
    pub literal: bool,
    /// A bare hour/minute number pair or single number (candidates for phone digits).
    pub bare_digits: bool,
}

/// An hour word or number: "three", "3", "twelve", "15" (1..=24 only for digits).
fn hour_at(t: &[&str], i: usize) -> Option<i8> {
    let tok = *t.get(i)?;
    if let Some(v) = unit_word(tok) {
        return (1..=12)
            .contains(&v)
            .then(|| i8::try_from(v).ok())
            .flatten();
    }
    if tok.len() <= 2 {
        let v = digits(tok)?;
        return (0..=24)
            .contains(&v)
            .then(|| i8::try_from(v).ok())
            .flatten();
    }
    None
}

/// Minutes after an hour: "thirty", "fifteen", "oh five", "forty five", "30".
fn minutes_at(t: &[&str], i: usize) -> Option<(i8, usize)> {
    let tok = *t.get(i)?;
    if matches!(tok, "oh" | "o" | "zero" | "ou") {
        let v = unit_word(t.get(i + 1)?)?;
        return (1..=9)
            .contains(&v)
            .then(|| (i8::try_from(v).ok(), 2))
            .and_then(|(v, n)| Some((v?, n)));
    }
    if tok.len() == 2 && tok.bytes().all(|b| b.is_ascii_digit()) {
        let v = digits(tok)?;
        return (v < 60)
            .then(|| i8::try_from(v).ok())
            .flatten()
            .map(|v| (v, 1));
    }
    if let Some(v) = unit_word(tok) {
        return (10..=19)
            .contains(&v)
            .then(|| i8::try_from(v).ok())
            .flatten()
            .map(|v| (v, 1));
    }
    if let Some(tens) = tens_word(tok) {
        if tens > 50 {
            return None;
        }
        let unit = t
            .get(i + 1)
            .and_then(|u| unit_word(u))
            .filter(|u| (1..=9).contains(u));
        let (v, n) = match unit {
            Some(u) => (tens + u, 2),
            None => (tens, 1),
        };
        return Some((i8::try_from(v).ok()?, n));
    }
    None
}

/// "am"/"pm" (and "a m"-style already merged by the tokenizer) at `i`.
fn meridiem_at(t: &[&str], i: usize) -> Option<Meridiem> {
    match *t.get(i)? {
        "am" => Some(Meridiem::Am),
        "pm" => Some(Meridiem::Pm),
        _ => None,
    }
}

/// Reads "oclock" and am/pm after a time ending at `end`; updates the clock.
fn tail(t: &[&str], mut c: Clock) -> Clock {
    let mut end = c.span.end;
    if t.get(end) == Some(&"oclock") {
        end += 1;
        c.strong = true;
    }
    if let Some(m) = meridiem_at(t, end) {
        end += 1;
        c.meridiem = Some(m);
        c.strong = true;
    }
    c.span.end = end;
    c
}

fn noon_at(t: &[&str], i: usize) -> Option<(i8, usize)> {
    match (*t.get(i)?, t.get(i + 1).copied()) {
        ("noon" | "midday", _) => Some((12, 1)),
        ("mid", Some("day")) => Some((12, 2)),
        ("midnight", _) => Some((0, 1)),
        _ => None,
    }
}

/// The hour a relative phrase counts from: "three", "4pm", "noon".
/// The flag is true for noon/midnight, which need no am/pm guess.
fn target_hour(t: &[&str], i: usize) -> Option<(i8, usize, Option<Meridiem>, bool)> {
    if let Some((h, n)) = noon_at(t, i) {
        return Some((h, n, None, true));
    }
    // "15h" arrives as "15:00"; only a whole hour can be a target.
    if let Some(h) = t
        .get(i)
        .and_then(|w| w.strip_suffix(":00"))
        .and_then(digits)
    {
        let h = i8::try_from(h).ok().filter(|h| (0..=24).contains(h))?;
        return Some((h, 1, None, h > 12 || h == 0));
    }
    let h = hour_at(t, i)?;
    let mut n = 1;
    if t.get(i + n) == Some(&"oclock") {
        n += 1;
    }
    let mer = meridiem_at(t, i + n);
    Some((h, n + usize::from(mer.is_some()), mer, false))
}

/// "half past 3", "quarter to four", "20 past 3", "ten minutes to noon", "half three".
fn relative_clock(t: &[&str], i: usize) -> Option<Clock> {
    let mut j = i;
    if t.get(j) == Some(&"a") {
        j += 1;
    }
    let (mins, n) = match *t.get(j)? {
        "half" => (30, 1),
        "quarter" => (15, 1),
        _ => {
            let (v, n) = parse_cardinal(t.get(j..)?)?;
            let v = i8::try_from(v).ok().filter(|v| (1..60).contains(v))?;
            let n = if matches!(
                t.get(j + n),
                Some(&"minutes" | &"minute" | &"mins" | &"min")
            ) {
                n + 1
            } else {
                n
            };
            (v, n)
        }
    };
    j += n;
    let dir = *t.get(j)?;
    let before = match dir {
        "past" | "after" => false,
        "to" | "till" | "til" | "before" | "of" => true,
        // British "half three" = 3:30.
        _ if mins == 30 && t.get(j - 1) == Some(&"half") => {
            let (h, hn, mer, literal) = target_hour(t, j)?;
            let c = Clock {
                hour: h,
                minute: 30,
                span: Span {
                    start: i,
                    end: j + hn,
                },
                meridiem: mer,
                strong: true,
                literal,
                bare_digits: false,
            };
            return Some(tail(t, c));
        }
        _ => return None,
    };
    // "from 9 to 11" / "between 10 and 12" are ranges, not "9 minutes to 11".
    let in_range = i
        .checked_sub(1)
        .and_then(|p| t.get(p))
        .is_some_and(|p| matches!(*p, "from" | "between"));
    if in_range
        && !matches!(
            *t.get(j - 1)?,
            "half" | "quarter" | "minutes" | "minute" | "mins" | "min"
        )
    {
        return None;
    }
    if dir == "of" && mins != 15 {
        return None; // only "quarter of four" is idiomatic
    }
    let (h, hn, mer, literal) = target_hour(t, j + 1)?;
    let (hour, minute) = if before {
        // "quarter to one" is 12:45 (then am/pm applies), "quarter to midnight" 23:45.
        let prev = match h {
            0 => 23,
            1 => 12,
            h => h - 1,
        };
        (prev, 60 - mins)
    } else {
        (h, mins)
    };
    let c = Clock {
        hour,
        minute,
        span: Span {
            start: i,
            end: j + 1 + hn,
        },
        meridiem: mer,
        strong: true,
        literal,
        bare_digits: false,
    };
    Some(tail(t, c))
}

/// Tries every clock pattern at `i`.
pub(crate) fn clock_at(t: &[&str], i: usize) -> Option<Clock> {
    let tok = *t.get(i)?;
    let base = Clock {
        hour: 0,
        minute: 0,
        span: Span {
            start: i,
            end: i + 1,
        },
        meridiem: None,
        strong: false,
        literal: false,
        bare_digits: false,
    };
    if let Some((h, n)) = noon_at(t, i) {
        return Some(Clock {
            hour: h,
            span: Span {
                start: i,
                end: i + n,
            },
            strong: true,
            literal: true,
            ..base
        });
    }
    if (matches!(tok, "half" | "quarter" | "a") || t.get(i..).and_then(parse_cardinal).is_some())
        && let Some(c) = relative_clock(t, i)
    {
        return Some(c);
    }
    // "10:30", "18:00", "4.30"
    if let Some((h, m)) = tok.split_once([':', '.']) {
        let hv = digits(h).filter(|_| h.len() <= 2)?;
        let mv = digits(m).filter(|_| m.len() == 2)?;
        if hv > 24 || mv > 59 || (tok.contains('.') && hv > 12) {
            return None;
        }
        let c = Clock {
            hour: i8::try_from(hv).ok()?,
            minute: i8::try_from(mv).ok()?,
            strong: tok.contains(':'),
            literal: hv > 12 || h.starts_with('0') || hv == 0,
            ..base
        };
        return Some(tail(t, c));
    }
    // "1030", "815", "330 pm"
    if (3..=4).contains(&tok.len()) && tok.bytes().all(|b| b.is_ascii_digit()) {
        let v = digits(tok)?;
        let (h, m) = (v / 100, v % 100);
        if !(0..=23).contains(&h) || m > 59 || (tok.len() == 3 && h == 0) {
            return None;
        }
        let c = Clock {
            hour: i8::try_from(h).ok()?,
            minute: i8::try_from(m).ok()?,
            literal: h > 12,
            bare_digits: true,
            ..base
        };
        return Some(tail(t, c));
    }
    // "twelve pm", "two thirty", "10 30", "nine fifty nine a m", "twelve oh three".
    let h = hour_at(t, i)?;
    let is_digit = tok.bytes().all(|b| b.is_ascii_digit());
    let mut c = Clock {
        hour: h,
        bare_digits: is_digit,
        literal: h > 12 || h == 0,
        ..base
    };
    if let Some((m, n)) = minutes_at(t, i + 1) {
        // Digit hour with word minutes ("3 thirty") and vice versa are both seen in ASR.
        c.minute = m;
        c.span.end = i + 1 + n;
        // "2 30" as digits could be counts; keep them weaker than word pairs.
    } else if h > 12 {
        // "at 15" alone is not a time (a 24h clock is said as "15 hundred" or "15:00").
        return None;
    }
    Some(tail(t, c))
}

/// Applies the am/pm policy. `part` is the nearest part-of-day hint.
pub(crate) fn resolve_hour(c: &Clock, part: Option<Meridiem>) -> Option<(i8, i8)> {
    let h = c.hour;
    let hour = if c.literal && !(c.meridiem.is_some() && (1..=12).contains(&h)) {
        if h == 24 { 0 } else { h }
    } else {
        match c.meridiem.or(part) {
            Some(Meridiem::Am) if c.meridiem.is_some() && h == 12 => 0,
            Some(Meridiem::Am) => h,
            Some(Meridiem::Pm) if h < 12 => h + 12,
            Some(Meridiem::Pm) => h,
            // A service business works days: 1-6 is afternoon, 7-11 morning, 12 noon.
            None if (1..=6).contains(&h) => h + 12,
            None => h,
        }
    };
    ((0..24).contains(&hour) && (0..60).contains(&c.minute)).then_some((hour, c.minute))
}
