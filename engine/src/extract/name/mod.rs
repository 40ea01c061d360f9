//! A caller's name: "this is maria garcia", "name's bob jones", "its j o h n", "sam o'neil".
//!
//! Lead-ins ("yeah", "my name is", "it's") are stripped, spelled letters are joined, and the
//! name runs until a word that can't be part of one ("and", "calling", "from"). A name has the
//! shape of one: the words after an introduction, or the whole short answer. A word of everyday
//! English that is not also a common name (a verb, adverb, preposition, adjective or common
//! noun: "loud", "back", "before", "sometime", "ahead") means the caller said something else, so
//! the utterance is rejected rather than turned into a strange name. A spelling replaces the
//! word it spells ("tuan win that's t u a n"), a surname label brings the surname ("and the
//! last name is ..."), and a name said twice is one ("dana dana whitfield").

mod spelling;

use super::lexicon::{WordClass, may_be_name, word_class};
use super::location::LocationMatcher;
use spelling::{
    SPELL_MARKERS, Word, drop_repeated_half, join_spelled, respell, respell_trailing, split_words,
    surname_label,
};

/// Acknowledgements and hesitations that may precede the name.
const LEAD_WORDS: &[&str] = &[
    "yeah", "yes", "yep", "yup", "sure", "ok", "okay", "so", "well", "hi", "hello", "hey", "oh",
    "alright", "right", "no", "nope", "sorry", "actually", "um", "uh", "and", "ah", "its", "im",
    "name", "names", "is", "sir", "maam", "this", "thats", "mr", "mrs", "ms", "miss", "dr",
    "doctor",
];

/// People a caller may book for or under ("it's under my husband, mark reyes").
const RELATIONS: &[&str] = &[
    "husband",
    "wife",
    "partner",
    "boyfriend",
    "girlfriend",
    "fiance",
    "fiancee",
    "son",
    "daughter",
    "mom",
    "mother",
    "dad",
    "father",
    "brother",
    "sister",
    "grandma",
    "grandpa",
    "grandmother",
    "grandfather",
    "aunt",
    "uncle",
    "roommate",
    "landlord",
    "tenant",
    "boss",
];

/// Possessives before a relation ("my wife", "our landlord").
const POSSESSIVES: &[&str] = &["my", "our", "the", "his", "her", "their"];

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
    "under",
];

/// Words that end a name ("john from arlington", "maria and my ac").
const STOPS: &[&str] = &[
    "and", "but", "from", "calling", "call", "i", "im", "my", "with", "at", "speaking", "here",
    "thanks", "thank", "please", "the", "in", "over", "on", "about", "for", "again", "thats", "if",
    "so", "not",
];

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

/// [`extract_person_name`] for a business with places: a configured place is never a person's
/// name. "dallas" or "ft worth" alone is no name, and a place after the name ("john smith
/// fort worth") is not part of it.
pub fn extract_person_name_among(text: &str, places: &LocationMatcher) -> Option<String> {
    let words: Vec<&str> = text.split_whitespace().collect();
    // The longest place the answer ends with goes, as long as something is said before it.
    let end = (1..words.len())
        .find(|&i| places.is_place_name(&words[i..].join(" ")))
        .unwrap_or(words.len());
    let name = extract_person_name(&words[..end].join(" "))?;
    (!places.is_place_name(&name)).then_some(name)
}

fn name_from(words: &[Word]) -> Option<String> {
    let (words, introduced) = strip_lead(words);
    let mut name: Vec<Word> = Vec::new();
    let mut i = 0;
    while let Some(w) = words.get(i) {
        let key = w.key.as_str();
        i += 1;
        // "john spelled j o h n", "tuan thats t u a n": the spelling replaces the word it spells.
        if SPELL_MARKERS.contains(&key)
            && let Some(spelling) = words.get(i).filter(|n| n.spelled)
        {
            i += 1;
            respell(&mut name, spelling);
            continue;
        }
        // "first name john last name smith", "dana and the last name is whitfield": what
        // follows is the surname, in place of any surname heard before.
        if let Some(label) = surname_label(words.get(i - 1..).unwrap_or_default()) {
            i += label - 1;
            name.truncate(1);
            continue;
        }
        if STOPS.contains(&key) {
            break;
        }
        // The name ends at the first everyday word ("its gary moss can you put me through"); an
        // answer that starts with one is not a name ("its loud in here", "sometime next week").
        // A misheard word the caller goes on to spell stays for now ("tuan win thats t u a
        // n"): the spelling decides what it becomes.
        let spelled_next = match (words.get(i), words.get(i + 1)) {
            (Some(next), _) if next.spelled => true,
            (Some(marker), Some(spelling)) => {
                SPELL_MARKERS.contains(&marker.key.as_str()) && spelling.spelled
            }
            _ => false,
        };
        if !w.spelled && (!may_be_name(key) || is_hesitation(key)) && !spelled_next {
            if name.is_empty() {
                return None;
            }
            break;
        }
        // "smith s m i t h", "whit field w h i t f i e l d": a spelling right after the
        // words it spells confirms or corrects them.
        if w.spelled && respell_trailing(&mut name, w) {
            continue;
        }
        // "dana dana whitfield", "gary um gary moss": a first name said twice is one.
        if name.last().is_some_and(|l| l.key == w.key) {
            continue;
        }
        name.push(w.clone());
    }
    drop_repeated_half(&mut name);
    let max_words = if introduced { 4 } else { 3 };
    if name.is_empty() || name.len() > max_words {
        return None;
    }
    let last = name.len() - 1;
    for (i, w) in name.iter().enumerate() {
        let letters = w.key.chars().all(|c| c.is_ascii_alphabetic());
        // Single letters only as middle initials ("john f kennedy").
        let long_enough = w.key.len() >= 2 || (i > 0 && i < last);
        if !letters || !long_enough {
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

/// "uhhh", "hmmm", "errr": hesitations longer than the fillers normalization drops.
fn is_hesitation(word: &str) -> bool {
    word.len() >= 3
        && ["uhm", "ah", "oh", "erm"]
            .iter()
            .any(|sounds| word.chars().all(|c| sounds.contains(c)))
}

/// Drops acknowledgements and introductions, hedges after an introduction ("it's probably")
/// and a relation ("under my husband"); reports whether an introduction was heard.
fn strip_lead(words: &[Word]) -> (&[Word], bool) {
    let mut rest = words;
    let mut introduced = false;
    loop {
        let relation = match rest {
            [possessive, relation, ..]
                if POSSESSIVES.contains(&possessive.key.as_str())
                    && RELATIONS.iter().any(|r| {
                        relation.key == *r || relation.key.strip_suffix('s') == Some(r)
                    }) =>
            {
                Some(2)
            }
            _ => None,
        };
        if let Some(n) = relation {
            rest = rest.get(n..).unwrap_or_default();
            continue;
        }
        if introduced
            && rest
                .first()
                .is_some_and(|w| word_class(&w.key) == Some(WordClass::Adverb))
        {
            rest = rest.get(1..).unwrap_or_default();
            continue;
        }
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

    #[test]
    fn talk_that_is_not_a_name() {
        for t in [
            "hang on a second im just walking outside its noisy out here",
            "give me a minute im driving",
            "alright im back now",
            "sorry im here",
            "first can you tell me how much the visit costs",
            "before we go on what do you charge",
            "maybe later this week",
            "sometime tomorrow",
            "go ahead",
            "sure go on",
            "one more thing",
            "its kind of a long story",
            "im not sure",
            "im calling for my mom",
            "its cold in here",
            "quick question",
        ] {
            assert_eq!(n(t), None, "{t}");
        }
    }

    #[test]
    fn names_that_are_also_words_still_work() {
        assert_eq!(n("will young").as_deref(), Some("Will Young"));
        assert_eq!(n("its rose banks").as_deref(), Some("Rose Banks"));
        assert_eq!(n("my name is mark price").as_deref(), Some("Mark Price"));
        assert_eq!(n("june fuller").as_deref(), Some("June Fuller"));
    }

    #[test]
    fn the_name_ends_where_everyday_talk_begins() {
        assert_eq!(
            n("its nina ford now could you put me through to billing").as_deref(),
            Some("Nina Ford")
        );
        assert_eq!(
            n("my name is oscar reyes id like to ask about my bill").as_deref(),
            Some("Oscar Reyes")
        );
        assert_eq!(
            n("its tom pryor sorry wait the dog is barking").as_deref(),
            Some("Tom Pryor")
        );
        assert_eq!(n("uhhh"), None);
        assert_eq!(n("mrs okafor").as_deref(), Some("Okafor"));
        assert_eq!(n("its doctor anand").as_deref(), Some("Anand"));
    }

    #[test]
    fn hedges_and_relations_before_the_name() {
        assert_eq!(
            n("its probably under my wife gina lowry").as_deref(),
            Some("Gina Lowry")
        );
        assert_eq!(
            n("it should be under my dad earl vance").as_deref(),
            Some("Earl Vance")
        );
        assert_eq!(
            n("my husbands name is theo grant").as_deref(),
            Some("Theo Grant")
        );
        assert_eq!(n("its definitely pham p h a m").as_deref(), Some("Pham"));
        assert_eq!(
            n("its rhea shaw sorry let me spell it s h a w").as_deref(),
            Some("Rhea Shaw")
        );
    }

    #[test]
    fn a_first_name_said_twice_is_one() {
        assert_eq!(
            n("uh its marcus marcus bell").as_deref(),
            Some("Marcus Bell")
        );
        assert_eq!(n("lena um lena ortiz").as_deref(), Some("Lena Ortiz"));
        assert_eq!(n("omar haddad omar haddad").as_deref(), Some("Omar Haddad"));
    }

    #[test]
    fn spellings_replace_what_they_spell() {
        // The recognizer split the surname; the spelling puts it together.
        assert_eq!(
            n("greta hollen beck h o l l e n b e c k").as_deref(),
            Some("Greta Hollenbeck")
        );
        assert_eq!(
            n("its greta hollinbeck h o l l e n b e c k").as_deref(),
            Some("Greta Hollenbeck")
        );
        // A marker spelling confirms the first name; the labelled surname replaces a misheard one.
        assert_eq!(
            n("its minh fam thats m i n h and the last name is p h a m").as_deref(),
            Some("Minh Pham")
        );
        assert_eq!(
            n("dario and my last name is k o v a c").as_deref(),
            Some("Dario Kovac")
        );
        assert_eq!(n("ivy surname is chen").as_deref(), Some("Ivy Chen"));
        // A spelled surname after the full name replaces the surname only.
        assert_eq!(
            n("sure its ada kowalczyk thats k o w a l c z y k").as_deref(),
            Some("Ada Kowalczyk")
        );
    }

    #[test]
    fn everyday_words_once_refused_by_a_list_are_still_refused() {
        for t in [
            "operator",
            "representative please",
            "repeat",
            "hvac",
            "human",
            "new",
            "its set",
        ] {
            assert_eq!(n(t), None, "{t}");
        }
    }

    #[test]
    fn a_configured_place_is_never_a_name() {
        let place = |code: &str, name: &str, aliases: &[&str]| crate::business::Location {
            code: code.into(),
            name: name.into(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
        };
        let places = LocationMatcher::new(&[
            place("DAL", "Dallas", &["big d", "dallas texas"]),
            place("FTW", "Fort Worth", &["ft worth", "cowtown"]),
            place("ARL", "Arlington", &["arlington texas"]),
        ]);
        let among = |t: &str| extract_person_name_among(t, &places);
        // Read alone, these are names; said to this business, they are its places.
        assert_eq!(n("dallas").as_deref(), Some("Dallas"));
        assert_eq!(n("fort worth").as_deref(), Some("Fort Worth"));
        for t in [
            "dallas",
            "fort worth",
            "ft worth",
            "its arlington texas",
            "cowtown",
        ] {
            assert_eq!(among(t), None, "{t}");
        }
        // A place after the name is not part of it; a name that only starts like a place, or
        // is spelled close to one, stays.
        assert_eq!(
            among("john smith fort worth").as_deref(),
            Some("John Smith")
        );
        assert_eq!(among("dallas smith").as_deref(), Some("Dallas Smith"));
        assert_eq!(among("this is greg wilson").as_deref(), Some("Greg Wilson"));
        assert_eq!(among("arrington").as_deref(), Some("Arrington"));
    }
}
