//! What the dashboard shows, read once for the pages and the JSON API alike: the query
//! parameters each view takes, and the figures computed from the call record.

use std::collections::{BTreeMap, HashMap};

use jiff::ToSpan;
use jiff::civil::{Date, DateTime, Time};
use serde::{Deserialize, Serialize};

use super::quality::CallQuality;
use crate::call_event::{Event, ModelUse};
use crate::llm::totals::LlmTotals;
use crate::server::AppState;
use crate::storage::{
    Appointment, AppointmentFilter, AppointmentStatus, CallFilter, CallRecord, OutboxMessage,
    Speaker, StorageError,
};

/// Why a view could not be shown.
#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    /// A query parameter the view cannot read; the message says what it takes.
    #[error("{0}")]
    BadQuery(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

fn midnight(date: Date) -> DateTime {
    date.to_datetime(Time::midnight())
}

fn parse_date(name: &str, text: &str) -> Result<Date, ViewError> {
    text.trim()
        .parse::<Date>()
        .map_err(|_| ViewError::BadQuery(format!("{name} {text:?}: use a date like 2026-12-06")))
}

/// Blank form fields count as not given.
fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// `?date=&outcome=&caller=&flow=&q=&limit=` of the call list.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct CallsQuery {
    pub date: Option<String>,
    pub outcome: Option<String>,
    pub caller: Option<String>,
    pub flow: Option<String>,
    pub q: Option<String>,
    pub limit: Option<u32>,
}

impl CallsQuery {
    pub fn filter(&self, state: &AppState) -> Result<CallFilter, ViewError> {
        let mut filter = CallFilter::latest(self.limit.unwrap_or(200).clamp(1, 1000));
        if let Some(date) = given(&self.date) {
            let day = parse_date("date", date)?;
            filter.since = Some(midnight(day));
            filter.until =
                Some(midnight(day.tomorrow().map_err(|e| {
                    ViewError::BadQuery(format!("date {date:?}: {e}"))
                })?));
        }
        if let Some(outcome) = given(&self.outcome) {
            filter.outcome = Some(
                crate::cli::calls::parse_outcome(outcome)
                    .map_err(|e| ViewError::BadQuery(e.to_string()))?,
            );
        }
        if let Some(caller) = given(&self.caller) {
            filter.caller_digits = Some(
                crate::cli::calls::caller_digits(caller)
                    .map_err(|e| ViewError::BadQuery(e.to_string()))?,
            );
        }
        if let Some(flow) = given(&self.flow) {
            if state.driver().engine.flow(flow).is_none() {
                return Err(ViewError::BadQuery(format!(
                    "flow {flow:?}: use one of {}",
                    flow_names(state).join(", ")
                )));
            }
            filter.flow = Some(flow.to_string());
        }
        filter.text = given(&self.q).map(String::from);
        Ok(filter)
    }
}

pub fn flow_names(state: &AppState) -> Vec<String> {
    state
        .driver()
        .engine
        .flows()
        .map(|f| f.flow.value.clone())
        .collect()
}

/// `?from=&to=&location=&q=&status=&limit=` of the appointment search (API).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct AppointmentsQuery {
    pub from: Option<String>,
    pub to: Option<String>,
    pub location: Option<String>,
    pub q: Option<String>,
    pub status: Option<String>,
    pub limit: Option<u32>,
}

impl AppointmentsQuery {
    pub fn filter(&self, state: &AppState) -> Result<AppointmentFilter, ViewError> {
        let location = given(&self.location)
            .map(|code| known_location(state, code))
            .transpose()?;
        let status = match given(&self.status) {
            None => None,
            Some("booked") => Some(AppointmentStatus::Booked),
            Some("cancelled") => Some(AppointmentStatus::Cancelled),
            Some(other) => {
                return Err(ViewError::BadQuery(format!(
                    "status {other:?}: use booked or cancelled"
                )));
            }
        };
        Ok(AppointmentFilter {
            from: given(&self.from)
                .map(|d| parse_date("from", d).map(midnight))
                .transpose()?,
            to: given(&self.to)
                .map(|d| parse_date("to", d).map(midnight))
                .transpose()?,
            location,
            text: given(&self.q).map(String::from),
            status,
            limit: self.limit.unwrap_or(500).clamp(1, 5000),
        })
    }
}

fn known_location(state: &AppState, code: &str) -> Result<String, ViewError> {
    let business = state.driver().engine.business();
    match business
        .locations
        .iter()
        .find(|l| l.code.eq_ignore_ascii_case(code))
    {
        Some(location) => Ok(location.code.clone()),
        None => Err(ViewError::BadQuery(format!(
            "location {code:?}: use one of {}",
            business
                .locations
                .iter()
                .map(|l| l.code.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

/// One line of a call's transcript.
#[derive(Debug, Clone, Serialize)]
pub struct TurnLine {
    pub seq: u32,
    pub speaker: Speaker,
    pub text: String,
    pub flow: Option<String>,
    pub state: Option<String>,
    /// An agent line that ended an answer: how long Frontdesk took to give it.
    pub latency_ms: Option<u64>,
}

/// One use of the model, for the call page.
#[derive(Debug, Clone, Serialize)]
pub struct ModelCall {
    pub purpose: &'static str,
    pub model: Option<String>,
    pub prompt_tokens: u32,
    pub completion_tokens: u32,
    pub latency_ms: Option<u128>,
    pub failed: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct RecordingLink {
    pub sid: String,
    pub url: String,
    pub duration_seconds: Option<u32>,
    pub status: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct EventLine {
    pub kind: String,
    pub detail: String,
}

/// Everything about one call: the call page and `GET /dashboard/api/calls/{id}`.
#[derive(Debug, Clone, Serialize)]
pub struct CallDetail {
    pub call_id: String,
    pub caller: String,
    pub called: String,
    pub started_at: DateTime,
    pub ended_at: Option<DateTime>,
    pub outcome: Option<String>,
    pub transfer_to: Option<String>,
    pub carrier_status: Option<String>,
    pub length_seconds: Option<i64>,
    pub summary: Option<String>,
    /// The most urgent level the call reached, for a business with urgency levels.
    pub urgency: Option<String>,
    pub transcript: Vec<TurnLine>,
    /// The slots as the call left them (a corrected slot has its last value).
    pub slots: BTreeMap<String, String>,
    pub events: Vec<EventLine>,
    pub model_calls: Vec<ModelCall>,
    pub llm_totals: LlmTotals,
    pub messages: Vec<OutboxMessage>,
    pub recordings: Vec<RecordingLink>,
    pub appointments: Vec<Appointment>,
    pub quality: CallQuality,
}

/// A slot value as the owner reads it: a location by its name, a time as its date and time,
/// anything else as its parts.
fn slot_text(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::String(text) => text.clone(),
        Value::Object(fields) => match fields.get("name").and_then(Value::as_str) {
            Some(name) => name.to_string(),
            None => fields
                .values()
                .filter(|v| !v.is_null())
                .map(slot_text)
                .collect::<Vec<_>>()
                .join(" "),
        },
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

pub fn length_seconds(record: &CallRecord) -> Option<i64> {
    if let Some(seconds) = record.duration_seconds {
        return Some(seconds);
    }
    let ended = record.ended_at?;
    let span = ended.since(record.started_at).ok()?;
    span.total(jiff::Unit::Second).ok().map(|s| s as i64)
}

pub async fn call_detail(state: &AppState, call_id: &str) -> Result<CallDetail, ViewError> {
    let storage = &state.driver().storage;
    let record = storage
        .get_call(call_id)
        .await?
        .ok_or_else(|| ViewError::NotFound(format!("call {call_id}")))?;
    let messages = storage.messages(Some(call_id)).await?;
    let appointments = storage.appointments_for_call(call_id).await?;
    let mut summary = None;
    let mut urgency = None;
    let mut slots = BTreeMap::new();
    let mut model_calls = Vec::new();
    let mut recordings = Vec::new();
    let mut latencies: HashMap<u32, u64> = HashMap::new();
    for event in &record.events {
        match event.event() {
            Event::TurnLatency { seq, ms } => {
                latencies.insert(seq, ms);
            }
            Event::Summary { text } => summary = Some(text),
            // The engine only ever raises it: the last one is the call's.
            Event::Engine { kind, detail } if kind == "urgency" => {
                urgency = detail["level"].as_str().map(str::to_string);
            }
            Event::Recording {
                recording_sid,
                url,
                duration_seconds,
                status,
            } => recordings.push(RecordingLink {
                sid: recording_sid,
                url,
                duration_seconds,
                status,
            }),
            Event::Llm(used) => {
                let purpose = match &used {
                    ModelUse::ExtractSlots { .. } => "read slots",
                    ModelUse::Answer { .. } => "answer",
                };
                let failed = match &used {
                    ModelUse::ExtractSlots { error, .. } => error.is_some(),
                    ModelUse::Answer { report } => report.error.is_some(),
                };
                let stats = used.stats();
                model_calls.push(ModelCall {
                    purpose,
                    model: stats.map(|s| s.model.clone()),
                    prompt_tokens: stats.map_or(0, |s| s.prompt_tokens),
                    completion_tokens: stats.map_or(0, |s| s.completion_tokens),
                    latency_ms: stats.map(|s| s.latency.as_millis()),
                    failed,
                });
            }
            Event::Engine { kind, detail } if kind == "slot_filled" => {
                if let (Some(slot), Some(value)) = (detail["slot"].as_str(), detail.get("value")) {
                    slots.insert(slot.to_string(), slot_text(value));
                }
            }
            _ => {}
        }
    }
    let transcript = record
        .turns
        .iter()
        .map(|turn| {
            let (flow, state) = match turn.state.as_deref().and_then(|s| s.split_once('/')) {
                Some((flow, state)) => (Some(flow.to_string()), Some(state.to_string())),
                None => (None, turn.state.clone()),
            };
            TurnLine {
                seq: turn.seq,
                speaker: turn.speaker,
                text: turn.text.clone(),
                flow,
                state,
                latency_ms: latencies.get(&turn.seq).copied(),
            }
        })
        .collect();
    let events = record
        .events
        .iter()
        .map(|e| EventLine {
            kind: e.kind.clone(),
            detail: e.detail.to_string(),
        })
        .collect();
    Ok(CallDetail {
        call_id: record.call_id.clone(),
        caller: record.caller.clone(),
        called: record.called.clone(),
        started_at: record.started_at,
        ended_at: record.ended_at,
        outcome: record.outcome.clone(),
        transfer_to: record.transfer_to.clone(),
        carrier_status: record.carrier_status.clone(),
        length_seconds: length_seconds(&record),
        summary,
        urgency,
        transcript,
        slots,
        events,
        model_calls,
        llm_totals: LlmTotals::from_events(&record.events),
        messages,
        recordings,
        appointments,
        quality: CallQuality::of(&record),
    })
}

/// A call waiting for a person to ring back: its transfer went unanswered.
#[derive(Debug, Clone, Serialize)]
pub struct Callback {
    pub call_id: String,
    pub caller: String,
    pub started_at: DateTime,
}

/// The Today view.
#[derive(Debug, Clone, Serialize)]
pub struct Today {
    pub date: Date,
    pub live_calls: usize,
    pub calls: usize,
    pub by_outcome: Vec<(String, u64)>,
    pub bookings: u64,
    pub emergencies: u64,
    pub transfers: u64,
    pub callbacks: Vec<Callback>,
    pub average_handle_seconds: Option<i64>,
    /// Booked calls per call that went into the booking flow, in percent.
    pub booking_conversion: Option<u32>,
    pub per_hour: [u64; 24],
}

pub async fn today(state: &AppState, date: Date) -> Result<Today, ViewError> {
    let from = midnight(date);
    let to = from
        .checked_add(1.day())
        .map_err(|e| ViewError::BadQuery(e.to_string()))?;
    let records = state
        .driver()
        .storage
        .call_records_between(from, to)
        .await?;
    let mut outcomes: BTreeMap<String, u64> = BTreeMap::new();
    let mut per_hour = [0u64; 24];
    let mut callbacks = Vec::new();
    let (mut lengths, mut booking_flow) = (Vec::new(), 0u64);
    for record in &records {
        let outcome = record.outcome.clone().unwrap_or_else(|| "live".into());
        *outcomes.entry(outcome).or_default() += 1;
        if let Some(count) = per_hour.get_mut(record.started_at.hour() as usize) {
            *count += 1;
        }
        if let Some(seconds) = length_seconds(record) {
            lengths.push(seconds);
        }
        let events: Vec<Event> = record.events.iter().map(|e| e.event()).collect();
        if events.iter().any(|e| {
            matches!(e, Event::Engine { kind, detail } if kind == "flow_started" && detail["flow"] == "booking")
        }) {
            booking_flow += 1;
        }
        if events.iter().any(|e| {
            matches!(
                e,
                Event::CallbackQueued { .. } | Event::TransferFailed { .. }
            )
        }) {
            callbacks.push(Callback {
                call_id: record.call_id.clone(),
                caller: record.caller.clone(),
                started_at: record.started_at,
            });
        }
    }
    let count = |outcome: &str| outcomes.get(outcome).copied().unwrap_or(0);
    let bookings = count("booked");
    let mut by_outcome: Vec<(String, u64)> = outcomes.clone().into_iter().collect();
    by_outcome.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(Today {
        date,
        live_calls: state.live_calls(),
        calls: records.len(),
        bookings,
        emergencies: count("emergency"),
        transfers: count("transferred"),
        by_outcome,
        callbacks,
        average_handle_seconds: (!lengths.is_empty())
            .then(|| lengths.iter().sum::<i64>() / lengths.len() as i64),
        booking_conversion: (booking_flow > 0)
            .then(|| (bookings.min(booking_flow) * 100 / booking_flow) as u32),
        per_hour,
    })
}

/// One day of the quality trend.
#[derive(Debug, Clone, Serialize)]
pub struct QualityDay {
    pub date: Date,
    pub calls: usize,
    /// Percent of the day's calls that reached a goal.
    pub reached_goal: u32,
    pub average_score: f64,
}

/// The Quality view: the last seven days up to `date`.
#[derive(Debug, Clone, Serialize)]
pub struct QualityWeek {
    pub from: Date,
    pub to: Date,
    pub days: Vec<QualityDay>,
    /// Worst first.
    pub calls: Vec<QualityLine>,
    pub totals: QualityTotals,
}

#[derive(Debug, Clone, Serialize)]
pub struct QualityLine {
    #[serde(flatten)]
    pub quality: CallQuality,
    pub caller: String,
    pub started_at: DateTime,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct QualityTotals {
    pub calls: usize,
    pub reached_goal: usize,
    pub reprompts: u32,
    pub no_match: u32,
    pub no_input: u32,
    pub barge_ins: u32,
    pub frustration: u32,
    pub transfers: usize,
}

/// The seven days ending with `date`.
fn week_to(date: Date) -> Result<(DateTime, DateTime), ViewError> {
    let bad = |e: jiff::Error| ViewError::BadQuery(e.to_string());
    let to = midnight(date.tomorrow().map_err(bad)?);
    let from = midnight(date.checked_sub(6.days()).map_err(bad)?);
    Ok((from, to))
}

pub async fn quality_week(
    state: &AppState,
    date: Date,
    worst: usize,
) -> Result<QualityWeek, ViewError> {
    let (from, to) = week_to(date)?;
    let records = state
        .driver()
        .storage
        .call_records_between(from, to)
        .await?;
    let mut by_day: BTreeMap<Date, Vec<CallQuality>> = BTreeMap::new();
    let mut day = from.date();
    while day <= date {
        by_day.insert(day, Vec::new());
        day = match day.tomorrow() {
            Ok(next) => next,
            Err(_) => break,
        };
    }
    let mut lines = Vec::with_capacity(records.len());
    let mut totals = QualityTotals::default();
    for record in &records {
        let quality = CallQuality::of(record);
        totals.calls += 1;
        totals.reached_goal += usize::from(quality.reached_goal);
        totals.reprompts += quality.reprompts;
        totals.no_match += quality.no_match;
        totals.no_input += quality.no_input;
        totals.barge_ins += quality.barge_ins;
        totals.frustration += quality.frustration;
        totals.transfers += usize::from(quality.transfer_reason.is_some());
        by_day
            .entry(record.started_at.date())
            .or_default()
            .push(quality.clone());
        lines.push(QualityLine {
            quality,
            caller: record.caller.clone(),
            started_at: record.started_at,
        });
    }
    lines.sort_by(|a, b| {
        b.quality
            .score
            .cmp(&a.quality.score)
            .then(b.started_at.cmp(&a.started_at))
    });
    lines.truncate(worst);
    let days = by_day
        .into_iter()
        .map(|(date, calls)| {
            let n = calls.len();
            let reached = calls.iter().filter(|q| q.reached_goal).count();
            let score: u32 = calls.iter().map(|q| q.score).sum();
            QualityDay {
                date,
                calls: n,
                reached_goal: (reached * 100).checked_div(n).unwrap_or(0) as u32,
                average_score: if n == 0 {
                    0.0
                } else {
                    f64::from(score) / n as f64
                },
            }
        })
        .collect();
    Ok(QualityWeek {
        from: from.date(),
        to: date,
        days,
        calls: lines,
        totals,
    })
}

/// Calls through each flow and each of its states in the week ending `date`.
#[derive(Debug, Clone, Default)]
pub struct FlowTraffic {
    /// Flow → calls that went into it.
    pub calls: HashMap<String, u64>,
    /// Flow → state → calls that reached it.
    pub states: HashMap<String, HashMap<String, u64>>,
}

pub async fn flow_traffic(state: &AppState, date: Date) -> Result<FlowTraffic, ViewError> {
    let (from, to) = week_to(date)?;
    let records = state
        .driver()
        .storage
        .call_records_between(from, to)
        .await?;
    let mut traffic = FlowTraffic::default();
    for record in &records {
        let mut seen = std::collections::HashSet::new();
        // A flow the call entered, by its start event or a turn in one of its states (a flow
        // that hands the call over at once, as an emergency does, has no turn of its own).
        let mut flows: std::collections::HashSet<&str> = record
            .events
            .iter()
            .filter(|e| e.kind == "flow_started")
            .filter_map(|e| e.detail["flow"].as_str())
            .collect();
        for turn in &record.turns {
            if let Some((flow, _)) = turn.state.as_deref().and_then(|s| s.split_once('/')) {
                flows.insert(flow);
            }
        }
        for flow in flows {
            *traffic.calls.entry(flow.to_string()).or_default() += 1;
        }
        for turn in &record.turns {
            let Some((flow, name)) = turn.state.as_deref().and_then(|s| s.split_once('/')) else {
                continue;
            };
            if seen.insert((flow, name)) {
                *traffic
                    .states
                    .entry(flow.to_string())
                    .or_default()
                    .entry(name.to_string())
                    .or_default() += 1;
            }
        }
    }
    Ok(traffic)
}

/// `?location=&date=&view=day|week` of the appointments view.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct CalendarQuery {
    pub location: Option<String>,
    pub date: Option<String>,
    pub view: Option<String>,
}

/// One start of one day: the visits booked there and the places the location has.
#[derive(Debug, Clone, Serialize)]
pub struct Slot {
    pub time: String,
    pub visits: Vec<Appointment>,
    pub capacity: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct CalendarDay {
    pub date: Date,
    pub weekday: String,
    pub open: bool,
    pub slots: Vec<Slot>,
    pub booked: usize,
    pub places: u32,
    /// Places taken, in percent.
    pub used: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct Calendar {
    pub location: String,
    pub location_name: String,
    pub locations: Vec<(String, String)>,
    pub view: String,
    pub date: Date,
    pub previous: Date,
    pub next: Date,
    pub days: Vec<CalendarDay>,
    pub booked: usize,
    pub places: u32,
    pub used: u32,
}

fn percent(part: usize, whole: u32) -> u32 {
    if whole == 0 {
        0
    } else {
        (part as u64 * 100 / u64::from(whole)) as u32
    }
}

pub async fn calendar(state: &AppState, query: &CalendarQuery) -> Result<Calendar, ViewError> {
    let business = state.driver().engine.business();
    let location = match given(&query.location) {
        Some(code) => known_location(state, code)?,
        None => business
            .locations
            .first()
            .map(|l| l.code.clone())
            .ok_or_else(|| ViewError::NotFound("a location".into()))?,
    };
    let date = match given(&query.date) {
        Some(text) => parse_date("date", text)?,
        None => state.now().date(),
    };
    let week = !matches!(given(&query.view), Some("day"));
    let bad = |e: jiff::Error| ViewError::BadQuery(e.to_string());
    let (first, count, step) = if week {
        let monday = date
            .checked_sub(i64::from(date.weekday().to_monday_zero_offset()).days())
            .map_err(bad)?;
        (monday, 7, 7)
    } else {
        (date, 1, 1)
    };
    let end = first.checked_add(i64::from(count).days()).map_err(bad)?;
    let visits = state
        .driver()
        .storage
        .search_appointments(&AppointmentFilter {
            from: Some(midnight(first)),
            to: Some(midnight(end)),
            location: Some(location.clone()),
            text: None,
            status: Some(AppointmentStatus::Booked),
            limit: 5000,
        })
        .await?;
    let capacity = business.capacity_per_start;
    let mut days = Vec::new();
    for offset in 0..count {
        let day = first.checked_add(i64::from(offset).days()).map_err(bad)?;
        let starts = crate::scheduling::open_starts(business, day);
        let mut slots: Vec<Slot> = starts
            .iter()
            .map(|start| Slot {
                time: start.strftime("%H:%M").to_string(),
                visits: visits
                    .iter()
                    .filter(|v| v.start == *start)
                    .cloned()
                    .collect(),
                capacity,
            })
            .collect();
        // A visit off the grid (hours changed since it was booked) still shows.
        for visit in visits
            .iter()
            .filter(|v| v.start.date() == day && !starts.contains(&v.start))
        {
            slots.push(Slot {
                time: visit.start.strftime("%H:%M").to_string(),
                visits: vec![visit.clone()],
                capacity: 0,
            });
        }
        slots.sort_by(|a, b| a.time.cmp(&b.time));
        let booked = visits.iter().filter(|v| v.start.date() == day).count();
        let places = starts.len() as u32 * capacity;
        days.push(CalendarDay {
            date: day,
            weekday: day.strftime("%a %b %-d").to_string(),
            open: !starts.is_empty(),
            slots,
            booked,
            places,
            used: percent(booked, places),
        });
    }
    let booked = days.iter().map(|d| d.booked).sum();
    let places = days.iter().map(|d| d.places).sum();
    let location_name = business
        .location(&location)
        .map(|l| l.name.clone())
        .unwrap_or_else(|| location.clone());
    Ok(Calendar {
        locations: business
            .locations
            .iter()
            .map(|l| (l.code.clone(), l.name.clone()))
            .collect(),
        location,
        location_name,
        view: if week { "week" } else { "day" }.into(),
        date,
        previous: date.checked_sub(i64::from(step).days()).map_err(bad)?,
        next: date.checked_add(i64::from(step).days()).map_err(bad)?,
        days,
        booked,
        places,
        used: percent(booked, places),
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn slots_read_as_words() {
        assert_eq!(
            slot_text(&json!({ "code": "DAL", "name": "Dallas" })),
            "Dallas"
        );
        assert_eq!(
            slot_text(&json!({ "date": "2026-12-07", "earliest": null, "time": "11:00" })),
            "2026-12-07 11:00"
        );
        assert_eq!(slot_text(&json!(true)), "true");
        assert_eq!(slot_text(&json!("Lena Fox")), "Lena Fox");
    }
}
