//! "Did you mean ...?": the defined name closest to a misspelt one.

/// The candidate closest to `name`, if it is close enough to be a misspelling of it: one edit
/// (a letter added, dropped, changed, or two swapped) per four letters, at least one and at
/// most three. Ties go to the first candidate.
pub fn nearest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (name.chars().count() / 4).clamp(1, 3);
    candidates
        .into_iter()
        .filter(|c| *c != name)
        .map(|c| (strsim::damerau_levenshtein(name, c), c))
        .filter(|(distance, _)| *distance <= limit)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

/// `"; did you mean `x`?"` for the closest candidate, or nothing.
pub fn did_you_mean<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    nearest(name, candidates)
        .map(|c| format!("; did you mean `{c}`?"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_names_are_suggested_and_far_ones_are_not() {
        let states = ["ask_when", "check", "confirmm", "book", "booked"];
        assert_eq!(nearest("confirm", states), Some("confirmm"));
        assert_eq!(nearest("chekc", states), Some("check"));
        assert_eq!(nearest("sya", ["answer", "say", "collect"]), Some("say"));
        assert_eq!(nearest("colour", ["answer", "say", "collect"]), None);
        assert_eq!(nearest("nowhere", states), None);
        assert_eq!(nearest("shade", ["say", "save", "end"]), None);
        // The name itself is no suggestion.
        assert_eq!(nearest("booked", states), None);
        assert_eq!(nearest("bok", states), Some("book"));
    }

    #[test]
    fn the_suggestion_reads_as_a_question() {
        assert_eq!(
            did_you_mean("no_openingz", ["no_openings"]),
            "; did you mean `no_openings`?"
        );
        assert_eq!(did_you_mean("xyz", ["no_openings"]), "");
    }
}
