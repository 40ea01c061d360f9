//! Keeping a model's answer to what the business wrote. A sentence may only state numbers
//! (prices, hours, durations), days and commitments ("free", "guarantee") that occur in the
//! knowledge passages it was given; anything else is treated as invented and not spoken.
//!
//! This is deliberately strict and word-level: a false alarm costs a reworded answer (the
//! passage is read instead), a miss could promise a caller a price the business never set.

use std::collections::BTreeSet;

use frontdesk_engine::extract::normalize::normalize;
use frontdesk_engine::extract::numbers::parse_cardinal;

/// Day words an answer about opening hours might use.
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
    "tonight",
    "overnight",
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
];

/// What the passages allow an answer to state.
#[derive(Debug, Clone, Default)]
pub struct Grounds {
    numbers: BTreeSet<i64>,
    words: BTreeSet<String>,
}

/// Why a sentence was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ungrounded {
    /// A number the passages do not contain.
    Number(i64),
    /// A day or commitment word the passages do not contain.
    Word(String),
}

impl std::fmt::Display for Ungrounded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Ungrounded::Number(n) => write!(f, "the number {n} is not in the knowledge"),
            Ungrounded::Word(w) => write!(f, "\"{w}\" is not in the knowledge"),
        }
    }
}

impl Grounds {
    pub fn new<'a>(passages: impl IntoIterator<Item = &'a str>) -> Grounds {
        let mut grounds = Grounds::default();
        for text in passages {
            let (numbers, words) = claims(text);
            grounds.numbers.extend(numbers);
            grounds.words.extend(words);
        }
        grounds
    }

    /// Ok when everything the sentence states is in the passages.
    pub fn check(&self, sentence: &str) -> Result<(), Ungrounded> {
        let (numbers, words) = claims(sentence);
        if let Some(n) = numbers.into_iter().find(|n| !self.numbers.contains(n)) {
            return Err(Ungrounded::Number(n));
        }
        if let Some(w) = words.into_iter().find(|w| !self.words.contains(w)) {
            return Err(Ungrounded::Word(w));
        }
        Ok(())
    }
}

/// The numbers and the day and commitment words a text states.
fn claims(text: &str) -> (Vec<i64>, Vec<String>) {
    let normalized = normalize(text);
    let tokens: Vec<&str> = normalized.split(' ').filter(|t| !t.is_empty()).collect();
    let mut numbers = Vec::new();
    let mut words = Vec::new();
    let mut i = 0;
    while let Some(rest) = tokens.get(i..).filter(|r| !r.is_empty()) {
        let word = rest[0];
        // "one of our technicians", "a hundred": a lone "one" or "a" is not a figure.
        if word != "one"
            && word != "a"
            && let Some((value, used)) = parse_cardinal(rest)
        {
            numbers.push(value);
            i += used.max(1);
            continue;
        }
        // "8:30", "24/7", "2.5": each figure counts on its own.
        if word.contains([':', '/', '.']) && word.chars().any(|c| c.is_ascii_digit()) {
            numbers.extend(
                word.split([':', '/', '.'])
                    .filter_map(|part| part.parse::<i64>().ok()),
            );
        } else if DAY_WORDS.contains(&word) || COMMITMENT_WORDS.contains(&word) {
            words.push(word.to_string());
        }
        i += 1;
    }
    (numbers, words)
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
            grounds.check("We're open weekdays... sorry, Monday to Friday, eight to six."),
            Err(Ungrounded::Word("weekdays".into()))
        );
        assert_eq!(
            grounds.check("On Saturday we close at noon, and we're closed Sunday."),
            Ok(())
        );
    }

    #[test]
    fn invented_prices_hours_and_promises_are_refused() {
        let grounds = Grounds::new([HOURS, FEE]);
        assert_eq!(
            grounds.check("A tune-up is $129."),
            Err(Ungrounded::Number(129))
        );
        assert_eq!(
            grounds.check("We're open until 9 PM."),
            Err(Ungrounded::Number(9))
        );
        assert_eq!(
            grounds.check("We can come out on Sunday."),
            Ok(()),
            "Sunday is in the passage; saying it is not a new fact"
        );
        assert_eq!(
            grounds.check("The first visit is free."),
            Err(Ungrounded::Word("free".into()))
        );
        assert_eq!(
            grounds.check("We guarantee all our work."),
            Err(Ungrounded::Word("guarantee".into()))
        );
        assert_eq!(
            grounds.check("We're open 24/7."),
            Err(Ungrounded::Number(24))
        );
        assert_eq!(
            grounds.check("Half past eight works, 8:30."),
            Err(Ungrounded::Number(30))
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
}
