//! Yes or no, as callers actually say it ("yeah that works", "nah", "nope make it later").
//!
//! Phrases are matched on normalized words, longest first, so "no problem" is read as a yes
//! before "no" is. Strong words ("yes", "no", "correct", "wrong") outrank weak ones ("okay",
//! "great", "please"), because "okay so no" means no. Doubt ("i dont know", "maybe") means the
//! agent should ask again, so it wins over everything.

use super::normalize::tokens;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    Yes,
    No,
    WeakYes,
    Unsure,
}

/// Phrases and what they mean. Multiword entries are matched before their prefixes.
const PHRASES: &[(&str, Signal)] = &[
    // Doubt first: these contain "no"/"not"/"sure" but mean neither.
    ("i dont know", Signal::Unsure),
    ("dont know", Signal::Unsure),
    ("dunno", Signal::Unsure),
    ("not sure", Signal::Unsure),
    ("im not sure", Signal::Unsure),
    ("maybe", Signal::Unsure),
    ("possibly", Signal::Unsure),
    ("perhaps", Signal::Unsure),
    ("let me think", Signal::Unsure),
    ("let me check", Signal::Unsure),
    ("hold on", Signal::Unsure),
    ("what", Signal::Unsure),
    ("pardon", Signal::Unsure),
    ("come again", Signal::Unsure),
    ("say that again", Signal::Unsure),
    ("repeat that", Signal::Unsure),
    // "no problem" is agreement.
    ("no problem", Signal::WeakYes),
    ("no worries", Signal::WeakYes),
    ("not a problem", Signal::WeakYes),
    ("no doubt", Signal::Yes),
    // Negations of agreement words.
    ("not really", Signal::No),
    ("not right", Signal::No),
    ("not correct", Signal::No),
    ("not quite", Signal::No),
    ("not at all", Signal::No),
    ("not good", Signal::No),
    ("not okay", Signal::No),
    ("not ok", Signal::No),
    ("not that", Signal::No),
    ("not great", Signal::No),
    ("doesnt work", Signal::No),
    ("dont work", Signal::No),
    ("wont work", Signal::No),
    ("doesnt sound", Signal::No),
    ("i dont think so", Signal::No),
    ("dont think so", Signal::No),
    ("please dont", Signal::No),
    ("dont do", Signal::No),
    ("thats wrong", Signal::No),
    ("that is wrong", Signal::No),
    ("i cant", Signal::No),
    ("cant make", Signal::No),
    ("no thanks", Signal::No),
    ("no thank you", Signal::No),
    ("never mind", Signal::No),
    ("nevermind", Signal::No),
    ("no", Signal::No),
    ("nope", Signal::No),
    ("nah", Signal::No),
    ("naw", Signal::No),
    ("negative", Signal::No),
    ("wrong", Signal::No),
    ("incorrect", Signal::No),
    ("cancel", Signal::No),
    ("nuh uh", Signal::No),
    // Agreement.
    ("yes", Signal::Yes),
    ("yeah", Signal::Yes),
    ("yea", Signal::Yes),
    ("yep", Signal::Yes),
    ("yup", Signal::Yes),
    ("ya", Signal::Yes),
    ("yah", Signal::Yes),
    ("yess", Signal::Yes),
    ("sure", Signal::Yes),
    ("correct", Signal::Yes),
    ("thats right", Signal::Yes),
    ("that is right", Signal::Yes),
    ("right", Signal::WeakYes),
    ("absolutely", Signal::Yes),
    ("definitely", Signal::Yes),
    ("certainly", Signal::Yes),
    ("of course", Signal::Yes),
    ("affirmative", Signal::Yes),
    ("exactly", Signal::Yes),
    ("indeed", Signal::Yes),
    ("uh huh", Signal::Yes),
    ("mhm", Signal::Yes),
    ("mhmm", Signal::Yes),
    ("please do", Signal::Yes),
    ("go ahead", Signal::Yes),
    ("go for it", Signal::Yes),
    ("do it", Signal::Yes),
    ("book it", Signal::Yes),
    ("that works", Signal::Yes),
    ("works for me", Signal::Yes),
    ("sounds good", Signal::Yes),
    ("sounds great", Signal::Yes),
    ("sounds perfect", Signal::Yes),
    ("sounds fine", Signal::Yes),
    ("you got it", Signal::Yes),
    ("you bet", Signal::Yes),
    ("i guess so", Signal::WeakYes),
    ("i think so", Signal::WeakYes),
    ("ok", Signal::WeakYes),
    ("okay", Signal::WeakYes),
    ("k", Signal::WeakYes),
    ("alright", Signal::WeakYes),
    ("all right", Signal::WeakYes),
    ("fine", Signal::WeakYes),
    ("good", Signal::WeakYes),
    ("great", Signal::WeakYes),
    ("perfect", Signal::WeakYes),
    ("awesome", Signal::WeakYes),
    ("cool", Signal::WeakYes),
    ("please", Signal::WeakYes),
];

/// "yeah that works", "yep", "sure", "correct", "sounds good", "please do", "go ahead" -> true;
/// "no", "nope", "nah", "not really", "that's wrong", "nope make it later" -> false;
/// unclear ("i dont know", "maybe", "what") -> None. "no problem"/"no worries" count as yes.
pub fn extract_yes_no(text: &str) -> Option<bool> {
    let words = tokens(text);
    let signals = signals(&words);
    if signals.contains(&Signal::Unsure) {
        return None;
    }
    // "yeah no" is a colloquial no: a yes immediately followed by a no.
    if let [Signal::Yes, Signal::No, ..] = signals.as_slice() {
        return Some(false);
    }
    let first_strong = signals
        .iter()
        .find(|s| matches!(s, Signal::Yes | Signal::No));
    match first_strong.or(signals.first())? {
        Signal::Yes | Signal::WeakYes => Some(true),
        Signal::No => Some(false),
        Signal::Unsure => None,
    }
}

/// The signals in order of appearance, longest phrase first at every position.
fn signals(words: &[String]) -> Vec<Signal> {
    let phrases: Vec<(Vec<&str>, Signal)> = PHRASES
        .iter()
        .map(|(p, s)| (p.split(' ').collect(), *s))
        .collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let rest = words.get(i..).unwrap_or_default();
        let best = phrases
            .iter()
            .filter(|(p, _)| p.len() <= rest.len() && p.iter().zip(rest).all(|(a, b)| a == b))
            .max_by_key(|(p, _)| p.len());
        match best {
            Some((p, s)) => {
                found.push(*s);
                i += p.len();
            }
            None => i += 1,
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_yes() {
        for t in [
            "yes",
            "Yeah, that works.",
            "yep",
            "sure",
            "correct",
            "sounds good",
            "please do",
            "go ahead",
            "uh yeah thats right",
            "mhm",
            "okay",
            "yes please",
            "yeah go ahead and book it",
            "perfect thank you",
            "that is correct",
            "of course",
        ] {
            assert_eq!(extract_yes_no(t), Some(true), "{t}");
        }
    }

    #[test]
    fn plain_no() {
        for t in [
            "no",
            "nope",
            "nah",
            "not really",
            "That's wrong.",
            "nope make it later",
            "no thats not right",
            "no thank you",
            "okay so no",
            "i dont think so",
            "that doesnt work for me",
            "yeah no",
            "um no the address is wrong",
            "not quite",
        ] {
            assert_eq!(extract_yes_no(t), Some(false), "{t}");
        }
    }

    #[test]
    fn no_problem_is_agreement() {
        assert_eq!(extract_yes_no("no problem"), Some(true));
        assert_eq!(extract_yes_no("oh no worries at all"), Some(true));
        assert_eq!(extract_yes_no("yeah no problem"), Some(true));
    }

    #[test]
    fn unclear_is_none() {
        for t in [
            "i dont know",
            "I don't know, maybe",
            "im not sure",
            "what",
            "hold on let me check",
            "my ac is broken",
            "tomorrow at 3",
            "",
            "uhh",
        ] {
            assert_eq!(extract_yes_no(t), None, "{t}");
        }
    }

    #[test]
    fn words_containing_yes_no_are_not_signals() {
        assert_eq!(extract_yes_no("nobody is home"), None);
        assert_eq!(extract_yes_no("notice the noise"), None);
        assert_eq!(extract_yes_no("yesterday"), None);
    }
}
