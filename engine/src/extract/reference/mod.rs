//! A caller's description of a visit they already have ("the friday one, the duct cleaning",
//! "my appointment tomorrow at nine", "the second one", "not the dallas one"), and which of
//! several visits it fits. Reading is rules over the parts [`super::roles`] marked as about the
//! existing visit; fitting is a pure function the runtime's lookup tool calls with the visits
//! it found.

use jiff::civil::{Date, DateTime, Time, Weekday};
use serde::{Deserialize, Serialize};

use super::datetime::{extract_datetime, month, weekday};
use super::location::extract_location;
use super::normalize::normalize;
use super::numbers::parse_ordinal;
use crate::business::Location;

mod fit;
mod phone;

pub use fit::{Fit, VisitFacts, fit, pick_visits};
pub use phone::{confirms_phone, spoken_digits};

/// What the caller said about the visit they mean. Every part is optional; a kind the caller
/// did not mention neither helps nor hurts a visit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitReference {
    /// Days named ("wednesday", "the ninth", "tomorrow").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dates: Vec<Date>,
    /// Weekdays named, lowercase ("friday"): a weekday also fits the same weekday a week on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub weekdays: Vec<String>,
    /// Clock times named ("at nine").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub times: Vec<Time>,
    /// Parts of day named ("morning"), as `[earliest, latest)`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub windows: Vec<(Time, Time)>,
    /// Location codes named.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<String>,
    /// Other words that may name the issue ("duct", "cleaning").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub words: Vec<String>,
    /// "the first one" / "the earlier one" = 1, "the second one" = 2, "the last one" / "the
    /// later one" = -1: a position among the visits in time order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position: Option<i64>,
    /// What the caller set aside ("but keep tomorrow's tune up").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub except: Option<Box<VisitReference>>,
}

impl VisitReference {
    /// Whether the caller said nothing that tells one visit from another.
    pub fn is_empty(&self) -> bool {
        self.dates.is_empty()
            && self.weekdays.is_empty()
            && self.times.is_empty()
            && self.windows.is_empty()
            && self.locations.is_empty()
            && self.words.is_empty()
            && self.position.is_none()
            && self.except.is_none()
    }

    /// Whether it says something more specific than loose words: a day, a time, a location,
    /// a position or an exclusion.
    pub fn is_specific(&self) -> bool {
        !(self.dates.is_empty()
            && self.weekdays.is_empty()
            && self.times.is_empty()
            && self.windows.is_empty()
            && self.locations.is_empty()
            && self.position.is_none()
            && self.except.is_none())
    }

    /// A newer description replaces the older one kind by kind ("no, the friday one" keeps
    /// the location said before but not the day).
    pub fn merged_with(&self, newer: &VisitReference) -> VisitReference {
        fn pick<T: Clone>(old: &[T], new: &[T]) -> Vec<T> {
            if new.is_empty() {
                old.to_vec()
            } else {
                new.to_vec()
            }
        }
        let said_day = !(newer.dates.is_empty() && newer.weekdays.is_empty());
        VisitReference {
            dates: if said_day {
                newer.dates.clone()
            } else {
                self.dates.clone()
            },
            weekdays: if said_day {
                newer.weekdays.clone()
            } else {
                self.weekdays.clone()
            },
            times: pick(&self.times, &newer.times),
            windows: pick(&self.windows, &newer.windows),
            locations: pick(&self.locations, &newer.locations),
            words: pick(&self.words, &newer.words),
            position: newer.position.or(self.position),
            except: newer.except.clone().or_else(|| self.except.clone()),
        }
    }
}

/// Reads a description from the parts about the existing visit and those setting one aside.
/// `asked` is true when the caller answers "which one?": then a bare number is a time.
pub fn read_reference(
    about: &[&str],
    set_aside: &[&str],
    now: DateTime,
    locations: &[Location],
    asked: bool,
) -> Option<VisitReference> {
    let mut reference = read_parts(about, now, locations, asked);
    let except = read_parts(set_aside, now, locations, false);
    if !except.is_empty() {
        reference.except = Some(Box::new(except));
    }
    (!reference.is_empty()).then_some(reference)
}

fn read_parts(
    parts: &[&str],
    now: DateTime,
    locations: &[Location],
    asked: bool,
) -> VisitReference {
    let mut r = VisitReference::default();
    for part in parts {
        let norm = normalize(part);
        if norm.is_empty() {
            continue;
        }
        let tokens: Vec<&str> = norm.split_whitespace().collect();
        let place_in_order = position(&tokens);
        // "the second one" is a position, not the 2nd of the month at one o'clock.
        let for_time = match place_in_order {
            Some((_, i)) => tokens
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i && *j != i + 1)
                .map(|(_, w)| *w)
                .collect::<Vec<_>>()
                .join(" "),
            None => norm.clone(),
        };
        if let Some(m) = extract_datetime(&for_time, now, asked) {
            push_new(&mut r.dates, m.date);
            push_new(&mut r.times, m.time);
            if let (Some(lo), Some(hi)) = (m.earliest, m.latest) {
                push_new(&mut r.windows, Some((lo, hi)));
            }
        }
        for w in &tokens {
            if let Some(day) = weekday(w, false) {
                push_new(&mut r.weekdays, Some(weekday_name(day).to_string()));
            }
        }
        if let Some(location) = extract_location(&norm, locations) {
            push_new(&mut r.locations, Some(location.code.clone()));
        }
        if let Some((p, _)) = place_in_order {
            r.position = Some(p);
        }
        let place_words: Vec<String> = locations
            .iter()
            .flat_map(|l| std::iter::once(&l.name).chain(&l.aliases))
            .flat_map(|n| {
                normalize(n)
                    .split_whitespace()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .collect();
        for w in tokens {
            if is_content_word(w) && !place_words.iter().any(|p| p == w) {
                push_new(&mut r.words, Some(w.to_string()));
            }
        }
    }
    r
}

fn push_new<T: PartialEq>(list: &mut Vec<T>, item: Option<T>) {
    if let Some(item) = item
        && !list.contains(&item)
    {
        list.push(item);
    }
}

fn weekday_name(day: Weekday) -> &'static str {
    match day {
        Weekday::Monday => "monday",
        Weekday::Tuesday => "tuesday",
        Weekday::Wednesday => "wednesday",
        Weekday::Thursday => "thursday",
        Weekday::Friday => "friday",
        Weekday::Saturday => "saturday",
        Weekday::Sunday => "sunday",
    }
}

/// "the first one", "the second appointment", "the later one", "the last visit": the position
/// and the index of its word. An ordinal needs its noun: "the ninth" alone is a date.
fn position(t: &[&str]) -> Option<(i64, usize)> {
    let nouns = ["one", "appointment", "visit", "booking"];
    for (i, w) in t.iter().enumerate() {
        let noun_follows = t.get(i + 1).is_some_and(|n| nouns.contains(n));
        let comparative = matches!(*w, "earlier" | "earliest" | "later" | "latest" | "last");
        let at_end = comparative && i + 1 == t.len() && i > 0 && t[i - 1] == "the";
        if !(noun_follows || at_end) {
            continue;
        }
        let p = match *w {
            "earlier" | "earliest" | "sooner" | "soonest" | "next" | "first" => 1,
            "later" | "latest" | "last" => -1,
            "second" => 2,
            "third" => 3,
            _ => continue,
        };
        return Some((p, i));
    }
    None
}

/// Words that describe nothing about a visit: function words, scheduling words, days.
#[rustfmt::skip]
const NOT_CONTENT: &[&str] = &[
    "a", "an", "the", "i", "im", "ive", "id", "ill", "my", "me", "mine", "we", "were", "weve",
    "our", "us", "you", "your", "youre", "youve", "yall", "guys", "guy", "he", "hes", "his", "him",
    "she", "shes", "her", "they", "their", "them", "it", "its", "is", "are", "was", "be", "been",
    "am", "have", "has", "had", "got", "get", "gotta", "need", "needs", "want", "wanna", "to",
    "for", "on", "at", "in", "of", "with", "and", "but", "so", "or", "that", "this", "those",
    "these", "there", "theres", "one", "ones", "appointment", "appointments", "visit", "visits",
    "booking", "booked", "scheduled", "hi", "hey", "hello", "yeah", "yes", "yep", "no", "not",
    "please", "thanks", "thank", "just", "like", "can", "could", "would", "will", "do", "does",
    "did", "dont", "doesnt", "cant", "wont", "cancel", "cancelling", "canceling", "reschedule",
    "move", "change", "push", "back", "day", "days", "time", "week", "morning", "mornings",
    "afternoon", "evening", "tonight", "tomorrow", "tomorrows", "today", "todays", "next", "last",
    "first", "second", "third", "later", "earlier", "about", "actually", "sorry", "okay", "ok",
    "well", "anymore", "coming", "come", "out", "tech", "technician", "someone", "somebody",
    "anybody", "anyone", "pm", "oclock", "noon", "up", "off", "call", "keep", "leave", "other",
    "which", "what", "when", "where", "from", "by", "then", "some", "any", "all", "both", "two",
    "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "think",
    "know", "because", "sure", "right", "oh", "um", "uh", "still", "also", "going", "gonna", "here",
    "mom", "dad", "husband", "wife", "father", "mother", "son", "daughter", "set", "service",
    "thing", "instead", "same", "see", "said", "say", "name", "under", "number", "different",
    "thats", "whats", "anything", "something", "stuff", "things", "office", "place", "again",
    "really", "probably", "guess", "mean", "only", "more", "already", "soon", "yet", "ahead", "go",
    "make", "made", "good", "great", "fine", "cool", "alright", "wait", "hold", "let", "lets",
];

fn is_content_word(w: &str) -> bool {
    (w.len() >= 3 || w == "ac")
        && !w.bytes().any(|b| b.is_ascii_digit())
        && !NOT_CONTENT.contains(&w)
        && weekday(w, false).is_none()
        && parse_ordinal(&[w]).is_none()
        && !is_month(w)
}

/// A month name; "may" is far more often the verb.
fn is_month(w: &str) -> bool {
    w != "may" && month(w).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::business::Business;

    fn business() -> Business {
        Business::from_yaml(include_str!("../../../../config/business.yaml")).unwrap()
    }

    fn now() -> DateTime {
        // A Monday.
        "2026-06-01T09:12".parse().unwrap()
    }

    fn read(about: &str, aside: &str) -> VisitReference {
        let b = business();
        let about: Vec<&str> = if about.is_empty() {
            vec![]
        } else {
            vec![about]
        };
        let aside: Vec<&str> = if aside.is_empty() {
            vec![]
        } else {
            vec![aside]
        };
        read_reference(&about, &aside, now(), &b.locations, false).unwrap()
    }

    fn visit<'a>(start: &str, location: &'a str, issue: &'a str) -> VisitFacts<'a> {
        VisitFacts {
            start: start.parse().unwrap(),
            location,
            issue,
        }
    }

    #[test]
    fn reads_days_times_places_and_words() {
        let r = read(
            "the one in arlington thursday morning for the heat pump",
            "",
        );
        assert_eq!(r.dates, vec![date(2026, 6, 4)]);
        assert_eq!(r.weekdays, vec!["thursday".to_string()]);
        assert_eq!(r.locations, vec!["ARL".to_string()]);
        assert!(r.words.contains(&"heat".to_string()), "{:?}", r.words);
        assert!(r.words.contains(&"pump".to_string()), "{:?}", r.words);
        assert!(!r.words.iter().any(|w| w == "arlington" || w == "one"));
    }

    fn date(y: i16, m: i8, d: i8) -> Date {
        jiff::civil::date(y, m, d)
    }

    #[test]
    fn picks_by_issue_words_and_day() {
        let visits = [
            visit("2026-06-03T09:00", "FTW", "furnace tune-up"),
            visit("2026-06-05T13:00", "FTW", "duct cleaning"),
        ];
        assert_eq!(pick_visits(Some(&read("the ducts", "")), &visits), vec![1]);
        assert_eq!(pick_visits(Some(&read("wednesdays", "")), &visits), vec![0]);
        assert_eq!(pick_visits(None, &visits), vec![0, 1]);
        assert_eq!(
            pick_visits(Some(&read("the later one", "")), &visits),
            vec![1]
        );
        let second = read("the second one", "");
        assert_eq!((second.position, second.dates.len()), (Some(2), 0));
        assert_eq!(pick_visits(Some(&second), &visits), vec![1]);
    }

    #[test]
    fn what_is_set_aside_is_not_picked() {
        let visits = [
            visit("2026-06-02T08:00", "DAL", "ac tune-up"),
            visit("2026-06-09T13:00", "DAL", "duct inspection"),
        ];
        let r = read("the one on the ninth", "tomorrows tune up");
        assert_eq!(pick_visits(Some(&r), &visits), vec![1]);
        let only_aside = read("", "leave tomorrows alone");
        assert_eq!(pick_visits(Some(&only_aside), &visits), vec![1]);
    }

    #[test]
    fn a_contradicted_day_loses() {
        let visits = [
            visit("2026-06-03T10:00", "DAL", "ac repair"),
            visit("2026-06-04T13:00", "FTW", "ac repair"),
        ];
        let r = read("the fort worth one", "");
        assert_eq!(pick_visits(Some(&r), &visits), vec![1]);
        let f = fit(&r, &visits[1]);
        assert!(f.knows_day_or_place);
        assert!(!fit(&r, &visits[0]).knows_day_or_place);
    }

    #[test]
    fn newer_details_replace_older_ones_kind_by_kind() {
        let old = read("the dallas one on wednesday", "");
        let new = read("friday", "");
        let merged = old.merged_with(&new);
        assert_eq!(merged.locations, vec!["DAL".to_string()]);
        assert_eq!(merged.weekdays, vec!["friday".to_string()]);
    }
}
