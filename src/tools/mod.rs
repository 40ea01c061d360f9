//! The tools flows can call, and their execution against storage and the scheduler.
//!
//! Tool results are JSON for the engine's conditions and templates. A tool never fails the call:
//! a tool that could not do its work (bad arguments, a storage error) answers `ok: false` with
//! `error` (`invalid` or `storage`), and the flows decide what to say (`if: result.error`).

use std::sync::Arc;

use frontdesk_engine::ToolSpec;
use frontdesk_engine::business::Business;
use frontdesk_engine::extract::datetime::StartPreference;
use jiff::civil::{Date, DateTime, Time};
use serde_json::{Value, json};

mod lookup;

use crate::outbox::{Change, Texts, Webhooks};
use crate::scheduling::{self, Availability, SlotRequest};
use crate::storage::{Appointment, NewAppointment, Storage, StorageError, VehicleRecord};

/// Every tool a flow may name, with its arguments. The flow validator checks against this.
pub fn catalog() -> Vec<ToolSpec> {
    vec![
        ToolSpec::new(
            "check_availability",
            &["location", "when"],
            &["phone", "minutes"],
        ),
        ToolSpec::new(
            "book_appointment",
            &["location", "start", "name", "phone"],
            &["issue", "minutes"],
        ),
        ToolSpec::new(
            "find_appointment",
            &[],
            &[
                "phone",
                "name",
                "location",
                "visit",
                "visit_phone",
                "caller",
            ],
        ),
        ToolSpec::new(
            "reschedule_appointment",
            &["appointment_id", "start"],
            &["location"],
        ),
        ToolSpec::new("cancel_appointment", &["appointment_id"], &[]),
        ToolSpec::new("remember_vehicle", &["phone", "name", "vehicle"], &[]),
    ]
}

/// Runs tools for calls.
#[derive(Clone)]
pub struct Tools {
    storage: Arc<dyn Storage>,
    business: Arc<Business>,
    /// Confirmation texts, when the server sends texts.
    texts: Option<Texts>,
    /// Other systems told about every change, when webhooks are configured.
    webhooks: Option<Webhooks>,
}

impl Tools {
    pub fn new(storage: Arc<dyn Storage>, business: Arc<Business>) -> Tools {
        Tools {
            storage,
            business,
            texts: None,
            webhooks: None,
        }
    }

    /// Queues a confirmation text after every booking, move and cancellation.
    pub fn with_texts(mut self, texts: Texts) -> Tools {
        self.texts = Some(texts);
        self
    }

    /// Tells other systems about every booking, move and cancellation.
    pub fn with_webhooks(mut self, webhooks: Webhooks) -> Tools {
        self.webhooks = Some(webhooks);
        self
    }

    async fn confirm(&self, change: Change, appointment: &Appointment, call_id: &str) {
        crate::telemetry::booking(change.webhook_event().as_str());
        if let Some(texts) = &self.texts {
            texts.confirm(change, appointment, call_id).await;
        }
        if let Some(webhooks) = &self.webhooks {
            let mut data = describe_appointment(&self.business, appointment);
            data["time_zone"] = json!(self.business.time_zone);
            let key = format!("{}:{call_id}", appointment.id);
            webhooks
                .notify(
                    change.webhook_event(),
                    call_id,
                    &key,
                    json!({ "appointment": data }),
                )
                .await;
        }
    }

    pub async fn run(&self, call_id: &str, name: &str, args: &Value, now: DateTime) -> Value {
        let result = match name {
            "check_availability" => self.check_availability(args, now).await,
            "book_appointment" => self.book(call_id, args, now).await,
            "find_appointment" => self.find(args, now).await,
            "reschedule_appointment" => self.reschedule(call_id, args, now).await,
            "cancel_appointment" => self.cancel(call_id, args).await,
            "remember_vehicle" => self.remember_vehicle(args).await,
            other => Err(ToolError::Invalid(format!("unknown tool `{other}`"))),
        };
        match result {
            Ok(value) => value,
            Err(ToolError::Invalid(message)) => {
                tracing::warn!(call_id, tool = name, %message, "tool got bad arguments");
                failed("invalid", Some(message))
            }
            Err(ToolError::Storage(e)) => {
                tracing::error!(call_id, tool = name, error = %e, "tool failed");
                failed("storage", None)
            }
        }
    }

    async fn check_availability(&self, args: &Value, now: DateTime) -> Result<Value, ToolError> {
        let location = str_arg(args, "location")?;
        let mut request = slot_request(args.get("when").unwrap_or(&Value::Null))?;
        request.minutes = minutes_arg(args)?;
        let availability = self.availability(&location, &request, now).await?;
        let asked_day = request.date.or_else(|| match &availability {
            Availability::Available { start } => Some(start.date()),
            Availability::Unavailable { .. } => None,
        });
        // What prompts need to say why: the day asked, and that day's first and last starts.
        let minutes = request.minutes.unwrap_or(self.business.visit_minutes);
        let starts = asked_day
            .map(|d| scheduling::starts_for(&self.business, d, minutes))
            .unwrap_or_default();
        let about_the_day = json!({
            "asked": {
                "date": request.date.map(|d| d.to_string()),
                "time": request.time.map(|t| t.strftime("%H:%M").to_string()),
                "weekday": asked_day.map(|d| d.strftime("%A").to_string()),
                "first_start": starts.first().map(|s| iso(*s)),
                "last_start": starts.last().map(|s| iso(*s)),
            },
        });
        let mut result = match availability {
            Availability::Available { start } => {
                let already = match opt_str(args, "phone") {
                    Some(phone) => self.booked_at(&phone, &location, start, now).await?,
                    None => None,
                };
                json!({
                    "available": already.is_none(),
                    "start": iso(start),
                    "location": location,
                    "alternatives": [],
                    "reason": if already.is_some() { Value::from("already_booked") } else { Value::Null },
                    "already_booked": already.map(|a| self.describe(&a)),
                })
            }
            Availability::Unavailable {
                reason,
                alternatives,
            } => json!({
                "available": false,
                "reason": reason,
                "location": location,
                "alternatives": alternatives.into_iter().map(iso).collect::<Vec<_>>(),
                "already_booked": null,
            }),
        };
        if let (Some(obj), Some(extra)) = (result.as_object_mut(), about_the_day.as_object()) {
            obj.extend(extra.clone());
        }
        Ok(result)
    }

    /// Adds the vehicle of a `vehicle` slot (`year`, `make`, `model`) to the customer with this
    /// phone, so a later call from it is asked about that vehicle.
    async fn remember_vehicle(&self, args: &Value) -> Result<Value, ToolError> {
        let phone = str_arg(args, "phone")?;
        let name = str_arg(args, "name")?;
        let vehicle = args.get("vehicle").unwrap_or(&Value::Null);
        let make = opt_str(vehicle, "make")
            .ok_or_else(|| ToolError::Invalid("`vehicle` has no `make`".to_string()))?;
        let record = VehicleRecord {
            year: vehicle.get("year").and_then(Value::as_i64),
            make,
            model: opt_str(vehicle, "model"),
        };
        self.storage
            .add_vehicle(&phone, &name, &record)
            .await
            .map_err(ToolError::Storage)?;
        Ok(json!({ "ok": true, "vehicle": record.label() }))
    }

    /// The caller's own booked visit at this location and start, if they already have one.
    async fn booked_at(
        &self,
        phone: &str,
        location: &str,
        start: DateTime,
        now: DateTime,
    ) -> Result<Option<Appointment>, ToolError> {
        Ok(self
            .storage
            .find_upcoming_by_phone(phone, now)
            .await?
            .into_iter()
            .find(|a| a.start == start && a.location.eq_ignore_ascii_case(location)))
    }

    async fn availability(
        &self,
        location: &str,
        request: &SlotRequest,
        now: DateTime,
    ) -> Result<Availability, ToolError> {
        let (from, to) = scheduling::counts_range(request, now);
        let spans = self.storage.booked_spans(location, from, to).await?;
        // A visit of the business's own length (no `minutes`) occupies its start only.
        let visits: Vec<(DateTime, u32, u32)> = spans
            .into_iter()
            .map(|(start, minutes, n)| (start, minutes.unwrap_or(self.business.visit_minutes), n))
            .collect();
        let occupied = scheduling::occupancy(&self.business, &visits);
        scheduling::check(&self.business, location, request, now, |start| {
            occupied.get(&start).copied().unwrap_or(0)
        })
        .map_err(|e| ToolError::Invalid(e.to_string()))
    }

    /// Free starts near `start`, for when a booking lost a race for it.
    async fn alternatives_near(
        &self,
        location: &str,
        start: DateTime,
        minutes: Option<u32>,
        now: DateTime,
    ) -> Result<Vec<String>, ToolError> {
        let request = SlotRequest {
            date: Some(start.date()),
            time: Some(start.time()),
            minutes,
            ..SlotRequest::default()
        };
        Ok(match self.availability(location, &request, now).await? {
            Availability::Unavailable { alternatives, .. } => {
                alternatives.into_iter().map(iso).collect()
            }
            Availability::Available { start } => vec![iso(start)],
        })
    }

    async fn book(&self, call_id: &str, args: &Value, now: DateTime) -> Result<Value, ToolError> {
        let new = NewAppointment {
            call_id: call_id.to_string(),
            location: str_arg(args, "location")?,
            start: datetime_arg(args, "start")?,
            name: str_arg(args, "name")?,
            phone: str_arg(args, "phone")?,
            issue: args
                .get("issue")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string(),
            minutes: minutes_arg(args)?,
        };
        match self.storage.book(&new).await {
            Ok(appointment) => {
                self.confirm(Change::Booked, &appointment, call_id).await;
                Ok(json!({ "ok": true, "appointment": self.describe(&appointment) }))
            }
            Err(StorageError::Full { .. }) => {
                let alternatives = self
                    .alternatives_near(&new.location, new.start, new.minutes, now)
                    .await?;
                Ok(json!({ "ok": false, "reason": "full", "alternatives": alternatives }))
            }
            Err(StorageError::AlreadyBooked(existing)) => Ok(json!({
                "ok": false, "reason": "already_booked",
                "already_booked": self.describe(&existing), "alternatives": [],
            })),
            Err(e) => Err(e.into()),
        }
    }

    async fn find(&self, args: &Value, now: DateTime) -> Result<Value, ToolError> {
        let phone = opt_str(args, "phone");
        let name = opt_str(args, "name");
        let found = match (&phone, &name) {
            (_, Some(name)) => self.storage.find_upcoming_by_name(name, now).await?,
            (Some(phone), None) => self.storage.find_upcoming_by_phone(phone, now).await?,
            (None, None) => Vec::new(),
        };
        let request = lookup::LookupRequest {
            reference: args
                .get("visit")
                .filter(|v| v.is_object())
                .and_then(|v| serde_json::from_value(v.clone()).ok()),
            location: opt_str(args, "location"),
            visit_phone: opt_str(args, "visit_phone"),
            caller: opt_str(args, "caller"),
            by_caller_id: name.is_none() && phone.is_some() && phone == opt_str(args, "caller"),
        };
        Ok(lookup::find(&request, &found, |a| self.describe(a)))
    }

    async fn reschedule(
        &self,
        call_id: &str,
        args: &Value,
        now: DateTime,
    ) -> Result<Value, ToolError> {
        let id = id_arg(args)?;
        let start = datetime_arg(args, "start")?;
        let location = opt_str(args, "location");
        match self
            .storage
            .move_appointment(id, location.as_deref(), start, call_id)
            .await
        {
            Ok(a) => {
                self.confirm(Change::Rescheduled, &a, call_id).await;
                Ok(json!({ "ok": true, "appointment": self.describe(&a) }))
            }
            Err(StorageError::Full { location, .. }) => {
                let alternatives = self.alternatives_near(&location, start, None, now).await?;
                Ok(json!({ "ok": false, "reason": "full", "alternatives": alternatives }))
            }
            Err(StorageError::NotFound(_) | StorageError::Cancelled(_)) => {
                Ok(json!({ "ok": false, "reason": "not_found" }))
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn cancel(&self, call_id: &str, args: &Value) -> Result<Value, ToolError> {
        match self.storage.cancel(id_arg(args)?, call_id).await {
            Ok(a) => {
                self.confirm(Change::Cancelled, &a, call_id).await;
                Ok(json!({ "ok": true, "appointment": self.describe(&a) }))
            }
            Err(StorageError::NotFound(_)) => Ok(json!({ "ok": false, "reason": "not_found" })),
            Err(e) => Err(e.into()),
        }
    }

    /// An appointment as prompts and scripts see it.
    pub fn describe(&self, a: &Appointment) -> Value {
        describe_appointment(&self.business, a)
    }
}

/// An appointment as JSON: location code and name, local start `YYYY-MM-DDTHH:MM`.
pub fn describe_appointment(business: &Business, a: &Appointment) -> Value {
    json!({
        "id": a.id,
        "location": a.location,
        "location_name": business.location(&a.location).map(|l| l.name.clone()).unwrap_or_else(|| a.location.clone()),
        "start": iso(a.start),
        "name": a.name,
        "phone": a.phone,
        "issue": a.issue,
        "status": a.status,
    })
}

/// The result of a tool that could not do its work. `error` (`invalid`, `storage`, `timeout`) is
/// what flows test; the other fields say "nothing found, nothing free" to a flow that does not.
pub fn failed(error: &str, message: Option<String>) -> Value {
    json!({
        "ok": false, "error": error, "reason": "error", "message": message,
        "available": false, "found": false, "alternatives": [],
    })
}

#[derive(Debug, thiserror::Error)]
enum ToolError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

/// `YYYY-MM-DDTHH:MM`, the form every start takes in tool results.
pub fn iso(dt: DateTime) -> String {
    dt.strftime("%Y-%m-%dT%H:%M").to_string()
}

fn opt_str(args: &Value, key: &str) -> Option<String> {
    args.get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The optional `minutes` a visit lasts (a service's length), as a number or digits.
fn minutes_arg(args: &Value) -> Result<Option<u32>, ToolError> {
    let invalid = |v: &Value| {
        ToolError::Invalid(format!(
            "`minutes` = `{v}` is not a whole number of minutes"
        ))
    };
    match args.get("minutes") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => s
            .trim()
            .parse::<u32>()
            .map(Some)
            .map_err(|_| invalid(&json!(s))),
        Some(v) => v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| invalid(v)),
    }
}

fn str_arg(args: &Value, key: &str) -> Result<String, ToolError> {
    opt_str(args, key).ok_or_else(|| ToolError::Invalid(format!("missing `{key}`")))
}

fn datetime_arg(args: &Value, key: &str) -> Result<DateTime, ToolError> {
    let text = str_arg(args, key)?;
    text.parse::<DateTime>()
        .map_err(|e| ToolError::Invalid(format!("`{key}` = `{text}` is not a date and time: {e}")))
}

fn id_arg(args: &Value) -> Result<i64, ToolError> {
    let value = args.get("appointment_id").unwrap_or(&Value::Null);
    value
        .as_i64()
        .or_else(|| value.as_str().and_then(|s| s.parse().ok()))
        .ok_or_else(|| ToolError::Invalid(format!("`appointment_id` = {value} is not an id")))
}

/// A datetime slot (`{date, time, earliest, latest}`) as a scheduling request.
fn slot_request(when: &Value) -> Result<SlotRequest, ToolError> {
    let field = |k: &str| {
        when.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let time = |k: &str| -> Result<Option<Time>, ToolError> {
        field(k)
            .map(|t| {
                t.parse::<Time>()
                    .map_err(|e| ToolError::Invalid(format!("`when.{k}` = `{t}`: {e}")))
            })
            .transpose()
    };
    Ok(SlotRequest {
        date: field("date")
            .map(|d| {
                d.parse::<Date>()
                    .map_err(|e| ToolError::Invalid(format!("`when.date` = `{d}`: {e}")))
            })
            .transpose()?,
        time: time("time")?,
        earliest: time("earliest")?,
        latest: time("latest")?,
        prefer: field("prefer")
            .map(|p| {
                StartPreference::parse(p).ok_or_else(|| {
                    ToolError::Invalid(format!("`when.prefer` = `{p}`: expected first or last"))
                })
            })
            .transpose()?,
        minutes: None,
    })
}
