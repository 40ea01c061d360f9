//! Reference versus request: which parts of an utterance talk about something the caller
//! already has ("i have you guys coming out wednesday", "my appointment tomorrow at nine", "the
//! friday one") and which ask for something ("can we do thursday instead", "push it back a
//! week", "switch it to the fort worth team"), and which set something aside ("but keep
//! tomorrow's").
//!
//! The utterance is cut into segments at clause boundaries (conjunctions, a new subject, a new
//! question). Inside a segment, cue phrases set the role of what follows them; a few cues
//! ("instead", "the friday one") reach back over the words before them. Words with no cue stay
//! neutral: the caller of [`read_roles`] decides what they mean from what was asked.

/// What a part of an utterance is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartRole {
    /// The thing the caller already has.
    Reference,
    /// What the caller asks for.
    Request,
    /// Something the caller sets aside ("keep tomorrow's", "not the dallas one").
    Exclude,
    /// No cue either way.
    Neutral,
}

/// A run of words with one role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub text: String,
    pub role: PartRole,
}

/// Words that start a new clause.
const CONJUNCTIONS: &[&str] = &[
    "but", "and", "so", "because", "cause", "cuz", "though", "although", "plus", "also",
];

/// Subjects that open a clause when a verb follows ("... i need to", "... hes got").
const SUBJECTS: &[&str] = &[
    "i",
    "im",
    "ive",
    "id",
    "ill",
    "we",
    "were",
    "weve",
    "wed",
    "he",
    "hes",
    "she",
    "shes",
    "they",
    "theyre",
    "theres",
    "my",
    "our",
    "it",
    "its",
    "something",
];

/// Verbs (or their helpers) after a subject that make it a new clause.
const CLAUSE_VERBS: &[&str] = &[
    "have",
    "has",
    "had",
    "got",
    "gotta",
    "need",
    "needs",
    "want",
    "wants",
    "wanna",
    "would",
    "will",
    "wont",
    "cant",
    "can",
    "could",
    "should",
    "am",
    "is",
    "was",
    "are",
    "gonna",
    "going",
    "think",
    "know",
    "just",
    "dont",
    "doesnt",
    "didnt",
    "on",
    "booked",
    "scheduled",
    "came",
    "comes",
    "like",
    "called",
    "calling",
    "actually",
    "really",
    "also",
    "still",
    "to",
    "not",
    "husband",
    "wife",
    "mom",
    "dad",
    "mother",
    "father",
    "son",
    "daughter",
];

/// Question openers: "can we", "could you", "is there", "how about".
const QUESTION_HEADS: &[&str] = &[
    "can", "could", "would", "will", "is", "are", "any", "how", "what",
];
const QUESTION_SECONDS: &[&str] = &[
    "we", "you", "yall", "i", "somebody", "someone", "anybody", "anyone", "your", "there", "it",
    "about", "way", "chance", "possible", "they", "he", "she", "that",
];

/// Cue phrases whose following words are about the existing thing.
#[rustfmt::skip]
const REFERENCE_CUES: &[&[&str]] = &[
    &["i", "have"], &["i", "got"], &["ive", "got"], &["i", "had"], &["we", "have"], &["we", "got"],
    &["weve", "got"], &["he", "has"], &["hes", "got"], &["she", "has"], &["shes", "got"],
    &["they", "have"], &["theres"], &["there", "is"], &["have", "you"], &["you", "have"],
    &["youve", "got"], &["you", "guys", "have"], &["yall", "have"], &["have", "me"],
    &["have", "us"], &["me", "down"], &["us", "down"], &["on", "for"], &["im", "on"],
    &["were", "on"], &["booked"], &["scheduled"], &["set", "for"], &["set", "up", "for"],
    &["my", "appointment"], &["our", "appointment"], &["the", "appointment"],
    &["that", "appointment"], &["this", "appointment"], &["my", "visit"], &["our", "visit"],
    &["the", "visit"], &["that", "visit"], &["my", "service"], &["the", "one"], &["coming"],
    &["came", "up"], &["come", "up"], &["cant", "make"], &["cant", "do"], &["wont", "be"],
    &["not", "be", "home"], &["wont", "need"], &["dont", "need"], &["no", "need"], &["cancel"],
    &["call", "off"], &["scrap"], &["drop"], &["instead", "of"], &["rather", "than"],
];

/// Cue phrases whose following words are what the caller asks for.
#[rustfmt::skip]
const REQUEST_CUES: &[&[&str]] = &[
    &["can", "we"], &["could", "we"], &["can", "you"], &["could", "you"], &["can", "somebody"],
    &["can", "someone"], &["could", "somebody"], &["could", "someone"], &["any", "way"],
    &["is", "there", "any"], &["possible", "to"], &["how", "about"], &["what", "about"],
    &["make", "it"], &["make", "that"], &["move", "it"], &["move", "that"], &["move", "this"],
    &["push", "it"], &["push", "that"], &["push", "this"], &["push", "back"], &["bump", "it"],
    &["bump", "that"], &["change", "it"], &["change", "that"], &["switch", "it"],
    &["switch", "that"], &["switch", "to"], &["swap", "it"], &["put", "it"], &["put", "me"],
    &["need", "it"], &["want", "it"], &["need", "them"], &["need", "him"], &["need", "someone"],
    &["need", "somebody"], &["would", "work"], &["would", "be"], &["works", "better"], &["prefer"],
    &["rather"], &["do", "you", "have"], &["anything"], &["available"], &["same", "time"],
    &["same", "day"], &["next", "day"], &["day", "after"], &["day", "before"], &["following"],
    &["come", "out"], &["come", "by"], &["come", "the"], &["come", "on"], &["come", "in"],
    &["come"],
];

/// Cue phrases whose following words are set aside.
#[rustfmt::skip]
const EXCLUDE_CUES: &[&[&str]] = &[
    &["keep"], &["leave"], &["not", "the"], &["not", "that"], &["not", "my"], &["dont", "cancel"],
    &["dont", "move"], &["dont", "touch"], &["other", "than"], &["except"],
];

/// Words after which a preceding day or time is the existing thing ("the friday one", "my
/// tuesday appointment", "tomorrows tune up").
const REFERENCE_NOUNS: &[&str] = &[
    "one",
    "appointment",
    "appointments",
    "visit",
    "visits",
    "booking",
    "service",
];

/// Words that may stand between a reference noun and the day or time it names.
fn is_time_word(w: &str) -> bool {
    matches!(
        w,
        "the"
            | "this"
            | "next"
            | "that"
            | "at"
            | "on"
            | "am"
            | "pm"
            | "oclock"
            | "morning"
            | "mornings"
            | "afternoon"
            | "afternoons"
            | "evening"
            | "evenings"
            | "today"
            | "todays"
            | "tomorrow"
            | "tomorrows"
            | "monday"
            | "mondays"
            | "tuesday"
            | "tuesdays"
            | "wednesday"
            | "wednesdays"
            | "thursday"
            | "thursdays"
            | "friday"
            | "fridays"
            | "saturday"
            | "saturdays"
            | "sunday"
            | "sundays"
            | "noon"
    ) || w.bytes().all(|b| b.is_ascii_digit() || b == b':')
        || crate::extract::numbers::unit_word(w).is_some()
        || crate::extract::numbers::parse_ordinal(&[w]).is_some()
}

/// "to" followed by a day or time is a request ("move it to friday"); "to" before a verb is not.
fn starts_time(t: &[&str], i: usize) -> bool {
    t.get(i).is_some_and(|w| {
        is_time_word(w) && !matches!(*w, "at" | "on" | "am" | "pm" | "oclock" | "that")
    })
}

fn phrase_at(t: &[&str], i: usize, phrase: &[&str]) -> bool {
    t.get(i..i + phrase.len()) == Some(phrase)
}

/// Longest cue at `i`: its role and length.
fn cue_at(t: &[&str], i: usize) -> Option<(PartRole, usize)> {
    let mut best: Option<(PartRole, usize)> = None;
    for (role, cues) in [
        (PartRole::Exclude, EXCLUDE_CUES),
        (PartRole::Reference, REFERENCE_CUES),
        (PartRole::Request, REQUEST_CUES),
    ] {
        for cue in cues {
            if phrase_at(t, i, cue) && best.is_none_or(|(_, n)| cue.len() > n) {
                best = Some((role, cue.len()));
            }
        }
    }
    // "but not tomorrows", "not friday": a day set aside.
    if best.is_none() && t.get(i) == Some(&"not") && starts_time(t, i + 1) {
        best = Some((PartRole::Exclude, 1));
    }
    // "move it to friday", "reschedule for monday": the day after is the new one.
    if best.is_none()
        && matches!(t.get(i), Some(&"to" | &"for" | &"into"))
        && starts_time(t, i + 1)
        && t[..i].iter().rev().take(6).any(|w| {
            matches!(
                *w,
                "move"
                    | "moved"
                    | "reschedule"
                    | "rescheduled"
                    | "push"
                    | "change"
                    | "changed"
                    | "switch"
                    | "bump"
                    | "it"
                    | "that"
                    | "them"
                    | "appointment"
                    | "visit"
            )
        })
    {
        best = Some((PartRole::Request, 1));
    }
    best
}

/// Does a new clause start at `i`?
fn boundary_at(t: &[&str], i: usize) -> bool {
    if i == 0 {
        return false;
    }
    let w = t[i];
    let prev = t[i - 1];
    let next = t.get(i + 1).copied();
    let numberish = |x: Option<&str>| {
        x.is_some_and(|x| {
            x.bytes().all(|b| b.is_ascii_digit()) || crate::extract::numbers::unit_word(x).is_some()
        })
    };
    if CONJUNCTIONS.contains(&w) {
        // "between two and four", "same day and time" stay whole.
        if w == "and" && (numberish(Some(prev)) && numberish(next)) {
            return false;
        }
        if w == "and" && t[..i].iter().rev().take(4).any(|p| *p == "between") {
            return false;
        }
        if w == "and" && matches!(next, Some("time" | "day" | "date")) {
            return false;
        }
        return true;
    }
    if SUBJECTS.contains(&w) && next.is_some_and(|n| CLAUSE_VERBS.contains(&n)) {
        // "so i need", "can i": the question head already opened the clause.
        return !matches!(
            prev,
            "can" | "could" | "would" | "will" | "if" | "do" | "that"
        );
    }
    QUESTION_HEADS.contains(&w) && next.is_some_and(|n| QUESTION_SECONDS.contains(&n))
}

/// Splits a normalized utterance into runs of words with one role each, in order.
pub fn read_roles(norm: &str) -> Vec<Part> {
    let t: Vec<&str> = norm.split_whitespace().collect();
    let mut roles = vec![PartRole::Neutral; t.len()];
    let mut segment_start = 0;
    let mut current = PartRole::Neutral;
    let mut i = 0;
    while i < t.len() {
        if boundary_at(&t, i) {
            segment_start = i;
            current = PartRole::Neutral;
        }
        let reaches_back = matches!(t[i], "instead" | "later" | "earlier" | "sooner")
            && !matches!(t.get(i + 1), Some(&"of" | &"than"));
        if reaches_back {
            // "thursday instead", "a week later": the segment so far was the request.
            for r in roles.iter_mut().take(i).skip(segment_start) {
                if *r == PartRole::Neutral {
                    *r = PartRole::Request;
                }
            }
            roles[i] = PartRole::Request;
            current = PartRole::Request;
            i += 1;
            continue;
        }
        // "at one" is a time, not "the one".
        let pronoun_one = t[i] == "one"
            && i > 0
            && !matches!(
                t[i - 1],
                "at" | "around"
                    | "about"
                    | "by"
                    | "after"
                    | "before"
                    | "till"
                    | "until"
                    | "to"
                    | "from"
                    | "like"
                    | "say"
            );
        if REFERENCE_NOUNS.contains(&t[i]) && (t[i] != "one" || pronoun_one) {
            // "the friday one", "my tuesday appointment": the day before the noun is the
            // existing one, even inside a request ("move my friday appointment to monday").
            let mut j = i;
            while j > segment_start && is_time_word(t[j - 1]) {
                j -= 1;
            }
            // "the friday one", "tomorrows one"; not "can you do one" or "any one".
            let determined = t[i] != "one"
                || matches!(t[j], "the" | "this" | "that")
                || (t[j].len() > 4 && t[j].ends_with("days") || t[j] == "tomorrows");
            if determined
                && j < i
                && t[j..i]
                    .iter()
                    .any(|w| !matches!(*w, "the" | "this" | "that"))
            {
                for r in roles.iter_mut().take(i).skip(j) {
                    *r = PartRole::Reference;
                }
            }
        }
        if let Some((role, n)) = cue_at(&t, i) {
            // A cue inside an exclusion ("keep tomorrow's one") does not undo it.
            if current != PartRole::Exclude || role == PartRole::Exclude {
                current = role;
            }
            for r in roles.iter_mut().skip(i).take(n) {
                *r = current;
            }
            i += n;
            continue;
        }
        if roles[i] == PartRole::Neutral {
            roles[i] = current;
        }
        i += 1;
    }
    let mut parts: Vec<Part> = Vec::new();
    for (w, role) in t.iter().zip(roles) {
        match parts.last_mut() {
            Some(p) if p.role == role => {
                p.text.push(' ');
                p.text.push_str(w);
            }
            _ => parts.push(Part {
                text: (*w).to_string(),
                role,
            }),
        }
    }
    parts
}

/// The words of `parts` with `role`, joined in order.
pub fn text_of(parts: &[Part], role: PartRole) -> String {
    parts
        .iter()
        .filter(|p| p.role == role)
        .map(|p| p.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(text: &str) -> (String, String, String, String) {
        let parts = read_roles(text);
        (
            text_of(&parts, PartRole::Reference),
            text_of(&parts, PartRole::Request),
            text_of(&parts, PartRole::Exclude),
            text_of(&parts, PartRole::Neutral),
        )
    }

    #[test]
    fn the_visit_they_have_and_the_time_they_want_are_apart() {
        let (reference, request, _, _) =
            roles("so uh we got you guys coming out on tuesday and we need it a day later");
        assert!(reference.contains("tuesday"), "{reference}");
        assert!(request.contains("a day later"), "{request}");
        assert!(!request.contains("tuesday"), "{request}");
    }

    #[test]
    fn instead_reaches_back_over_its_clause() {
        let (reference, request, _, _) =
            roles("my appointment is monday at ten but could you do wednesday instead");
        assert!(reference.contains("monday at ten"), "{reference}");
        assert!(request.contains("wednesday instead"), "{request}");
    }

    #[test]
    fn a_day_before_a_reference_noun_is_the_existing_one() {
        let (reference, request, _, _) = roles("can you move my thursday appointment to saturday");
        assert!(reference.contains("thursday"), "{reference}");
        assert!(request.contains("saturday"), "{request}");
        assert!(!request.contains("thursday"), "{request}");
    }

    #[test]
    fn keep_sets_a_visit_aside() {
        let (reference, _, exclude, _) =
            roles("please cancel the furnace one on the twelfth but keep mondays ac check");
        assert!(reference.contains("twelfth"), "{reference}");
        assert!(exclude.contains("mondays ac check"), "{exclude}");
    }

    #[test]
    fn not_before_a_day_sets_it_aside() {
        let (reference, _, exclude, _) = roles("cancel the duct sealing but not tomorrows tune up");
        assert!(reference.contains("duct sealing"), "{reference}");
        assert!(exclude.contains("tomorrows tune up"), "{exclude}");
    }

    #[test]
    fn instead_of_names_the_old_one() {
        let (reference, request, _, _) =
            roles("could we do friday morning instead of the thursday afternoon");
        assert!(request.contains("friday morning"), "{request}");
        assert!(reference.contains("thursday afternoon"), "{reference}");
    }

    #[test]
    fn plain_answers_stay_neutral() {
        let (reference, request, exclude, neutral) = roles("thursday at three");
        assert!(reference.is_empty() && request.is_empty() && exclude.is_empty());
        assert_eq!(neutral, "thursday at three");
    }

    #[test]
    fn at_one_is_a_time_not_the_one() {
        let (reference, _, _, neutral) = roles("monday the eighth at one");
        assert!(reference.is_empty(), "{reference}");
        assert_eq!(neutral, "monday the eighth at one");
        let (reference, _, _, _) = roles("no the wednesday one");
        assert!(reference.contains("wednesday"), "{reference}");
    }

    #[test]
    fn ranges_are_not_cut() {
        let (_, request, _, _) = roles("could you come between two and four on friday");
        assert!(
            request.contains("between two and four on friday"),
            "{request}"
        );
    }
}
