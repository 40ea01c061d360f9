//! Availability against the default business (2025-06-02 is a Monday).

use super::*;
use jiff::civil::{Weekday, date, time};
use std::collections::BTreeMap;

fn business() -> Business {
    Business::from_yaml(include_str!("../../config/business.yaml")).unwrap()
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
    // The nearest three, read in time order.
    assert_eq!(alts, vec![at(3, 15, 0), at(3, 16, 0), at(3, 17, 0)]);
}

#[test]
fn sunday_is_closed_and_the_open_days_on_both_sides_are_offered() {
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
    // Saturday morning around the asked hour before Monday.
    assert_eq!(alts, vec![at(7, 9, 0), at(7, 10, 0), at(9, 10, 0)]);
    let whole_day = check(&b, "FTW", &req(Some(day(8)), None), now, none);
    let (reason, alts) = unavailable(whole_day.unwrap());
    assert_eq!(reason, UnavailableReason::Closed);
    assert_eq!(alts, vec![at(7, 8, 0), at(7, 9, 0), at(9, 8, 0)]);
    // Asked on Sunday itself: Saturday is gone, so Monday only.
    let on_sunday = check(&b, "FTW", &req(Some(day(8)), None), at(8, 10, 0), none);
    let (reason, alts) = unavailable(on_sunday.unwrap());
    assert_eq!(reason, UnavailableReason::Closed);
    assert_eq!(alts, vec![at(9, 8, 0), at(9, 9, 0), at(9, 10, 0)]);
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
    assert_eq!(alts, vec![at(3, 12, 0), at(3, 13, 0), at(3, 15, 0)]);
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
        assert_eq!(alts.last(), Some(&at(7, 11, 0)), "{t}");
    }
}

#[test]
fn a_time_between_starts_offers_the_starts_on_either_side() {
    let b = business();
    let now = at(2, 9, 0);
    let asked = check(
        &b,
        "DAL",
        &req(Some(day(3)), Some(time(10, 30, 0, 0))),
        now,
        none,
    );
    let (reason, alts) = unavailable(asked.unwrap());
    assert_eq!(reason, UnavailableReason::NotAStart);
    assert_eq!(alts, vec![at(3, 10, 0), at(3, 11, 0)]);
    // One side full: the other alone.
    let booked = BTreeMap::from([(at(3, 11, 0), 2)]);
    let asked = check(
        &b,
        "DAL",
        &req(Some(day(3)), Some(time(10, 30, 0, 0))),
        now,
        |s| booked.get(&s).copied().unwrap_or(0),
    );
    assert_eq!(unavailable(asked.unwrap()).1, vec![at(3, 10, 0)]);
    // After the last start is outside the hours, not between starts.
    let late = check(
        &b,
        "DAL",
        &req(Some(day(3)), Some(time(17, 30, 0, 0))),
        now,
        none,
    );
    assert_eq!(
        unavailable(late.unwrap()).0,
        UnavailableReason::OutsideHours
    );
}

#[test]
fn tonight_after_the_last_start_offers_first_thing_tomorrow() {
    let b = business();
    let evening = SlotRequest {
        date: Some(day(2)),
        earliest: Some(time(17, 0, 0, 0)),
        latest: Some(time(21, 0, 0, 0)),
        ..SlotRequest::default()
    };
    let (reason, alts) = unavailable(check(&b, "DAL", &evening, at(2, 17, 30), none).unwrap());
    assert_eq!(reason, UnavailableReason::Past);
    assert_eq!(alts.first(), Some(&at(3, 8, 0)));
    let half_seven = req(Some(day(2)), Some(time(19, 30, 0, 0)));
    let (_, alts) = unavailable(check(&b, "DAL", &half_seven, at(2, 17, 30), none).unwrap());
    assert_eq!(alts.first(), Some(&at(3, 8, 0)));
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

/// A shop with 30-minute starts, one bay, open 08:00-12:00 on Monday (2025-06-02).
fn one_bay_shop() -> Business {
    Business::from_yaml(
        r#"
name: Test Shop
time_zone: America/Phoenix
locations: [{ code: A, name: Alpha }]
hours: [{ day: monday, open: "08:00", close: "12:00" }]
visit_minutes: 30
capacity_per_start: 1
phones: { human: "+13035550100", emergency: "+13035550911" }
"#,
    )
    .unwrap()
}

#[test]
fn a_long_visit_occupies_every_start_it_overlaps() {
    let b = one_bay_shop();
    // A two-hour visit booked at 09:00 fills 09:00, 09:30, 10:00 and 10:30.
    let occupied = super::occupancy(&b, &[(at(2, 9, 0), 120, 1)]);
    let booked = |start: DateTime| occupied.get(&start).copied().unwrap_or(0);
    let half_hour = SlotRequest {
        minutes: Some(30),
        ..req(Some(day(2)), Some(time(10, 30, 0, 0)))
    };
    let (reason, alts) = unavailable(check(&b, "A", &half_hour, at(2, 7, 0), booked).unwrap());
    assert_eq!(reason, UnavailableReason::Full);
    assert!(alts.contains(&at(2, 11, 0)), "{alts:?}");
    assert!(
        !alts.iter().any(|a| (at(2, 9, 0)..at(2, 11, 0)).contains(a)),
        "{alts:?}"
    );
    // An hour at 08:30 runs into the booked visit; one at 08:00 ends as it begins.
    let hour_at = |h, m| SlotRequest {
        minutes: Some(60),
        ..req(Some(day(2)), Some(time(h, m, 0, 0)))
    };
    assert!(matches!(
        check(&b, "A", &hour_at(8, 30), at(2, 7, 0), booked).unwrap(),
        Availability::Unavailable {
            reason: UnavailableReason::Full,
            ..
        }
    ));
    assert_eq!(
        check(&b, "A", &hour_at(8, 0), at(2, 7, 0), booked).unwrap(),
        Availability::Available { start: at(2, 8, 0) }
    );
}

#[test]
fn a_long_visit_must_end_by_closing() {
    let b = one_bay_shop();
    let two_hours_at = |h| SlotRequest {
        minutes: Some(120),
        ..req(Some(day(2)), Some(time(h, 0, 0, 0)))
    };
    // 11:00 + 2 h is past noon: outside the hours, and the latest start offered is 10:00.
    let (reason, alts) = unavailable(check(&b, "A", &two_hours_at(11), at(2, 7, 0), none).unwrap());
    assert_eq!(reason, UnavailableReason::OutsideHours);
    assert!(
        alts.iter()
            .all(|a| a.date() != day(2) || *a <= at(2, 10, 0)),
        "{alts:?}"
    );
    assert_eq!(
        check(&b, "A", &two_hours_at(10), at(2, 7, 0), none).unwrap(),
        Availability::Available {
            start: at(2, 10, 0)
        }
    );
}
