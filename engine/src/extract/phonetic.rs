//! Matching by sound. A speech recognizer writes what it heard with the ordinary spelling of
//! whatever words came closest ("are linked in" for Arlington, "dollas" for Dallas, "fourth
//! word" for Fort Worth), so comparing spellings misses what comparing sounds finds.
//!
//! A phonetic key (Metaphone-like) folds spellings that sound alike into one form: every vowel
//! run becomes one `A`, consonant spellings become their sound (`ph`, `v` -> `F`; soft `c`, `z`
//! -> `S`; `d` -> `T`; `th` -> `0`; `sh`, `ch` -> `X`), silent letters go. A letter said on its
//! own is keyed by its name ("r" sounds like "ar"). Keys of a phrase's words are joined, because
//! recognizers split and merge words freely. Two keys are compared by an edit distance in which
//! vowels, weak consonants (`h`, `w`, `y`) and near sounds (`t`/`th`, `m`/`n`) cost less.
//!
//! [`PhoneticIndex`] holds configured phrases with ids and finds them in a caller's words.
//! Deciding which scores are good enough is the caller's business: it depends on whether the
//! phrase was asked for and on whether the words heard are ordinary words themselves.

/// The sound classes of a key. `A` is any vowel sound; the rest are consonant sounds.
const VOWEL: char = 'A';

/// Phonetic key of one word ("dallas" -> "TALAS", "worth" -> "WAR0", "r" -> "AR").
/// Non-letters are ignored; a word without letters has an empty key.
pub fn word_key(word: &str) -> String {
    let letters: Vec<char> = word
        .chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    match letters.as_slice() {
        [] => String::new(),
        [one] => letter_name_key(*one).to_string(),
        _ => collapse(&spelled_key(&letters)),
    }
}

/// Phonetic key of several words said together: their keys joined, runs collapsed.
pub fn phrase_key<S: AsRef<str>>(words: &[S]) -> String {
    let joined: String = words.iter().map(|w| word_key(w.as_ref())).collect();
    collapse(&joined)
}

/// How alike two keys sound, from 0 (nothing in common) to 1 (the same key).
pub fn key_similarity(a: &str, b: &str) -> f32 {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mass = mass(&a).max(mass(&b));
    if mass == 0.0 {
        return if a == b { 1.0 } else { 0.0 };
    }
    (1.0 - distance(&a, &b) / mass).max(0.0)
}

/// How alike two phrases sound (see [`key_similarity`]).
pub fn sound_similarity(a: &str, b: &str) -> f32 {
    let words = |t: &str| -> Vec<String> { t.split_whitespace().map(str::to_owned).collect() };
    key_similarity(&phrase_key(&words(a)), &phrase_key(&words(b)))
}

/// One configured phrase found among the caller's words.
#[derive(Debug, Clone, PartialEq)]
pub struct PhoneticMatch<T> {
    /// The id the phrase was registered with.
    pub id: T,
    /// The phrase as configured.
    pub phrase: String,
    /// First token of the match.
    pub start: usize,
    /// One past the last token of the match.
    pub end: usize,
    /// Sound similarity of the tokens to the phrase, 0 to 1.
    pub score: f32,
}

#[derive(Debug, Clone)]
struct Entry<T> {
    id: T,
    phrase: String,
    words: usize,
    key: Vec<char>,
    mass: f32,
}

/// A window of the caller's words as heard: its sound key and mass.
type HeardWindow = (Vec<char>, f32);

/// Phrases with ids, found by sound in windows of tokens. Build it once per phrase list;
/// [`PhoneticIndex::find`] is a few thousand small edit distances per utterance.
#[derive(Debug, Clone)]
pub struct PhoneticIndex<T> {
    entries: Vec<Entry<T>>,
}

impl<T: Clone> PhoneticIndex<T> {
    /// An index over `(id, phrase)` pairs. Several phrases may share an id (a name and its
    /// aliases); phrases without letters are skipped.
    pub fn new<I, S>(phrases: I) -> Self
    where
        I: IntoIterator<Item = (T, S)>,
        S: AsRef<str>,
    {
        let entries = phrases
            .into_iter()
            .filter_map(|(id, phrase)| {
                let phrase = phrase.as_ref().trim().to_lowercase();
                let words: Vec<&str> = phrase.split_whitespace().collect();
                let key: Vec<char> = phrase_key(&words).chars().collect();
                let words = words.len();
                (!key.is_empty()).then(|| Entry {
                    id,
                    words,
                    mass: mass(&key),
                    key,
                    phrase,
                })
            })
            .collect();
        PhoneticIndex { entries }
    }

    /// Phrases sounding like a window of `tokens` at `min_score` or better, best first among
    /// overlapping candidates, returned in the order they were said. A window spans from one
    /// word fewer to two words more than the phrase ("are linked in" is one place name).
    /// Tokens without letters (digits) never take part in a match.
    pub fn find<S: AsRef<str>>(&self, tokens: &[S], min_score: f32) -> Vec<PhoneticMatch<T>> {
        let keys: Vec<Vec<char>> = tokens
            .iter()
            .map(|t| word_key(t.as_ref()).chars().collect())
            .collect();
        // Every window's key and mass, computed once for all phrases: `windows[len - 1][start]`.
        let longest = self.entries.iter().map(|e| e.words + 2).max().unwrap_or(0);
        let windows: Vec<Vec<Option<HeardWindow>>> = (1..=longest)
            .map(|len| {
                (0..keys.len().saturating_sub(len - 1))
                    .map(|start| {
                        let window = keys.get(start..start + len)?;
                        if window.iter().any(Vec::is_empty) {
                            return None;
                        }
                        let joined: String = window.iter().flatten().collect();
                        let key: Vec<char> = collapse(&joined).chars().collect();
                        let heard = mass(&key);
                        Some((key, heard))
                    })
                    .collect()
            })
            .collect();
        let mut candidates: Vec<PhoneticMatch<T>> = Vec::new();
        for entry in &self.entries {
            let shortest = entry.words.saturating_sub(1).max(1);
            for len in shortest..=entry.words + 2 {
                let Some(row) = windows.get(len - 1) else {
                    continue;
                };
                for (start, window) in row.iter().enumerate() {
                    let Some((key, heard)) = window else {
                        continue;
                    };
                    let heard = *heard;
                    // Far longer or shorter than the phrase cannot reach a useful score.
                    if heard > entry.mass * 2.0 || heard * 2.0 < entry.mass {
                        continue;
                    }
                    // The distance is at least the difference in mass (a substitution never
                    // costs less than the difference of its indels), and the search stops once
                    // it cannot come within the budget `min_score` leaves: same answers, far
                    // fewer full comparisons.
                    let longer = heard.max(entry.mass);
                    let budget = (1.0 - min_score) * longer;
                    if (heard - entry.mass).abs() > budget {
                        continue;
                    }
                    let Some(d) = distance_within(key, &entry.key, budget) else {
                        continue;
                    };
                    let score = (1.0 - d / longer).max(0.0);
                    if score >= min_score {
                        candidates.push(PhoneticMatch {
                            id: entry.id.clone(),
                            phrase: entry.phrase.clone(),
                            start,
                            end: start + len,
                            score,
                        });
                    }
                }
            }
        }
        // Best first; at equal scores the window closest in length to the phrase, then the
        // earlier one.
        let words_of = |m: &PhoneticMatch<T>| {
            self.entries
                .iter()
                .find(|e| e.phrase == m.phrase)
                .map_or(0, |e| e.words)
        };
        candidates.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then_with(|| {
                    let off = |m: &PhoneticMatch<T>| (m.end - m.start).abs_diff(words_of(m));
                    off(a).cmp(&off(b))
                })
                .then(a.start.cmp(&b.start))
        });
        let mut chosen: Vec<PhoneticMatch<T>> = Vec::new();
        for c in candidates {
            if chosen.iter().all(|k| c.end <= k.start || c.start >= k.end) {
                chosen.push(c);
            }
        }
        chosen.sort_by_key(|m| m.start);
        chosen
    }
}

/// How a letter said on its own sounds: "r" is "ar", "b" is "bee".
fn letter_name_key(letter: char) -> &'static str {
    match letter {
        'b' => "BA",
        'c' | 'z' => "SA",
        'd' | 't' => "TA",
        'f' => "AF",
        'g' | 'j' => "JA",
        'h' => "AX",
        'k' | 'q' => "KA",
        'l' => "AL",
        'm' => "AM",
        'n' => "AN",
        'p' => "PA",
        'r' => "AR",
        's' => "AS",
        'u' => "YA",
        'v' => "FA",
        'w' => "TABALYA",
        'x' => "AKS",
        'y' => "WA",
        'a' | 'e' | 'i' | 'o' => "A",
        _ => "",
    }
}

fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u')
}

/// The sounds of a spelled word of two or more lowercase letters.
fn spelled_key(word: &[char]) -> String {
    let mut w: Vec<char> = word.to_vec();
    let has_vowel = |s: &[char]| s.iter().any(|c| is_vowel(*c) || *c == 'y');
    // Silent final "e" ("side", "move") and the "e" of a final "-ed" ("linked").
    let n = w.len();
    if n > 2 && w[n - 1] == 'e' && !is_vowel(w[n - 2]) && has_vowel(&w[..n - 2]) {
        w.pop();
    } else if n > 3
        && w[n - 2] == 'e'
        && w[n - 1] == 'd'
        && !is_vowel(w[n - 3])
        && w[n - 3] != 't'
        && w[n - 3] != 'd'
        && has_vowel(&w[..n - 2])
    {
        w.remove(n - 2);
    }
    let at = |i: usize| w.get(i).copied();
    let mut out = String::new();
    let mut i = 0;
    // Silent first letters: "knight", "gnome", "pneumatic", "wrench"; "x" starts like "z".
    match (at(0), at(1)) {
        (Some('k' | 'g' | 'p'), Some('n')) | (Some('w'), Some('r')) => i = 1,
        (Some('x'), _) => {
            out.push('S');
            i = 1;
        }
        _ => {}
    }
    while let Some(c) = at(i) {
        let next = at(i + 1);
        let next2 = at(i + 2);
        let prev = i.checked_sub(1).and_then(at);
        let soft = |n: Option<char>| matches!(n, Some('e' | 'i' | 'y'));
        // Doubled letters sound once ("dallas"), except "cc" ("accent").
        if prev == Some(c) && c != 'c' {
            i += 1;
            continue;
        }
        let mut step = 1;
        match c {
            'a' | 'e' | 'i' | 'o' | 'u' => out.push(VOWEL),
            'y' => out.push(if next.is_some_and(is_vowel) {
                'Y'
            } else {
                VOWEL
            }),
            // "climb", "thumb": a final "mb" is an "m".
            'b' if prev == Some('m') && next.is_none() => {}
            'b' => out.push('B'),
            'c' => {
                if next == Some('h') {
                    out.push('X');
                    step = 2;
                } else if next == Some('i') && next2 == Some('a') {
                    out.push('X');
                } else if soft(next) {
                    out.push('S');
                } else {
                    out.push('K');
                    if next == Some('k') {
                        step = 2;
                    }
                }
            }
            'd' => {
                if next == Some('g') && soft(next2) {
                    out.push('J');
                    step = 2;
                } else {
                    out.push('T');
                }
            }
            'g' => {
                if next == Some('h') {
                    // "ghost" is hard, "tough" ends in f, "night" is silent.
                    if i == 0 {
                        out.push('K');
                    } else if i + 2 == w.len() {
                        out.push('F');
                    }
                    step = 2;
                } else if next == Some('n') && i + 2 == w.len() {
                    // "sign".
                } else if soft(next) {
                    out.push('J');
                } else {
                    out.push('K');
                }
            }
            // Sounded only before a vowel and not after a vowel it lengthens ("oh").
            'h' if next.is_some_and(is_vowel) && !prev.is_some_and(is_vowel) => out.push('H'),
            'h' => {}
            'k' if prev == Some('c') => {}
            'k' => out.push('K'),
            'p' => {
                if next == Some('h') {
                    out.push('F');
                    step = 2;
                } else {
                    out.push('P');
                }
            }
            'q' => out.push('K'),
            's' => {
                if next == Some('h') {
                    out.push('X');
                    step = 2;
                } else if next == Some('i') && matches!(next2, Some('o' | 'a')) {
                    out.push('X');
                } else if next == Some('c') && next2 == Some('h') {
                    out.push_str("SK");
                    step = 3;
                } else {
                    out.push('S');
                }
            }
            't' => {
                if next == Some('h') {
                    out.push('0');
                    step = 2;
                } else if next == Some('i') && matches!(next2, Some('o' | 'a')) {
                    out.push('X');
                } else if next == Some('c') && next2 == Some('h') {
                    // "tch" is the "ch".
                } else {
                    out.push('T');
                }
            }
            'v' => out.push('F'),
            'w' => {
                if next == Some('h') {
                    out.push('W');
                    step = 2;
                } else if next.is_some_and(is_vowel) {
                    out.push('W');
                }
            }
            'x' => out.push_str("KS"),
            'z' => out.push('S'),
            'f' | 'j' | 'l' | 'm' | 'n' | 'r' => out.push(c.to_ascii_uppercase()),
            _ => {}
        }
        i += step;
    }
    out
}

/// One sound per run: "AA" -> "A", "TT" -> "T" (also across word boundaries).
fn collapse(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for c in key.chars() {
        if !out.ends_with(c) {
            out.push(c);
        }
    }
    out
}

/// Cost of hearing a sound that is not there, or missing one that is.
fn indel_cost(c: char) -> f32 {
    match c {
        VOWEL | 'H' | 'W' | 'Y' => 0.5,
        _ => 1.0,
    }
}

/// Cost of hearing one sound as another.
fn substitution_cost(a: char, b: char) -> f32 {
    if a == b {
        return 0.0;
    }
    let near = |x: char, y: char| (a == x && b == y) || (a == y && b == x);
    // "th" heard as "t" (and back) is the commonest slip of all.
    if near('T', '0') {
        return 0.3;
    }
    if near('F', '0') || near('S', 'X') || near('J', 'X') || near('M', 'N') || near('B', 'P') {
        0.5
    } else {
        1.0
    }
}

/// How much a key weighs: what deleting all of it would cost.
fn mass(key: &[char]) -> f32 {
    key.iter().map(|c| indel_cost(*c)).sum()
}

/// [`distance`], or none as soon as it must exceed `limit` (every row's least cost only grows).
fn distance_within(a: &[char], b: &[char], limit: f32) -> Option<f32> {
    let mut prev: Vec<f32> = std::iter::once(0.0)
        .chain(b.iter().scan(0.0, |acc, c| {
            *acc += indel_cost(*c);
            Some(*acc)
        }))
        .collect();
    let mut cur = vec![0.0; b.len() + 1];
    for &ca in a {
        cur[0] = prev[0] + indel_cost(ca);
        for (j, &cb) in b.iter().enumerate() {
            let replace = prev[j] + substitution_cost(ca, cb);
            let delete = prev[j + 1] + indel_cost(ca);
            let insert = cur[j] + indel_cost(cb);
            cur[j + 1] = replace.min(delete).min(insert);
        }
        std::mem::swap(&mut prev, &mut cur);
        if prev.iter().copied().fold(f32::INFINITY, f32::min) > limit + f32::EPSILON {
            return None;
        }
    }
    let d = prev[b.len()];
    (d <= limit + f32::EPSILON).then_some(d)
}

/// Weighted edit distance between two keys.
fn distance(a: &[char], b: &[char]) -> f32 {
    distance_within(a, b, f32::INFINITY).unwrap_or(f32::INFINITY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_fold_spellings_that_sound_alike() {
        assert_eq!(word_key("dallas"), word_key("dollas"));
        assert_eq!(word_key("phone"), word_key("fone"));
        assert_eq!(word_key("knight"), word_key("nite"));
        assert_eq!(word_key("city"), word_key("sity"));
        assert_eq!(word_key("worth"), "WAR0");
        assert_eq!(word_key("Fort-Worth"), "FARTWAR0");
        assert_eq!(word_key("r"), "AR");
        assert_eq!(word_key("42"), "");
    }

    #[test]
    fn split_words_join_into_one_key() {
        let arlington = phrase_key(&["arlington"]);
        assert_eq!(phrase_key(&["are", "linked", "in"]), arlington);
        assert_eq!(phrase_key(&["arling", "ton"]), arlington);
    }

    #[test]
    fn similarity_ranks_near_sounds_above_other_words() {
        let fort_worth = "fort worth";
        assert!(sound_similarity("fourth word", fort_worth) >= 0.85);
        assert!(sound_similarity("fort worths", fort_worth) >= 0.85);
        assert!(sound_similarity("for work", fort_worth) < 0.8);
        assert!(
            sound_similarity("four words", fort_worth)
                < sound_similarity("fourth word", fort_worth)
        );
        assert!(sound_similarity("r linkon", "arlington") >= 0.8);
        assert!(sound_similarity("houston", "dallas") < 0.5);
        assert!(sound_similarity("carbon mark side", "carbon monoxide") >= 0.8);
        assert_eq!(sound_similarity("dallas", "dallas"), 1.0);
    }

    fn places() -> PhoneticIndex<&'static str> {
        PhoneticIndex::new([
            ("DAL", "Dallas"),
            ("FTW", "Fort Worth"),
            ("FTW", "Cowtown"),
            ("ARL", "Arlington"),
        ])
    }

    fn words(text: &str) -> Vec<&str> {
        text.split_whitespace().collect()
    }

    #[test]
    fn finds_phrases_with_span_and_score() {
        let found = places().find(
            &words("yeah were out in are linked in near the stadium"),
            0.8,
        );
        assert_eq!(found.len(), 1);
        let m = &found[0];
        assert_eq!((m.id, m.start, m.end), ("ARL", 4, 7));
        assert_eq!(m.phrase, "arlington");
        assert!(m.score > 0.99);
    }

    #[test]
    fn several_places_come_back_in_spoken_order() {
        let found = places().find(&words("not dollas its over in fourth word"), 0.8);
        let ids: Vec<&str> = found.iter().map(|m| m.id).collect();
        assert_eq!(ids, ["DAL", "FTW"]);
    }

    #[test]
    fn ordinary_talk_does_not_match_at_a_strict_threshold() {
        for text in [
            "i called for work",
            "my ac stopped working last night",
            "the unit is rattling and the fan wont spin",
            "two one four five five five",
        ] {
            assert!(places().find(&words(text), 0.9).is_empty(), "{text}");
        }
    }

    #[test]
    fn digits_never_take_part() {
        assert!(places().find(&words("1 2 3"), 0.0).is_empty());
    }
}
