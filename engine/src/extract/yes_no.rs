//! Yes or no, as callers actually say it ("yeah that works", "nah", "nope make it later").
//!
//! Phrases are matched on normalized words, longest first, so "no problem" is read as a yes
//! before "no" is. Strong words ("yes", "no", "correct", "wrong") outrank weak ones ("okay",
//! "great"), because "okay so no" means no. Doubt ("i dont know", "maybe") means the agent
//! should ask again, so it wins over everything. "please" alone agrees to nothing.
//!
//! The answer is read against the question asked: a yes/no slot may name the action its
//! question proposes ([`YesNoContext::affirm`], e.g. `cancel` for "Shall I cancel it?"), so "go
//! ahead and cancel it" agrees while "don't cancel it" or "instead of cancelling" declines;
//! words that decline ([`YesNoContext::deny`], e.g. `keep`) say no. Where an action is named it
//! decides over the particles around it ("yeah cancel it" agrees to cancelling); "cancel"
//! declines any question that does not propose it. Fused discourse pairs are read as speakers
//! mean them: "yeah no" alone is no, "no yeah" alone is yes, and either pair followed by more
//! ("yeah no that works") lets the rest decide. A repair ("no wait yes", "yes sorry i mean
//! no") keeps what comes after it.

use super::normalize::tokens;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Signal {
    Yes,
    No,
    WeakYes,
    Unsure,
}

/// What the question proposed: words that agree with it and words that decline it. Words
/// match their inflections ("cancel" matches "cancelled", "canceling").
#[derive(Debug, Clone, Copy, Default)]
pub struct YesNoContext<'a> {
    /// Said without a negation, these agree ("cancel" to "Shall I cancel it?").
    pub affirm: &'a [String],
    /// Said without a negation, these decline ("keep" to "Shall I cancel it?").
    pub deny: &'a [String],
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
    ("that doesnt work", Signal::No),
    ("doesnt sound", Signal::No),
    ("i dont think so", Signal::No),
    ("dont think so", Signal::No),
    ("dont want", Signal::No),
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
    ("sure thing", Signal::Yes),
    ("for sure", Signal::Yes),
    ("correct", Signal::Yes),
    ("thats right", Signal::Yes),
    ("that is right", Signal::Yes),
    ("right", Signal::WeakYes),
    ("absolutely", Signal::Yes),
    ("definitely", Signal::Yes),
    ("certainly", Signal::Yes),
    ("totally", Signal::Yes),
    ("of course", Signal::Yes),
    ("affirmative", Signal::Yes),
    ("exactly", Signal::Yes),
    ("indeed", Signal::Yes),
    // Backchannels: "uh-huh" and "mm-hmm" as recognizers write them, joined by normalization.
    ("uh huh", Signal::Yes),
    ("uhhuh", Signal::Yes),
    ("mhm", Signal::Yes),
    ("mhmm", Signal::Yes),
    ("mmhmm", Signal::Yes),
    ("please do", Signal::Yes),
    ("go ahead", Signal::Yes),
    ("go for it", Signal::Yes),
    ("do it", Signal::Yes),
    ("lets do it", Signal::Yes),
    ("lets do that", Signal::Yes),
    ("book it", Signal::Yes),
    ("that works", Signal::Yes),
    ("that work", Signal::Yes),
    ("this works", Signal::Yes),
    ("it works", Signal::Yes),
    ("thatll work", Signal::Yes),
    ("that will work", Signal::Yes),
    ("that would work", Signal::Yes),
    ("that should work", Signal::Yes),
    ("works for me", Signal::Yes),
    ("sounds good", Signal::Yes),
    ("sounds great", Signal::Yes),
    ("sounds perfect", Signal::Yes),
    ("sounds fine", Signal::Yes),
    ("sounds right", Signal::Yes),
    ("you got it", Signal::Yes),
    ("you bet", Signal::Yes),
    ("i guess so", Signal::WeakYes),
    ("i think so", Signal::WeakYes),
    ("ok", Signal::WeakYes),
    ("okay", Signal::WeakYes),
    ("k", Signal::WeakYes),
    ("alright", Signal::WeakYes),
    ("all right", Signal::WeakYes),
    ("all good", Signal::WeakYes),
    ("fine", Signal::WeakYes),
    ("good", Signal::WeakYes),
    ("great", Signal::WeakYes),
    ("perfect", Signal::WeakYes),
    ("awesome", Signal::WeakYes),
    ("cool", Signal::WeakYes),
];

/// Words that take back what came before ("no wait yes", "yes sorry i mean no").
const REPAIRS: &[&str] = &["wait", "sorry", "actually", "i mean", "scratch that"];

/// Words that negate an action word a few words later ("dont cancel it", "not going to move",
/// "instead of cancelling").
const NEGATORS: &[&str] = &[
    "dont",
    "not",
    "never",
    "doesnt",
    "didnt",
    "wont",
    "cant",
    "shouldnt",
    "wouldnt",
    "instead of",
    "rather than",
    "no need to",
];

/// Words that end a negation's reach ("no dont keep it, just cancel it" has two clauses).
const CLAUSE_BREAKS: &[&str] = &["but", "so", "just", "and", "then"];

/// Declines any question that does not propose it: "cancel" to "Shall I book it?" calls the
/// booking off. A question that proposes cancelling lists it in `affirm`.
const DECLINING_ACTIONS: &[&str] = &["cancel"];

/// How far back a negator reaches: "i dont think we need to cancel" is still negated.
const NEGATION_REACH: usize = 5;

/// "yeah that works", "yep", "sure", "correct", "sounds good", "please do", "go ahead" -> true;
/// "no", "nope", "nah", "not really", "that's wrong", "nope make it later" -> false;
/// unclear ("i dont know", "maybe", "what", "please") -> None. "no problem"/"no worries"
/// count as yes. Reads the answer without knowing the question; see [`extract_yes_no_in`].
pub fn extract_yes_no(text: &str) -> Option<bool> {
    extract_yes_no_in(text, &YesNoContext::default())
}

/// [`extract_yes_no`] read against the question: `context.affirm` words ("cancel") agree
/// unless negated ("go ahead and cancel it", "right cancel it please" -> true; "dont cancel
/// it" -> false), `context.deny` words ("keep") decline unless negated.
pub fn extract_yes_no_in(text: &str, context: &YesNoContext) -> Option<bool> {
    let words = tokens(text);
    let found = signals(&words, context);
    if found.iter().any(|f| f.signal == Signal::Unsure) {
        return None;
    }
    let found = after_last_repair(&words, &found);
    // The action named decides over the particles around it: "yeah cancel it" agrees to
    // cancelling, whatever the question was.
    if let Some(action) = found.iter().find(|f| !f.lexical) {
        return Some(action.signal == Signal::Yes);
    }
    let decisive = discourse_pair(found).unwrap_or(found);
    let first_strong = decisive
        .iter()
        .find(|f| matches!(f.signal, Signal::Yes | Signal::No));
    match first_strong.or(decisive.first())?.signal {
        Signal::Yes | Signal::WeakYes => Some(true),
        Signal::No => Some(false),
        Signal::Unsure => None,
    }
}

/// One signal and where it was said.
#[derive(Debug, Clone, Copy)]
struct Found {
    signal: Signal,
    start: usize,
    end: usize,
    /// From the phrase table (a yes/no word), not from the question's action words.
    lexical: bool,
}

/// "yeah no ..." / "no yeah ...": two adjacent opposite yes/no words opening the answer are
/// one discourse marker. Alone, the second word is the answer; with more after them, the rest
/// is. `None` when the answer does not open with such a pair.
fn discourse_pair(found: &[Found]) -> Option<&[Found]> {
    let [first, second, rest @ ..] = found else {
        return None;
    };
    let opposite = matches!(
        (first.signal, second.signal),
        (Signal::Yes, Signal::No) | (Signal::No, Signal::Yes)
    );
    if !(opposite && first.lexical && second.lexical && first.end == second.start) {
        return None;
    }
    Some(if rest.is_empty() {
        std::slice::from_ref(second)
    } else {
        rest
    })
}

/// The signals after the last repair word that has signals on both sides.
fn after_last_repair<'f>(words: &[String], found: &'f [Found]) -> &'f [Found] {
    let repair_at: Vec<usize> = (0..words.len())
        .filter(|&i| {
            REPAIRS.iter().any(|r| {
                let parts: Vec<&str> = r.split(' ').collect();
                words
                    .get(i..i + parts.len())
                    .is_some_and(|w| w.iter().zip(&parts).all(|(a, b)| a == b))
            })
        })
        .collect();
    let mut from = 0;
    for at in repair_at {
        let before = found.iter().any(|f| f.end <= at);
        let after = found.iter().position(|f| f.start > at);
        if let (true, Some(index)) = (before, after) {
            from = from.max(index);
        }
    }
    found.get(from..).unwrap_or_default()
}

/// The signals in order of appearance: the question's own words first, then the longest
/// phrase of the table at every position.
fn signals(words: &[String], context: &YesNoContext) -> Vec<Found> {
    let phrases: Vec<(Vec<&str>, Signal)> = PHRASES
        .iter()
        .map(|(p, s)| (p.split(' ').collect(), *s))
        .collect();
    let affirmed = |w: &str| context.affirm.iter().any(|a| a == w);
    let context_words: Vec<(Vec<&str>, bool)> = context
        .affirm
        .iter()
        .map(|p| (p.as_str(), true))
        .chain(context.deny.iter().map(|p| (p.as_str(), false)))
        .chain(
            DECLINING_ACTIONS
                .iter()
                .filter(|w| !affirmed(w))
                .map(|w| (*w, false)),
        )
        .map(|(p, agrees)| (p.split_whitespace().collect(), agrees))
        .filter(|(p, _): &(Vec<&str>, bool)| !p.is_empty())
        .collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let rest = words.get(i..).unwrap_or_default();
        let action = context_words
            .iter()
            .filter(|(p, _)| {
                p.len() <= rest.len() && p.iter().zip(rest).all(|(a, b)| same_word(b, a))
            })
            .max_by_key(|(p, _)| p.len());
        if let Some((p, agrees)) = action {
            let agrees = *agrees != negated(words, i);
            found.push(Found {
                signal: if agrees { Signal::Yes } else { Signal::No },
                start: i,
                end: i + p.len(),
                lexical: false,
            });
            i += p.len();
            continue;
        }
        let best = phrases
            .iter()
            .filter(|(p, _)| p.len() <= rest.len() && p.iter().zip(rest).all(|(a, b)| a == b))
            .max_by_key(|(p, _)| p.len());
        match best {
            Some((p, s)) => {
                found.push(Found {
                    signal: *s,
                    start: i,
                    end: i + p.len(),
                    lexical: true,
                });
                i += p.len();
            }
            None => i += 1,
        }
    }
    found
}

/// Whether a negator precedes the word at `at` within the same clause. A bare "no" is an
/// answer of its own ("no, cancel it"), not a negation of the action.
fn negated(words: &[String], at: usize) -> bool {
    let from = at.saturating_sub(NEGATION_REACH);
    for end in (from..at).rev() {
        let Some(w) = words.get(end) else { break };
        if CLAUSE_BREAKS.contains(&w.as_str()) {
            return false;
        }
        let negator = NEGATORS.iter().any(|n| {
            let parts: Vec<&str> = n.split(' ').collect();
            end + 1 >= parts.len()
                && words
                    .get(end + 1 - parts.len()..=end)
                    .is_some_and(|ws| ws.iter().zip(&parts).all(|(a, b)| a == b))
        });
        if negator {
            return true;
        }
    }
    false
}

/// "cancelled", "canceling", "cancels" are "cancel"; "moving", "moved" are "move".
fn same_word(heard: &str, listed: &str) -> bool {
    if heard == listed {
        return true;
    }
    let Some(ending) = heard.strip_prefix(listed).or_else(|| {
        // "move" -> "mov" + "ing"
        listed
            .strip_suffix('e')
            .and_then(|stem| heard.strip_prefix(stem))
    }) else {
        return false;
    };
    let last = listed.chars().last();
    // "cancelled", "stopping": the last consonant doubled.
    let ending = match (ending.chars().next(), last) {
        (Some(c), Some(l)) if c == l && ending.len() > 2 => &ending[1..],
        _ => ending,
    };
    matches!(ending, "s" | "es" | "ed" | "d" | "ing")
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
            "please",
            "um please",
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

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn the_proposed_action_agrees() {
        let affirm = words(&["cancel"]);
        let deny = words(&["keep"]);
        let ctx = YesNoContext {
            affirm: &affirm,
            deny: &deny,
        };
        for t in [
            "cancel it",
            "yeah you can cancel that one",
            "please go on and cancel the visit",
            "right just cancel it thanks",
            "ok cancel",
            "sure get it cancelled",
            "yes im canceling it",
        ] {
            assert_eq!(extract_yes_no_in(t, &ctx), Some(true), "{t}");
        }
        for t in [
            "dont cancel it",
            "no please dont cancel",
            "actually i dont think i want to cancel",
            "no keep it",
            "lets keep it on the books",
            "no",
        ] {
            assert_eq!(extract_yes_no_in(t, &ctx), Some(false), "{t}");
        }
        assert_eq!(
            extract_yes_no_in("hmm instead of cancelling could we push it a week", &ctx),
            Some(false)
        );
        assert_eq!(extract_yes_no_in("no cancel it", &ctx), Some(true));
        // Without the question's context "cancel" still means calling the thing off.
        assert_eq!(extract_yes_no("cancel it"), Some(false));
        assert_eq!(
            extract_yes_no("yeah just cancel the whole thing"),
            Some(false)
        );
        assert_eq!(extract_yes_no("yes dont cancel"), Some(true));
    }

    #[test]
    fn moving_agrees_to_a_move() {
        let affirm = words(&["move", "reschedule"]);
        let ctx = YesNoContext {
            affirm: &affirm,
            deny: &[],
        };
        assert_eq!(extract_yes_no_in("yes move it", &ctx), Some(true));
        assert_eq!(
            extract_yes_no_in("go on and move it over", &ctx),
            Some(true)
        );
        assert_eq!(extract_yes_no_in("ok go ahead moving it", &ctx), Some(true));
        assert_eq!(extract_yes_no_in("dont move it", &ctx), Some(false));
        assert_eq!(
            extract_yes_no_in("rather than moving it can you cancel", &ctx),
            Some(false)
        );
    }

    #[test]
    fn discourse_pairs() {
        assert_eq!(extract_yes_no("yeah no thats fine"), Some(true));
        assert_eq!(extract_yes_no("yeah no for sure"), Some(true));
        assert_eq!(extract_yes_no("yeah no totally go for it"), Some(true));
        assert_eq!(extract_yes_no("no yeah"), Some(true));
        assert_eq!(extract_yes_no("no yeah go on"), Some(true));
        assert_eq!(extract_yes_no("yeah no"), Some(false));
        assert_eq!(extract_yes_no("yeah no i dont want that"), Some(false));
    }

    #[test]
    fn repairs_keep_what_follows() {
        assert_eq!(extract_yes_no("no wait yes thats right"), Some(true));
        assert_eq!(extract_yes_no("yes sorry i mean no"), Some(false));
        assert_eq!(extract_yes_no("nope actually yeah that works"), Some(true));
        // A repair word with nothing after it changes nothing.
        assert_eq!(extract_yes_no("yes sorry"), Some(true));
    }

    #[test]
    fn backchannels_as_recognizers_write_them() {
        for t in [
            "Uh-huh.",
            "uh huh",
            "Mm-hmm.",
            "mm hmm",
            "That work.",
            "that'll work",
            "Yep, that's for me.",
            "yeah that should work fine",
        ] {
            assert_eq!(extract_yes_no(t), Some(true), "{t}");
        }
    }

    #[test]
    fn inflections_of_listed_words() {
        assert!(same_word("cancelled", "cancel"));
        assert!(same_word("canceled", "cancel"));
        assert!(same_word("cancelling", "cancel"));
        assert!(same_word("moving", "move"));
        assert!(same_word("moved", "move"));
        assert!(!same_word("cancellation", "cancel"));
        assert!(!same_word("movie", "move"));
    }
}
