//! A recorded call as a caller script (DESIGN.md, "caller scripts"): what the caller said as
//! `turns`, the visits the agent looked up as they were before the call as `given`, and how it
//! ended as `expect`. A call that went wrong becomes a regression test with
//! `frontdesk calls export CALL_ID > tests/transcripts/NAME.yaml`.

use std::collections::BTreeMap;

use crate::storage::{Appointment, AppointmentStatus, CallRecord, Speaker};

/// What the recorder writes for a silent turn and for keys pressed (`[keypad 12]`).
const SILENCE: &str = "[silence]";
const KEYPAD: (&str, &str) = ("[keypad ", "]");
/// The outcome storage gives a call the carrier ended before the agent closed it.
const CARRIER_ENDED: &str = "hung_up";

/// A YAML scalar: JSON's double-quoted strings are YAML's too.
fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

/// A file name for the call's script: its id with anything unusual replaced.
pub fn file_stem(call_id: &str) -> String {
    let stem: String = call_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("call-{stem}")
}

/// The caller script of `record`. `changed` are the appointments the call booked, moved or
/// cancelled, as they are now; `capacity` is the visits a start takes (a start the call found
/// full is given that many visits of other callers, so the replay finds it full too).
pub fn export(record: &CallRecord, changed: &[Appointment], capacity: u32) -> String {
    let mut out = String::new();
    let outcome = record.outcome.as_deref().unwrap_or("unfinished");
    out.push_str(&format!(
        "name: {}\n",
        quoted(&format!(
            "call {} on {}: {outcome}",
            record.call_id,
            record.started_at.strftime("%Y-%m-%d %H:%M")
        ))
    ));
    out.push_str(&format!(
        "now: {}\n",
        record.started_at.strftime("%Y-%m-%dT%H:%M:%S")
    ));
    if !record.caller.trim().is_empty() {
        out.push_str(&format!("caller_id: {}\n", quoted(&record.caller)));
    }
    let mut given: Vec<FoundVisit> = found_before(record).into_values().collect();
    given.extend(full_starts(record, capacity));
    if !given.is_empty() {
        out.push_str("given:\n  appointments:\n");
        for visit in &given {
            out.push_str(&format!(
                "    - {{ name: {}, phone: {}, location: {}, start: {}, issue: {} }}\n",
                quoted(&visit.name),
                quoted(&visit.phone),
                quoted(&visit.location),
                visit.start,
                quoted(&visit.issue)
            ));
        }
    }
    out.push_str("turns:\n");
    let mut turns = 0;
    for turn in record.turns.iter().filter(|t| t.speaker == Speaker::Caller) {
        turns += 1;
        let text = turn.text.trim();
        if text == SILENCE {
            out.push_str("  - silence\n");
        } else if let Some(keys) = text
            .strip_prefix(KEYPAD.0)
            .and_then(|rest| rest.strip_suffix(KEYPAD.1))
        {
            out.push_str(&format!("  - dtmf: {}\n", quoted(keys)));
        } else {
            out.push_str(&format!("  - say: {}\n", quoted(text)));
        }
    }
    if record.outcome.as_deref() == Some(CARRIER_ENDED) {
        out.push_str("  - hangup\n");
        turns += 1;
    }
    if turns == 0 {
        // A call the caller never spoke in: the script still needs a turn list.
        out.truncate(out.len() - "turns:\n".len());
        out.push_str("turns: []\n");
    }
    out.push_str("expect:\n");
    let expected_outcome = match outcome {
        // A hang-up replays as the script's `hangup` turn: the engine's own outcome then
        // (booked, if it had booked), which its `hangup` event noted, else abandoned.
        CARRIER_ENDED => record
            .events
            .iter()
            .rev()
            .find(|e| e.kind == "hangup")
            .and_then(|e| e.detail["outcome"].as_str())
            .unwrap_or("abandoned"),
        other => other,
    };
    out.push_str(&format!("  outcome: {expected_outcome}\n"));
    if let Some(visit) = changed.first() {
        out.push_str(&format!(
            "  appointment: {{ location: {}, start: {}, name: {}, status: {} }}\n",
            quoted(&visit.location),
            visit.start,
            quoted(&visit.name),
            match visit.status {
                AppointmentStatus::Booked => "booked",
                AppointmentStatus::Cancelled => "cancelled",
            }
        ));
    }
    if let Some(to) = &record.transfer_to {
        out.push_str(&format!("  transfer_to: {}\n", quoted(to)));
    }
    out
}

/// A visit as the lookup tool found it during the call, before the call changed it.
struct FoundVisit {
    name: String,
    phone: String,
    location: String,
    start: String,
    issue: String,
}

/// The booked visits the call's lookups found (and a visit the caller already had at the time
/// they asked for), by appointment id, as they were then.
fn found_before(record: &CallRecord) -> BTreeMap<i64, FoundVisit> {
    let mut found = BTreeMap::new();
    for event in &record.events {
        let visit = match event.detail["tool"].as_str() {
            _ if event.kind != "tool" => continue,
            Some("find_appointment") => &event.detail["result"]["appointment"],
            Some("check_availability") => &event.detail["result"]["already_booked"],
            _ => continue,
        };
        let text = |field: &str| visit[field].as_str().map(String::from);
        let (Some(id), Some(name), Some(phone), Some(location), Some(start)) = (
            visit["id"].as_i64(),
            text("name"),
            text("phone"),
            text("location"),
            text("start"),
        ) else {
            continue;
        };
        if visit["status"] != "booked" {
            continue;
        }
        found.entry(id).or_insert(FoundVisit {
            name,
            phone,
            location,
            start,
            issue: text("issue").unwrap_or_default(),
        });
    }
    found
}

/// Other callers' visits filling each start the call was told is full.
fn full_starts(record: &CallRecord, capacity: u32) -> Vec<FoundVisit> {
    let mut starts: Vec<(String, String)> = Vec::new();
    for event in &record.events {
        let result = &event.detail["result"];
        if event.kind != "tool"
            || event.detail["tool"] != "check_availability"
            || result["reason"] != "full"
        {
            continue;
        }
        let (Some(location), Some(date), Some(time)) = (
            result["location"].as_str(),
            result["asked"]["date"].as_str(),
            result["asked"]["time"].as_str(),
        ) else {
            continue;
        };
        let start = (location.to_string(), format!("{date}T{time}"));
        if !starts.contains(&start) {
            starts.push(start);
        }
    }
    let mut visits = Vec::new();
    for (location, start) in starts {
        for _ in 0..capacity {
            // 555-01xx numbers are reserved for fiction.
            let n = visits.len();
            visits.push(FoundVisit {
                name: format!("Other Caller {}", n + 1),
                phone: format!("+1214555{:04}", 100 + n % 100),
                location: location.clone(),
                start: start.clone(),
                issue: "booked by another caller".into(),
            });
        }
    }
    visits
}

#[cfg(test)]
mod tests {
    use frontdesk_engine::script::Script;
    use jiff::civil::date;
    use serde_json::json;

    use super::*;
    use crate::storage::{CallEvent, Turn};

    #[test]
    fn a_reschedule_exports_as_a_script_that_reads_back() {
        let turn = |seq, speaker, text: &str| Turn {
            seq,
            speaker,
            text: text.into(),
            state: None,
        };
        let record = CallRecord {
            call_id: "CA\"1".into(),
            caller: "+12145550188".into(),
            called: "+12145550100".into(),
            started_at: date(2026, 6, 1).at(9, 12, 0, 0),
            ended_at: Some(date(2026, 6, 1).at(9, 14, 0, 0)),
            outcome: Some("rescheduled".into()),
            transfer_to: None,
            carrier_status: None,
            duration_seconds: None,
            turns: vec![
                turn(1, Speaker::Agent, "How can I help?"),
                turn(2, Speaker::Caller, "i need to move my \"visit\""),
                turn(3, Speaker::Agent, "Is it this one?"),
                turn(4, Speaker::Caller, "[keypad 1]"),
                turn(5, Speaker::Caller, "[silence]"),
                turn(6, Speaker::Caller, "thursday at three"),
            ],
            events: vec![
                CallEvent {
                    id: 0,
                    kind: "tool".into(),
                    detail: json!({ "tool": "check_availability", "args": {}, "result": {
                        "available": false, "reason": "full", "location": "FTW",
                        "asked": { "date": "2026-06-04", "time": "14:00" } } }),
                },
                CallEvent {
                    id: 1,
                    kind: "tool".into(),
                    detail: json!({ "tool": "find_appointment", "args": {}, "result": {
                    "found": true,
                    "appointment": { "id": 4, "location": "FTW", "start": "2026-06-03T10:00",
                        "name": "Maria Garcia", "phone": "+12145550188",
                        "issue": "furnace tune-up", "status": "booked" } } }),
                },
            ],
        };
        let moved = Appointment {
            id: 4,
            location: "FTW".into(),
            start: date(2026, 6, 4).at(15, 0, 0, 0),
            name: "Maria Garcia".into(),
            phone: "+12145550188".into(),
            issue: "furnace tune-up".into(),
            status: AppointmentStatus::Booked,
            created_by_call: "given".into(),
            updated_by_call: Some("CA\"1".into()),
        };
        let yaml = export(&record, &[moved], 2);
        let script = Script::from_yaml(&yaml).unwrap_or_else(|e| panic!("{e}\n{yaml}"));
        assert_eq!(script.now, date(2026, 6, 1).at(9, 12, 0, 0));
        assert_eq!(script.caller_id.as_deref(), Some("+12145550188"));
        assert_eq!(script.turns.len(), 4);
        // The visit as found, and the start the caller was told is full, filled.
        assert_eq!(script.given.appointments.len(), 3);
        assert_eq!(
            script.given.appointments[0].start,
            date(2026, 6, 3).at(10, 0, 0, 0)
        );
        let full = &script.given.appointments[1..];
        assert!(
            full.iter()
                .all(|v| v.start == date(2026, 6, 4).at(14, 0, 0, 0))
        );
        assert_ne!(full[0].phone, full[1].phone);
        assert_eq!(script.expect.outcome.as_deref(), Some("rescheduled"));
        let expected = script.expect.appointment.unwrap();
        assert_eq!(expected.start, Some(date(2026, 6, 4).at(15, 0, 0, 0)));
        assert!(
            yaml.contains(r#"say: "i need to move my \"visit\"""#),
            "{yaml}"
        );
        assert!(yaml.contains(r#"dtmf: "1""#), "{yaml}");
        assert_eq!(file_stem("CA\"1"), "call-CA_1");
    }
}
