//! Availability: which visit starts exist, whether a requested one is free, and the nearest free
//! alternatives when it is not. Pure functions of the business configuration, the request, the
//! business-local `now` and the booked counts, so they are tested without a database.
//!
//! The application fetches counts with `Storage::booked_counts` over [`counts_range`] and hands
//! them in as a closure.

use frontdesk_engine::business::Business;
use frontdesk_engine::extract::datetime::StartPreference;
use jiff::ToSpan;
use jiff::civil::{Date, DateTime, Time};
use serde::{Deserialize, Serialize};

/// How far ahead (in days after the asked day) alternatives and first-free searches look.
pub const HORIZON_DAYS: i64 = 14;
/// How many alternatives are offered at most.
pub const MAX_ALTERNATIVES: usize = 3;

/// What the caller asked for; every part is optional.
///
/// The window is half-open: a start `s` is inside when `earliest <= s < latest`, so "morning"
/// is 08:00..12:00 and "before 3" is `latest = 15:00`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotRequest {
    pub date: Option<Date>,
    pub time: Option<Time>,
    pub earliest: Option<Time>,
    pub latest: Option<Time>,
    /// Without a time: the first or the last start of the day, inside the window ("first
    /// thing", "end of the day"). Unset is the first free start.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefer: Option<StartPreference>,
}

/// Why the asked start cannot be had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnavailableReason {
    /// The business is closed that day.
    Closed,
    /// Every fitting start is at capacity.
    Full,
    /// The asked time (or the whole asked day) is not after `now`.
    Past,
    /// The business is open that day, but not at that time or window (or the time is not on
    /// the visit grid).
    OutsideHours,
}

/// The answer to a [`SlotRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Availability {
    Available {
        start: DateTime,
    },
    /// `alternatives` are free starts, nearest in time to what was asked first (ties: earlier
    /// first): on the asked day before or after, on later days forward only. If a window was
    /// asked, starts inside it are preferred on every day.
    Unavailable {
        reason: UnavailableReason,
        alternatives: Vec<DateTime>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchedulingError {
    #[error("unknown location {0:?}")]
    UnknownLocation(String),
}

/// Every start on `date`: from opening, every `visit_minutes`, the last one ending by closing.
/// Empty when closed.
pub fn open_starts(business: &Business, date: Date) -> Vec<DateTime> {
    let Some((open, close)) = business.hours_on(date) else {
        return Vec::new();
    };
    let step = i32::try_from(business.visit_minutes).unwrap_or(0);
    if step <= 0 {
        return Vec::new();
    }
    let (open, close) = (minute_of_day(open), minute_of_day(close));
    let mut starts = Vec::new();
    let mut at = open;
    while at + step <= close {
        if let Ok(time) = Time::new((at / 60) as i8, (at % 60) as i8, 0, 0) {
            starts.push(date.to_datetime(time));
        }
        at += step;
    }
    starts
}

/// The range of starts [`check`] may look at for this request, for `Storage::booked_counts`.
pub fn counts_range(request: &SlotRequest, now: DateTime) -> (DateTime, DateTime) {
    let today = now.date();
    let last_day = request.date.map_or(today, |d| d.max(today));
    let to = last_day
        .checked_add((HORIZON_DAYS + 1).days())
        .unwrap_or(last_day);
    (
        today.to_datetime(Time::midnight()),
        to.to_datetime(Time::midnight()),
    )
}

/// Decides whether the request can be met at `location`.
///
/// - date and time: exactly that start;
/// - time only: today if it is open and the time is still ahead, else the next open day;
/// - date only: the first free start that day (inside the window, if any), or the last one
///   when `prefer` is `Last`;
/// - window only, or nothing: the first free start from now on (inside the window); with
///   `prefer: Last` the last free start of the first day that has one; with `prefer: First`
///   the first free start of the first day whose first start is still ahead ("first thing"
///   said at noon means tomorrow).
///
/// `booked(start)` is the number of booked visits at that start at this location.
pub fn check(
    business: &Business,
    location: &str,
    request: &SlotRequest,
    now: DateTime,
    booked: impl Fn(DateTime) -> u32,
) -> Result<Availability, SchedulingError> {
    if business.location(location).is_none() {
        return Err(SchedulingError::UnknownLocation(location.to_owned()));
    }
    let ctx = Ctx {
        business,
        now,
        window: Window {
            earliest: request.earliest,
            latest: request.latest,
        },
        prefer: request.prefer,
        booked: &booked,
    };
    let today = now.date();
    Ok(match (request.date, request.time) {
        (Some(date), Some(time)) => ctx.exact(date.to_datetime(time)),
        (None, Some(time)) => {
            let date = if business.hours_on(today).is_some() && today.to_datetime(time) > now {
                today
            } else {
                next_open_day(business, today).unwrap_or(today)
            };
            ctx.exact(date.to_datetime(time))
        }
        (Some(date), None) => ctx.day(date),
        (None, None) => ctx.first_from_now(),
    })
}

/// The nearest free starts to `anchor` (see [`Availability::Unavailable`]), without a window.
pub fn alternatives(
    business: &Business,
    anchor: DateTime,
    now: DateTime,
    booked: impl Fn(DateTime) -> u32,
) -> Vec<DateTime> {
    let ctx = Ctx {
        business,
        now,
        window: Window::default(),
        prefer: None,
        booked: &booked,
    };
    ctx.alternatives(anchor)
}

#[derive(Debug, Clone, Copy, Default)]
struct Window {
    earliest: Option<Time>,
    latest: Option<Time>,
}

impl Window {
    fn contains(self, start: DateTime) -> bool {
        let t = start.time();
        self.earliest.is_none_or(|e| t >= e) && self.latest.is_none_or(|l| t < l)
    }

    fn is_set(self) -> bool {
        self.earliest.is_some() || self.latest.is_some()
    }
}

#[derive(Clone, Copy)]
struct Ctx<'a> {
    business: &'a Business,
    now: DateTime,
    window: Window,
    prefer: Option<StartPreference>,
    booked: &'a dyn Fn(DateTime) -> u32,
}

impl Ctx<'_> {
    fn is_free(&self, start: DateTime) -> bool {
        start > self.now && (self.booked)(start) < self.business.capacity_per_start
    }

    fn unavailable(&self, reason: UnavailableReason, anchor: DateTime) -> Availability {
        Availability::Unavailable {
            reason,
            alternatives: self.alternatives(anchor),
        }
    }

    fn exact(&self, target: DateTime) -> Availability {
        let reason = if target <= self.now {
            UnavailableReason::Past
        } else if self.business.hours_on(target.date()).is_none() {
            UnavailableReason::Closed
        } else if !open_starts(self.business, target.date()).contains(&target) {
            UnavailableReason::OutsideHours
        } else if !self.is_free(target) {
            UnavailableReason::Full
        } else {
            return Availability::Available { start: target };
        };
        self.unavailable(reason, target)
    }

    fn day(&self, date: Date) -> Availability {
        let anchor = date.to_datetime(self.window.earliest.unwrap_or(Time::midnight()));
        if date < self.now.date() {
            return self.unavailable(UnavailableReason::Past, self.now);
        }
        if self.business.hours_on(date).is_none() {
            return self.unavailable(UnavailableReason::Closed, anchor);
        }
        let starts: Vec<DateTime> = open_starts(self.business, date)
            .into_iter()
            .filter(|s| self.window.contains(*s))
            .collect();
        if let Some(start) = self.pick(&starts) {
            return Availability::Available { start };
        }
        let reason = if starts.is_empty() {
            UnavailableReason::OutsideHours
        } else if starts.iter().all(|s| *s <= self.now) {
            UnavailableReason::Past
        } else {
            UnavailableReason::Full
        };
        let wished = if self.prefer == Some(StartPreference::Last) {
            starts.last()
        } else {
            starts.first()
        };
        self.unavailable(reason, wished.copied().unwrap_or(anchor))
    }

    /// The free start of one day's `starts` (in order) that the caller wants: the last one for
    /// `prefer: Last`, else the first.
    fn pick(&self, starts: &[DateTime]) -> Option<DateTime> {
        let mut free = starts.iter().copied().filter(|s| self.is_free(*s));
        match self.prefer {
            Some(StartPreference::Last) => free.next_back(),
            _ => free.next(),
        }
    }

    fn first_from_now(&self) -> Availability {
        let today = self.now.date();
        let mut any_in_window = false;
        for date in days(today) {
            let starts: Vec<DateTime> = open_starts(self.business, date)
                .into_iter()
                .filter(|s| self.window.contains(*s))
                .collect();
            any_in_window |= !starts.is_empty();
            // "First thing": a day whose first start has gone is not wanted.
            let begun = starts.first().is_some_and(|s| *s <= self.now);
            if self.prefer == Some(StartPreference::First) && begun {
                continue;
            }
            if let Some(start) = self.pick(&starts) {
                return Availability::Available { start };
            }
        }
        let reason = if any_in_window {
            UnavailableReason::Full
        } else {
            UnavailableReason::OutsideHours
        };
        // Nothing fits the window: offer whatever is nearest, ignoring it.
        let anywhere = Ctx {
            window: Window::default(),
            ..*self
        };
        anywhere.unavailable(reason, self.now)
    }

    fn alternatives(&self, anchor: DateTime) -> Vec<DateTime> {
        let pick = |window: Window| {
            let mut found: Vec<(i64, DateTime)> = days(anchor.date().max(self.now.date()))
                .flat_map(|date| open_starts(self.business, date))
                .filter(|s| *s != anchor && window.contains(*s) && self.is_free(*s))
                // Same day: both directions; later days: forward only (by construction).
                .map(|s| (s.duration_since(anchor).as_secs().abs(), s))
                .collect();
            found.sort();
            found.truncate(MAX_ALTERNATIVES);
            found.into_iter().map(|(_, s)| s).collect::<Vec<_>>()
        };
        let in_window = if self.window.is_set() {
            pick(self.window)
        } else {
            Vec::new()
        };
        if in_window.is_empty() {
            pick(Window::default())
        } else {
            in_window
        }
    }
}

/// `first` and the following [`HORIZON_DAYS`] days.
fn days(first: Date) -> impl Iterator<Item = Date> {
    (0..=HORIZON_DAYS).filter_map(move |n| first.checked_add(n.days()).ok())
}

fn next_open_day(business: &Business, after: Date) -> Option<Date> {
    days(after)
        .skip(1)
        .find(|d| business.hours_on(*d).is_some())
}

fn minute_of_day(time: Time) -> i32 {
    i32::from(time.hour()) * 60 + i32::from(time.minute())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{Weekday, date, time};
    use std::collections::BTreeMap;

    fn business() -> Business {
        Business::from_yaml(include_str!("../config/business.yaml")).unwrap()
    }

    // 2025-06-02 is a Monday.
    fn day(d: i8) -> Date {
        date(2025, 6, d)
    }

    fn at(d: i8, h: i8, m: i8) -> DateTime {
        day(d).at(h, m, 0, 0)
    }

    fn none(_: DateTime) -> u32 {
        0
    }

    fn req(date: Option<Date>, t: Option<Time>) -> SlotRequest {
        SlotRequest {
            date,
            time: t,
            ..SlotRequest::default()
        }
    }

    fn unavailable(a: Availability) -> (UnavailableReason, Vec<DateTime>) {
        match a {
            Availability::Unavailable {
                reason,
                alternatives,
            } => (reason, alternatives),
            other => panic!("expected unavailable, got {other:?}"),
        }
    }

    #[test]
    fn weekdays_are_as_assumed() {
        assert_eq!(day(2).weekday(), Weekday::Monday);
        assert_eq!(day(7).weekday(), Weekday::Saturday);
        assert_eq!(day(8).weekday(), Weekday::Sunday);
    }

    #[test]
    fn open_starts_follow_the_hours() {
        let b = business();
        let monday = open_starts(&b, day(2));
        assert_eq!(monday.len(), 10);
        assert_eq!(monday.first(), Some(&at(2, 8, 0)));
        assert_eq!(monday.last(), Some(&at(2, 17, 0)));
        let saturday = open_starts(&b, day(7));
        assert_eq!(
            saturday,
            vec![at(7, 8, 0), at(7, 9, 0), at(7, 10, 0), at(7, 11, 0)]
        );
        assert!(open_starts(&b, day(8)).is_empty());
    }

    #[test]
    fn last_weekday_start_is_17() {
        let b = business();
        let now = at(2, 9, 0);
        let ok = check(
            &b,
            "DAL",
            &req(Some(day(3)), Some(time(17, 0, 0, 0))),
            now,
            none,
        );
        assert_eq!(
            ok.unwrap(),
            Availability::Available {
                start: at(3, 17, 0)
            }
        );
        let late = check(
            &b,
            "DAL",
            &req(Some(day(3)), Some(time(18, 0, 0, 0))),
            now,
            none,
        );
        let (reason, alts) = unavailable(late.unwrap());
        assert_eq!(reason, UnavailableReason::OutsideHours);
        assert_eq!(alts, vec![at(3, 17, 0), at(3, 16, 0), at(3, 15, 0)]);
    }

    #[test]
    fn sunday_is_closed_and_monday_is_offered() {
        let b = business();
        let now = at(6, 9, 30);
        let asked = check(
            &b,
            "FTW",
            &req(Some(day(8)), Some(time(10, 0, 0, 0))),
            now,
            none,
        );
        let (reason, alts) = unavailable(asked.unwrap());
        assert_eq!(reason, UnavailableReason::Closed);
        assert_eq!(alts, vec![at(9, 8, 0), at(9, 9, 0), at(9, 10, 0)]);
        let whole_day = check(&b, "FTW", &req(Some(day(8)), None), now, none);
        let (reason, alts) = unavailable(whole_day.unwrap());
        assert_eq!(reason, UnavailableReason::Closed);
        assert_eq!(alts.first(), Some(&at(9, 8, 0)));
    }

    #[test]
    fn full_slot_offers_the_nearest_free_ones() {
        let b = business();
        let booked = BTreeMap::from([(at(3, 14, 0), 2)]);
        let counts = |s: DateTime| booked.get(&s).copied().unwrap_or(0);
        let now = at(2, 9, 0);
        let asked = check(
            &b,
            "DAL",
            &req(Some(day(3)), Some(time(14, 0, 0, 0))),
            now,
            counts,
        );
        let (reason, alts) = unavailable(asked.unwrap());
        assert_eq!(reason, UnavailableReason::Full);
        assert_eq!(alts, vec![at(3, 13, 0), at(3, 15, 0), at(3, 12, 0)]);
        // One place left is still available.
        let one = BTreeMap::from([(at(3, 14, 0), 1)]);
        let ok = check(
            &b,
            "DAL",
            &req(Some(day(3)), Some(time(14, 0, 0, 0))),
            now,
            |s| one.get(&s).copied().unwrap_or(0),
        );
        assert_eq!(
            ok.unwrap(),
            Availability::Available {
                start: at(3, 14, 0)
            }
        );
    }

    #[test]
    fn past_time_is_refused_with_future_alternatives() {
        let b = business();
        let now = at(3, 11, 30);
        let asked = check(
            &b,
            "DAL",
            &req(Some(day(3)), Some(time(9, 0, 0, 0))),
            now,
            none,
        );
        let (reason, alts) = unavailable(asked.unwrap());
        assert_eq!(reason, UnavailableReason::Past);
        assert_eq!(alts, vec![at(3, 12, 0), at(3, 13, 0), at(3, 14, 0)]);
        let yesterday = check(&b, "DAL", &req(Some(day(2)), None), now, none);
        let (reason, alts) = unavailable(yesterday.unwrap());
        assert_eq!(reason, UnavailableReason::Past);
        assert!(alts.iter().all(|a| *a > now));
    }

    #[test]
    fn saturday_after_11_is_refused() {
        let b = business();
        let now = at(2, 9, 0);
        let eleven = check(
            &b,
            "ARL",
            &req(Some(day(7)), Some(time(11, 0, 0, 0))),
            now,
            none,
        );
        assert_eq!(
            eleven.unwrap(),
            Availability::Available {
                start: at(7, 11, 0)
            }
        );
        for t in [time(12, 0, 0, 0), time(11, 30, 0, 0), time(15, 0, 0, 0)] {
            let asked = check(&b, "ARL", &req(Some(day(7)), Some(t)), now, none);
            let (reason, alts) = unavailable(asked.unwrap());
            assert_eq!(reason, UnavailableReason::OutsideHours, "{t}");
            assert_eq!(alts.first(), Some(&at(7, 11, 0)), "{t}");
        }
    }

    #[test]
    fn date_only_takes_the_first_free_start() {
        let b = business();
        let booked = BTreeMap::from([(at(3, 8, 0), 2)]);
        let counts = |s: DateTime| booked.get(&s).copied().unwrap_or(0);
        let got = check(&b, "DAL", &req(Some(day(3)), None), at(2, 9, 0), counts);
        assert_eq!(got.unwrap(), Availability::Available { start: at(3, 9, 0) });
        // Today: only starts still ahead count.
        let today = check(&b, "DAL", &req(Some(day(2)), None), at(2, 9, 10), none);
        assert_eq!(
            today.unwrap(),
            Availability::Available {
                start: at(2, 10, 0)
            }
        );
    }

    #[test]
    fn a_fully_booked_day_is_full_with_next_day_alternatives() {
        let b = business();
        let counts = |s: DateTime| if s.date() == day(3) { 2 } else { 0 };
        let got = check(&b, "DAL", &req(Some(day(3)), None), at(2, 9, 0), counts);
        let (reason, alts) = unavailable(got.unwrap());
        assert_eq!(reason, UnavailableReason::Full);
        assert_eq!(alts, vec![at(4, 8, 0), at(4, 9, 0), at(4, 10, 0)]);
    }

    #[test]
    fn time_only_means_today_if_ahead_else_next_open_day() {
        let b = business();
        let now = at(2, 10, 30);
        let later = check(&b, "DAL", &req(None, Some(time(14, 0, 0, 0))), now, none);
        assert_eq!(
            later.unwrap(),
            Availability::Available {
                start: at(2, 14, 0)
            }
        );
        let gone = check(&b, "DAL", &req(None, Some(time(9, 0, 0, 0))), now, none);
        assert_eq!(
            gone.unwrap(),
            Availability::Available { start: at(3, 9, 0) }
        );
        // Saturday afternoon asking for 9: Sunday is closed, so Monday.
        let sat = check(
            &b,
            "DAL",
            &req(None, Some(time(9, 0, 0, 0))),
            at(7, 13, 0),
            none,
        );
        assert_eq!(sat.unwrap(), Availability::Available { start: at(9, 9, 0) });
    }

    #[test]
    fn windows_are_respected() {
        let b = business();
        let morning = SlotRequest {
            earliest: Some(time(8, 0, 0, 0)),
            latest: Some(time(12, 0, 0, 0)),
            ..SlotRequest::default()
        };
        let counts = |s: DateTime| if s == at(2, 11, 0) { 2 } else { 0 };
        let got = check(&b, "DAL", &morning, at(2, 10, 30), counts);
        assert_eq!(got.unwrap(), Availability::Available { start: at(3, 8, 0) });

        let afternoon = SlotRequest {
            date: Some(day(7)),
            earliest: Some(time(12, 0, 0, 0)),
            latest: Some(time(18, 0, 0, 0)),
            ..SlotRequest::default()
        };
        let (reason, alts) = unavailable(check(&b, "DAL", &afternoon, at(2, 9, 0), none).unwrap());
        assert_eq!(reason, UnavailableReason::OutsideHours);
        assert_eq!(alts, vec![at(9, 12, 0), at(9, 13, 0), at(9, 14, 0)]);

        let tuesday_afternoon = SlotRequest {
            date: Some(day(3)),
            ..afternoon
        };
        let got = check(&b, "DAL", &tuesday_afternoon, at(2, 9, 0), none);
        assert_eq!(
            got.unwrap(),
            Availability::Available {
                start: at(3, 12, 0)
            }
        );
    }

    fn wish(date: Option<Date>, prefer: StartPreference) -> SlotRequest {
        SlotRequest {
            date,
            prefer: Some(prefer),
            ..SlotRequest::default()
        }
    }

    #[test]
    fn the_last_start_of_a_day_when_asked_for_the_end_of_the_day() {
        let b = business();
        let now = at(2, 9, 0);
        let thursday = check(
            &b,
            "DAL",
            &wish(Some(day(5)), StartPreference::Last),
            now,
            none,
        );
        assert_eq!(
            thursday.unwrap(),
            Availability::Available {
                start: at(5, 17, 0)
            }
        );
        // Saturday closes at noon: its last start is 11.
        let saturday = check(
            &b,
            "DAL",
            &wish(Some(day(7)), StartPreference::Last),
            now,
            none,
        );
        assert_eq!(
            saturday.unwrap(),
            Availability::Available {
                start: at(7, 11, 0)
            }
        );
        // The last start taken: the last free one before it.
        let full_at_five = |s: DateTime| if s == at(5, 17, 0) { 2 } else { 0 };
        let got = check(
            &b,
            "DAL",
            &wish(Some(day(5)), StartPreference::Last),
            now,
            full_at_five,
        );
        assert_eq!(
            got.unwrap(),
            Availability::Available {
                start: at(5, 16, 0)
            }
        );
        // Inside a window: the last start of the morning.
        let morning = SlotRequest {
            latest: Some(time(12, 0, 0, 0)),
            ..wish(Some(day(5)), StartPreference::Last)
        };
        assert_eq!(
            check(&b, "DAL", &morning, now, none).unwrap(),
            Availability::Available {
                start: at(5, 11, 0)
            }
        );
    }

    #[test]
    fn the_end_of_the_day_without_a_date_is_today_or_the_next_open_day() {
        let b = business();
        let today = check(
            &b,
            "FTW",
            &wish(None, StartPreference::Last),
            at(3, 9, 0),
            none,
        );
        assert_eq!(
            today.unwrap(),
            Availability::Available {
                start: at(3, 17, 0)
            }
        );
        // Saturday after closing: Sunday is closed, so Monday's last start.
        let sat = check(
            &b,
            "FTW",
            &wish(None, StartPreference::Last),
            at(7, 13, 0),
            none,
        );
        assert_eq!(
            sat.unwrap(),
            Availability::Available {
                start: at(9, 17, 0)
            }
        );
    }

    #[test]
    fn first_thing_without_a_date_is_a_day_not_yet_begun() {
        let b = business();
        // At 07:30 today's first start is still ahead.
        let early = check(
            &b,
            "ARL",
            &wish(None, StartPreference::First),
            at(3, 7, 30),
            none,
        );
        assert_eq!(
            early.unwrap(),
            Availability::Available { start: at(3, 8, 0) }
        );
        // At 09:30 "first thing" means tomorrow at opening, not 10 today.
        let later = check(
            &b,
            "ARL",
            &wish(None, StartPreference::First),
            at(3, 9, 30),
            none,
        );
        assert_eq!(
            later.unwrap(),
            Availability::Available { start: at(4, 8, 0) }
        );
        // With a date it is that day's first free start.
        let full_at_eight = |s: DateTime| if s == at(4, 8, 0) { 2 } else { 0 };
        let dated = check(
            &b,
            "ARL",
            &wish(Some(day(4)), StartPreference::First),
            at(3, 9, 30),
            full_at_eight,
        );
        assert_eq!(
            dated.unwrap(),
            Availability::Available { start: at(4, 9, 0) }
        );
    }

    #[test]
    fn unknown_location_is_an_error() {
        let b = business();
        let got = check(&b, "XYZ", &SlotRequest::default(), at(2, 9, 0), none);
        assert_eq!(got, Err(SchedulingError::UnknownLocation("XYZ".into())));
        assert!(check(&b, "dal", &SlotRequest::default(), at(2, 9, 0), none).is_ok());
    }

    #[test]
    fn counts_range_covers_the_search() {
        let (from, to) = counts_range(&req(Some(day(20)), None), at(2, 9, 0));
        assert_eq!(from, at(2, 0, 0));
        assert!(
            to >= day(20)
                .checked_add(HORIZON_DAYS.days())
                .unwrap()
                .at(23, 0, 0, 0)
        );
    }
}
