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
            latest: hm(12, 0),
            prefer: None,
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
            latest: None,
            prefer: None,
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
        prefer: None,
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

/// Monday 2026-06-01 09:12, a working morning.
fn monday() -> DateTime {
    date(2026, 6, 1).at(9, 12, 0, 0)
}

fn at(now: DateTime, s: &str) -> Option<DateTimeMention> {
    extract_datetime(s, now, true)
}

fn heard(now: DateTime, s: &str) -> Option<DateTimeMention> {
    extract_datetime(s, now, false)
}

fn day_and_wish(m: Option<DateTimeMention>) -> Option<(Option<Date>, Option<StartPreference>)> {
    m.map(|m| (m.date, m.prefer))
}

#[test]
fn end_of_the_day_asks_for_the_last_start() {
    let last = Some(StartPreference::Last);
    let wed = ymd(2026, 6, 3);
    assert_eq!(
        day_and_wish(at(monday(), "end of the day on wednesday if you can")),
        Some((wed, last))
    );
    assert_eq!(
        day_and_wish(heard(monday(), "could somebody come wednesday end of day")),
        Some((wed, last))
    );
    assert_eq!(
        day_and_wish(at(monday(), "uh as late as you can tomorrow")),
        Some((ymd(2026, 6, 2), last))
    );
    assert_eq!(
        day_and_wish(at(monday(), "last thing thursday would be ideal")),
        Some((ymd(2026, 6, 4), last))
    );
    assert_eq!(
        day_and_wish(at(monday(), "friday whatever your latest appointment is")),
        Some((ymd(2026, 6, 5), last))
    );
    assert_eq!(
        day_and_wish(at(monday(), "the latest you got on tuesday")),
        Some((ymd(2026, 6, 2), last))
    );
    // No day: the wish alone is a mention (the scheduler finds the day).
    assert_eq!(
        day_and_wish(at(monday(), "as late in the day as possible")),
        Some((None, last))
    );
    let m = at(monday(), "end of day tomorrow");
    assert_eq!(m.as_ref().and_then(|m| m.time), None);
    assert_eq!(m.and_then(|m| m.prefer), last);
}

#[test]
fn end_of_the_day_idioms_and_bounds_are_not_a_wish() {
    assert_eq!(
        heard(
            monday(),
            "at the end of the day i just need it to blow cold"
        ),
        None
    );
    assert_eq!(
        at(monday(), "honestly at the end of the day its whatever"),
        None
    );
    assert_eq!(
        heard(monday(), "at the end of the day the system is just old"),
        None
    );
    assert_eq!(
        at(monday(), "end of the day works").and_then(|m| m.prefer),
        Some(StartPreference::Last)
    );
    // "at the latest" is an upper bound.
    let m = at(monday(), "by three at the latest");
    assert_eq!(m.as_ref().and_then(|m| m.latest), hm(15, 0));
    assert_eq!(m.and_then(|m| m.prefer), None);
    // A clock time wins over the wish.
    let m = at(monday(), "end of the day like five");
    assert_eq!(m.as_ref().and_then(|m| m.time), hm(17, 0));
    assert_eq!(m.and_then(|m| m.prefer), None);
    // A house sale's closing is not the business closing.
    assert_eq!(
        heard(
            monday(),
            "the buyer needs the furnace inspected before closing"
        ),
        None
    );
    // The caller's own last visit is not a wish.
    assert_eq!(
        heard(monday(), "my last appointment with you guys went fine"),
        None
    );
}

#[test]
fn first_thing_asks_for_the_first_start() {
    let first = Some(StartPreference::First);
    assert_eq!(
        day_and_wish(at(monday(), "first thing friday")),
        Some((ymd(2026, 6, 5), first))
    );
    let m = at(monday(), "thursday first thing in the morning please");
    assert_eq!(m.as_ref().and_then(|m| m.date), ymd(2026, 6, 4));
    assert_eq!(m.as_ref().and_then(|m| m.prefer), first);
    assert_eq!(m.and_then(|m| m.latest), hm(12, 0));
    // No day: a day whose first start is still ahead (the scheduler decides which).
    let m = heard(monday(), "can you send someone first thing in the morning");
    assert_eq!(m.as_ref().and_then(|m| m.date), None);
    assert_eq!(m.and_then(|m| m.prefer), first);
    assert_eq!(
        heard(monday(), "the first thing i noticed was the noise"),
        None
    );
    // "As early as possible" and "the earliest you have" on a day: the day, first free start.
    for s in [
        "wednesday as early as possible",
        "whats the earliest you have on wednesday",
        "wednesday morning as early as you can",
    ] {
        let m = at(monday(), s);
        assert_eq!(m.as_ref().and_then(|m| m.date), ymd(2026, 6, 3), "{s}");
        assert_eq!(m.and_then(|m| m.time), None, "{s}");
    }
}

#[test]
fn lunch_and_midday_are_noon() {
    let noon = hm(12, 0);
    let m = at(monday(), "could they swing by around lunch on tuesday");
    assert_eq!(m.as_ref().and_then(|m| m.date), ymd(2026, 6, 2));
    assert_eq!(m.and_then(|m| m.time), noon);
    assert_eq!(tm("lunchtime works for me"), noon);
    assert_eq!(tm("maybe noonish"), noon);
    assert_eq!(tm("midday thursday"), noon);
    assert_eq!(tm("sometime during my lunch hour"), noon);
    assert_eq!(
        heard(monday(), "can someone come by at lunch tomorrow").and_then(|m| m.time),
        noon
    );
    // Not asked and no day named: a meal is not a time.
    assert_eq!(heard(monday(), "sorry i was eating lunch"), None);
    // A clock time said with it wins; bounds stay bounds.
    assert_eq!(tm("on my lunch break at 12:30"), hm(12, 30));
    let m = ex("after lunch");
    assert_eq!(m.as_ref().and_then(|m| m.time), None);
    assert_eq!(m.and_then(|m| m.earliest), hm(13, 0));
    let m = ex("before lunch");
    assert_eq!(m.as_ref().and_then(|m| m.time), None);
    assert_eq!(m.and_then(|m| m.latest), hm(12, 0));
}

#[test]
fn coming_weekdays_and_weeks() {
    let dd = |now: DateTime, s: &str| at(now, s).and_then(|m| m.date);
    let wednesday = date(2026, 6, 3).at(15, 0, 0, 0);
    let friday_evening = date(2026, 6, 5).at(19, 40, 0, 0);
    assert_eq!(dd(wednesday, "this coming friday"), ymd(2026, 6, 5));
    assert_eq!(dd(wednesday, "coming friday at three"), ymd(2026, 6, 5));
    // Said on a Friday, "this coming friday" is a week away.
    assert_eq!(
        dd(friday_evening, "this coming friday at ten"),
        ymd(2026, 6, 12)
    );
    assert_eq!(dd(friday_evening, "the upcoming friday"), ymd(2026, 6, 12));
    // "Next week" with a weekday is that day of next week, not tomorrow.
    assert_eq!(dd(monday(), "uh next week tuesday at one"), ymd(2026, 6, 9));
    assert_eq!(dd(monday(), "tuesday next week"), ymd(2026, 6, 9));
    assert_eq!(dd(monday(), "next week on thursday"), ymd(2026, 6, 11));
    assert_eq!(
        dd(monday(), "the week after next on monday"),
        ymd(2026, 6, 15)
    );
    assert_eq!(dd(wednesday, "this week maybe friday"), ymd(2026, 6, 5));
    // Weekends.
    assert_eq!(dd(wednesday, "sometime this weekend"), ymd(2026, 6, 6));
    assert_eq!(dd(wednesday, "this weekend sunday maybe"), ymd(2026, 6, 7));
    assert_eq!(dd(wednesday, "the weekend after next"), ymd(2026, 6, 13));
    let m = at(wednesday, "this weekend saturday around ten would be best");
    assert_eq!(m.as_ref().and_then(|m| m.date), ymd(2026, 6, 6));
    assert_eq!(m.and_then(|m| m.time), hm(10, 0));
    // Week offsets and days of the month.
    assert_eq!(dd(monday(), "a week from today"), ymd(2026, 6, 8));
    assert_eq!(dd(monday(), "one week from friday"), ymd(2026, 6, 12));
    assert_eq!(dd(monday(), "monday the fifteenth"), ymd(2026, 6, 15));
    assert_eq!(dd(monday(), "the twelfth at nine"), ymd(2026, 6, 12));
}

#[test]
fn greetings_are_not_times() {
    for s in [
        "good morning i need someone to look at my furnace",
        "morning",
        "hey morning how are you",
        "have a good evening",
        "good afternoon yes this is about my ac",
        "ok thanks good night",
        "morning im calling about a leak",
        "afternoon is this the heating and air place",
        "morning could somebody help me with my thermostat",
    ] {
        assert_eq!(heard(monday(), s), None, "{s}");
    }
    // The part of day still counts when it answers the question or qualifies a visit.
    let w = |m: Option<DateTimeMention>| m.map(|m| (m.earliest, m.latest));
    assert_eq!(w(at(monday(), "morning")), Some((hm(8, 0), hm(12, 0))));
    assert_eq!(
        w(heard(monday(), "morning works best for me")),
        Some((hm(8, 0), hm(12, 0)))
    );
    assert_eq!(
        w(at(monday(), "morning i guess")),
        Some((hm(8, 0), hm(12, 0)))
    );
    // A greeting gives no am/pm hint: "at 2" stays the afternoon.
    assert_eq!(
        heard(monday(), "good morning can someone come at 2").and_then(|m| m.time),
        hm(14, 0)
    );
    let m = heard(monday(), "good morning could you come tomorrow afternoon");
    assert_eq!(m.as_ref().and_then(|m| m.earliest), hm(12, 0));
    assert_eq!(m.and_then(|m| m.latest), hm(17, 0));
}

#[test]
fn what_recognizers_write() {
    assert_eq!(
        heard(monday(), "round 2 tomorrow").and_then(|m| m.time),
        hm(14, 0)
    );
    assert_eq!(
        heard(monday(), "could be 'round two on friday").and_then(|m| m.time),
        hm(14, 0)
    );
    assert_eq!(tm("Tomorrow, 2 PM."), hm(14, 0));
    assert_eq!(tm("Wednesday at 10:30 a.m."), hm(10, 30));
    assert_eq!(tm("At 9."), hm(9, 0));
    assert_eq!(tm("Friday, at 9. Thanks."), hm(9, 0));
}

#[test]
fn phone_digits_are_never_a_date_or_time() {
    for s in [
        "my number is +1 214-555-0199",
        "its 214 555 0199",
        "two one four five five five zero one nine nine",
        "eight one seven five five five oh one two three",
        "you can reach me at 469 555 0144",
        "817-555-2291",
    ] {
        assert_eq!(at(monday(), s), None, "{s}");
        assert_eq!(heard(monday(), s), None, "{s}");
    }
    assert_eq!(at(monday(), "1-800-555-0100"), None);
    // Written dates are not phone numbers.
    assert_eq!(d("2019-03-14"), ymd(2019, 3, 14));
    assert_eq!(d("03-14-2019"), ymd(2019, 3, 14));
    // A time said beside a number is still read.
    let m = heard(
        monday(),
        "call me on 214 555 0199 and tomorrow at two works",
    );
    assert_eq!(m.as_ref().and_then(|m| m.date), ymd(2026, 6, 2));
    assert_eq!(m.and_then(|m| m.time), hm(14, 0));
}

#[test]
fn tonight_and_this_evening_are_pm_today() {
    let late = date(2026, 6, 1).at(15, 30, 0, 0);
    let m = at(late, "tonight at seven thirty");
    assert_eq!(m.as_ref().and_then(|m| m.date), ymd(2026, 6, 1));
    assert_eq!(m.and_then(|m| m.time), hm(19, 30));
    assert_eq!(at(late, "tonight at 5:30").and_then(|m| m.time), hm(17, 30));
    // Said first and alone, "tonight" is a time, not a greeting.
    let m = heard(late, "tonight");
    assert_eq!(m.as_ref().and_then(|m| m.earliest), hm(17, 0));
    assert_eq!(m.and_then(|m| m.latest), hm(21, 0));
    let m = at(late, "this evening at six if thats ok");
    assert_eq!(m.as_ref().and_then(|m| m.date), ymd(2026, 6, 1));
    assert_eq!(m.and_then(|m| m.time), hm(18, 0));
}

#[test]
fn free_after_a_shift_and_the_way_home() {
    let window = |m: Option<DateTimeMention>| m.map(|m| (m.time, m.earliest, m.latest));
    // Where the caller is calling from is no time.
    assert_eq!(
        window(at(monday(), "im calling from work about my heater")),
        None
    );
    assert_eq!(
        window(at(monday(), "any time after work tomorrow")).and_then(|w| w.1),
        hm(17, 0)
    );
    assert_eq!(
        window(at(
            monday(),
            "after my shift ends at four i need half an hour to get home"
        )),
        Some((None, hm(16, 30), None))
    );
    assert_eq!(
        window(at(
            monday(),
            "i get off work at 5 and its about a twenty minute drive"
        )),
        Some((None, hm(17, 20), None))
    );
    assert_eq!(
        window(at(monday(), "im at work till four thirty")),
        Some((None, hm(16, 30), None))
    );
    assert_eq!(
        window(at(monday(), "tomorrow ill be home by six")),
        Some((None, hm(18, 0), None))
    );
    assert_eq!(
        window(heard(monday(), "were normally home by four thirty")),
        Some((None, hm(16, 30), None))
    );
    // Without a busy spell, "by" and "until" stay upper bounds.
    assert_eq!(
        window(at(monday(), "can you get here by 3")),
        Some((None, None, hm(15, 0)))
    );
    assert_eq!(
        window(at(monday(), "im home until two")),
        Some((None, None, hm(14, 0)))
    );
    // A visit to the caller's home is a time, not the end of their day.
    assert_eq!(
        at(monday(), "can your guy come over at 3").and_then(|m| m.time),
        hm(15, 0)
    );
    assert_eq!(
        at(monday(), "send someone to my home at 10 tomorrow").and_then(|m| m.time),
        hm(10, 0)
    );
    // "in 20 minutes" is from now, not a way home.
    let m = at(monday(), "i can be there in 20 minutes");
    assert_eq!(m.and_then(|m| m.time), hm(9, 32));
}

#[test]
fn any_time_on_a_day_is_the_day_only() {
    for s in [
        "whenever youre free thursday",
        "any time thursday",
        "anytime on thursday is fine im home all day",
        "thursday whenever works for you guys",
    ] {
        let m = at(monday(), s);
        assert_eq!(
            m,
            Some(DateTimeMention {
                date: ymd(2026, 6, 4),
                time: None,
                earliest: None,
                latest: None,
                prefer: None,
            }),
            "{s}"
        );
    }
}
