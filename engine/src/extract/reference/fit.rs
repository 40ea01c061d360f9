//! Which of a caller's visits a description fits.

use jiff::civil::DateTime;

use super::{VisitReference, is_content_word, weekday_name};
use crate::extract::normalize::normalize;

/// What a lookup knows about one visit.
#[derive(Debug, Clone, Copy)]
pub struct VisitFacts<'a> {
    /// When the visit starts.
    pub start: DateTime,
    /// Its location code.
    pub location: &'a str,
    /// What it is for, in the caller's words.
    pub issue: &'a str,
}

/// How a visit fits a description: what matched and what contradicted it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Fit {
    /// The day, time, part of day, location or issue words agree.
    pub hits: u32,
    /// A day, time, part of day or location was said and this visit has another.
    pub misses: u32,
    /// The day or the location was said and agrees: the caller knew something only the
    /// customer should (identity when the caller ID does not match).
    pub knows_day_or_place: bool,
}

/// How `visit` fits `r`.
pub fn fit(r: &VisitReference, visit: &VisitFacts) -> Fit {
    let mut f = Fit::default();
    let mut kind = |said: bool, agrees: bool| {
        if said {
            if agrees {
                f.hits += 1;
            } else {
                f.misses += 1;
            }
        }
        said && agrees
    };
    let date = visit.start.date();
    let day_said = !(r.dates.is_empty() && r.weekdays.is_empty());
    let day_agrees =
        r.dates.contains(&date) || r.weekdays.iter().any(|w| w == weekday_name(date.weekday()));
    let day = kind(day_said, day_agrees);
    let time = visit.start.time();
    kind(!r.times.is_empty(), r.times.contains(&time));
    kind(
        !r.windows.is_empty(),
        r.windows.iter().any(|(lo, hi)| time >= *lo && time < *hi),
    );
    let place = kind(
        !r.locations.is_empty(),
        r.locations
            .iter()
            .any(|l| l.eq_ignore_ascii_case(visit.location)),
    );
    let issue = normalize(visit.issue);
    let issue_words: Vec<&str> = issue
        .split_whitespace()
        .filter(|w| is_content_word(w))
        .collect();
    if r.words
        .iter()
        .any(|w| issue_words.iter().any(|i| same_word(w, i)))
    {
        f.hits += 1;
    }
    f.knows_day_or_place = day || place;
    f
}

/// "inspection" and "inspect", "cleaning" and "clean", "ducts" and "duct".
fn same_word(a: &str, b: &str) -> bool {
    let stem = |w: &str| -> String {
        let w = w.strip_suffix("ing").filter(|s| s.len() >= 4).unwrap_or(w);
        let w = w.strip_suffix("ion").filter(|s| s.len() >= 4).unwrap_or(w);
        let w = w.strip_suffix('s').filter(|s| s.len() >= 3).unwrap_or(w);
        w.to_string()
    };
    let (a, b) = (stem(a), stem(b));
    a == b || (a.len() >= 4 && b.len() >= 4 && (a.starts_with(&b) || b.starts_with(&a)))
}

/// The visits a description picks, in time order: exactly one when it singles one out. Visits
/// it sets aside are dropped; among the rest, those with the most agreeing and the fewest
/// contradicting details win, and a position ("the second one") picks among them.
pub fn pick_visits(r: Option<&VisitReference>, visits: &[VisitFacts]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..visits.len()).collect();
    order.sort_by_key(|&i| visits[i].start);
    let Some(r) = r else {
        return order;
    };
    if let Some(except) = &r.except {
        let kept: Vec<usize> = order
            .iter()
            .copied()
            .filter(|&i| {
                let f = fit(except, &visits[i]);
                !(f.hits > 0 && f.misses == 0)
            })
            .collect();
        // Setting every visit aside says nothing usable.
        if !kept.is_empty() {
            order = kept;
        }
    }
    let score = |i: usize| {
        let f = fit(r, &visits[i]);
        i64::from(f.hits) - 2 * i64::from(f.misses)
    };
    let best = order.iter().map(|&i| score(i)).max().unwrap_or(0);
    let mut chosen: Vec<usize> = order.into_iter().filter(|&i| score(i) == best).collect();
    if let Some(p) = r.position
        && chosen.len() > 1
    {
        let n = chosen.len() as i64;
        let index = if p < 0 { n + p } else { p - 1 };
        if let Some(&i) = usize::try_from(index).ok().and_then(|k| chosen.get(k)) {
            chosen = vec![i];
        }
    }
    chosen
}
