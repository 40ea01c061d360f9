//! Times said relative to another one, usually the visit being moved: "a week later", "push it
//! back two days", "the next day", "same time but thursday", "a couple hours later", "later
//! that afternoon", "same day and time". [`extract_relative`] reads the shape;
//! [`RelativeMention::resolve`] places it once the anchor is known.

use jiff::ToSpan;
use jiff::civil::{Date, DateTime, Time};
use serde::{Deserialize, Serialize};

use super::{DateTimeMention, extract_datetime, tokens};
use crate::extract::numbers::parse_cardinal;

/// A time relative to an anchor. Fields left at their defaults take the anchor's value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RelativeMention {
    /// Whole days after (negative: before) the anchor's day.
    #[serde(default)]
    pub days: i64,
    /// Minutes after (negative: before) the anchor's time.
    #[serde(default)]
    pub minutes: i64,
    /// A day named outright ("same time but thursday"): it replaces the anchor's day.
    #[serde(default)]
    pub date: Option<Date>,
    /// A clock time named outright ("later that day, like three").
    #[serde(default)]
    pub time: Option<Time>,
    /// A part of day named ("later that afternoon").
    #[serde(default)]
    pub earliest: Option<Time>,
    #[serde(default)]
    /// Latest time of the window, if one was named.
    pub latest: Option<Time>,
    /// After the anchor's time on the same day, no time named ("later that day").
    #[serde(default)]
    pub later: bool,
    /// Before the anchor's time on the same day ("earlier that morning").
    #[serde(default)]
    pub earlier: bool,
}

impl RelativeMention {
    /// A day alone, said of something that already has a time ("can we do thursday instead"):
    /// the time is kept.
    pub fn on_day(date: Date) -> RelativeMention {
        RelativeMention {
            date: Some(date),
            ..RelativeMention::default()
        }
    }

    /// The mention placed against `anchor`.
    pub fn resolve(&self, anchor: DateTime) -> DateTimeMention {
        let shifted = anchor
            .checked_add(self.days.days())
            .and_then(|d| d.checked_add(self.minutes.minutes()))
            .unwrap_or(anchor);
        let date = self.date.unwrap_or(shifted.date());
        let mut out = DateTimeMention {
            date: Some(date),
            time: None,
            earliest: None,
            latest: None,
            prefer: None,
        };
        if let Some(t) = self.time {
            // "later that day, at three" is 3 PM when the visit was in the morning.
            let t = if self.later && t <= anchor.time() && t.hour() < 12 {
                t.checked_add(12.hours()).unwrap_or(t)
            } else {
                t
            };
            out.time = Some(t);
        } else if self.earliest.is_some() || self.latest.is_some() || self.later || self.earlier {
            let after = anchor.time().checked_add(1.minute()).ok();
            out.earliest = match (self.earliest, self.later) {
                (Some(e), true) => after.map(|a| a.max(e)).or(Some(e)),
                (None, true) => after,
                (e, false) => e,
            };
            out.latest = match (self.latest, self.earlier) {
                (Some(l), true) => Some(l.min(anchor.time())),
                (None, true) => Some(anchor.time()),
                (l, false) => l,
            };
        } else {
            out.time = Some(shifted.time());
        }
        out
    }
}

/// Verbs that move an appointment ("push it back a week").
const MOVE_VERBS: &[&str] = &[
    "push", "pushed", "move", "moved", "bump", "bumped", "shift", "set", "slide", "scoot", "put",
];
/// Words between a move verb and its direction ("push the appointment back").
const OBJECTS: &[&str] = &[
    "it",
    "that",
    "this",
    "them",
    "things",
    "everything",
    "the",
    "my",
    "our",
    "appointment",
    "visit",
    "one",
    "him",
    "her",
];

/// How far: ("a week", 7 days), ("a couple hours", 120 minutes). Returns (days, minutes, used).
fn amount_at(t: &[&str], i: usize) -> Option<(i64, i64, usize)> {
    let mut j = i;
    let count = match t.get(j).copied()? {
        "a" | "an" | "one" => {
            j += 1;
            match t.get(j).copied() {
                Some("couple") => {
                    j += 1;
                    if t.get(j) == Some(&"of") {
                        j += 1;
                    }
                    2
                }
                Some("few") => {
                    j += 1;
                    3
                }
                _ => 1,
            }
        }
        "couple" => {
            j += 1;
            if t.get(j) == Some(&"of") {
                j += 1;
            }
            2
        }
        "few" => {
            j += 1;
            3
        }
        "half" if t.get(j + 1) == Some(&"an") && t.get(j + 2) == Some(&"hour") => {
            return Some((0, 30, 3));
        }
        _ => {
            let (n, used) = parse_cardinal(t.get(j..)?)?;
            if !(1..=60).contains(&n) {
                return None;
            }
            j += used;
            n
        }
    };
    let (days, minutes) = match t.get(j).copied()? {
        "week" | "weeks" => (7, 0),
        "day" | "days" => (1, 0),
        "hour" | "hours" | "hr" | "hrs" => (0, 60),
        "minute" | "minutes" | "min" | "mins" => (0, 1),
        _ => return None,
    };
    Some((days * count, minutes * count, j + 1 - i))
}

/// +1 for later, -1 for earlier.
fn direction(w: &str) -> Option<i64> {
    match w {
        "later" | "after" | "back" | "out" => Some(1),
        "earlier" | "before" | "sooner" | "up" | "forward" | "ahead" => Some(-1),
        _ => None,
    }
}

fn is_part_of_day(w: &str) -> bool {
    matches!(w, "morning" | "afternoon" | "evening" | "day" | "night")
}

/// Reads a time said relative to another one; `None` when nothing in the text is relative.
pub fn extract_relative(text: &str, now: DateTime) -> Option<RelativeMention> {
    let owned = tokens::tokenize(text);
    let t: Vec<&str> = owned.iter().map(String::as_str).collect();
    let mut rel = RelativeMention::default();
    let mut shifted = false;
    let mut keep_time = false;
    let mut keep_date = false;
    let has = |i: usize, words: &[&str]| t.get(i..i + words.len()) == Some(words);
    let mut i = 0;
    while i < t.len() {
        // "push it back a week", "move it up an hour", "bump it two days".
        if MOVE_VERBS.contains(&t[i]) {
            let mut j = i + 1;
            while t.get(j).is_some_and(|w| OBJECTS.contains(w)) {
                j += 1;
            }
            let mut sign = 1;
            if let Some(d) = t.get(j).and_then(|w| direction(w)) {
                sign = d;
                j += 1;
            }
            if t.get(j) == Some(&"by") {
                j += 1;
            }
            if let Some((days, minutes, used)) = amount_at(&t, j) {
                // "push it a week earlier": the direction may follow the amount.
                let after = t.get(j + used).and_then(|w| direction(w));
                let sign = after.unwrap_or(sign);
                rel.days += sign * days;
                rel.minutes += sign * minutes;
                shifted = true;
                i = j + used + usize::from(after.is_some());
                continue;
            }
        }
        // "a week later", "two days after that", "an hour earlier".
        if let Some((days, minutes, used)) = amount_at(&t, i)
            && let Some(sign) = t.get(i + used).and_then(|w| direction(w))
            && !(t.get(i + used) == Some(&"before") && t.get(i + used + 1).is_some())
        {
            rel.days += sign * days;
            rel.minutes += sign * minutes;
            shifted = true;
            i += used + 1;
            continue;
        }
        // "the next day", "the day after", "the following week", "the day before".
        let next_day = has(i, &["next", "day"]) || has(i, &["following", "day"]);
        let day_after =
            has(i, &["day", "after"]) && !matches!(t.get(i + 2), Some(&"tomorrow") | Some(&"next"));
        let day_before = has(i, &["day", "before"])
            && !matches!(t.get(i + 2), Some(&"yesterday") | Some(&"tomorrow"));
        let week_after = has(i, &["following", "week"])
            || (has(i, &["week", "after"]) && t.get(i + 2) != Some(&"next"))
            || ((keep_time || keep_date) && has(i, &["next", "week"]));
        if next_day || day_after || day_before || week_after {
            rel.days += if week_after {
                7
            } else if day_before {
                -1
            } else {
                1
            };
            shifted = true;
            i += 2;
            continue;
        }
        // "same time", "same day", "that same day", "same day and time".
        if has(i, &["same", "time"]) || has(i, &["same", "hour"]) {
            keep_time = true;
            if has(i + 2, &["and", "day"]) || has(i + 2, &["and", "date"]) {
                keep_date = true;
            }
            i += 2;
            continue;
        }
        if has(i, &["same", "day"]) || has(i, &["that", "day"]) || has(i, &["same", "date"]) {
            keep_date = true;
            if has(i + 2, &["and", "time"]) || has(i + 2, &["same", "time"]) {
                keep_time = true;
            }
            i += 2;
            continue;
        }
        // "later that afternoon", "later in the day", "earlier that morning".
        if matches!(t[i], "later" | "earlier") {
            let rest = &t[i + 1..];
            let (lead, n) = match rest {
                ["that" | "the", "same", ..] | ["in" | "on", "the" | "that", ..] => (2, 3),
                ["that" | "on", ..] => (1, 2),
                _ => (0, 0),
            };
            if n > 0 && rest.get(lead).is_some_and(|w| is_part_of_day(w)) {
                keep_date = true;
                if t[i] == "later" {
                    rel.later = true;
                } else {
                    rel.earlier = true;
                }
                i += n + 1;
                continue;
            }
        }
        i += 1;
    }
    if !(shifted || keep_time || keep_date || rel.later || rel.earlier) {
        return None;
    }
    let absolute = extract_datetime(text, now, true);
    if let Some(m) = absolute {
        if !shifted && !keep_date {
            // "same time but thursday": the day named replaces the anchor's.
            rel.date = m.date;
        }
        if !keep_time {
            // "a couple hours later, so eleven", "later that day like three".
            rel.time = m.time;
            if rel.time.is_none() {
                rel.earliest = m.earliest;
                rel.latest = m.latest;
            }
        }
        if rel.time.is_some() && rel.minutes != 0 {
            // The time named wins over the shift that led to it.
            rel.minutes = 0;
        }
    }
    Some(rel)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime {
        // A Monday.
        "2026-06-01T09:12".parse().unwrap()
    }

    fn anchor() -> DateTime {
        // Wednesday at 10.
        "2026-06-03T10:00".parse().unwrap()
    }

    fn placed(
        text: &str,
    ) -> (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    ) {
        let rel = extract_relative(text, now()).unwrap_or_else(|| panic!("{text}: not relative"));
        let m = rel.resolve(anchor());
        (
            m.date.map(|d| d.to_string()),
            m.time.map(|t| t.strftime("%H:%M").to_string()),
            m.earliest.map(|t| t.strftime("%H:%M").to_string()),
            m.latest.map(|t| t.strftime("%H:%M").to_string()),
        )
    }

    fn at(text: &str) -> (String, String) {
        let (d, t, _, _) = placed(text);
        (d.unwrap_or_default(), t.unwrap_or_default())
    }

    #[test]
    fn shifts_keep_the_hour() {
        assert_eq!(
            at("um just bump it out a week"),
            ("2026-06-10".into(), "10:00".into())
        );
        assert_eq!(
            at("could you push that back by three days"),
            ("2026-06-06".into(), "10:00".into())
        );
        assert_eq!(
            at("maybe like two days later"),
            ("2026-06-05".into(), "10:00".into())
        );
        assert_eq!(
            at("can we move it up a day"),
            ("2026-06-02".into(), "10:00".into())
        );
        assert_eq!(
            at("one week out if thats ok"),
            ("2026-06-10".into(), "10:00".into())
        );
    }

    #[test]
    fn hours_move_the_clock() {
        assert_eq!(
            at("push it back a couple of hours"),
            ("2026-06-03".into(), "12:00".into())
        );
        assert_eq!(
            at("an hour earlier would be better"),
            ("2026-06-03".into(), "09:00".into())
        );
        // The time the caller names wins over the arithmetic.
        assert_eq!(
            at("a few hours later so one oclock"),
            ("2026-06-03".into(), "13:00".into())
        );
    }

    #[test]
    fn the_next_day_and_the_day_before() {
        assert_eq!(
            at("is the next day any good"),
            ("2026-06-04".into(), "10:00".into())
        );
        assert_eq!(
            at("how about the day before"),
            ("2026-06-02".into(), "10:00".into())
        );
        assert_eq!(
            at("the following week same time"),
            ("2026-06-10".into(), "10:00".into())
        );
        assert_eq!(
            at("same time next week"),
            ("2026-06-10".into(), "10:00".into())
        );
    }

    #[test]
    fn same_time_on_another_day() {
        assert_eq!(
            at("same time on friday"),
            ("2026-06-05".into(), "10:00".into())
        );
        assert_eq!(
            at("saturday same time please"),
            ("2026-06-06".into(), "10:00".into())
        );
        assert_eq!(
            at("same day and time"),
            ("2026-06-03".into(), "10:00".into())
        );
    }

    #[test]
    fn same_day_at_another_time() {
        assert_eq!(
            at("that same day but at four"),
            ("2026-06-03".into(), "16:00".into())
        );
        assert_eq!(
            at("later that day maybe two"),
            ("2026-06-03".into(), "14:00".into())
        );
        let (d, t, lo, hi) = placed("something later that afternoon");
        assert_eq!(d.as_deref(), Some("2026-06-03"));
        assert_eq!(t, None);
        assert_eq!(lo.as_deref(), Some("12:00"));
        assert_eq!(hi.as_deref(), Some("17:00"));
        let (_, t, lo, _) = placed("later in the day");
        assert_eq!((t, lo.as_deref()), (None, Some("10:01")));
        let (_, _, _, hi) = placed("earlier that morning");
        assert_eq!(hi.as_deref(), Some("10:00"));
    }

    #[test]
    fn absolute_times_are_not_relative() {
        for text in [
            "thursday at three",
            "the day after tomorrow",
            "next week",
            "in two hours",
            "a week from friday",
            "tomorrow morning",
        ] {
            assert_eq!(extract_relative(text, now()), None, "{text}");
        }
    }

    #[test]
    fn a_day_alone_keeps_the_time() {
        let m = RelativeMention::on_day(jiff::civil::date(2026, 6, 5)).resolve(anchor());
        assert_eq!(m.date, Some(jiff::civil::date(2026, 6, 5)));
        assert_eq!(m.time, Time::new(10, 0, 0, 0).ok());
    }
}
