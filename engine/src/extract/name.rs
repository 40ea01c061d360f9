//! A caller's name: "this is maria garcia", "name's bob jones", "its j o h n", "sam o'neil".
//!
//! Lead-ins ("yeah", "my name is", "it's") are stripped, spelled letters are joined, and the
//! name runs until a word that can't be part of one ("and", "calling", "from"). Anything left
//! that is an ordinary English word ("tomorrow", "broken") means the caller said something
//! else, so the utterance is rejected rather than turned into a strange name.

use super::normalize::normalize;

/// Acknowledgements and hesitations that may precede the name.
const LEAD_WORDS: &[&str] = &[
    "yeah", "yes", "yep", "yup", "sure", "ok", "okay", "so", "well", "hi", "hello", "hey", "oh",
    "alright", "right", "no", "nope", "sorry", "actually", "um", "uh", "and", "ah", "its", "im",
    "name", "names", "is", "sir", "maam", "this", "thats",
];

/// Phrases that introduce a name; any of these makes a longer utterance acceptable.
const INTROS: &[&str] = &[
    "my name is",
    "my names",
    "my name",
    "the name is",
    "the names",
    "name is",
    "names",
    "this is",
    "it is",
    "its",
    "im",
    "i am",
    "you can call me",
    "call me",
    "my first name is",
    "first name is",
    "first name",
    "my full name is",
    "full name is",
    "my last name is",
    "last name is",
    "last name",
    "thats",
    "that is",
    "under the name of",
    "under the name",
    "its under",
    "under",
    "booked under",
    "should be under",
];

/// Introductions that may come after some other talk ("sorry about that, it's ray thomas").
const LATE_INTROS: &[&str] = &[
    "my name is",
    "my names",
    "this is",
    "its",
    "im",
    "i am",
    "the name is",
    "under the name",
];

/// Words that end a name ("john from arlington", "maria and my ac").
const STOPS: &[&str] = &[
    "and", "but", "from", "calling", "call", "i", "im", "my", "with", "at", "speaking", "here",
    "thanks", "thank", "please", "the", "in", "over", "on", "about", "for", "again", "thats", "if",
    "so", "not",
];

/// Ordinary words that are not (first or last) names; any of them rejects the utterance.
/// Words that are also common names ("may", "june", "will", "bill", "mark", "rose", "price")
/// stay out.
const NOT_NAMES: &str = "\
yes yeah no nope ok okay sure hello hi hey thanks thank you please a an or me mine we our \
us it its is are was be to of by this that there what when where who why how which do \
does did dont want wanna need like would could can cant have has had get got book booking \
schedule scheduling appointment visit service repair fix talk someone somebody person \
human agent representative operator today tomorrow tonight morning afternoon evening noon \
monday tuesday wednesday thursday friday saturday sunday week weekend next time am pm ac \
air conditioner conditioning heat heater heating furnace pump cooling cool cold hot warm \
broken broke working work works not unit system thermostat hvac leak leaking noise \
emergency gas smell help problem issue fine good great correct wrong sorry wait actually \
just none nothing number phone address name one two three four five six seven eight nine \
ten know think mean guess say said repeat all some any maybe really very too also then \
now later soon cancel reschedule cost much many hours open closed customer calling \
home house here hold on minute second bye goodbye again sounds perfect alright right \
going stop still check yet off out up down new old set";

/// Words ending a spelled-out stretch: "john spelled j o h n".
const SPELL_MARKERS: &[&str] = &["spelled", "spelling", "spell", "thats"];

#[derive(Debug, Clone)]
struct Word {
    /// As written, lowercased, apostrophes and hyphens kept ("o'neil").
    text: String,
    /// Comparable form: normalized, no apostrophes or hyphens ("oneil").
    key: String,
    /// Joined from spelled letters.
    spelled: bool,
}

/// "john smith" -> "John Smith"; "this is maria garcia"; "my name is ..."; "its j o h n"
/// (spelled) -> "John"; "name's bob jones"; "uh yeah it's sam o'neil" -> "Sam O'Neil".
/// Rejects utterances that are not names ("yes", "tomorrow", "i want to book", "my ac is
/// broken"). Returns Title Case.
pub fn extract_person_name(text: &str) -> Option<String> {
    let words = join_spelled(split_words(text));
    name_from(&words).or_else(|| {
        // "sorry about that its ray thomas": try again from the last introduction.
        (1..words.len()).rev().find_map(|i| {
            let rest = &words[i..];
            let intro = LATE_INTROS.iter().any(|p| {
                let parts: Vec<&str> = p.split(' ').collect();
                parts.len() < rest.len()
                    && parts.iter().zip(rest).all(|(a, b)| *a == b.key.as_str())
            });
            if intro { name_from(rest) } else { None }
        })
    })
}

fn name_from(words: &[Word]) -> Option<String> {
    let (words, introduced) = strip_lead(words);
    let mut name: Vec<Word> = Vec::new();
    let mut iter = words.iter().peekable();
    while let Some(w) = iter.next() {
        let key = w.key.as_str();
        // "john spelled j o h n": the spelling replaces the word before it.
        if SPELL_MARKERS.contains(&key)
            && let Some(sp) = iter.next_if(|n| n.spelled)
        {
            if let Some(last) = name.last_mut() {
                *last = sp.clone();
            } else {
                name.push(sp.clone());
            }
            continue;
        }
        // "first name john last name smith": the second label just continues the name.
        if key == "last" && iter.next_if(|n| n.key == "name").is_some() {
            iter.next_if(|n| n.key == "is");
            continue;
        }
        if STOPS.contains(&key) {
            break;
        }
        // "smith s m i t h": a spelling right after the same word confirms it.
        if w.spelled && name.last().is_some_and(|l| l.key == w.key) {
            continue;
        }
        name.push(w.clone());
    }
    let max_words = if introduced { 4 } else { 3 };
    if name.is_empty() || name.len() > max_words {
        return None;
    }
    let last = name.len() - 1;
    for (i, w) in name.iter().enumerate() {
        let letters = w.key.chars().all(|c| c.is_ascii_alphabetic());
        // Single letters only as middle initials ("john f kennedy").
        let long_enough = w.key.len() >= 2 || (i > 0 && i < last);
        if !letters || !long_enough || NOT_NAMES.split_whitespace().any(|x| x == w.key) {
            return None;
        }
    }
    Some(
        name.iter()
            .map(|w| title_case(&w.text))
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// Words with their in-word apostrophes and hyphens; other punctuation separates.
fn split_words(text: &str) -> Vec<Word> {
    let lowered = text.to_lowercase().replace(['’', '‘', '`'], "'");
    lowered
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '-'))
        .map(|w| w.trim_matches(|c| c == '\'' || c == '-'))
        .filter(|w| !w.is_empty())
        .flat_map(|w| {
            // "j-o-h-n" is a spelling, not a hyphenated name.
            let parts: Vec<&str> = w.split('-').collect();
            if parts.len() > 1 && parts.iter().all(|p| p.chars().count() == 1) {
                parts.into_iter().map(str::to_owned).collect::<Vec<_>>()
            } else {
                vec![w.to_owned()]
            }
        })
        .filter_map(|text| {
            let key = normalize(&text.replace('-', ""));
            // Fillers normalize to nothing.
            (!key.is_empty()).then_some(Word {
                text,
                key,
                spelled: false,
            })
        })
        .collect()
}

/// Runs of two or more single letters become one spelled word ("j o h n" -> "john").
fn join_spelled(words: Vec<Word>) -> Vec<Word> {
    let mut out: Vec<Word> = Vec::new();
    let mut letters = String::new();
    let flush = |letters: &mut String, out: &mut Vec<Word>| {
        match letters.len() {
            0 => {}
            1 => out.push(Word {
                text: letters.clone(),
                key: letters.clone(),
                spelled: false,
            }),
            _ => out.push(Word {
                text: letters.clone(),
                key: letters.clone(),
                spelled: true,
            }),
        }
        letters.clear();
    };
    for w in words {
        if w.key.len() == 1 && w.key.chars().all(|c| c.is_ascii_alphabetic()) {
            letters.push_str(&w.key);
        } else {
            flush(&mut letters, &mut out);
            out.push(w);
        }
    }
    flush(&mut letters, &mut out);
    out
}

/// Drops acknowledgements and introductions; reports whether an introduction was heard.
fn strip_lead(words: &[Word]) -> (&[Word], bool) {
    let mut rest = words;
    let mut introduced = false;
    loop {
        let intro = INTROS.iter().find_map(|p| {
            let parts: Vec<&str> = p.split(' ').collect();
            let matches = parts.len() <= rest.len()
                && parts.iter().zip(rest).all(|(a, b)| *a == b.key.as_str());
            matches.then_some(parts.len())
        });
        if let Some(n) = intro {
            rest = rest.get(n..).unwrap_or_default();
            introduced = true;
        } else if rest
            .first()
            .is_some_and(|w| LEAD_WORDS.contains(&w.key.as_str()))
        {
            rest = rest.get(1..).unwrap_or_default();
        } else {
            return (rest, introduced);
        }
    }
}

/// "o'neil" -> "O'Neil", "garcia-lopez" -> "Garcia-Lopez", "mcdonald" -> "McDonald".
fn title_case(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut upper_next = true;
    for c in word.chars() {
        if upper_next {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        upper_next = c == '\'' || c == '-';
    }
    // Irish/Scottish "Mc" names capitalize the third letter too.
    if let Some(rest) = out.strip_prefix("Mc").filter(|r| r.chars().count() >= 2) {
        let mut chars = rest.chars();
        if let Some(first) = chars.next() {
            return format!("Mc{}{}", first.to_uppercase(), chars.as_str());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(text: &str) -> Option<String> {
        extract_person_name(text)
    }

    #[test]
    fn plain_names() {
        assert_eq!(n("john smith").as_deref(), Some("John Smith"));
        assert_eq!(n("Maria").as_deref(), Some("Maria"));
        assert_eq!(n("john f kennedy").as_deref(), Some("John F Kennedy"));
        assert_eq!(n("mary-jane watson").as_deref(), Some("Mary-Jane Watson"));
        assert_eq!(n("angus mcdonald").as_deref(), Some("Angus McDonald"));
    }

    #[test]
    fn introductions() {
        assert_eq!(n("this is maria garcia").as_deref(), Some("Maria Garcia"));
        assert_eq!(n("my name is david lee").as_deref(), Some("David Lee"));
        assert_eq!(n("name's bob jones").as_deref(), Some("Bob Jones"));
        assert_eq!(n("uh yeah it's sam o'neil").as_deref(), Some("Sam O'Neil"));
        assert_eq!(
            n("Yes, my name's Kim Nguyen.").as_deref(),
            Some("Kim Nguyen")
        );
        assert_eq!(n("hi im tom").as_deref(), Some("Tom"));
        assert_eq!(n("you can call me rick").as_deref(), Some("Rick"));
        assert_eq!(n("my last name is smith").as_deref(), Some("Smith"));
        assert_eq!(
            n("first name john last name smith").as_deref(),
            Some("John Smith")
        );
        assert_eq!(n("no its john not jon").as_deref(), Some("John"));
        assert_eq!(n("sure its José Peña").as_deref(), Some("José Peña"));
        assert_eq!(
            n("it's under maria garcia").as_deref(),
            Some("Maria Garcia")
        );
        assert_eq!(
            n("sorry about that it's ray thomas").as_deref(),
            Some("Ray Thomas")
        );
        assert_eq!(
            n("hold on sorry my name is ann lee").as_deref(),
            Some("Ann Lee")
        );
        assert_eq!(n("dan price").as_deref(), Some("Dan Price"));
    }

    #[test]
    fn name_followed_by_more_talk() {
        assert_eq!(
            n("hi this is john calling about my ac").as_deref(),
            Some("John")
        );
        assert_eq!(
            n("my name is linda park and my furnace is making noise").as_deref(),
            Some("Linda Park")
        );
        assert_eq!(n("this is carl from arlington").as_deref(), Some("Carl"));
    }

    #[test]
    fn spelled_names() {
        assert_eq!(n("its j o h n").as_deref(), Some("John"));
        assert_eq!(n("J-O-H-N").as_deref(), Some("John"));
        assert_eq!(n("smith s m i t h").as_deref(), Some("Smith"));
        assert_eq!(n("its jon spelled j o n n").as_deref(), Some("Jonn"));
        assert_eq!(n("ann a n n smith").as_deref(), Some("Ann Smith"));
    }

    #[test]
    fn rejects_non_names() {
        for t in [
            "yes",
            "tomorrow",
            "i want to book",
            "my ac is broken",
            "no",
            "um",
            "",
            "this is for my furnace",
            "can i talk to a person",
            "two one four five five five",
            "the one im calling from",
            "sounds good",
            "its not working",
            "this is an emergency",
            "a",
            "my name is",
        ] {
            assert_eq!(n(t), None, "{t}");
        }
    }
}
