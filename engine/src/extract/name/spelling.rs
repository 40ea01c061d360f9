//! How callers spell and label their names: spelled letters joined into a word ("j o h n"), a
//! spelling that replaces the word it spells ("tuan win, that's t u a n"), surname labels ("and
//! the last name is ..."), and a name said twice.

use crate::extract::normalize::normalize;
use crate::extract::phonetic::sound_similarity;

/// How alike by sound a spelling and a heard word must be for the spelling to replace it.
const RESPELL_SIMILARITY: f32 = 0.7;

/// Words ending a spelled-out stretch: "john spelled j o h n".
pub(super) const SPELL_MARKERS: &[&str] = &["spelled", "spelling", "spell", "thats"];

/// One word of the answer as heard.
#[derive(Debug, Clone)]
pub(super) struct Word {
    /// As written, lowercased, apostrophes and hyphens kept ("o'neil").
    pub(super) text: String,
    /// Comparable form: normalized, no apostrophes or hyphens ("oneil").
    pub(super) key: String,
    /// Joined from spelled letters.
    pub(super) spelled: bool,
}

/// Words of a surname label at the start of `words` ("last name", "and the last name is",
/// "my surname is"), or `None`.
pub(super) fn surname_label(words: &[Word]) -> Option<usize> {
    let keys: Vec<&str> = words.iter().take(6).map(|w| w.key.as_str()).collect();
    let mut n = 0;
    while matches!(
        keys.get(n),
        Some(&("and" | "the" | "my" | "his" | "her" | "our"))
    ) {
        n += 1;
    }
    n += match (keys.get(n), keys.get(n + 1)) {
        (Some(&("last" | "family")), Some(&"name")) => 2,
        (Some(&"surname"), _) => 1,
        _ => return None,
    };
    while matches!(
        keys.get(n),
        Some(&("is" | "its" | "thats" | "would" | "be"))
    ) {
        n += 1;
    }
    Some(n)
}

/// A spelling after a marker replaces the name word that sounds most like it, or is added.
pub(super) fn respell(name: &mut Vec<Word>, spelling: &Word) {
    if respell_trailing(name, spelling) {
        return;
    }
    let closest = name
        .iter()
        .enumerate()
        .map(|(i, w)| (i, sound_similarity(&w.key, &spelling.key)))
        .filter(|(_, score)| *score >= RESPELL_SIMILARITY)
        .max_by(|a, b| a.1.total_cmp(&b.1));
    match closest {
        Some((i, _)) => name[i] = spelling.clone(),
        // "its jon spelled j o n n": with nothing alike, the spelling corrects the last word.
        None => match name.last_mut() {
            Some(last) if !last.spelled => *last = spelling.clone(),
            _ => name.push(spelling.clone()),
        },
    }
}

/// Replaces the last one or two name words when the spelling spells them (as heard, joined, or
/// by sound). Returns false, changing nothing, when it spells something else.
pub(super) fn respell_trailing(name: &mut Vec<Word>, spelling: &Word) -> bool {
    for k in [2, 1] {
        let Some(from) = name.len().checked_sub(k) else {
            continue;
        };
        // Only words as heard are respelled, never an earlier spelling.
        let heard: Vec<&Word> = name[from..].iter().collect();
        if heard.iter().any(|w| w.spelled) {
            continue;
        }
        let joined: String = heard.iter().map(|w| w.key.as_str()).collect();
        // Two words are one split by the recognizer only when they spell nearly the same;
        // one word may also just sound like the spelling.
        let alike = strsim::levenshtein(&joined, &spelling.key) * 4 <= spelling.key.len()
            || (k == 1 && sound_similarity(&joined, &spelling.key) >= RESPELL_SIMILARITY);
        if alike {
            name.truncate(from);
            name.push(spelling.clone());
            return true;
        }
    }
    false
}

/// "dana whitfield dana whitfield" is one name said twice.
pub(super) fn drop_repeated_half(name: &mut Vec<Word>) {
    let n = name.len();
    if n >= 2
        && n.is_multiple_of(2)
        && name[..n / 2]
            .iter()
            .zip(&name[n / 2..])
            .all(|(a, b)| a.key == b.key)
    {
        name.truncate(n / 2);
    }
}

/// Words with their in-word apostrophes and hyphens; other punctuation separates.
pub(super) fn split_words(text: &str) -> Vec<Word> {
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
pub(super) fn join_spelled(words: Vec<Word>) -> Vec<Word> {
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
