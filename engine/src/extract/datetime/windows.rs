//! What surrounds a clock time: parts of day (and the greetings that only look like one),
//! bounds ("after 3", "by noon", "i get off at four", "at work till five"), travel time added
//! to a bound, "in 2 hours", lunch, and the wish for the first or last start of a day.

use super::times::{Meridiem, clock_at, resolve_hour};
use super::{COUNT_NOUNS, Span, StartPreference, time};
use crate::extract::numbers::parse_cardinal;
use jiff::civil::{DateTime, Time};

/// A part of day mentioned somewhere in the utterance.
#[derive(Debug, Clone, Copy)]
pub(super) struct PartOfDay {
    pub at: usize,
    pub meridiem: Option<Meridiem>,
    pub window: (i8, i8),
}

/// Words that may open a call before a greeting ("hi good morning", "oh hey morning").
const GREETING_OPENERS: &[&str] = &[
    "hi", "hey", "hello", "oh", "well", "yeah", "yes", "ok", "okay", "and", "a", "very", "good",
    "great", "hiya", "howdy",
];

/// Words that carry a call on after a greeting, rather than qualify a time ("morning i need
/// someone out", "morning yes this is ...").
const AFTER_GREETING: &[&str] = &[
    "i",
    "im",
    "ive",
    "id",
    "ill",
    "my",
    "we",
    "were",
    "weve",
    "our",
    "this",
    "its",
    "it",
    "how",
    "hows",
    "yes",
    "yeah",
    "hi",
    "hello",
    "hey",
    "there",
    "sir",
    "maam",
    "miss",
    "folks",
    "yall",
    "guys",
    "everyone",
    "everybody",
    "again",
    "so",
    "listen",
    "just",
    "calling",
    "thanks",
    "thank",
    "hope",
    "sorry",
    "um",
];

/// Subjects of a question asked right after a greeting.
const QUESTION_SUBJECTS: &[&str] = &[
    "this", "there", "you", "yall", "anyone", "anybody", "someone", "somebody", "it", "that", "i",
    "we", "your", "y",
];

/// After "i" these make the part of day an answer ("morning i guess"), not a greeting.
const HEDGES: &[&str] = &[
    "guess", "think", "suppose", "prefer", "would", "say", "reckon",
];

/// A part of day used as a greeting or farewell: "good morning", "have a good evening",
/// "good night", or one said first in the call ("morning, i need ..."). Alone ("morning") it is
/// an answer only when a time was asked.
fn is_greeting(t: &[&str], i: usize, asked: bool) -> bool {
    if i.checked_sub(1).and_then(|p| t.get(p)) == Some(&"good") {
        return true;
    }
    // "tonight" or "night" said first is a time, never a greeting.
    if !matches!(
        t.get(i),
        Some(&"morning" | &"mornin" | &"afternoon" | &"evening")
    ) {
        return false;
    }
    let opens_the_call = t
        .get(..i)
        .is_some_and(|before| before.iter().all(|w| GREETING_OPENERS.contains(w)));
    if !opens_the_call {
        return false;
    }
    match t.get(i + 1).copied() {
        None => !asked,
        Some("i" | "id") if t.get(i + 2).is_some_and(|w| HEDGES.contains(w)) => false,
        // "morning is this kc comfort", "afternoon can you send someone": a question follows.
        Some("is" | "are" | "do" | "can" | "could" | "would" | "will") => {
            t.get(i + 2).is_some_and(|w| QUESTION_SUBJECTS.contains(w))
        }
        Some(next) => AFTER_GREETING.contains(&next),
    }
}

pub(super) fn parts_of_day(t: &[&str], asked: bool) -> Vec<PartOfDay> {
    let mut out = Vec::new();
    for (i, tok) in t.iter().enumerate() {
        let (meridiem, window) = match *tok {
            "morning" | "mornin" => (Some(Meridiem::Am), (8, 12)),
            "afternoon" => (Some(Meridiem::Pm), (12, 17)),
            "evening" | "tonight" | "tonite" | "night" => (Some(Meridiem::Pm), (17, 21)),
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
            || is_greeting(t, i, asked)
        {
            continue;
        }
        // "early morning" / "late afternoon": the first or second half of the window.
        let mid = (window.0 + window.1) / 2;
        let window = match before(1) {
            Some("early") => (window.0, mid),
            Some("late") => (mid, window.1),
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

/// "lunch", "lunchtime", "around lunch", "lunch hour" not already read as a bound ("after
/// lunch"): noon.
/// Unless it answers "when?" or a day was named, lunch needs a word that makes it a time
/// ("around lunch", "during my lunch break"), not a meal ("what's for lunch").
pub(super) fn lunch_time(t: &[&str], used: &[bool], expected: bool) -> Option<Time> {
    let free_lunch = t.iter().enumerate().any(|(i, w)| {
        let before = |k: usize| i.checked_sub(k).and_then(|p| t.get(p)).copied();
        let cued = |w: Option<&str>| {
            w.is_some_and(|w| {
                matches!(
                    w,
                    "around" | "round" | "at" | "about" | "by" | "during" | "over" | "near"
                )
            })
        };
        matches!(*w, "lunch" | "lunchtime")
            && !used.get(i).copied().unwrap_or(true)
            && !matches!(
                before(1),
                Some("after" | "before" | "since" | "past" | "til" | "till" | "until")
            )
            && (expected || cued(before(1)) || (before(1) == Some("my") && cued(before(2))))
    });
    free_lunch.then(|| time(12, 0)).flatten()
}

/// Words that may follow a literal "end of the day" when no day was named ("end of the day
/// works", "at the end of the day if you can"). Anything else, a clause in particular ("at the
/// end of the day i just want it fixed"), makes it the idiom.
const LITERAL_FOLLOWERS: &[&str] = &[
    "please",
    "works",
    "work",
    "would",
    "is",
    "if",
    "preferably",
    "ideally",
    "maybe",
    "probably",
    "thanks",
    "thank",
    "sounds",
    "then",
    "or",
    "whatever",
    "whenever",
    "for",
    "any",
    "ok",
    "okay",
    "good",
    "fine",
    "best",
    "on",
    "today",
    "tomorrow",
    "when",
    "your",
    "around",
    "at",
];

/// Nouns for one visit in the day ("your last appointment", "the first slot").
const VISIT_NOUNS: &[&str] = &[
    "appointment",
    "appointments",
    "slot",
    "slots",
    "visit",
    "opening",
    "start",
    "spot",
    "available",
    "availability",
];

/// "end of the day", "as late as you can", "last thing", "your last appointment" -> the last
/// start of the day; "first thing", "your first appointment" -> the first one (which for a day
/// with no date means a day whose first start is still ahead).
pub(super) fn start_preference(t: &[&str], has_date: bool) -> Option<StartPreference> {
    let at = |i: usize| t.get(i).copied();
    let mut found = None;
    for i in 0..t.len() {
        let prev = i.checked_sub(1).and_then(|p| t.get(p)).copied();
        let owner_past = matches!(prev, Some("my" | "our" | "his" | "her" | "their"));
        let pref = match (at(i), at(i + 1), at(i + 2), at(i + 3)) {
            (Some("end" | "close"), Some("of"), _, _) => {
                // "end of the day", "end of day", "end of your business day", "close of
                // business".
                let mut k = i + 2 + usize::from(matches!(at(i + 2), Some("the" | "your")));
                if at(k) == Some("business") && at(k + 1) == Some("day") {
                    k += 1;
                }
                if !matches!(at(k), Some("day" | "business")) {
                    continue;
                }
                let idiom = !has_date && at(k + 1).is_some_and(|w| !LITERAL_FOLLOWERS.contains(&w));
                if idiom {
                    continue;
                }
                StartPreference::Last
            }
            (Some("as"), Some("late"), Some("as" | "in"), _) => StartPreference::Last,
            (Some("late"), Some("in"), Some("the"), Some("day")) => StartPreference::Last,
            (Some("closing"), Some("time"), _, _) => StartPreference::Last,
            (Some("before"), Some("you"), Some("close" | "closing"), _) => StartPreference::Last,
            // "the latest you have"; "by 3 at the latest" is a bound, not a wish.
            (Some("latest"), next, _, _)
                if !(prev == Some("the") && i >= 2 && at(i - 2) == Some("at"))
                    && (matches!(prev, Some("the" | "your"))
                        || next.is_some_and(|n| {
                            VISIT_NOUNS.contains(&n) || matches!(n, "you" | "possible" | "time")
                        })) =>
            {
                StartPreference::Last
            }
            (Some("last" | "first"), Some("thing"), next, _)
                if prev != Some("the")
                    && !next.is_some_and(|n| {
                        matches!(n, "i" | "we" | "you" | "that" | "is" | "was" | "to")
                    }) =>
            {
                if at(i) == Some("last") {
                    StartPreference::Last
                } else {
                    StartPreference::First
                }
            }
            (Some("last" | "first"), Some(noun), _, _)
                if !owner_past && VISIT_NOUNS.contains(&noun) && noun != "available" =>
            {
                if at(i) == Some("last") {
                    StartPreference::Last
                } else {
                    StartPreference::First
                }
            }
            (Some("last"), Some("one"), Some("of" | "that" | "on"), Some("the" | "day")) => {
                StartPreference::Last
            }
            _ => continue,
        };
        found = Some(pref);
    }
    found
}

/// A negation or a busy spell shortly before `i`: "can't go until 4", "i'm at work till 5",
/// "my shift runs until four" all give a lower bound.
fn busy_before(t: &[&str], i: usize) -> bool {
    let from = i.saturating_sub(4);
    t.get(from..i).is_some_and(|w| {
        w.iter().any(|w| {
            matches!(
                *w,
                "not"
                    | "cant"
                    | "cannot"
                    | "wont"
                    | "dont"
                    | "isnt"
                    | "never"
                    | "work"
                    | "working"
                    | "shift"
                    | "busy"
                    | "school"
                    | "class"
                    | "job"
                    | "office"
                    | "meeting"
                    | "meetings"
            )
        })
    })
}

/// The end of the caller's own busy spell just before a time cue at `i`: "i get off at four",
/// "my shift ends around 3", "i'll be home by five", "when i'm done at 4". The time is when
/// they become free, so it is a lower bound. Each state word needs the words that make it the
/// caller's ("come over at 3", "to my home at 3" are visits, not the end of a shift).
fn free_from_before(t: &[&str], i: usize) -> bool {
    let from = i.saturating_sub(3);
    let Some(window) = t.get(from..i) else {
        return false;
    };
    window.iter().enumerate().any(|(k, w)| {
        // The word before the state word, past adverbs ("we're usually home by 4").
        let prev = t
            .get(..from + k)
            .and_then(|before| before.iter().rev().find(|w| !ADVERBS.contains(w)))
            .copied();
        let after = |words: &[&str]| prev.is_some_and(|p| words.contains(&p));
        match *w {
            "ends" | "finish" | "finishes" | "finished" => true,
            "off" => after(&["get", "gets", "im", "be", "ill", "were", "clock", "clocks"]),
            "home" => after(&["get", "gets", "be", "im", "ill", "were", "back"]),
            "done" | "over" => after(&["im", "were", "be", "is", "its", "ill", "get", "gets"]),
            "back" => after(&["get", "gets", "be", "im", "ill", "were"]),
            // "i get out at 4", "school lets out at 3".
            "out" => after(&["get", "gets", "let", "lets"]),
            _ => false,
        }
    })
}

/// Adverbs that may stand between a subject and its state ("i'm usually off at 4").
const ADVERBS: &[&str] = &[
    "usually",
    "normally",
    "always",
    "typically",
    "generally",
    "probably",
    "definitely",
    "already",
    "only",
    "just",
    "prolly",
    "hopefully",
];

/// "in 2 hours", "in an hour", "in half an hour", "in 30 minutes".
pub(super) fn in_duration(t: &[&str], i: usize, now: DateTime) -> Option<(DateTime, usize)> {
    if *t.get(i)? != "in" {
        return None;
    }
    let (minutes, n) = duration_at(t, i + 1)?;
    if !(1..=24 * 60 * 7).contains(&minutes) {
        return None;
    }
    let dt = now
        .checked_add(jiff::Span::new().try_minutes(minutes).ok()?)
        .ok()?;
    Some((dt, n + 1))
}

/// A length of time at `i`: "an hour", "half an hour", "a half hour", "an hour and a half",
/// "a couple of hours", "a few hours", "30 minutes", "2 hours". Minutes and tokens consumed.
fn duration_at(t: &[&str], i: usize) -> Option<(i64, usize)> {
    let at = |k: usize| t.get(i + k).copied();
    let hour = |w: Option<&str>| w.is_some_and(|w| matches!(w, "hour" | "hr" | "h"));
    let hours = |w: Option<&str>| w.is_some_and(|w| w.starts_with("hour") || w == "hrs");
    // "an hour and a half"
    let and_a_half =
        |k: usize| at(k) == Some("and") && at(k + 1) == Some("a") && at(k + 2) == Some("half");
    match (at(0), at(1), at(2)) {
        (Some("half"), Some("an" | "a"), w) if hour(w) => return Some((30, 3)),
        (Some("half"), w, _) if hour(w) => return Some((30, 2)),
        (Some("a"), Some("half"), w) if hour(w) => return Some((30, 3)),
        (Some("an" | "a" | "one"), w, _) if hour(w) => {
            return Some(if and_a_half(2) { (90, 5) } else { (60, 2) });
        }
        (Some("a"), Some("couple"), Some("of")) if hours(at(3)) => return Some((120, 4)),
        (Some("a"), Some("couple"), w) if hours(w) => return Some((120, 3)),
        (Some("a"), Some("few"), w) if hours(w) => return Some((180, 3)),
        (Some("few"), w, _) if hours(w) => return Some((180, 2)),
        (Some("a"), Some("couple"), Some("of")) => {
            return at(3)
                .is_some_and(|w| w.starts_with("min"))
                .then_some((2, 4));
        }
        _ => {}
    }
    let (v, n) = parse_cardinal(t.get(i..)?)?;
    let per = match at(n)? {
        "hour" | "hours" | "hrs" | "hr" | "h" => 60,
        "minute" | "minutes" | "mins" | "min" => 1,
        _ => return None,
    };
    Some((v.checked_mul(per)?, n + 1))
}

/// Words that say a length of time is the caller's way back ("a half hour drive home", "i need
/// 20 minutes to get home", "it's an hour commute").
fn is_travel(t: &[&str], k: usize) -> bool {
    match t.get(k).copied() {
        Some("drive" | "driving" | "commute" | "ride" | "travel" | "trip") => true,
        Some("get") => matches!(t.get(k + 1), Some(&"home" | &"back" | &"there" | &"here")),
        _ => false,
    }
}

/// Travel time mentioned next to a duration, in minutes (at most three hours).
pub(super) fn travel_minutes(t: &[&str]) -> Option<i64> {
    for i in 0..t.len() {
        let Some((minutes, n)) = duration_at(t, i) else {
            continue;
        };
        // "in 20 minutes" is a time from now, not a way home.
        if i.checked_sub(1).and_then(|p| t.get(p)) == Some(&"in") {
            continue;
        }
        let end = i + n;
        let near = (i.saturating_sub(4)..i).chain(end..end + 4);
        if near.into_iter().any(|k| is_travel(t, k)) && (1..=180).contains(&minutes) {
            return Some(minutes);
        }
    }
    None
}

/// "after 3", "before noon", "after lunch", "by 5", "no later than 4", "between 2 and 4",
/// "i get off at four". Returns (earliest, latest, tokens consumed).
pub(super) fn bound_at(
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
        // "calling from work" says where, not when; "after work" says when.
        ("from", Some("work" | "home" | "school"), _) => return None,
        ("after" | "from", _, _) => (Kind::After, 1),
        // "can't go until 4:30", "at work till 5": a lower bound, not an upper one.
        ("until" | "till" | "til", _, _) if busy_before(t, i) => (Kind::After, 1),
        ("at" | "by" | "around" | "about" | "round", _, _) if free_from_before(t, i) => {
            (Kind::After, 1)
        }
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
