//! Telling a question about the business from a request phrased as one.

/// Does this normalized utterance look like a question ("do you service heat pumps", "how much
/// is a visit", "what are your hours", "are you open saturday", "is it normal that my ac freezes
/// up")? Requests phrased as questions ("can you book me in") are not: they are bookings.
pub fn looks_like_question(normalized: &str) -> bool {
    let words: Vec<&str> = normalized.split_whitespace().collect();
    let Some(first) = words.first().copied() else {
        return false;
    };
    const ASKING: &[&str] = &[
        "what", "whats", "when", "whens", "where", "wheres", "who", "whos", "why", "how", "hows",
        "which", "do", "does", "did", "are", "is", "isnt", "can", "could", "will", "would",
        "should", "have", "has", "may", "am", "aint", "dont", "doesnt", "arent",
    ];
    const PHRASES: &[&str] = &[
        "i was wondering",
        "im wondering",
        "wondering if",
        "wondering what",
        "i have a question",
        "quick question",
        "i want to know",
        "i wanted to know",
        "id like to know",
        "i need to know",
        "can you tell me",
        "could you tell me",
        "tell me",
        "curious",
        "do you know",
        "is it normal",
        "is that normal",
    ];
    // "can you book me", "could i schedule": requests, handled by booking flows.
    let request = matches!(first, "can" | "could" | "would" | "will")
        && words
            .get(1)
            .is_some_and(|w| matches!(*w, "you" | "i" | "we" | "someone"))
        && words.get(2).is_some_and(|w| {
            matches!(
                *w,
                "book"
                    | "schedule"
                    | "make"
                    | "set"
                    | "send"
                    | "get"
                    | "transfer"
                    | "come"
                    | "cancel"
                    | "reschedule"
                    | "have"
                    | "talk"
                    | "speak"
            )
        });
    if request {
        return false;
    }
    let padded = format!(" {normalized} ");
    ASKING.contains(&first) || PHRASES.iter().any(|p| padded.contains(&format!(" {p} ")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::extract::normalize::normalize;

    #[test]
    fn questions() {
        for q in [
            "do you service heat pumps",
            "how much is a visit",
            "what are your hours",
            "are you open saturday",
            "is it normal that my ac freezes up",
            "yeah i was wondering if you do duct work",
            "quick question about the fee",
            "can you service a heat pump",
        ] {
            assert!(looks_like_question(&normalize(q)), "{q}");
        }
        for q in [
            "my ac is broken",
            "i want to book a visit",
            "yes",
            "can you book me for tomorrow",
            "could someone come out today",
            "",
            "john smith",
        ] {
            assert!(!looks_like_question(&normalize(q)), "{q}");
        }
    }
}
