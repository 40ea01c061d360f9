//! Which of the business's locations the caller means ("ft worth", "dalas", "in dallas please").
//!
//! Names and aliases come from configuration. Each is compared to word windows of the same
//! length, first exactly, then with a small edit distance (with spaces removed, so "fortworth"
//! and "forth worth" both reach "fort worth"). Common abbreviations are expanded first. Then
//! by sound ([`PhoneticIndex`]): a recognizer writes "are linked in" or "dollas" for what it
//! could not spell. Sound alone is trusted far less when the location was not asked for, and
//! heard words that are themselves everyday English ("for work") need a closer match than
//! words that are not ("linkon").
//!
//! When several places are named, the one said last counts ("i said fort worth but i meant
//! arlington"); a place right after "not" is one the caller does not want.

use super::lexicon::is_common_word;
use super::normalize::tokens;
use super::phonetic::PhoneticIndex;
use crate::business::Location;

/// Sound similarity a window must reach when the caller was asked where they are.
const ASKED_MIN_SOUND: f32 = 0.8;
/// ... when every heard word of the window is an everyday English word ("fourth word").
const ASKED_MIN_SOUND_COMMON_WORDS: f32 = 0.85;
/// ... when the location was not asked: only near-certain matches, never of everyday words.
const UNASKED_MIN_SOUND: f32 = 0.9;

/// Abbreviations ASR and callers use in place names.
fn expand(word: &str) -> &str {
    match word {
        "ft" => "fort",
        "st" => "saint",
        "mt" => "mount",
        "pt" => "point",
        "n" => "north",
        "s" => "south",
        "e" => "east",
        "w" => "west",
        _ => word,
    }
}

fn phrase_words(text: &str) -> Vec<String> {
    tokens(text).iter().map(|w| expand(w).to_owned()).collect()
}

/// Edits allowed for a phrase of this many letters: none for short ones ("big d"), where one
/// edit already turns a word into another word.
fn allowed_edits(len: usize) -> usize {
    match len {
        0..=4 => 0,
        5..=8 => 1,
        _ => 2,
    }
}

/// One way of matching: which location, how well, where.
#[derive(Debug, Clone, Copy)]
struct Hit {
    index: usize,
    /// Spelling edits (0 exact), or 3 + a sound mismatch for sound matches: any spelling
    /// match beats a sound match over the same words.
    cost: f32,
    start: usize,
    end: usize,
    words: usize,
}

/// Configured names and aliases, multiword, fuzzy ("fort worth", "ft worth", "forth worth",
/// "arlington texas", "dalas", "in dallas please"), as heard in passing: sound matches only
/// when near-certain. Returns the matched location; `None` for unrelated words, or when two
/// places are named equally well at the same place and neither is negated.
pub fn extract_location<'a>(text: &str, locations: &'a [Location]) -> Option<&'a Location> {
    find_location(text, locations, false)
}

/// [`extract_location`] for an answer to "which location?" (`asked`): a recognizer's
/// spelling of a place by its sound ("are linked in", "fourth word", "dollas") counts too.
pub fn find_location<'a>(
    text: &str,
    locations: &'a [Location],
    asked: bool,
) -> Option<&'a Location> {
    LocationMatcher::new(locations)
        .find(text, asked)
        .and_then(|i| locations.get(i))
}

/// One configured name, alias or code, prepared for matching.
#[derive(Debug, Clone)]
struct Named {
    index: usize,
    words: usize,
    /// The name's words without spaces ("fortworth"), as windows are compared.
    target: String,
    /// Codes ("DAL") count only exactly.
    is_code: bool,
}

/// The business's locations prepared once (normalized names, sound keys), so each utterance
/// costs only the comparison.
#[derive(Debug, Clone)]
pub struct LocationMatcher {
    names: Vec<Named>,
    sounds: PhoneticIndex<usize>,
}

impl LocationMatcher {
    /// Prepares the business's locations: names, aliases, codes and their sound keys.
    pub fn new(locations: &[Location]) -> LocationMatcher {
        let mut names = Vec::new();
        for (index, loc) in locations.iter().enumerate() {
            let all = std::iter::once((&loc.name, false))
                .chain(loc.aliases.iter().map(|a| (a, false)))
                .chain(std::iter::once((&loc.code, true)));
            for (name, is_code) in all {
                let phrase = phrase_words(name);
                if phrase.is_empty() {
                    continue;
                }
                names.push(Named {
                    index,
                    words: phrase.len(),
                    target: phrase.concat(),
                    is_code,
                });
            }
        }
        // Codes are never guessed at by sound.
        let sounds = PhoneticIndex::new(locations.iter().enumerate().flat_map(|(i, loc)| {
            std::iter::once((i, loc.name.as_str()))
                .chain(loc.aliases.iter().map(move |a| (i, a.as_str())))
        }));
        LocationMatcher { names, sounds }
    }

    /// Whether `text` is exactly a configured name or alias ("dallas", "ft worth", "fort worth
    /// texas"), codes aside. Near spellings do not count: "arrington" is a surname.
    pub fn is_place_name(&self, text: &str) -> bool {
        let heard = phrase_words(text).concat();
        !heard.is_empty() && self.names.iter().any(|n| !n.is_code && n.target == heard)
    }

    /// The index of the location `text` names, if it names one (see [`find_location`]).
    pub fn find(&self, text: &str, asked: bool) -> Option<usize> {
        let words = phrase_words(text);
        let negated = |start: usize| {
            start
                .checked_sub(1)
                .and_then(|j| words.get(j))
                .is_some_and(|w| w == "not")
        };
        let mut hits = self.spelled_hits(&words);
        hits.extend(self.sound_hits(&words, asked));
        hits.retain(|h| !negated(h.start));
        // Overlapping hits are one mention: the best of them (cheapest, then longest phrase)
        // stands for it. Of separate mentions, the last said wins ("dallas, no, fort worth").
        let best_of = |group: &[Hit]| -> Option<Hit> {
            group.iter().copied().min_by(|a, b| {
                a.cost
                    .total_cmp(&b.cost)
                    .then(b.words.cmp(&a.words))
                    .then(b.end.cmp(&a.end))
            })
        };
        let last_start = hits.iter().map(|h| h.start).max()?;
        let last_mention: Vec<Hit> = {
            // Grow the group of hits overlapping the last one said.
            let mut group: Vec<Hit> = hits
                .iter()
                .copied()
                .filter(|h| h.start == last_start)
                .collect();
            loop {
                let (lo, hi) = group.iter().fold((usize::MAX, 0), |(lo, hi), h| {
                    (lo.min(h.start), hi.max(h.end))
                });
                let more: Vec<Hit> = hits
                    .iter()
                    .copied()
                    .filter(|h| h.start < hi && h.end > lo)
                    .collect();
                if more.len() == group.len() {
                    break group;
                }
                group = more;
            }
        };
        let best = best_of(&last_mention)?;
        // Two different places as good as each other over the same words are a tie.
        let tied = last_mention.iter().any(|h| {
            h.index != best.index
                && h.cost == best.cost
                && h.words == best.words
                && h.end == best.end
        });
        (!tied).then_some(best.index)
    }

    /// Exact and near-spelling matches of every name, alias and code.
    fn spelled_hits(&self, words: &[String]) -> Vec<Hit> {
        let mut hits = Vec::new();
        for name in &self.names {
            let target = &name.target;
            // Windows of the phrase's length and one word either side ("fortworth", "for t worth").
            for n in name.words.saturating_sub(1).max(1)..=name.words + 1 {
                for start in 0..words.len().saturating_sub(n - 1) {
                    let Some(window) = words.get(start..start + n) else {
                        continue;
                    };
                    let candidate: String = window.concat();
                    let exact = candidate == *target;
                    // Only an exact match may change the first letter or add a word ("in
                    // dallas"), and no match closes a gap in length wider than the edits
                    // allowed: the distance is skipped then.
                    let fuzzy_ok = n <= name.words
                        && candidate.chars().next() == target.chars().next()
                        && candidate.len().abs_diff(target.len()) <= allowed_edits(target.len());
                    let edits = if exact {
                        0
                    } else if name.is_code || !fuzzy_ok {
                        continue;
                    } else {
                        strsim::levenshtein(&candidate, target)
                    };
                    if edits > allowed_edits(target.len()) {
                        continue;
                    }
                    hits.push(Hit {
                        index: name.index,
                        cost: edits as f32,
                        start,
                        end: start + n,
                        words: name.words,
                    });
                }
            }
        }
        hits
    }

    /// Matches by sound of names and aliases.
    fn sound_hits(&self, words: &[String], asked: bool) -> Vec<Hit> {
        let floor = if asked {
            ASKED_MIN_SOUND
        } else {
            UNASKED_MIN_SOUND
        };
        self.sounds
            .find(words, floor)
            .into_iter()
            .filter(|m| {
                let heard = words.get(m.start..m.end).unwrap_or_default();
                let everyday = heard.iter().all(|w| is_common_word(w));
                match (asked, everyday) {
                    (_, false) => true,
                    (true, true) => m.score >= ASKED_MIN_SOUND_COMMON_WORDS,
                    (false, true) => false,
                }
            })
            .map(|m| Hit {
                index: m.id,
                cost: 3.0 + (1.0 - m.score),
                start: m.start,
                end: m.end,
                words: m.phrase.split_whitespace().count(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn locs() -> Vec<Location> {
        let l = |code: &str, name: &str, aliases: &[&str]| Location {
            code: code.into(),
            name: name.into(),
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
        };
        vec![
            l(
                "DAL",
                "Dallas",
                &["big d", "dallas texas", "downtown dallas"],
            ),
            l(
                "FTW",
                "Fort Worth",
                &["ft worth", "fort worth texas", "cowtown", "fortworth"],
            ),
            l("ARL", "Arlington", &["arlington texas", "arlington tx"]),
        ]
    }

    fn code(text: &str) -> Option<String> {
        let l = locs();
        extract_location(text, &l).map(|l| l.code.clone())
    }

    #[test]
    fn exact_names_and_aliases() {
        assert_eq!(code("dallas").as_deref(), Some("DAL"));
        assert_eq!(code("Fort Worth.").as_deref(), Some("FTW"));
        assert_eq!(code("uh in dallas please").as_deref(), Some("DAL"));
        assert_eq!(code("arlington texas").as_deref(), Some("ARL"));
        assert_eq!(code("out in cowtown").as_deref(), Some("FTW"));
        assert_eq!(code("we're in big d").as_deref(), Some("DAL"));
    }

    #[test]
    fn abbreviations_and_asr_errors() {
        assert_eq!(code("ft worth").as_deref(), Some("FTW"));
        assert_eq!(code("Ft. Worth").as_deref(), Some("FTW"));
        assert_eq!(code("forth worth").as_deref(), Some("FTW"));
        assert_eq!(code("fortworth").as_deref(), Some("FTW"));
        assert_eq!(code("dalas").as_deref(), Some("DAL"));
        assert_eq!(code("i live in arlinton").as_deref(), Some("ARL"));
        assert_eq!(code("the fort worth one").as_deref(), Some("FTW"));
    }

    #[test]
    fn corrections_and_negation() {
        assert_eq!(
            code("dallas no sorry actually fort worth").as_deref(),
            Some("FTW")
        );
        assert_eq!(code("not dallas, arlington").as_deref(), Some("ARL"));
    }

    fn asked(text: &str) -> Option<String> {
        let l = locs();
        find_location(text, &l, true).map(|l| l.code.clone())
    }

    #[test]
    fn the_last_place_said_counts() {
        assert_eq!(
            code("i told you fort worth earlier but its really arlington").as_deref(),
            Some("ARL")
        );
        assert_eq!(code("arlington texas").as_deref(), Some("ARL"));
        assert_eq!(
            code("we used to be in arlington now were in dallas texas").as_deref(),
            Some("DAL")
        );
    }

    #[test]
    fn asked_places_are_heard_by_sound() {
        assert_eq!(asked("uh r linkon").as_deref(), Some("ARL"));
        assert_eq!(asked("R-Linkon.").as_deref(), Some("ARL"));
        assert_eq!(asked("were out in are linked in").as_deref(), Some("ARL"));
        assert_eq!(asked("fourth word").as_deref(), Some("FTW"));
        assert_eq!(asked("the fort worths office").as_deref(), Some("FTW"));
        assert_eq!(asked("dollas").as_deref(), Some("DAL"));
        assert_eq!(asked("doulas texas").as_deref(), Some("DAL"));
    }

    #[test]
    fn sound_alone_is_not_trusted_in_passing() {
        // Not asked: everyday words never match by sound, other words only when near-certain.
        assert_eq!(code("i called for work"), None);
        assert_eq!(code("the fourth word i said"), None);
        assert_eq!(
            code("can someone come out to are linked in").as_deref(),
            Some("ARL")
        );
        assert_eq!(code("we live in dollas"), Some("DAL".into()));
        // Asked: everyday words still need to sound close.
        assert_eq!(asked("i called for work"), None);
        assert_eq!(asked("its about fifty dollars right"), None);
        assert_eq!(asked("not dollas arlington").as_deref(), Some("ARL"));
    }

    #[test]
    fn unrelated_words_do_not_match() {
        assert_eq!(code("houston"), None);
        assert_eq!(code("yes"), None);
        assert_eq!(code("my ac is broken"), None);
        assert_eq!(code("tomorrow at ten"), None);
        assert_eq!(code("the palace"), None);
        assert_eq!(code("its not worth it"), None);
        assert_eq!(code(""), None);
        for text in [
            "yes",
            "my ac is broken",
            "tomorrow at ten",
            "its not worth it",
            "houston",
        ] {
            assert_eq!(asked(text), None, "{text}");
        }
    }
}
