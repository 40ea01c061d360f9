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
    /// How long the visit lasts (a service's length); unset is the business's `visit_minutes`.
    /// A visit occupies a place at every start it overlaps and must end by closing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<u32>,
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
    /// The business is open that day, but not at that time or window.
    OutsideHours,
    /// Inside opening hours but between two visit starts ("10:30" when visits start on the
    /// hour); the starts on either side are offered.
    NotAStart,
}

/// The answer to a [`SlotRequest`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Availability {
    Available {
        start: DateTime,
    },
    /// `alternatives` are the free starts nearest in time to what was asked (on the asked day
    /// before or after, on later days forward only; if a window was asked, starts inside it
    /// are preferred on every day), listed in time order. A closed day gets the nearest open
    /// days on both sides; a time between two starts gets those two starts.
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

/// The starts on `date` from which a visit of `minutes` ends by closing.
pub fn starts_for(business: &Business, date: Date, minutes: u32) -> Vec<DateTime> {
    let close = business
        .hours_on(date)
        .map(|(_, close)| date.to_datetime(close));
    open_starts(business, date)
        .into_iter()
        .filter(|s| {
            let end = s.checked_add(i64::from(minutes).minutes()).ok();
            end.zip(close).is_some_and(|(end, close)| end <= close)
        })
        .collect()
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
/// `booked(start)` is the number of booked visits occupying that start at this location (those
/// starting there, and longer ones that started earlier and still run; see [`occupancy`]).
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
        minutes: request.minutes.unwrap_or(business.visit_minutes),
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
        minutes: business.visit_minutes,
        booked: &booked,
    };
    ctx.alternatives(anchor)
}

/// How many visits occupy each start, from booked visits as (start, length in minutes, how
/// many): a visit occupies every start from its own up to (not including) its end.
pub fn occupancy(
    business: &Business,
    visits: &[(DateTime, u32, u32)],
) -> std::collections::BTreeMap<DateTime, u32> {
    let step = i64::from(business.visit_minutes.max(1));
    let mut occupied = std::collections::BTreeMap::new();
    for (start, minutes, count) in visits {
        let steps = (i64::from(*minutes) + step - 1) / step;
        for k in 0..steps.max(1) {
            if let Ok(at) = start.checked_add((k * step).minutes()) {
                *occupied.entry(at).or_insert(0) += count;
            }
        }
    }
    occupied
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
    /// The length of the visit asked for.
    minutes: u32,
    booked: &'a dyn Fn(DateTime) -> u32,
}

impl Ctx<'_> {
    /// Free for a visit of this length: after now, ending by closing, and under capacity at
    /// every start it overlaps.
    fn is_free(&self, start: DateTime) -> bool {
        start > self.now
            && self.fits_the_day(start)
            && self
                .span(start)
                .all(|at| (self.booked)(at) < self.business.capacity_per_start)
    }

    /// The starts a visit from `start` overlaps.
    fn span(&self, start: DateTime) -> impl Iterator<Item = DateTime> + '_ {
        let step = i64::from(self.business.visit_minutes.max(1));
        let steps = (i64::from(self.minutes) + step - 1) / step;
        (0..steps.max(1)).filter_map(move |k| start.checked_add((k * step).minutes()).ok())
    }

    /// Whether a visit from `start` ends by closing time.
    fn fits_the_day(&self, start: DateTime) -> bool {
        let Some((_, close)) = self.business.hours_on(start.date()) else {
            return false;
        };
        start
            .checked_add(i64::from(self.minutes).minutes())
            .is_ok_and(|end| end <= start.date().to_datetime(close))
    }

    fn unavailable(&self, reason: UnavailableReason, anchor: DateTime) -> Availability {
        Availability::Unavailable {
            reason,
            alternatives: self.alternatives(anchor),
        }
    }

    /// A closed day: the nearest free starts on the open days before and after it, around the
    /// time of day asked ("We're closed Sundays: Saturday at 9 or 10, or Monday at 9").
    fn closed(&self, date: Date, time_of_day: Option<Time>) -> Availability {
        let before = previous_open_day(self.business, date).filter(|d| *d >= self.now.date());
        let after = next_open_day(self.business, date);
        let near = |day: Date, n: usize| -> Vec<DateTime> {
            let starts = open_starts(self.business, day);
            let target = day.to_datetime(
                time_of_day
                    .or(self.window.earliest)
                    .or_else(|| starts.first().map(|s| s.time()))
                    .unwrap_or(Time::midnight()),
            );
            let mut free: Vec<(i64, DateTime)> = starts
                .into_iter()
                .filter(|s| self.is_free(*s))
                .map(|s| (s.duration_since(target).as_secs().abs(), s))
                .collect();
            free.sort();
            free.into_iter().take(n).map(|(_, s)| s).collect()
        };
        let mut alternatives = before.map(|d| near(d, 2)).unwrap_or_default();
        let room = MAX_ALTERNATIVES - alternatives.len();
        alternatives.extend(after.map(|d| near(d, room)).unwrap_or_default());
        if alternatives.is_empty() {
            return self.unavailable(
                UnavailableReason::Closed,
                date.to_datetime(Time::midnight()),
            );
        }
        alternatives.sort();
        Availability::Unavailable {
            reason: UnavailableReason::Closed,
            alternatives,
        }
    }

    fn exact(&self, target: DateTime) -> Availability {
        let starts = open_starts(self.business, target.date());
        let between_starts =
            starts.iter().any(|s| *s < target) && starts.iter().any(|s| *s > target);
        let reason = if target <= self.now {
            UnavailableReason::Past
        } else if self.business.hours_on(target.date()).is_none() {
            return self.closed(target.date(), Some(target.time()));
        } else if !starts.contains(&target) && between_starts {
            // "10:30": the starts on either side, when they are free.
            let around: Vec<DateTime> = [
                starts.iter().rev().find(|s| **s < target),
                starts.iter().find(|s| **s > target),
            ]
            .into_iter()
            .flatten()
            .copied()
            .filter(|s| self.is_free(*s))
            .collect();
            if around.is_empty() {
                return self.unavailable(UnavailableReason::NotAStart, target);
            }
            return Availability::Unavailable {
                reason: UnavailableReason::NotAStart,
                alternatives: around,
            };
        } else if !starts.contains(&target) || !self.fits_the_day(target) {
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
            return self.closed(date, None);
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
            // "Tonight" after the last start: the first openings from now, whatever the part
            // of day asked (first thing tomorrow).
            let anywhere = Ctx {
                window: Window::default(),
                ..*self
            };
            return anywhere.unavailable(UnavailableReason::Past, self.now);
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
        let mut chosen = if in_window.is_empty() {
            pick(Window::default())
        } else {
            in_window
        };
        // Chosen by nearness, read in time order.
        chosen.sort();
        chosen
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

/// The last open day before `date`, within a week.
fn previous_open_day(business: &Business, date: Date) -> Option<Date> {
    (1..=7)
        .filter_map(|n| date.checked_sub(n.days()).ok())
        .find(|d| business.hours_on(*d).is_some())
}

fn minute_of_day(time: Time) -> i32 {
    i32::from(time.hour()) * 60 + i32::from(time.minute())
}

#[cfg(test)]
mod tests;
