//! What a business file can say that parses but cannot work: two locations a caller could not
//! tell apart, a day that closes before it opens, a time zone that does not exist. Each is
//! reported at its line and column, all at once.

use std::collections::HashMap;

use serde::Deserialize;
use serde_saphyr::Spanned;

use super::Business;
use crate::extract::normalize::normalize;
use crate::flow::{LoadError, SourceFile};

/// The parts of `config/business.yaml` checked here, with their positions.
#[derive(Deserialize)]
struct Placed {
    time_zone: Option<Spanned<String>>,
    #[serde(default)]
    locations: Vec<PlacedLocation>,
    #[serde(default)]
    hours: Vec<PlacedHours>,
}

#[derive(Deserialize)]
struct PlacedLocation {
    code: Spanned<String>,
    name: Spanned<String>,
    #[serde(default)]
    aliases: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
struct PlacedHours {
    day: Spanned<String>,
    close: Spanned<String>,
}

impl Business {
    /// Problems of a business parsed from `file`. `known_zone` says whether a time zone name
    /// exists (the engine reads no time zone database itself).
    pub fn check(&self, file: &SourceFile, known_zone: impl Fn(&str) -> bool) -> Vec<LoadError> {
        let Ok(placed) = serde_saphyr::from_str::<Placed>(&file.text) else {
            // It parsed as a Business, so it parses as this subset; nothing to place otherwise.
            return Vec::new();
        };
        let mut errors = Vec::new();
        for service in &self.services {
            let step = self.visit_minutes.max(1);
            if service.minutes == 0 || service.minutes % step != 0 {
                errors.push(LoadError::file(
                    &file.path,
                    format!(
                        "service `{}` lasts {} minutes: make it a multiple of visit_minutes ({step})",
                        service.name, service.minutes
                    ),
                ));
            }
        }
        let at = |spanned: &Spanned<String>, message: String| {
            LoadError::at(&file.path, spanned.referenced, message)
        };
        if let Some(zone) = &placed.time_zone
            && !known_zone(&zone.value)
        {
            errors.push(at(
                zone,
                format!(
                    "unknown time zone `{}`: use an IANA name such as America/Chicago",
                    zone.value
                ),
            ));
        }
        check_locations(&placed.locations, &mut errors, &at);
        for (hours, placed) in self.hours.iter().zip(&placed.hours) {
            if hours.close <= hours.open {
                errors.push(at(
                    &placed.close,
                    format!(
                        "{} closes at {} but opens at {}: closing must be after opening",
                        placed.day.value,
                        hours.close.strftime("%H:%M"),
                        hours.open.strftime("%H:%M")
                    ),
                ));
            }
        }
        let mut days: HashMap<&str, ()> = HashMap::new();
        for placed in &placed.hours {
            if days.insert(placed.day.value.as_str(), ()).is_some() {
                errors.push(at(
                    &placed.day,
                    format!("{} has opening hours twice", placed.day.value),
                ));
            }
        }
        errors
    }
}

/// Codes are unique (case aside); a name or alias names one location only, as a caller would
/// say it: "Fort Worth" and "fort  worth" are the same words.
fn check_locations(
    locations: &[PlacedLocation],
    errors: &mut Vec<LoadError>,
    at: &impl Fn(&Spanned<String>, String) -> LoadError,
) {
    let mut codes: HashMap<String, &str> = HashMap::new();
    let mut said: HashMap<String, &str> = HashMap::new();
    for location in locations {
        let code = &location.code;
        if let Some(first) = codes.insert(code.value.to_ascii_uppercase(), &code.value) {
            errors.push(at(
                code,
                format!(
                    "location code `{}` is used twice (first as `{first}`)",
                    code.value
                ),
            ));
        }
        let mut own: Vec<String> = Vec::new();
        for phrase in std::iter::once(&location.name).chain(&location.aliases) {
            let words = normalize(&phrase.value);
            if words.is_empty() || own.contains(&words) {
                continue;
            }
            own.push(words.clone());
            match said.get(&words) {
                Some(other) => errors.push(at(
                    phrase,
                    format!(
                        "`{}` already names location {other}: a caller saying it could mean either",
                        phrase.value
                    ),
                )),
                None => {
                    said.insert(words, &code.value);
                }
            }
        }
    }
}
