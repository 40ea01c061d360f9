//! Tokenizer for date/time text: lowercases, drops punctuation and fillers, but keeps
//! "10:30", "3/14", "7th" intact and splits glued forms like "4pm" or "16h30".

use regex::Regex;
use std::sync::LazyLock;

/// Fillers that carry no date/time meaning and would break adjacency rules ("at like two").
const FILLERS: &[&str] = &[
    "um", "umm", "uh", "uhh", "uhm", "er", "erm", "hmm", "ah", "like", "please", "ish",
];

static AMPM_DOTS: LazyLock<Regex> = LazyLock::new(|| {
    // "p.m.", "a. m." -> "pm"/"am"; keeps the word boundary so "sam." is untouched.
    Regex::new(r"\b([ap])\.\s?m\b\.?").unwrap_or_else(|_| unreachable!())
});
static OCLOCK: LazyLock<Regex> = LazyLock::new(|| {
    // o'clock, o"clock (seen in the SGD data), o’clock, oclock, o clock.
    Regex::new(r#"\bo\s?['"’`]?\s?clock\b"#).unwrap_or_else(|_| unreachable!())
});
static SPACED_SLASH: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\d)\s*/\s*(\d)").unwrap_or_else(|_| unreachable!()));
static GLUED: LazyLock<Regex> = LazyLock::new(|| {
    // "4pm", "4:30pm", "3:18a", "3p", "16h00", "3h18", "16h", "14april".
    Regex::new(r"^(\d{1,2}(?::\d{2})?)(am|pm|a|p)$|^(\d{1,2})h(\d{2})?$|^(\d{1,2})([a-z]{3,})$")
        .unwrap_or_else(|_| unreachable!())
});

/// Lowercase tokens of an utterance.
pub(crate) fn tokenize(text: &str) -> Vec<String> {
    let lower = text.to_lowercase().replace('@', " at ");
    let lower = AMPM_DOTS.replace_all(&lower, " ${1}m ");
    let lower = OCLOCK.replace_all(&lower, " oclock ");
    let lower = SPACED_SLASH.replace_all(&lower, "${1}/${2}");
    let chars: Vec<char> = lower.chars().collect();
    let mut cleaned = String::with_capacity(chars.len());
    for (i, &c) in chars.iter().enumerate() {
        let prev_digit = i > 0 && chars.get(i - 1).is_some_and(char::is_ascii_digit);
        let next_digit = chars.get(i + 1).is_some_and(char::is_ascii_digit);
        let next_alpha = chars.get(i + 1).is_some_and(|c| c.is_ascii_alphabetic());
        let keep = c.is_alphanumeric()
            // Separators inside numbers: 10:30, 3/14, 2-15, 10.31.1974, 1,200.
            || (matches!(c, ':' | '/' | '-' | '.' | ',') && prev_digit && next_digit)
            // 31/Oct/1974, 31-Oct-74
            || (matches!(c, '/' | '-') && prev_digit && next_alpha)
            || (matches!(c, '/' | '-') && i > 0 && chars.get(i - 1).is_some_and(|c| c.is_ascii_alphabetic()) && next_digit)
            // ten-thirty is split below; an apostrophe inside a word is dropped.
            || (c == '-' && i > 0 && chars.get(i - 1).is_some_and(|c| c.is_alphabetic()) && next_alpha);
        if keep {
            cleaned.push(c);
        } else if c == '\'' || c == '’' {
            // "i'd" -> "id", harmless; keeps "o'clock" handled above.
        } else {
            cleaned.push(' ');
        }
    }
    let mut out: Vec<String> = Vec::new();
    for raw in cleaned.split_whitespace() {
        // Word hyphens ("ten-thirty", "twenty-one") become separate tokens.
        let pieces: Vec<&str> = if raw.chars().any(|c| c.is_ascii_digit()) {
            vec![raw]
        } else {
            raw.split('-').filter(|p| !p.is_empty()).collect()
        };
        for piece in pieces {
            push_split(piece, &mut out);
        }
    }
    merge_am_pm(out)
}

fn push_split(piece: &str, out: &mut Vec<String>) {
    if FILLERS.contains(&piece) {
        return;
    }
    if let Some(c) = GLUED.captures(piece) {
        if let (Some(num), Some(mer)) = (c.get(1), c.get(2)) {
            let mer = mer.as_str();
            // A lone "a" suffix is only trusted after H:MM ("3:18a"); "4a" is an apartment.
            if mer == "a" && !num.as_str().contains(':') {
                out.push(piece.to_string());
                return;
            }
            out.push(num.as_str().to_string());
            out.push(if mer.starts_with('a') { "am" } else { "pm" }.to_string());
            return;
        }
        if let Some(h) = c.get(3) {
            // "3h18" is 24-hour notation: a leading zero marks it as literal downstream.
            let m = c.get(4).map_or("00", |m| m.as_str());
            out.push(format!("{:0>2}:{}", h.as_str(), m));
            return;
        }
        if let (Some(num), Some(word)) = (c.get(5), c.get(6)) {
            // "14april" -> "14", "april"; "7th" never matches (suffix is 2 letters).
            out.push(num.as_str().to_string());
            push_split(word.as_str(), out);
            return;
        }
    }
    if let Some(stripped) = piece.strip_suffix("ish") {
        // "3ish", "150ish"
        // "3ish", "150ish", "noonish", "fiveish"
        let word_ok = matches!(stripped, "noon" | "midday")
            || super::super::numbers::unit_word(stripped).is_some()
            || super::super::numbers::tens_word(stripped).is_some();
        if !stripped.is_empty()
            && (word_ok || stripped.chars().all(|c| c.is_ascii_digit() || c == ':'))
        {
            out.push(stripped.to_string());
            return;
        }
    }
    out.push(piece.to_string());
}

/// "p m" / "a m" after a number -> "pm" / "am" (ASR spells the letters out).
fn merge_am_pm(tokens: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while let Some(tok) = tokens.get(i) {
        let next_is_m = tokens.get(i + 1).is_some_and(|n| n == "m");
        let prev_is_number = out.last().is_some_and(|p| is_numberish(p));
        if (tok == "a" || tok == "p") && next_is_m && prev_is_number {
            out.push(format!("{tok}m"));
            i += 2;
            continue;
        }
        out.push(tok.clone());
        i += 1;
    }
    out
}

fn is_numberish(tok: &str) -> bool {
    tok.chars().next().is_some_and(|c| c.is_ascii_digit())
        || super::super::numbers::unit_word(tok).is_some()
        || super::super::numbers::tens_word(tok).is_some()
        || matches!(tok, "oclock" | "noon" | "half" | "quarter")
}

#[cfg(test)]
mod tests {
    use super::tokenize;

    fn t(s: &str) -> String {
        tokenize(s).join(" ")
    }

    #[test]
    fn tokens() {
        assert_eq!(
            t("Can you book it for the 7th at 4 pm please?"),
            "can you book it for the 7th at 4 pm"
        );
        assert_eq!(t("around morning 10:30."), "around morning 10:30");
        assert_eq!(t("3/14"), "3/14");
        assert_eq!(t("2 / 15"), "2/15");
        assert_eq!(t("at 4:00pm"), "at 4:00 pm");
        assert_eq!(t("16h00 15h 3h18"), "16:00 15:00 03:18");
        assert_eq!(t("10 o\"clock in the morning"), "10 oclock in the morning");
        assert_eq!(t("seven thirty p.m."), "seven thirty pm");
        assert_eq!(t("two p m"), "two pm");
        assert_eq!(
            t("uh tomorrow at like two thirty"),
            "tomorrow at two thirty"
        );
        assert_eq!(t("ten-thirty"), "ten thirty");
        assert_eq!(t("31-Oct-74"), "31-oct-74");
        assert_eq!(t("Monday, Feb 18"), "monday feb 18");
        assert_eq!(t("at 3p."), "at 3 pm");
        assert_eq!(t("4a"), "4a");
    }
}
