//! The business a deployment answers for: name, hours, locations, phone lines.
//!
//! This is plain data, read from `config/business.yaml` by the application and handed to the
//! engine, so that a second business needs new configuration, never new code.

mod check;

use jiff::civil::{Date, Time, Weekday};
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};

/// Everything the engine and the scheduler know about one business.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Business {
    /// Spoken name, e.g. "KC Comfort Air".
    pub name: String,
    /// Trade, e.g. "HVAC". Used in prompts only.
    #[serde(default)]
    pub trade: String,
    /// IANA time zone that governs every date and time the callers say, e.g. "America/Chicago".
    pub time_zone: String,
    /// Service locations callers can choose between.
    pub locations: Vec<Location>,
    /// Opening hours, one entry per open weekday. Missing weekdays are closed.
    pub hours: Vec<OpeningHours>,
    /// Length of one visit in minutes. Visits start on multiples of this length from opening.
    pub visit_minutes: u32,
    /// How many visits may start at the same time at one location (technicians per location).
    pub capacity_per_start: u32,
    /// Phone numbers the agent transfers to, E.164.
    pub phones: Phones,
    /// The service call fee in whole dollars, spoken by prompts and knowledge answers.
    #[serde(default, deserialize_with = "whole_dollars")]
    #[schemars(with = "Option<u32>")]
    pub service_fee: Option<u32>,
    /// How the agent presents itself.
    #[serde(default)]
    pub persona: Persona,
    /// When the business's own texts (reminders) go out. Confirmations and alerts go at once.
    #[serde(default)]
    pub texts: TextSchedule,
    /// Other systems (field-service software) told what happens, by signed JSON POSTs.
    #[serde(default)]
    pub webhooks: Vec<Webhook>,
    /// Call recording: off unless turned on; callers hear `prompts/recording/notice.j2` first.
    #[serde(default)]
    pub recording: Recording,
    /// The makes and models a `vehicle` slot accepts (empty: the business takes no vehicles).
    #[serde(default)]
    pub vehicles: Vec<VehicleMake>,
    /// The services callers book, each with its length: a `service` slot reads them from
    /// speech, and a visit occupies capacity for every start its length overlaps. Empty: every
    /// visit lasts `visit_minutes`.
    #[serde(default)]
    pub services: Vec<Service>,
    /// Urgency levels, most urgent first. A flow's `urgency` (or a trigger's `set: { urgency:
    /// .. }`) names one; a call keeps the most urgent level it reached, recorded with the call.
    /// Empty: calls carry no urgency.
    #[serde(default)]
    pub urgency: Vec<UrgencyLevel>,
}

/// A service and how long its visit lasts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Its name as spoken back and stored, e.g. "deep clean".
    pub name: String,
    /// How long it occupies a place, in minutes: a multiple of `visit_minutes`.
    pub minutes: u32,
    /// Other ways callers ask for it ("carpets", "the whole house", "move out clean").
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// One urgency level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UrgencyLevel {
    /// Its name, e.g. "critical" (what flows name and call records show).
    pub level: String,
    /// Text the on-call numbers (`phones.on_call`) as a call at this level ends
    /// (`prompts/sms/urgent_alert.j2`); emergencies are texted at once anyway.
    #[serde(default)]
    pub alert_on_call: bool,
}

impl Business {
    /// The position of `level` among the urgency levels (0 = most urgent).
    pub fn urgency_rank(&self, level: &str) -> Option<usize> {
        self.urgency.iter().position(|u| u.level == level)
    }

    /// The urgency level called `level`.
    pub fn urgency_level(&self, level: &str) -> Option<&UrgencyLevel> {
        self.urgency.iter().find(|u| u.level == level)
    }
}

/// One make of vehicle and its models, as a `vehicle` slot reads them from speech.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VehicleMake {
    /// The make as written and spoken back, e.g. "Chevrolet".
    pub make: String,
    /// Other ways callers say it ("chevy").
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Its models: a name ("Miata"), or a name with aliases (`{ name: Grand Caravan, aliases:
    /// [caravan] }`). Number words and spacing are matched already: "x c ninety" is "XC90"
    /// and "cx five" is "CX-5" without aliases.
    pub models: Vec<VehicleModel>,
}

/// A model: its name, or its name with other ways callers say it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum VehicleModel {
    /// Just the name.
    Name(String),
    /// The name and its aliases.
    Aliased(AliasedModel),
}

/// A model with aliases.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AliasedModel {
    /// The model as written and spoken back, e.g. "4Runner".
    pub name: String,
    /// Other ways callers say it.
    #[serde(default)]
    pub aliases: Vec<String>,
}

impl VehicleModel {
    /// The model as written and spoken back.
    pub fn name(&self) -> &str {
        match self {
            VehicleModel::Name(name) => name,
            VehicleModel::Aliased(model) => &model.name,
        }
    }

    /// Other ways callers say it.
    pub fn aliases(&self) -> &[String] {
        match self {
            VehicleModel::Name(_) => &[],
            VehicleModel::Aliased(model) => &model.aliases,
        }
    }
}

/// One system told about what happens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Webhook {
    /// Where events are POSTed (http:// or https://).
    pub url: String,
    /// The events it wants; empty or absent: all of them.
    #[serde(default)]
    pub events: Vec<WebhookEvent>,
}

impl Webhook {
    /// Whether this system is told about `event`.
    pub fn wants(&self, event: WebhookEvent) -> bool {
        self.events.is_empty() || self.events.contains(&event)
    }
}

/// What a webhook can be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookEvent {
    /// A visit was booked.
    Booked,
    /// A visit was moved.
    Rescheduled,
    /// A visit was cancelled.
    Cancelled,
    /// A call was an emergency (sent as the call ends, with the hazard and the caller's words).
    Emergency,
    /// A call ended, with its outcome and summary.
    CallEnded,
}

impl WebhookEvent {
    /// The name in payloads and headers (`booked`, `call_ended`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookEvent::Booked => "booked",
            WebhookEvent::Rescheduled => "rescheduled",
            WebhookEvent::Cancelled => "cancelled",
            WebhookEvent::Emergency => "emergency",
            WebhookEvent::CallEnded => "call_ended",
        }
    }
}

/// Whether calls are recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Recording {
    /// Record every call (both sides), after the notice. Off by default.
    pub enabled: bool,
}

/// How the day-before reminder reaches the customer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReminderBy {
    /// A text (`prompts/sms/reminder.j2`).
    #[default]
    Text,
    /// A phone call playing the `reminder` flow; an answering machine gets a short message.
    Call,
}

/// What the owner (`phones.owner`) is texted about calls.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OwnerSummary {
    /// One line per call, as it ends.
    #[default]
    EachCall,
    /// One text a day, at `digest_at`, about the day's calls.
    Daily,
    /// Nothing.
    Off,
}

/// When the texts the business starts go out, in business time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct TextSchedule {
    /// The day before each visit, at this time ("17:00"), the customer is texted a reminder;
    /// `null`: no reminders.
    #[schemars(with = "Option<String>")]
    pub reminder_at: Option<Time>,
    /// No text the business starts goes out from this time ("21:00") ...
    #[schemars(with = "String")]
    pub quiet_from: Time,
    /// ... until this one ("08:00", the next morning when earlier than `quiet_from`).
    #[schemars(with = "String")]
    pub quiet_until: Time,
    /// How the reminder goes: `text` or `call`.
    pub reminder_by: ReminderBy,
    /// What the owner's mobile gets: `each_call`, `daily` or `off`.
    pub owner_summary: OwnerSummary,
    /// With `owner_summary: daily`, when the day's digest goes ("18:00").
    #[schemars(with = "String")]
    pub digest_at: Time,
}

impl Default for TextSchedule {
    fn default() -> TextSchedule {
        TextSchedule {
            reminder_at: Some(jiff::civil::time(17, 0, 0, 0)),
            quiet_from: jiff::civil::time(21, 0, 0, 0),
            quiet_until: jiff::civil::time(8, 0, 0, 0),
            reminder_by: ReminderBy::Text,
            owner_summary: OwnerSummary::EachCall,
            digest_at: jiff::civil::time(18, 0, 0, 0),
        }
    }
}

impl TextSchedule {
    /// The first moment at or after `at` outside quiet hours.
    pub fn outside_quiet_hours(&self, at: jiff::civil::DateTime) -> jiff::civil::DateTime {
        let (from, until, time) = (self.quiet_from, self.quiet_until, at.time());
        let quiet = if from <= until {
            from <= time && time < until
        } else {
            time >= from || time < until
        };
        if !quiet {
            return at;
        }
        let morning = at.date().to_datetime(until);
        if morning > at {
            morning
        } else {
            morning
                .checked_add(jiff::Span::new().days(1))
                .unwrap_or(morning)
        }
    }
}

/// A place the business serves from.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Location {
    /// Short code stored with appointments, e.g. "DAL".
    pub code: String,
    /// Spoken name, e.g. "Dallas".
    pub name: String,
    /// Other ways callers say it ("ft worth", "big d").
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// Open from `open` to `close` on `day`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpeningHours {
    /// Lowercase English weekday name: "monday" .. "sunday".
    pub day: DayName,
    /// Local opening time, "HH:MM".
    #[schemars(with = "String")]
    pub open: Time,
    /// Local closing time, "HH:MM". The last visit ends at or before it.
    #[schemars(with = "String")]
    pub close: Time,
}

/// A weekday as written in configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DayName {
    /// Monday.
    Monday,
    /// Tuesday.
    Tuesday,
    /// Wednesday.
    Wednesday,
    /// Thursday.
    Thursday,
    /// Friday.
    Friday,
    /// Saturday.
    Saturday,
    /// Sunday.
    Sunday,
}

impl DayName {
    /// The calendar weekday it names.
    pub fn weekday(self) -> Weekday {
        match self {
            DayName::Monday => Weekday::Monday,
            DayName::Tuesday => Weekday::Tuesday,
            DayName::Wednesday => Weekday::Wednesday,
            DayName::Thursday => Weekday::Thursday,
            DayName::Friday => Weekday::Friday,
            DayName::Saturday => Weekday::Saturday,
            DayName::Sunday => Weekday::Sunday,
        }
    }
}

/// Phone lines the agent hands calls to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Phones {
    /// Where "talk to a person" goes.
    pub human: String,
    /// Where emergencies go.
    pub emergency: String,
    /// The business's own published number (what callers dial).
    #[serde(default)]
    pub main: Option<String>,
    /// Texted at once about every emergency: the on-call technicians' mobiles.
    #[serde(default)]
    pub on_call: Vec<String>,
    /// The owner's mobile: texted a one-line summary of every call, when set.
    #[serde(default)]
    pub owner: Option<String>,
    /// Who is on call when: the first shift that covers the time of a call decides its
    /// numbers; outside every shift (or for a number a shift leaves out) the ones above apply.
    #[serde(default)]
    pub shifts: Vec<Shift>,
}

/// Numbers that apply on some days between two times (overnight when `until` is earlier than
/// `from`: the shift then ends the next morning).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Shift {
    /// The days the shift starts on.
    pub days: Vec<DayName>,
    /// Local start, "HH:MM".
    #[schemars(with = "String")]
    pub from: Time,
    /// Local end, "HH:MM" (exclusive).
    #[schemars(with = "String")]
    pub until: Time,
    /// Where "talk to a person" goes during the shift.
    #[serde(default)]
    pub human: Option<String>,
    /// Where emergencies go during the shift.
    #[serde(default)]
    pub emergency: Option<String>,
    /// Texted about emergencies during the shift.
    #[serde(default)]
    pub on_call: Option<Vec<String>>,
}

impl Shift {
    fn covers(&self, at: jiff::civil::DateTime) -> bool {
        let starts_on =
            |date: jiff::civil::Date| self.days.iter().any(|d| d.weekday() == date.weekday());
        let time = at.time();
        if self.from < self.until {
            starts_on(at.date()) && self.from <= time && time < self.until
        } else {
            (starts_on(at.date()) && time >= self.from)
                || (time < self.until && at.date().yesterday().is_ok_and(starts_on))
        }
    }
}

impl Phones {
    /// The numbers in force at business-local `at`: the first covering shift's, else these.
    pub fn at(&self, at: jiff::civil::DateTime) -> Phones {
        let mut phones = self.clone();
        if let Some(shift) = self.shifts.iter().find(|s| s.covers(at)) {
            if let Some(human) = &shift.human {
                phones.human = human.clone();
            }
            if let Some(emergency) = &shift.emergency {
                phones.emergency = emergency.clone();
            }
            if let Some(on_call) = &shift.on_call {
                phones.on_call = on_call.clone();
            }
        }
        phones
    }
}

/// The agent's name and voice settings.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Persona {
    /// The name the agent introduces itself with.
    #[serde(default)]
    pub agent_name: Option<String>,
    /// Twilio `<Say>` voice, e.g. "Polly.Joanna-Neural".
    #[serde(default)]
    pub voice: Option<String>,
    /// BCP-47 language tag, e.g. "en-US".
    #[serde(default)]
    pub language: Option<String>,
}

impl Business {
    /// Parses a business file (YAML).
    pub fn from_yaml(text: &str) -> Result<Business, serde_saphyr::Error> {
        serde_saphyr::from_str(text)
    }

    /// Opening hours for a date, if the business is open that day.
    pub fn hours_on(&self, date: Date) -> Option<(Time, Time)> {
        let weekday = date.weekday();
        self.hours
            .iter()
            .find(|h| h.day.weekday() == weekday)
            .map(|h| (h.open, h.close))
    }

    /// The location with this code (case-insensitive).
    pub fn location(&self, code: &str) -> Option<&Location> {
        self.locations
            .iter()
            .find(|l| l.code.eq_ignore_ascii_case(code))
    }
}

/// A fee in whole dollars; anything else is told as such ("eighty-nine" is not a number here).
fn whole_dollars<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<u32>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Fee {
        Dollars(u32),
        Other(serde_json::Value),
    }
    match Option::<Fee>::deserialize(deserializer)? {
        None => Ok(None),
        Some(Fee::Dollars(dollars)) => Ok(Some(dollars)),
        Some(Fee::Other(other)) => Err(serde::de::Error::custom(format!(
            "service_fee {other} is not a whole number of dollars: write it in digits, like 89"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::TextSchedule;

    #[test]
    fn the_shift_in_force_decides_the_numbers() {
        let phones: super::Phones = serde_saphyr::from_str(
            r#"
human: "+10000000001"
emergency: "+10000000911"
on_call: ["+10000000002"]
shifts:
  - { days: [saturday, sunday], from: "08:00", until: "18:00", human: "+10000000003" }
  - { days: [monday, tuesday, wednesday, thursday, friday], from: "18:00", until: "08:00",
      emergency: "+10000000912", on_call: ["+10000000004"] }
"#,
        )
        .unwrap();
        // 2026-06-01 is a Monday.
        let at = |d, h| date(2026, 6, d).at(h, 0, 0, 0);
        let day = phones.at(at(1, 10));
        assert_eq!(
            (day.human.as_str(), day.emergency.as_str()),
            ("+10000000001", "+10000000911")
        );
        let night = phones.at(at(1, 22));
        assert_eq!(night.emergency, "+10000000912");
        assert_eq!(night.on_call, ["+10000000004"]);
        assert_eq!(night.human, "+10000000001", "a number the shift leaves out");
        // Friday's night shift runs into Saturday morning; Saturday's day shift then starts.
        assert_eq!(phones.at(at(6, 7)).emergency, "+10000000912");
        assert_eq!(phones.at(at(6, 9)).human, "+10000000003");
        assert_eq!(phones.at(at(6, 9)).emergency, "+10000000911");
        // Sunday night is no shift's: the numbers above.
        assert_eq!(phones.at(at(7, 22)), phones.at(at(1, 10)));
    }

    #[test]
    fn texts_wait_out_quiet_hours() {
        let schedule = TextSchedule::default();
        let at = |h, m| date(2026, 6, 1).at(h, m, 0, 0);
        assert_eq!(schedule.outside_quiet_hours(at(17, 5)), at(17, 5));
        // Late evening waits for the next morning; early morning for this one.
        assert_eq!(
            schedule.outside_quiet_hours(at(22, 30)),
            date(2026, 6, 2).at(8, 0, 0, 0)
        );
        assert_eq!(schedule.outside_quiet_hours(at(6, 0)), at(8, 0));
        assert_eq!(schedule.outside_quiet_hours(at(8, 0)), at(8, 0));
        assert_eq!(
            schedule.outside_quiet_hours(at(21, 0)),
            date(2026, 6, 2).at(8, 0, 0, 0)
        );
        // Quiet hours within one day.
        let lunch = TextSchedule {
            quiet_from: jiff::civil::time(12, 0, 0, 0),
            quiet_until: jiff::civil::time(13, 0, 0, 0),
            ..TextSchedule::default()
        };
        assert_eq!(lunch.outside_quiet_hours(at(12, 30)), at(13, 0));
        assert_eq!(lunch.outside_quiet_hours(at(11, 59)), at(11, 59));
    }
}
