//! Keeping a model's answer to what the business wrote. A sentence may only state numbers
//! (prices, hours, durations), amounts of money, days and commitments ("free", "guarantee")
//! that occur in the knowledge passages it was given, may not call a day open that the
//! passages call closed (or the reverse), and may not put a price on a different thing than
//! the passages do: "$89" in "our service call fee is $89" does not make "a tune-up is $89"
//! true. Anything else is treated as invented and not spoken.
//!
//! This is deliberately strict and word-level: a false alarm costs a reworded answer (the
//! passage is read instead), a miss could promise a caller a price the business never set.

use std::collections::{BTreeMap, BTreeSet};

use frontdesk_engine::extract::normalize::normalize;
use frontdesk_engine::extract::numbers::parse_cardinal;

/// Day and time-of-day words an answer about opening hours might use.
const DAY_WORDS: &[&str] = &[
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
    "mondays",
    "tuesdays",
    "wednesdays",
    "thursdays",
    "fridays",
    "saturdays",
    "sundays",
    "weekend",
    "weekends",
    "weekday",
    "weekdays",
    "holiday",
    "holidays",
    "noon",
    "midnight",
    "today",
    "tomorrow",
    "tonight",
    "overnight",
    "daily",
    "everyday",
    "evening",
    "evenings",
    "anytime",
];

/// Words that commit the business to something.
const COMMITMENT_WORDS: &[&str] = &[
    "free",
    "guarantee",
    "guaranteed",
    "guarantees",
    "warranty",
    "warranties",
    "discount",
    "discounts",
    "refund",
    "refunds",
    "promise",
    "promised",
    "coupon",
    "coupons",
    "financing",
    "percent",
    "cheapest",
    "lowest",
    "waive",
    "waived",
    "complimentary",
    "half",
    "included",
];

/// Words after a number that make it an amount of money.
const MONEY_WORDS: &[&str] = &["dollar", "dollars", "bucks"];

/// Things a price can be for, each with the normalized words or phrases that name it. A price
/// in a sentence is tied to the things named in its clause (or, when its clause names none,
/// in the clause next to it: "for a tune-up, it's $89").
const PRICED_THINGS: &[(&str, &[&str])] = &[
    (
        "service call",
        &[
            "service call",
            "service calls",
            "trip",
            "trip charge",
            "visit",
            "visits",
            "house call",
            "come out",
            "coming out",
            "call out",
            "callout",
            "diagnostic",
            "diagnosis",
            "diagnose",
            "dispatch",
        ],
    ),
    (
        "tune-up",
        &[
            "tune up",
            "tune ups",
            "tuneup",
            "tuneups",
            "maintenance",
            "checkup",
            "check up",
            "inspection",
            "inspections",
            "cleaning",
        ],
    ),
    ("repair", &["repair", "repairs", "fix", "fixing"]),
    (
        "installation",
        &[
            "install",
            "installation",
            "installing",
            "replacement",
            "replace",
            "replacing",
            "new system",
            "new unit",
        ],
    ),
    (
        "part",
        &[
            "part",
            "parts",
            "compressor",
            "capacitor",
            "motor",
            "coil",
            "refrigerant",
            "freon",
            "filter",
            "filters",
            "thermostat",
            "thermostats",
        ],
    ),
    ("labor", &["labor", "hourly", "per hour"]),
    (
        "plan",
        &[
            "plan",
            "plans",
            "membership",
            "agreement",
            "subscription",
            "per month",
            "monthly",
        ],
    ),
    ("estimate", &["estimate", "estimates", "quote", "quotes"]),
    (
        "after-hours work",
        &[
            "emergency",
            "emergencies",
            "after hours",
            "overtime",
            "weekend",
            "weekends",
            "night",
            "nights",
            "holiday",
            "holidays",
        ],
    ),
];

/// What the passages allow an answer to state.
#[derive(Debug, Clone, Default)]
pub struct Grounds {
    numbers: BTreeSet<i64>,
    money: BTreeSet<i64>,
    /// Each amount of money with the things the passages say it is the price of.
    prices: BTreeMap<i64, BTreeSet<&'static str>>,
    words: BTreeSet<String>,
    open_days: BTreeSet<String>,
    closed_days: BTreeSet<String>,
}

/// Why a sentence was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ungrounded {
    /// A number the passages do not contain.
    Number(i64),
    /// An amount of money the passages do not name.
    Money(i64),
    /// A day or commitment word the passages do not contain.
    Word(String),
    /// A day called open (true) or closed (false) where the passages say the opposite.
    Day { day: String, open: bool },
    /// An amount the passages name, given as the price of something they do not price with it.
    Price { amount: i64, thing: String },
}

impl std::fmt::Display for Ungrounded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ungrounded::Number(n) => write!(f, "the number {n} is not in the knowledge"),
            Ungrounded::Money(n) => write!(f, "the amount ${n} is not in the knowledge"),
            Ungrounded::Word(w) => write!(f, "\"{w}\" is not in the knowledge"),
            Ungrounded::Day { day, open: true } => {
                write!(f, "the knowledge says {day} is closed")
            }
            Ungrounded::Day { day, open: false } => {
                write!(f, "the knowledge says {day} is open")
            }
            Ungrounded::Price { amount, thing } => {
                write!(
                    f,
                    "the knowledge does not say ${amount} is the price of a {thing}"
                )
            }
        }
    }
}

impl Grounds {
    pub fn new<'a>(passages: impl IntoIterator<Item = &'a str>) -> Grounds {
        let mut grounds = Grounds::default();
        for text in passages {
            let claims = Claims::of(text);
            grounds.numbers.extend(claims.numbers);
            grounds.money.extend(claims.money);
            for (amount, things) in claims.prices {
                grounds.prices.entry(amount).or_default().extend(things);
            }
            grounds.words.extend(claims.words);
            for (day, open) in claims.days {
                if open {
                    grounds.open_days.insert(day);
                } else {
                    grounds.closed_days.insert(day);
                }
            }
        }
        grounds
    }

    /// Ok when everything the sentence states is in the passages.
    pub fn check(&self, sentence: &str) -> Result<(), Ungrounded> {
        let claims = Claims::of(sentence);
        if let Some(n) = claims.money.into_iter().find(|n| !self.money.contains(n)) {
            return Err(Ungrounded::Money(n));
        }
        if let Some(n) = claims
            .numbers
            .into_iter()
            .find(|n| !self.numbers.contains(n))
        {
            return Err(Ungrounded::Number(n));
        }
        for (amount, things) in &claims.prices {
            let priced = self.prices.get(amount);
            if let Some(thing) = things
                .iter()
                .find(|t| !priced.is_some_and(|p| p.contains(*t)))
            {
                return Err(Ungrounded::Price {
                    amount: *amount,
                    thing: (*thing).to_string(),
                });
            }
        }
        if let Some(w) = claims.words.into_iter().find(|w| !self.words.contains(w)) {
            return Err(Ungrounded::Word(w));
        }
        for (day, open) in claims.days {
            let contradicted = if open {
                self.closed_days.contains(&day)
            } else {
                self.open_days.contains(&day)
            };
            if contradicted {
                return Err(Ungrounded::Day { day, open });
            }
        }
        Ok(())
    }
}

/// What a text states.
#[derive(Debug, Default)]
struct Claims {
    numbers: Vec<i64>,
    money: Vec<i64>,
    words: Vec<String>,
    /// Days a clause calls open (true) or closed (false).
    days: Vec<(String, bool)>,
    /// Each amount of money with the things named beside it.
    prices: Vec<(i64, BTreeSet<&'static str>)>,
}

impl Claims {
    fn of(text: &str) -> Claims {
        let mut claims = Claims::default();
        // "$89" is said "89 dollars"; normalizing would drop the sign.
        let text = text.replace('$', " dollarsign ");
        for sentence in text.split(['.', '!', '?']) {
            let clauses: Vec<String> = sentence.split([',', ';']).map(normalize).collect();
            let named: Vec<BTreeSet<&'static str>> =
                clauses.iter().map(|c| priced_things(c)).collect();
            for (i, clause) in clauses.iter().enumerate() {
                let tokens: Vec<&str> = clause.split(' ').filter(|t| !t.is_empty()).collect();
                let money_before = claims.money.len();
                claims.read_clause(&tokens);
                // A clause that names no thing takes the things of the clause beside it.
                let things = [Some(i), i.checked_sub(1), Some(i + 1)]
                    .into_iter()
                    .flatten()
                    .filter_map(|j| named.get(j))
                    .find(|things| !things.is_empty())
                    .cloned()
                    .unwrap_or_default();
                let amounts: Vec<i64> = claims
                    .money
                    .get(money_before..)
                    .unwrap_or_default()
                    .to_vec();
                for amount in amounts {
                    claims.prices.push((amount, things.clone()));
                }
            }
        }
        claims
    }

    fn read_clause(&mut self, tokens: &[&str]) {
        let mut i = 0;
        let mut money_sign = false;
        while let Some(rest) = tokens.get(i..).filter(|r| !r.is_empty()) {
            let word = rest[0];
            if word == "dollarsign" {
                money_sign = true;
                i += 1;
                continue;
            }
            let previous = i.checked_sub(1).and_then(|j| tokens.get(j)).copied();
            if let Some((value, used)) = number_at(rest, previous) {
                let unit = tokens.get(i + used).copied();
                if money_sign || unit.is_some_and(|u| MONEY_WORDS.contains(&u)) {
                    self.money.push(value);
                }
                self.numbers.push(value);
                money_sign = false;
                i += used;
                continue;
            }
            money_sign = false;
            // "8:30", "24/7", "9pm", "8:45am", "21st": each figure counts on its own.
            if word.chars().any(|c| c.is_ascii_digit()) {
                self.numbers.extend(
                    word.split(|c: char| !c.is_ascii_digit())
                        .filter_map(|part| part.parse::<i64>().ok()),
                );
            } else if DAY_WORDS.contains(&word) || COMMITMENT_WORDS.contains(&word) {
                self.words.push(word.to_string());
            }
            i += 1;
        }
        // "we're closed on sunday", "we're not open sundays", "open saturday".
        let closed = tokens.contains(&"closed")
            || tokens
                .windows(2)
                .any(|w| matches!(w, ["not" | "never" | "arent" | "dont", "open"]));
        let open = !closed && tokens.contains(&"open");
        if open || closed {
            for day in tokens.iter().filter_map(|t| weekday(t)) {
                self.days.push((day.to_string(), open));
            }
        }
    }
}

/// The things a normalized clause names, by [`PRICED_THINGS`].
fn priced_things(clause: &str) -> BTreeSet<&'static str> {
    let padded = format!(" {clause} ");
    PRICED_THINGS
        .iter()
        .filter(|(_, names)| names.iter().any(|n| padded.contains(&format!(" {n} "))))
        .map(|(thing, _)| *thing)
        .collect()
}

/// A number starting at `tokens[0]`. A lone "one" or "a" ("one of our technicians") is not a
/// figure, but "one hundred", "a hundred and five" and a time ("at one", "one pm") are.
fn number_at(tokens: &[&str], previous: Option<&str>) -> Option<(i64, usize)> {
    let (value, used) = parse_cardinal(tokens)?;
    let lone = used <= 1 && matches!(tokens.first(), Some(&("one" | "a")));
    let a_time = previous.is_some_and(|p| matches!(p, "at" | "until" | "till" | "til" | "by"))
        || tokens
            .get(1)
            .is_some_and(|n| matches!(*n, "am" | "pm" | "oclock" | "o"));
    if lone && !(tokens.first() == Some(&"one") && a_time) {
        return None;
    }
    Some((value, used.max(1)))
}

/// "sundays" → "sunday".
fn weekday(word: &str) -> Option<&'static str> {
    const DAYS: [&str; 7] = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    let singular = word.strip_suffix('s').unwrap_or(word);
    DAYS.into_iter().find(|d| *d == singular)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOURS: &str = "We're open Monday through Friday from 8 AM to 6 PM, and Saturday from \
                         8 AM to noon. We're closed on Sunday.";
    const FEE: &str = "Our service call fee is $89. For the price of a repair, a tune-up or \
                       other work, a person on our team can give you a quote.";

    #[test]
    fn figures_from_the_passages_pass_in_words_or_digits() {
        let grounds = Grounds::new([HOURS, FEE]);
        assert_eq!(
            grounds.check("The visit fee is eighty-nine dollars."),
            Ok(())
        );
        assert_eq!(grounds.check("It's $89 to come out."), Ok(()));
        assert_eq!(
            grounds.check("On Saturday we close at noon, and we're closed Sunday."),
            Ok(())
        );
        assert_eq!(
            grounds.check("We're open Monday to Friday, eight to six."),
            Ok(())
        );
    }

    #[test]
    fn invented_prices_hours_and_promises_are_refused() {
        let grounds = Grounds::new([HOURS, FEE]);
        let refused = |sentence: &str| grounds.check(sentence).err();
        assert_eq!(refused("A tune-up is $129."), Some(Ungrounded::Money(129)));
        assert_eq!(
            refused("The fee is one hundred eighty-nine dollars."),
            Some(Ungrounded::Money(189))
        );
        assert_eq!(
            refused("It's a hundred and eighty-nine dollars."),
            Some(Ungrounded::Money(189))
        );
        assert_eq!(
            refused("The fee is $6."),
            Some(Ungrounded::Money(6)),
            "6 is an hour in the passages, not a price"
        );
        assert_eq!(
            refused("We're open until 9 PM."),
            Some(Ungrounded::Number(9))
        );
        assert_eq!(
            refused("We're open until 9pm."),
            Some(Ungrounded::Number(9))
        );
        assert_eq!(refused("We open at 8:45am."), Some(Ungrounded::Number(45)));
        assert_eq!(refused("We're open 24/7."), Some(Ungrounded::Number(24)));
        assert_eq!(
            refused("On Saturday we close at one."),
            Some(Ungrounded::Number(1))
        );
        assert_eq!(
            refused("We're open on Sunday."),
            Some(Ungrounded::Day {
                day: "sunday".into(),
                open: true
            })
        );
        assert_eq!(
            refused("The first visit is free."),
            Some(Ungrounded::Word("free".into()))
        );
        assert_eq!(
            refused("We guarantee all our work."),
            Some(Ungrounded::Word("guarantee".into()))
        );
        assert_eq!(
            refused("We can waive the fee today."),
            Some(Ungrounded::Word("waive".into()))
        );
        assert_eq!(
            refused("We're open weekdays and evenings."),
            Some(Ungrounded::Word("weekdays".into()))
        );
    }

    #[test]
    fn plain_sentences_and_a_lone_one_pass() {
        let grounds = Grounds::new([FEE]);
        assert_eq!(
            grounds.check("One of our technicians can take a look and give you a quote."),
            Ok(())
        );
        assert_eq!(grounds.check("Yes, we service heat pumps."), Ok(()));
    }

    #[test]
    fn a_price_must_be_for_what_the_passages_price() {
        let grounds = Grounds::new([FEE]);
        let refused = |sentence: &str| grounds.check(sentence).err();
        let tied_to = |thing: &str| {
            Some(Ungrounded::Price {
                amount: 89,
                thing: thing.into(),
            })
        };
        assert_eq!(refused("A tune-up is $89."), tied_to("tune-up"));
        assert_eq!(refused("For a tune-up, it's $89."), tied_to("tune-up"));
        assert_eq!(
            refused("It's eighty-nine dollars, for the repair."),
            tied_to("repair")
        );
        assert_eq!(
            refused("Installing a new thermostat runs about 89 dollars."),
            tied_to("installation")
        );
        assert_eq!(
            refused("Emergency calls after hours are $89."),
            tied_to("after-hours work")
        );
        // The thing the passage prices, however it is called, passes.
        for sentence in [
            "The service call is $89.",
            "Our trip charge is eighty nine dollars.",
            "It's $89 for us to come out and diagnose it.",
            "A diagnostic visit is $89, and a person can quote the repair.",
            "The fee is $89.",
        ] {
            assert_eq!(grounds.check(sentence), Ok(()), "{sentence}");
        }
    }

    #[test]
    fn several_prices_each_keep_their_own_thing() {
        let grounds =
            Grounds::new(["A service call is $89, and a tune-up is $129. Parts are extra."]);
        assert_eq!(grounds.check("A tune-up costs $129."), Ok(()));
        assert_eq!(grounds.check("The trip charge is $89."), Ok(()));
        assert_eq!(
            grounds.check("A tune-up is only $89."),
            Err(Ungrounded::Price {
                amount: 89,
                thing: "tune-up".into()
            })
        );
        assert_eq!(
            grounds.check("The service call is $129."),
            Err(Ungrounded::Price {
                amount: 129,
                thing: "service call".into()
            })
        );
    }
}
