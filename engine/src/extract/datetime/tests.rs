use super::*;
use jiff::civil::{date, time};

/// Friday 2019-03-01 10:00, the SGD reference time.
fn now() -> DateTime {
    date(2019, 3, 1).at(10, 0, 0, 0)
}

fn ex(s: &str) -> Option<DateTimeMention> {
    extract_datetime(s, now(), true)
}

fn d(s: &str) -> Option<Date> {
    ex(s).and_then(|m| m.date)
}

fn tm(s: &str) -> Option<Time> {
    ex(s).and_then(|m| m.time)
}

fn hm(h: i8, m: i8) -> Option<Time> {
    Some(time(h, m, 0, 0))
}

fn ymd(y: i16, m: i8, dd: i8) -> Option<Date> {
    Some(date(y, m, dd))
}

#[test]
fn asr_style_examples() {
    let m = ex("uh tomorrow at like two thirty");
    assert_eq!(m.as_ref().and_then(|m| m.date), ymd(2019, 3, 2));
    assert_eq!(m.and_then(|m| m.time), hm(14, 30));

    let m = ex("next monday morning");
    assert_eq!(
        m,
        Some(DateTimeMention {
            date: ymd(2019, 3, 4),
            time: None,
            earliest: hm(8, 0),
            latest: hm(12, 0)
        })
    );

    let m = ex("the fifteenth at ten thirty");
    assert_eq!(m.as_ref().and_then(|m| m.date), ymd(2019, 3, 15));
    assert_eq!(m.and_then(|m| m.time), hm(10, 30));

    assert_eq!(d("this saturday"), ymd(2019, 3, 2));
    assert_eq!(d("a week from friday"), ymd(2019, 3, 15));
    assert_eq!(tm("half past three in the afternoon"), hm(15, 30));

    let m = ex("anytime after lunch on thursday");
    assert_eq!(
        m,
        Some(DateTimeMention {
            date: ymd(2019, 3, 7),
            time: None,
            earliest: hm(13, 0),
            latest: None
        })
    );

    assert_eq!(tm("quarter to four"), hm(15, 45));
    assert_eq!(tm("noon"), hm(12, 0));
    assert_eq!(tm("two p m"), hm(14, 0));
    assert_eq!(tm("at 2 pm"), hm(14, 0));
}

#[test]
fn typed_examples() {
    let m = ex("Can you book it for the 7th at 4 pm please?");
    assert_eq!(m.as_ref().and_then(|m| m.date), ymd(2019, 3, 7));
    assert_eq!(m.and_then(|m| m.time), hm(16, 0));
    assert_eq!(tm("around morning 10:30"), hm(10, 30));
    assert_eq!(d("the 9th of this month"), ymd(2019, 3, 9));
    assert_eq!(d("March 3rd"), ymd(2019, 3, 3));
    assert_eq!(d("3/14"), ymd(2019, 3, 14));
    assert_eq!(tm("18:00"), hm(18, 0));
    assert_eq!(d("on the 4th"), ymd(2019, 3, 4));
    assert_eq!(d("3rd of March"), ymd(2019, 3, 3));
    assert_eq!(tm("quarter to 13 in the afternoon"), hm(12, 45));
    assert_eq!(tm("10 o\"clock in the morning"), hm(10, 0));
    assert_eq!(tm("evening 4"), hm(16, 0));
    assert_eq!(tm("afternoon 12"), hm(12, 0));
}

#[test]
fn am_pm_policy() {
    assert_eq!(tm("at 2"), hm(14, 0));
    assert_eq!(tm("at 6"), hm(18, 0));
    assert_eq!(tm("at 7"), hm(7, 0));
    assert_eq!(tm("at 11"), hm(11, 0));
    assert_eq!(tm("at 12"), hm(12, 0));
    assert_eq!(tm("at 8 in the evening"), hm(20, 0));
    assert_eq!(tm("eight tonight"), hm(20, 0));
    assert_eq!(tm("3 in the morning"), hm(3, 0));
    assert_eq!(tm("ten am"), hm(10, 0));
    assert_eq!(tm("12 am"), hm(0, 0));
    assert_eq!(tm("midnight"), hm(0, 0));
    assert_eq!(tm("quarter to one"), hm(12, 45));
    assert_eq!(tm("twelve oh three"), hm(12, 3));
    assert_eq!(tm("nine fifty nine a m"), hm(9, 59));
    assert_eq!(tm("330 p.m."), hm(15, 30));
    assert_eq!(tm("16h30"), hm(16, 30));
}

#[test]
fn relative_dates() {
    assert_eq!(d("today"), ymd(2019, 3, 1));
    assert_eq!(d("tonight"), ymd(2019, 3, 1));
    assert_eq!(d("tomorrow"), ymd(2019, 3, 2));
    assert_eq!(d("day after tomorrow"), ymd(2019, 3, 3));
    assert_eq!(d("monday"), ymd(2019, 3, 4));
    assert_eq!(d("friday"), ymd(2019, 3, 8));
    assert_eq!(d("this friday"), ymd(2019, 3, 1));
    assert_eq!(d("next friday"), ymd(2019, 3, 8));
    assert_eq!(d("next week tuesday"), ymd(2019, 3, 5));
    assert_eq!(d("tuesday next week"), ymd(2019, 3, 5));
    assert_eq!(d("sunday this week"), ymd(2019, 3, 3));
    assert_eq!(d("in three days"), ymd(2019, 3, 4));
    assert_eq!(d("in a week"), ymd(2019, 3, 8));
    assert_eq!(d("the 1st"), ymd(2019, 3, 1));
    // A day already past this month is next month's.
    let later = date(2019, 3, 20).at(9, 0, 0, 0);
    assert_eq!(
        extract_datetime("the 7th", later, true).and_then(|m| m.date),
        ymd(2019, 4, 7)
    );
    assert_eq!(
        extract_datetime("march 3rd", later, true).and_then(|m| m.date),
        ymd(2020, 3, 3)
    );
    assert_eq!(
        extract_datetime("3/14", later, true).and_then(|m| m.date),
        ymd(2020, 3, 14)
    );
    // Month end: the 31st skips months without one.
    let apr = date(2019, 4, 2).at(9, 0, 0, 0);
    assert_eq!(
        extract_datetime("the 31st", apr, true).and_then(|m| m.date),
        ymd(2019, 5, 31)
    );
}

#[test]
fn next_week_semantics_from_tuesday() {
    // Duckling reference: Tuesday 2013-02-12.
    let tue = date(2013, 2, 12).at(4, 30, 0, 0);
    let dd = |s: &str| extract_datetime(s, tue, true).and_then(|m| m.date);
    assert_eq!(dd("next wednesday"), ymd(2013, 2, 20));
    assert_eq!(dd("wednesday"), ymd(2013, 2, 13));
    assert_eq!(dd("friday after next"), ymd(2013, 2, 22));
    assert_eq!(dd("3 fridays from now"), ymd(2013, 3, 1));
    assert_eq!(dd("first tuesday of october"), ymd(2013, 10, 1));
    assert_eq!(dd("Tuesday the 19th"), ymd(2013, 2, 19));
    assert_eq!(dd("Fri, Jul 18"), ymd(2014, 7, 18));
}

#[test]
fn windows_and_bounds() {
    let w = |s: &str| ex(s).map(|m| (m.earliest, m.latest));
    assert_eq!(w("morning"), Some((hm(8, 0), hm(12, 0))));
    assert_eq!(w("in the afternoon"), Some((hm(12, 0), hm(17, 0))));
    assert_eq!(w("evening"), Some((hm(17, 0), hm(21, 0))));
    assert_eq!(w("after lunch"), Some((hm(13, 0), None)));
    assert_eq!(w("after 3"), Some((hm(15, 0), None)));
    assert_eq!(w("before noon"), Some((None, hm(12, 0))));
    assert_eq!(w("between 2 and 4"), Some((hm(14, 0), hm(16, 0))));
    assert_eq!(tm("after 3"), None);
}

#[test]
fn bare_numbers() {
    let n = |s: &str, asked| extract_datetime(s, now(), asked);
    assert_eq!(n("two", true).and_then(|m| m.time), hm(14, 0));
    assert_eq!(n("10 30", true).and_then(|m| m.time), hm(10, 30));
    assert_eq!(n("two", false), None);
    assert_eq!(n("my number is 214 555 0123", false), None);
    assert_eq!(n("my number is 214 555 0123", true), None);
    assert_eq!(n("i have 2 units", false), None);
    assert_eq!(n("i have 2 units", true), None);
    assert_eq!(n("that one", true), None);
    assert_eq!(n("the first available", true), None);
    assert_eq!(n("", true), None);
    assert_eq!(n("yes please", true), None);
    // A date next to a number is enough of a cue.
    assert_eq!(
        n("tomorrow at two thirty", false).and_then(|m| m.time),
        hm(14, 30)
    );
}

#[test]
fn edge_cases() {
    let late = date(2019, 12, 31).at(23, 50, 0, 0);
    let m = extract_datetime("tomorrow at 23:50", late, false);
    assert_eq!(m.as_ref().and_then(|m| m.date), ymd(2020, 1, 1));
    assert_eq!(m.and_then(|m| m.time), hm(23, 50));
    // Malformed input never panics.
    for s in [
        "99:99",
        "the 45th",
        "2/30",
        "13/13",
        "at 25",
        "february 30th",
        "32nd of march",
        "0:00",
        "::",
        "//",
    ] {
        let _ = extract_datetime(s, late, true);
    }
    assert_eq!(
        extract_datetime("february 30th", late, true).and_then(|m| m.date),
        None
    );
}

#[test]
fn false_positives_stay_out() {
    let n = |s: &str, asked| extract_datetime(s, now(), asked);
    assert_eq!(n("book one on the 9th", true).and_then(|m| m.time), None);
    assert_eq!(
        n("on second thought make it friday", true).and_then(|m| m.date),
        ymd(2019, 3, 8)
    );
    assert_eq!(n("i live at 1234 oak street", false), None);
    assert_eq!(
        n("call me at five five five one two three four", false),
        None
    );
    assert_eq!(n("the second one", true), None);
    assert_eq!(n("the unit is on the 7th floor", true), None);
    assert_eq!(
        n("i'm calling about the ac unit on 5th street", false),
        None
    );
    assert_eq!(n("about 20 minutes", false), None);
    assert_eq!(n("it's a 2 story house", false), None);
    assert_eq!(
        n("we've had trouble since the 3rd", false).and_then(|m| m.date),
        None
    );
}

#[test]
fn more_phrasings() {
    let w = |s: &str| ex(s).map(|m| (m.earliest, m.latest));
    assert_eq!(w("from 9 to 11"), Some((hm(9, 0), hm(11, 0))));
    // "can't ... until" is a lower bound.
    assert_eq!(w("i can't go until 4:30"), Some((hm(16, 30), None)));
    assert_eq!(tm("noonish"), hm(12, 0));
    assert_eq!(tm("ten to five"), hm(16, 50));
    assert_eq!(tm("seven o'clock at night"), hm(19, 0));
    assert_eq!(tm("at 0800"), hm(8, 0));
    assert_eq!(d("the eleventh of next month"), ymd(2019, 4, 11));
    assert_eq!(d("two weeks from monday"), ymd(2019, 3, 18));
    assert_eq!(d("in ten days"), ymd(2019, 3, 11));
    let m = ex("in an hour");
    assert_eq!(m.as_ref().and_then(|m| m.date), ymd(2019, 3, 1));
    assert_eq!(m.and_then(|m| m.time), hm(11, 0));
    let m = ex("12 noon tomorrow");
    assert_eq!(m.as_ref().and_then(|m| m.date), ymd(2019, 3, 2));
    assert_eq!(m.and_then(|m| m.time), hm(12, 0));
}

#[test]
fn past_parts_of_day_are_not_a_visit_time() {
    for s in [
        "my ac quit working last night",
        "it started making noise yesterday morning",
        "its been blowing warm since this morning",
    ] {
        assert_eq!(extract_datetime(s, now(), false), None, "{s}");
    }
    // A part of day for the visit still counts.
    assert!(extract_datetime("can someone come tomorrow morning", now(), false).is_some());
}

#[test]
fn make_it_cues_a_time() {
    assert_eq!(
        extract_datetime("no make it three instead", now(), false).and_then(|m| m.time),
        hm(15, 0)
    );
    assert_eq!(tm("three instead"), hm(15, 0));
}

#[test]
fn soonest_is_a_mention_with_nothing_fixed() {
    let open = Some(DateTimeMention {
        date: None,
        time: None,
        earliest: None,
        latest: None,
    });
    assert_eq!(ex("as soon as possible"), open);
    assert_eq!(ex("uh whenever you guys can"), open);
    assert_eq!(ex("whatevers soonest"), open);
    assert_eq!(
        extract_datetime("i need someone out asap", now(), false),
        open
    );
    // Not asked, "whenever" describes the trouble, not the visit.
    assert_eq!(
        extract_datetime("whenever i turn it on it rattles", now(), false),
        None
    );
}
