//! Which car the caller means ("a twenty nineteen mazda miata", "my x c ninety", "the wife's
//! cx five"), checked against the business's make and model catalogue.
//!
//! Names and aliases come from configuration. Heard words and catalogue names are compared in a
//! compact form: number words become digits and the words are joined, so "x c ninety" meets
//! "XC90", "cx five" meets "CX-5" and "m x five" meets "MX-5". A model names its make; a make
//! alone is kept without a model. Unasked, a model needs its make or a year beside it, because
//! many model names are everyday words ("golf", "charger", "soul").

use serde::Serialize;

use super::normalize::tokens;
use super::numbers::{tens_word, unit_word};
use crate::business::VehicleMake;

/// Longest catalogue name, in heard words ("mercedes benz c class" is four).
const MAX_WINDOW: usize = 5;
/// Years a caller can mean.
const YEARS: std::ops::RangeInclusive<i64> = 1950..=2039;

/// A vehicle as the caller described it, in the catalogue's spelling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Vehicle {
    /// The model year, when said.
    pub year: Option<i64>,
    /// The make, as the catalogue writes it.
    pub make: String,
    /// The model, as the catalogue writes it, when said.
    pub model: Option<String>,
}

impl Vehicle {
    /// "2019 Mazda Miata", "Mazda Miata", "Mazda".
    pub fn describe(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        if let Some(year) = self.year {
            parts.push(year.to_string());
        }
        parts.push(self.make.clone());
        if let Some(model) = &self.model {
            parts.push(model.clone());
        }
        parts.join(" ")
    }

    /// The slot value templates and tools see.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "year": self.year,
            "make": self.make,
            "model": self.model,
            "text": self.describe(),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Make(usize),
    Model(usize, usize),
}

/// The catalogue prepared for matching.
#[derive(Debug, Clone, Default)]
pub struct VehicleCatalog {
    makes: Vec<VehicleMake>,
    /// Compact form of every name and alias, with what it names.
    keys: Vec<(String, Target)>,
}

/// A word in compact form: number words as digits ("four" -> "4", "fifty" -> "50").
fn compact_word(word: &str) -> String {
    match unit_word(word).or_else(|| tens_word(word)) {
        Some(n) => n.to_string(),
        None => word.to_string(),
    }
}

fn compact(words: &[String]) -> String {
    words.iter().map(|w| compact_word(w)).collect()
}

impl VehicleCatalog {
    /// The catalogue of a business's `vehicles`.
    pub fn new(makes: &[VehicleMake]) -> VehicleCatalog {
        let mut keys = Vec::new();
        for (m, make) in makes.iter().enumerate() {
            for name in std::iter::once(&make.make).chain(&make.aliases) {
                keys.push((compact(&tokens(name)), Target::Make(m)));
            }
            for (n, model) in make.models.iter().enumerate() {
                for name in
                    std::iter::once(model.name()).chain(model.aliases().iter().map(String::as_str))
                {
                    keys.push((compact(&tokens(name)), Target::Model(m, n)));
                }
            }
        }
        keys.retain(|(k, _)| !k.is_empty());
        VehicleCatalog {
            makes: makes.to_vec(),
            keys,
        }
    }

    /// Whether the business takes no vehicles.
    pub fn is_empty(&self) -> bool {
        self.makes.is_empty()
    }

    /// Model names, for speech recognition hints.
    pub fn hints(&self) -> Vec<String> {
        self.makes
            .iter()
            .flat_map(|m| m.models.iter().map(|model| model.name().to_string()))
            .collect()
    }

    fn lookup(&self, window: &[String]) -> Option<Target> {
        let key = compact(window);
        // A model beats a make spelled the same way ("mini" the make, "mini" in a model).
        let mut found = None;
        for (k, target) in &self.keys {
            if *k == key {
                match target {
                    Target::Model(..) => return Some(*target),
                    Target::Make(_) => found = found.or(Some(*target)),
                }
            }
        }
        found
    }

    /// The vehicle named in `text`, if any. `asked`: the caller was asked what they drive.
    pub fn find(&self, text: &str, asked: bool) -> Option<Vehicle> {
        let words = tokens(text);
        let mut make: Option<(usize, usize)> = None; // (make, position)
        let mut model: Option<(usize, usize, usize)> = None; // (make, model, position)
        let mut i = 0;
        while i < words.len() {
            let longest = (1..=MAX_WINDOW.min(words.len() - i)).rev().find_map(|len| {
                let window = words.get(i..i + len)?;
                self.lookup(window).map(|t| (t, len))
            });
            match longest {
                Some((Target::Model(m, n), len)) => {
                    model = Some((m, n, i));
                    i += len;
                }
                Some((Target::Make(m), len)) => {
                    make = Some((m, i));
                    i += len;
                }
                None => i += 1,
            }
        }
        let (make_index, model_index, at) = match (make, model) {
            (_, Some((m, n, at))) => (m, Some(n), at),
            (Some((m, at)), None) => (m, None, at),
            (None, None) => return None,
        };
        let make_at = make.filter(|(m, _)| *m == make_index).map(|(_, at)| at);
        let start = make_at.map_or(at, |m| m.min(at));
        let year = year_before(&words, start);
        let make_said = make_at.is_some();
        if !asked && model_index.is_some() && !make_said && year.is_none() {
            return None;
        }
        let make_def = self.makes.get(make_index)?;
        Some(Vehicle {
            year,
            make: make_def.make.clone(),
            model: model_index
                .and_then(|n| make_def.models.get(n))
                .map(|m| m.name().to_string()),
        })
    }
}

/// A model year said just before position `end` ("twenty nineteen", "two thousand eight",
/// "nineteen ninety eight", "2019", "oh nine").
fn year_before(words: &[String], end: usize) -> Option<i64> {
    let from = end.saturating_sub(5);
    // The year closest to the make or model wins.
    (from..end)
        .rev()
        .find_map(|start| read_year(words.get(start..end)?))
}

/// A year that fills `words` except for possessives and articles at its end ("2019 a").
fn read_year(words: &[String]) -> Option<i64> {
    let mut words: Vec<&str> = words.iter().map(String::as_str).collect();
    while words
        .last()
        .is_some_and(|w| matches!(*w, "a" | "an" | "the" | "my" | "our" | "his" | "her"))
    {
        words.pop();
    }
    let year = match words.as_slice() {
        [digits] => digits.parse::<i64>().ok().filter(|_| digits.len() == 4)?,
        ["oh" | "o" | "zero", unit] => 2000 + unit_word(unit).filter(|u| *u < 10)?,
        ["two", "thousand", rest @ ..] => {
            2000 + below_hundred(rest.strip_prefix(&["and"]).unwrap_or(rest))?
        }
        [century @ ("nineteen" | "twenty"), rest @ ..] => {
            let hundreds = if *century == "nineteen" { 1900 } else { 2000 };
            let rest = match rest {
                ["oh" | "o", unit] => unit_word(unit).filter(|u| *u < 10)?,
                _ => below_hundred(rest).filter(|n| *n >= 10)?,
            };
            hundreds + rest
        }
        _ => return None,
    };
    YEARS.contains(&year).then_some(year)
}

/// "five", "eighteen", "twenty one", "twenty" (0..=99); nothing is 0.
fn below_hundred(words: &[&str]) -> Option<i64> {
    match words {
        [] => Some(0),
        [word] => unit_word(word)
            .or_else(|| tens_word(word))
            .or_else(|| word.parse().ok().filter(|n: &i64| *n < 100)),
        [tens, unit] => Some(tens_word(tens)? + unit_word(unit).filter(|u| (1..10).contains(u))?),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> VehicleCatalog {
        let makes: Vec<VehicleMake> = serde_saphyr::from_str(
            r#"
- make: Mazda
  models: [Miata, CX-5, MX-5]
- make: Volkswagen
  aliases: [vw, v w]
  models: [Jetta, Golf, Atlas]
- make: Volvo
  models: [XC90, S60]
- make: Dodge
  models: [Charger, { name: Grand Caravan, aliases: [caravan] }]
- make: Kia
  models: [Soul, Sorento]
"#,
        )
        .unwrap();
        VehicleCatalog::new(&makes)
    }

    fn find(text: &str, asked: bool) -> Option<String> {
        catalog().find(text, asked).map(|v| v.describe())
    }

    #[test]
    fn years_makes_and_models_as_callers_say_them() {
        let cases = [
            ("a twenty nineteen mazda miata", "2019 Mazda Miata"),
            ("my x c ninety", "Volvo XC90"),
            ("the wife's cx five", "Mazda CX-5"),
            (
                "its a two thousand eight dodge charger",
                "2008 Dodge Charger",
            ),
            ("2017 m x five", "2017 Mazda MX-5"),
            ("uh twenty twenty one v w jetta", "2021 Volkswagen Jetta"),
            (
                "a nineteen ninety eight caravan",
                "1998 Dodge Grand Caravan",
            ),
            ("an oh nine kia sorento", "2009 Kia Sorento"),
            ("twenty ten s sixty", "2010 Volvo S60"),
            ("its a volkswagen", "Volkswagen"),
        ];
        for (said, expected) in cases {
            assert_eq!(find(said, true).as_deref(), Some(expected), "{said}");
        }
    }

    #[test]
    fn nothing_outside_the_catalogue() {
        assert_eq!(find("a twenty nineteen tesla model three", true), None);
        assert_eq!(find("tomorrow at two", true), None);
    }

    #[test]
    fn an_everyday_word_unasked_is_not_a_car() {
        // "golf" the game, "charger" the cable: not cars unless asked or with a make or year.
        assert_eq!(find("i play golf on sundays", false), None);
        assert_eq!(find("i left my phone charger in it", false), None);
        assert_eq!(
            find("my dodge charger is leaking oil", false).as_deref(),
            Some("Dodge Charger")
        );
        assert_eq!(
            find("service for my twenty twenty golf", false).as_deref(),
            Some("2020 Volkswagen Golf")
        );
    }

    #[test]
    fn a_time_before_the_car_is_not_its_year() {
        assert_eq!(
            find("tomorrow at two for the mazda miata", false).as_deref(),
            Some("Mazda Miata")
        );
    }
}
