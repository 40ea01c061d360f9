//! The one text normalization every extractor, trigger and flow keyword goes through.
//!
//! Speech recognizers disagree on case, punctuation and apostrophes ("It's", "its", "it’s"),
//! so everything is compared in one canonical form: lowercase ASCII words separated by single
//! spaces, with the digit punctuation that carries meaning ("10:30", "3/14", "+1") kept.

use std::sync::LazyLock;

use regex::Regex;

/// "a.m." / "P.M." as recognizers write them; without this they'd become "a m" / "p m".
static AM_PM: LazyLock<Regex> = LazyLock::new(|| {
    // A constant pattern: compiling it cannot fail on any input.
    Regex::new(r"(?i)\b([ap])\.\s?m\b\.?").expect("valid a.m./p.m. pattern")
});

/// Hesitation sounds that carry no meaning and are dropped as whole words.
const FILLERS: &[&str] = &[
    "um", "uh", "uhh", "umm", "uhm", "er", "erm", "hmm", "mm", "hm",
];

/// Lowercase, fold to ASCII where obvious, drop apostrophes without a space ("it's" -> "its",
/// "don't" -> "dont"), turn other punctuation into spaces (but keep "10:30", "3/14", "2.5" and
/// "+1" digits intact), turn "&" into "and", "a.m."/"p.m." into "am"/"pm", drop fillers ("um", "uh", "uhh", "umm", "er",
/// "erm", "hmm", "mm") but keep backchannels as one word ("uh-huh" -> "uhhuh", "mm-hmm" ->
/// "mhm"), collapse whitespace.
pub fn normalize(text: &str) -> String {
    let text = AM_PM.replace_all(text, "${1}m");
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).and_then(|j| chars.get(j)).copied();
        let next = chars.get(i + 1).copied();
        let digit_before = prev.is_some_and(|p| p.is_ascii_digit());
        let digit_after = next.is_some_and(|n| n.is_ascii_digit());
        match c {
            '\'' | '’' | '‘' | '`' | '´' => {} // "it's" -> "its"
            ':' | '/' | '.' | ',' if digit_before && digit_after => {
                // "10:30", "3/14", "2.5" keep their meaning; "1,000" becomes "1000".
                if c != ',' {
                    out.push(c);
                }
            }
            '+' if digit_after && !prev.is_some_and(|p| p.is_alphanumeric()) => out.push('+'),
            '&' => out.push_str(" and "),
            _ if c.is_alphanumeric() => {
                if c.is_ascii() {
                    out.push(c.to_ascii_lowercase());
                } else {
                    for l in c.to_lowercase() {
                        match fold(l) {
                            Some(f) => out.push_str(f),
                            None => out.push(l),
                        }
                    }
                }
            }
            _ => out.push(' '),
        }
    }
    let words: Vec<&str> = out.split_whitespace().collect();
    let mut kept: Vec<&str> = Vec::with_capacity(words.len());
    let mut i = 0;
    while let Some(&w) = words.get(i) {
        // "uh-huh" and "mm-hmm" are agreement, not a filler followed by "huh".
        if let Some(joined) = backchannel(w, words.get(i + 1).copied()) {
            kept.push(joined);
            i += 2;
            continue;
        }
        if !FILLERS.contains(&w) {
            kept.push(w);
        }
        i += 1;
    }
    kept.join(" ")
}

/// "uh huh" -> "uhhuh", "mm hmm" -> "mhm": the two halves of a backchannel as one word.
fn backchannel(first: &str, second: Option<&str>) -> Option<&'static str> {
    match (first, second?) {
        ("uh" | "um" | "uhm", "huh" | "hum") => Some("uhhuh"),
        ("mm" | "mmm" | "m", "hmm" | "hm") => Some("mhm"),
        _ => None,
    }
}

/// Normalized words of a text, for extractors that work token by token.
pub fn tokens(text: &str) -> Vec<String> {
    normalize(text)
        .split(' ')
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// ASCII for the accented letters callers' names and places come with. Others are kept.
fn fold(c: char) -> Option<&'static str> {
    Some(match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' => "a",
        'æ' => "ae",
        'ç' | 'č' | 'ć' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'ī' => "i",
        'ñ' | 'ń' | 'ň' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' => "o",
        'œ' => "oe",
        'ù' | 'ú' | 'û' | 'ü' | 'ū' | 'ů' => "u",
        'ý' | 'ÿ' => "y",
        'ß' => "ss",
        'š' | 'ś' => "s",
        'ž' | 'ź' | 'ż' => "z",
        'ł' => "l",
        'ř' => "r",
        'đ' | 'ð' => "d",
        'þ' => "th",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lowercases_and_drops_punctuation() {
        assert_eq!(normalize("Yes, That Works!"), "yes that works");
        assert_eq!(normalize("  Hello...   there?? "), "hello there");
    }

    #[test]
    fn apostrophes_join_words() {
        assert_eq!(normalize("It's fine, don't worry"), "its fine dont worry");
        assert_eq!(
            normalize("I’m calling from O’Neil’s"),
            "im calling from oneils"
        );
    }

    #[test]
    fn keeps_times_dates_and_plus() {
        assert_eq!(normalize("at 10:30, on 3/14."), "at 10:30 on 3/14");
        assert_eq!(normalize("+1 (214) 555-0123"), "+1 214 555 0123");
        assert_eq!(normalize("about 2.5 hours"), "about 2.5 hours");
        assert_eq!(normalize("$1,000"), "1000");
        // A colon or slash next to words is just punctuation.
        assert_eq!(normalize("note: a/c broken"), "note a c broken");
        assert_eq!(normalize("a+1"), "a 1");
    }

    #[test]
    fn am_pm_with_dots() {
        assert_eq!(normalize("2 p.m. on Tuesday"), "2 pm on tuesday");
        assert_eq!(normalize("at 10:30 A.M."), "at 10:30 am");
        assert_eq!(normalize("9 a. m."), "9 am");
        assert_eq!(normalize("a man"), "a man");
    }

    #[test]
    fn drops_fillers_as_whole_words_only() {
        assert_eq!(
            normalize("Um, uh, yeah... umm I think so, er"),
            "yeah i think so"
        );
        assert_eq!(normalize("hmm mm the summer"), "the summer");
        assert_eq!(normalize("uhh hmm"), "");
    }

    #[test]
    fn backchannels_are_one_word() {
        assert_eq!(normalize("Uh-huh."), "uhhuh");
        assert_eq!(normalize("uh huh thats it"), "uhhuh thats it");
        assert_eq!(normalize("Mm-hmm, yeah"), "mhm yeah");
        assert_eq!(normalize("um the huh"), "the huh");
    }

    #[test]
    fn folds_accents_and_ampersand() {
        assert_eq!(normalize("José Peña"), "jose pena");
        assert_eq!(normalize("heating & cooling"), "heating and cooling");
    }

    #[test]
    fn tokens_split_on_single_spaces() {
        assert_eq!(tokens("Uh, it's  me"), vec!["its", "me"]);
        assert!(tokens("...").is_empty());
    }
}

/// Words a caller opens with before getting to the point ("hi yeah so my ac ...").
const LEAD_INS: &[&str] = &[
    "hi",
    "hello",
    "hey",
    "yeah",
    "yes",
    "yep",
    "so",
    "well",
    "ok",
    "okay",
    "um",
    "uh",
    "oh",
    "good",
    "morning",
    "afternoon",
    "evening",
    "there",
    "just",
    "like",
    "and",
    "basically",
];

/// Free text as a slot value: the caller's words without greetings and lead-ins, trimmed.
/// "hi yeah so my AC is blowing warm air" -> "my AC is blowing warm air".
pub fn free_text(text: &str) -> String {
    let mut rest = text.trim();
    loop {
        let word_end = rest.find([' ', ',', '.', '!']).unwrap_or(rest.len());
        let word = &rest[..word_end];
        let bare: String = word
            .chars()
            .filter(|c| c.is_alphanumeric())
            .collect::<String>()
            .to_lowercase();
        if word_end == rest.len() || !LEAD_INS.contains(&bare.as_str()) {
            break;
        }
        rest = rest[word_end..].trim_start_matches([' ', ',', '.', '!']);
    }
    rest.trim_end_matches(['.', '!', ',']).trim().to_string()
}

#[cfg(test)]
mod free_text_tests {
    use super::free_text;

    #[test]
    fn drops_greetings_and_lead_ins() {
        assert_eq!(
            free_text("hi yeah so my AC is blowing warm air"),
            "my AC is blowing warm air"
        );
        assert_eq!(
            free_text("Hello, the furnace won't start."),
            "the furnace won't start"
        );
        assert_eq!(free_text("okay"), "okay");
    }
}
