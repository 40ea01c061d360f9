//! Values as a person would say them on the phone. Used as template filters, so prompts read
//! "Tuesday, June 2nd at 2 PM" instead of "2026-06-02T14:00:00".

use jiff::civil::{Date, DateTime, Time, Weekday};

/// 14:00 -> "2 PM", 14:30 -> "2:30 PM", 12:00 -> "noon", 00:00 -> "midnight", 09:05 -> "9:05 AM".
pub fn speak_time(t: Time) -> String {
    let (h, m) = (t.hour(), t.minute());
    match (h, m) {
        (12, 0) => return "noon".into(),
        (0, 0) => return "midnight".into(),
        _ => {}
    }
    let suffix = if h < 12 { "AM" } else { "PM" };
    let h12 = match h % 12 {
        0 => 12,
        other => other,
    };
    if m == 0 {
        format!("{h12} {suffix}")
    } else {
        format!("{h12}:{m:02} {suffix}")
    }
}

/// "Tuesday, June 2nd". The year is left out: callers book within weeks, not years.
pub fn speak_date(d: Date) -> String {
    let day = u32::try_from(d.day()).unwrap_or_default();
    format!(
        "{}, {} {}",
        weekday_name(d.weekday()),
        month_name(d.month()),
        ordinal(day)
    )
}

/// "Tuesday, June 2nd at 2 PM".
pub fn speak_datetime(dt: DateTime) -> String {
    format!("{} at {}", speak_date(dt.date()), speak_time(dt.time()))
}

/// "+12145550123" -> "two one four, five five five, zero one two three". Digits are spoken one
/// by one so text-to-speech never reads "two hundred fourteen"; the commas give the pauses.
/// Other countries: "plus four four, two zero seven, ..." in groups of three.
/// Anything that isn't a "+digits" number is returned unchanged.
pub fn speak_phone(e164: &str) -> String {
    let Some(digits) = e164.trim().strip_prefix('+') else {
        return e164.to_owned();
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_ascii_digit()) {
        return e164.to_owned();
    }
    let groups: Vec<&str> = match digits.strip_prefix('1') {
        Some(us) if us.len() == 10 => vec![
            us.get(0..3).unwrap_or_default(),
            us.get(3..6).unwrap_or_default(),
            us.get(6..).unwrap_or_default(),
        ],
        _ => digits
            .as_bytes()
            .chunks(3)
            .filter_map(|c| std::str::from_utf8(c).ok())
            .collect(),
    };
    let spoken: Vec<String> = groups
        .iter()
        .map(|g| g.chars().map(digit_name).collect::<Vec<_>>().join(" "))
        .collect();
    let joined = spoken.join(", ");
    if digits.starts_with('1') && digits.len() == 11 {
        joined
    } else {
        format!("plus {joined}")
    }
}

/// 1 -> "1st", 2 -> "2nd", 3 -> "3rd", 11/12/13 -> "11th"/"12th"/"13th", 22 -> "22nd".
pub fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn digit_name(c: char) -> &'static str {
    match c {
        '0' => "zero",
        '1' => "one",
        '2' => "two",
        '3' => "three",
        '4' => "four",
        '5' => "five",
        '6' => "six",
        '7' => "seven",
        '8' => "eight",
        '9' => "nine",
        _ => "",
    }
}

fn weekday_name(w: Weekday) -> &'static str {
    match w {
        Weekday::Monday => "Monday",
        Weekday::Tuesday => "Tuesday",
        Weekday::Wednesday => "Wednesday",
        Weekday::Thursday => "Thursday",
        Weekday::Friday => "Friday",
        Weekday::Saturday => "Saturday",
        Weekday::Sunday => "Sunday",
    }
}

fn month_name(m: i8) -> &'static str {
    match m {
        1 => "January",
        2 => "February",
        3 => "March",
        4 => "April",
        5 => "May",
        6 => "June",
        7 => "July",
        8 => "August",
        9 => "September",
        10 => "October",
        11 => "November",
        _ => "December",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};

    #[test]
    fn times() {
        assert_eq!(speak_time(time(14, 0, 0, 0)), "2 PM");
        assert_eq!(speak_time(time(14, 30, 0, 0)), "2:30 PM");
        assert_eq!(speak_time(time(12, 0, 0, 0)), "noon");
        assert_eq!(speak_time(time(12, 30, 0, 0)), "12:30 PM");
        assert_eq!(speak_time(time(9, 5, 0, 0)), "9:05 AM");
        assert_eq!(speak_time(time(8, 0, 0, 0)), "8 AM");
        assert_eq!(speak_time(time(0, 0, 0, 0)), "midnight");
        assert_eq!(speak_time(time(0, 15, 0, 0)), "12:15 AM");
        assert_eq!(speak_time(time(23, 45, 0, 0)), "11:45 PM");
    }

    #[test]
    fn dates() {
        assert_eq!(speak_date(date(2026, 6, 2)), "Tuesday, June 2nd");
        assert_eq!(speak_date(date(2026, 1, 1)), "Thursday, January 1st");
        assert_eq!(speak_date(date(2026, 3, 13)), "Friday, March 13th");
        assert_eq!(
            speak_datetime(date(2026, 6, 2).at(14, 0, 0, 0)),
            "Tuesday, June 2nd at 2 PM"
        );
        assert_eq!(
            speak_datetime(date(2026, 6, 6).at(12, 0, 0, 0)),
            "Saturday, June 6th at noon"
        );
    }

    #[test]
    fn phones() {
        assert_eq!(
            speak_phone("+12145550123"),
            "two one four, five five five, zero one two three"
        );
        assert_eq!(
            speak_phone("+442079460958"),
            "plus four four two, zero seven nine, four six zero, nine five eight"
        );
        assert_eq!(speak_phone("not a number"), "not a number");
        assert_eq!(speak_phone("+"), "+");
    }

    #[test]
    fn ordinals() {
        let got: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101, 111, 112]
            .into_iter()
            .map(ordinal)
            .collect();
        assert_eq!(
            got,
            [
                "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd",
                "101st", "111th", "112th"
            ]
        );
    }
}
