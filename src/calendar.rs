//! A location's visits as an iCalendar feed (RFC 5545), for Google Calendar or Outlook to
//! subscribe to. Times are written in UTC (`…Z`), which every client reads without a
//! VTIMEZONE block; lines are folded at 75 octets and text is escaped as §3.3.11 says.

use frontdesk_engine::business::{Business, Location};
use hmac::{Hmac, KeyInit, Mac};
use jiff::Timestamp;
use jiff::tz::TimeZone;
use sha2::Sha256;

use crate::storage::Appointment;

/// A location's feed: `appointments` (booked and cancelled, those in the window) as events.
pub fn feed(
    business: &Business,
    location: &Location,
    zone: &TimeZone,
    appointments: &[Appointment],
    stamp: Timestamp,
) -> String {
    let mut out = String::new();
    let mut line = |text: String| fold(&mut out, &text);
    line("BEGIN:VCALENDAR".into());
    line("VERSION:2.0".into());
    line("PRODID:-//Frontdesk//Visits//EN".into());
    line("CALSCALE:GREGORIAN".into());
    line("METHOD:PUBLISH".into());
    line(format!(
        "X-WR-CALNAME:{}",
        escape(&format!("{} {}", business.name, location.name))
    ));
    let minutes = i64::from(business.visit_minutes);
    for visit in appointments {
        let (Ok(start), Ok(end)) = (
            zone.to_timestamp(visit.start),
            zone.to_timestamp(visit.start)
                .and_then(|s| s.checked_add(jiff::SignedDuration::from_mins(minutes))),
        ) else {
            continue;
        };
        line("BEGIN:VEVENT".into());
        line(format!("UID:visit-{}@frontdesk", visit.id));
        line(format!("DTSTAMP:{}", utc(stamp)));
        line(format!("DTSTART:{}", utc(start)));
        line(format!("DTEND:{}", utc(end)));
        let summary = match visit.issue.trim() {
            "" => visit.name.clone(),
            issue => format!("{}: {issue}", visit.name),
        };
        line(format!("SUMMARY:{}", escape(&summary)));
        line(format!(
            "DESCRIPTION:{}",
            escape(&format!(
                "Phone: {}\nBooked by call {}",
                visit.phone, visit.created_by_call
            ))
        ));
        line(format!("LOCATION:{}", escape(&location.name)));
        let status = match visit.status {
            crate::storage::AppointmentStatus::Booked => "CONFIRMED",
            crate::storage::AppointmentStatus::Cancelled => "CANCELLED",
        };
        line(format!("STATUS:{status}"));
        line("END:VEVENT".into());
    }
    line("END:VCALENDAR".into());
    out
}

/// The secret in a location's feed URL: only someone given the URL can read the feed, and it
/// survives restarts because it comes from the Twilio auth token the servers already share.
pub fn feed_key(secret: &str, location_code: &str) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| <Hmac<Sha256> as KeyInit>::new(&Default::default()));
    mac.update(b"frontdesk-calendar\x1f");
    mac.update(location_code.as_bytes());
    let digest = mac.finalize().into_bytes();
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// `20260602T190000Z`.
fn utc(at: Timestamp) -> String {
    at.strftime("%Y%m%dT%H%M%SZ").to_string()
}

/// TEXT escaping (§3.3.11): backslash, semicolon, comma, newline.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends `text` as a content line: CRLF-terminated, folded so no line is longer than 75
/// octets (§3.1), never inside a UTF-8 character.
fn fold(out: &mut String, text: &str) {
    let mut width = 0;
    for c in text.chars() {
        let len = c.len_utf8();
        if width + len > 75 {
            out.push_str("\r\n ");
            // The continuation's leading space counts toward its 75 octets.
            width = 1;
        }
        out.push(c);
        width += len;
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_fold_within_75_octets_and_text_is_escaped() {
        let mut out = String::new();
        let long = format!("SUMMARY:{}", escape(&"é, x; y\\z ".repeat(12)));
        fold(&mut out, &long);
        for line in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= 75, "{line:?} is {} octets", line.len());
        }
        let unfolded = out.replace("\r\n ", "");
        assert_eq!(unfolded.strip_suffix("\r\n"), Some(long.as_str()));
        assert!(long.contains("é\\, x\\; y\\\\z"));
    }

    #[test]
    fn keys_differ_by_location_and_secret() {
        assert_eq!(feed_key("a", "DAL"), feed_key("a", "DAL"));
        assert_ne!(feed_key("a", "DAL"), feed_key("a", "FTW"));
        assert_ne!(feed_key("a", "DAL"), feed_key("b", "DAL"));
        assert_eq!(feed_key("a", "DAL").len(), 32);
    }
}
