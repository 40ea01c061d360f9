//! TEMP shim
use jiff::civil::{Date, DateTime, Time};
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DateTimeMention { pub date: Option<Date>, pub time: Option<Time>, pub earliest: Option<Time>, pub latest: Option<Time> }
pub fn extract_datetime(text: &str, now: DateTime, _asked: bool) -> Option<DateTimeMention> {
    let t = super::normalize::normalize(text);
    let mut m = DateTimeMention { date: None, time: None, earliest: None, latest: None };
    if t.contains("tomorrow") { m.date = now.date().tomorrow().ok(); }
    if t.contains("at two") || t.contains("at 2") { m.time = Time::new(14, 0, 0, 0).ok(); }
    (m.date.is_some() || m.time.is_some()).then_some(m)
}
