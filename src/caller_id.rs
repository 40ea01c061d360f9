//! Caller IDs as every front end (Gather, media streams, chat, simulate) must read them.

/// What carriers and Twilio put in `From` when the caller withheld their number.
const WITHHELD: &[&str] = &[
    "anonymous",
    "restricted",
    "unknown",
    "private",
    "unavailable",
    "blocked",
    "withheld",
];

/// Twilio's placeholder number for a withheld caller ID.
const TWILIO_WITHHELD: &str = "+266696687";

/// A usable caller ID, or `None` when the number was withheld or is empty. A withheld number
/// must never be stored as a phone number nor offered back as "the number you're calling from".
pub fn usable_caller_id(raw: Option<&str>) -> Option<String> {
    let raw = raw?.trim();
    let withheld = raw.is_empty()
        || WITHHELD.contains(&raw.to_ascii_lowercase().as_str())
        || raw == TWILIO_WITHHELD
        || !raw.chars().any(|c| c.is_ascii_digit());
    (!withheld).then(|| raw.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn withheld_numbers_are_none() {
        for raw in [
            "anonymous",
            "Restricted",
            "UNKNOWN",
            "",
            "  ",
            "+266696687",
            "private",
        ] {
            assert_eq!(usable_caller_id(Some(raw)), None, "{raw:?}");
        }
        assert_eq!(usable_caller_id(None), None);
        assert_eq!(
            usable_caller_id(Some("+12145550123")).as_deref(),
            Some("+12145550123")
        );
    }
}
