//! Which of the business's locations the caller means ("ft worth", "dalas", "in dallas please").
//!
//! Names and aliases come from configuration. Each is compared to word windows of the same
//! length, first exactly, then with a small edit distance (with spaces removed, so "fortworth"
//! and "forth worth" both reach "fort worth"). Common abbreviations are expanded first.

use super::normalize::tokens;
use crate::business::Location;

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

/// One way of matching: which location, how well (lower is better), where it ended.
struct Hit {
    index: usize,
    edits: usize,
    end: usize,
    words: usize,
}

/// Configured names and aliases, multiword, fuzzy ("fort worth", "ft worth", "forth worth",
/// "arlington texas", "dalas", "in dallas please"). Returns the matched location; `None` for
/// unrelated words, or when two places are named equally well and neither is negated.
pub fn extract_location<'a>(text: &str, locations: &'a [Location]) -> Option<&'a Location> {
    let words = phrase_words(text);
    let mut hits: Vec<Hit> = Vec::new();
    for (index, loc) in locations.iter().enumerate() {
        let names = std::iter::once(&loc.name)
            .chain(&loc.aliases)
            .chain(std::iter::once(&loc.code));
        for name in names {
            let phrase = phrase_words(name);
            if phrase.is_empty() {
                continue;
            }
            let target: String = phrase.concat();
            // Windows of the phrase's length and one word either side ("fortworth", "for t worth").
            for n in phrase.len().saturating_sub(1).max(1)..=phrase.len() + 1 {
                for start in 0..words.len().saturating_sub(n - 1) {
                    let Some(window) = words.get(start..start + n) else {
                        continue;
                    };
                    // "not dallas" names a place the caller does not want.
                    let negated = start
                        .checked_sub(1)
                        .and_then(|j| words.get(j))
                        .is_some_and(|w| w == "not");
                    if negated {
                        continue;
                    }
                    let candidate: String = window.concat();
                    let edits = if name == &loc.code {
                        // Codes ("dal") only count exactly, they are too short to guess at.
                        if candidate == target { 0 } else { continue }
                    } else {
                        strsim::levenshtein(&candidate, &target)
                    };
                    // Fuzzy matches must keep the first letter (ASR rarely loses it, and "not worth"
                    // is not "fort worth") and not swallow an extra word ("in dallas").
                    let fuzzy_ok = edits == 0
                        || (n <= phrase.len() && candidate.chars().next() == target.chars().next());
                    if edits > allowed_edits(target.len()) || !fuzzy_ok {
                        continue;
                    }
                    hits.push(Hit {
                        index,
                        edits,
                        end: start + n,
                        words: phrase.len(),
                    });
                }
            }
        }
    }
    // Best: fewest edits, then the longest phrase, then the place said last ("dallas, no
    // actually fort worth").
    let best = hits.iter().min_by(|a, b| {
        a.edits
            .cmp(&b.edits)
            .then(b.words.cmp(&a.words))
            .then(b.end.cmp(&a.end))
    })?;
    // Two different places at the same quality and position are a tie we can't break.
    let tied = hits.iter().any(|h| {
        h.index != best.index && h.edits == best.edits && h.words == best.words && h.end == best.end
    });
    if tied {
        return None;
    }
    locations.get(best.index)
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

    #[test]
    fn unrelated_words_do_not_match() {
        assert_eq!(code("houston"), None);
        assert_eq!(code("yes"), None);
        assert_eq!(code("my ac is broken"), None);
        assert_eq!(code("tomorrow at ten"), None);
        assert_eq!(code("the palace"), None);
        assert_eq!(code("its not worth it"), None);
        assert_eq!(code(""), None);
    }
}
