//! Number words: cardinals ("twenty one", "a hundred and five", "21") and ordinals
//! ("fifteenth", "twenty first", "21st"), as speech recognition writes them.

/// Value of a unit or teen word ("zero".."nineteen").
pub(crate) fn unit_word(word: &str) -> Option<i64> {
    let v = match word {
        "zero" => 0,
        "one" => 1,
        "two" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "eight" => 8,
        "nine" => 9,
        "ten" => 10,
        "eleven" => 11,
        "twelve" => 12,
        "thirteen" => 13,
        "fourteen" => 14,
        "fifteen" => 15,
        "sixteen" => 16,
        "seventeen" => 17,
        "eighteen" => 18,
        "nineteen" => 19,
        _ => return None,
    };
    Some(v)
}

/// Value of a tens word ("twenty".."ninety").
pub(crate) fn tens_word(word: &str) -> Option<i64> {
    let v = match word {
        "twenty" => 20,
        "thirty" => 30,
        "forty" | "fourty" => 40,
        "fifty" => 50,
        "sixty" => 60,
        "seventy" => 70,
        "eighty" => 80,
        "ninety" => 90,
        _ => return None,
    };
    Some(v)
}

/// Ordinal words below twenty and the round tens.
fn ordinal_word(word: &str) -> Option<u32> {
    let v = match word {
        "first" => 1,
        "second" => 2,
        "third" => 3,
        "fourth" => 4,
        "fifth" => 5,
        "sixth" => 6,
        "seventh" => 7,
        "eighth" => 8,
        "ninth" => 9,
        "tenth" => 10,
        "eleventh" => 11,
        "twelfth" => 12,
        "thirteenth" => 13,
        "fourteenth" => 14,
        "fifteenth" => 15,
        "sixteenth" => 16,
        "seventeenth" => 17,
        "eighteenth" => 18,
        "nineteenth" => 19,
        "twentieth" => 20,
        "thirtieth" => 30,
        "fortieth" => 40,
        "fiftieth" => 50,
        "sixtieth" => 60,
        "seventieth" => 70,
        "eightieth" => 80,
        "ninetieth" => 90,
        _ => return None,
    };
    Some(v)
}

/// A plain digit token, allowing thousands separators ("1,200").
pub(crate) fn digits(token: &str) -> Option<i64> {
    let cleaned: String = token.chars().filter(|c| *c != ',').collect();
    if cleaned.is_empty() || cleaned.len() > 15 || !cleaned.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    // A leading or trailing comma is punctuation, not a separator; the filter above accepts
    // it, which is harmless for the value.
    cleaned.parse().ok()
}

/// "21st", "15th", "2nd", "3rd" (suffix must agree loosely; ASR and typists get it wrong).
fn digit_ordinal(token: &str) -> Option<u32> {
    let split = token.find(|c: char| !c.is_ascii_digit())?;
    let (num, suffix) = token.split_at(split);
    if num.is_empty() || num.len() > 4 || !matches!(suffix, "st" | "nd" | "rd" | "th") {
        return None;
    }
    num.parse().ok()
}

#[derive(Clone, Copy, PartialEq)]
enum Last {
    Start,
    Unit,
    Teen,
    Tens,
    Hundred,
    Scale,
}

/// Parses a cardinal number starting at tokens[0] ("twenty one", "21", "a hundred and five",
/// "oh" is NOT a number here). Returns the value and how many tokens were consumed.
pub fn parse_cardinal(tokens: &[&str]) -> Option<(i64, usize)> {
    let first = *tokens.first()?;
    // Hyphenated words ("twenty-one") arrive as one token from some callers.
    if first.contains('-') && first.chars().any(|c| c.is_ascii_alphabetic()) {
        let parts: Vec<&str> = first.split('-').filter(|p| !p.is_empty()).collect();
        return match parse_cardinal(&parts) {
            Some((v, n)) if n == parts.len() => Some((v, 1)),
            _ => None,
        };
    }
    // "100k": thousands shorthand.
    if let Some(v) = first.strip_suffix('k').and_then(digits) {
        return Some((v.checked_mul(1_000)?, 1));
    }
    if let Some(v) = digits(first) {
        // "2 hundred", "5 thousand", "2 dozen": digits may take a scale word.
        if let Some(next) = tokens.get(1)
            && let Some(scale) = scale_word(next)
        {
            return Some((v.checked_mul(scale)?, 2));
        }
        if matches!(tokens.get(1), Some(&"hundred")) {
            return Some((v.checked_mul(100)?, 2));
        }
        return Some((v, 1));
    }
    let mut total: i64 = 0;
    let mut current: i64 = 0;
    let mut last = Last::Start;
    let mut consumed = 0;
    let mut i = 0;
    while let Some(&tok) = tokens.get(i) {
        if i == 0 && tok == "a" {
            // "a hundred", "a thousand", "a dozen" only.
            match tokens.get(1).copied() {
                Some("hundred") => {
                    current = 100;
                    last = Last::Hundred;
                    i += 2;
                    consumed = i;
                    continue;
                }
                Some("dozen") => return Some((12, 2)),
                Some(w) if scale_word(w).is_some() => {
                    current = 1;
                    last = Last::Unit;
                    i += 1;
                    continue;
                }
                _ => return None,
            }
        }
        let can_start = matches!(last, Last::Start | Last::Hundred | Last::Scale);
        if let Some(v) = unit_word(tok) {
            let ok = if v < 10 {
                can_start || (last == Last::Tens && v > 0)
            } else {
                can_start
            };
            if !ok {
                break;
            }
            current += v;
            last = if v < 10 { Last::Unit } else { Last::Teen };
        } else if let Some(v) = tens_word(tok) {
            if !can_start {
                break;
            }
            current += v;
            last = Last::Tens;
        } else if tok == "hundred" {
            if !matches!(last, Last::Unit | Last::Teen) || current >= 100 {
                break;
            }
            current *= 100;
            last = Last::Hundred;
        } else if let Some(scale) = scale_word(tok) {
            if last == Last::Start || last == Last::Scale {
                break;
            }
            total = total.checked_add(current.checked_mul(scale)?)?;
            current = 0;
            last = Last::Scale;
        } else if tok == "and" && matches!(last, Last::Hundred | Last::Scale) {
            // Only consumed when a number follows; checked on the next iteration.
            let next_is_number = tokens
                .get(i + 1)
                .is_some_and(|n| unit_word(n).is_some() || tens_word(n).is_some());
            if !next_is_number {
                break;
            }
            i += 1;
            continue;
        } else {
            break;
        }
        i += 1;
        consumed = i;
    }
    if consumed == 0 {
        return None;
    }
    Some((total.checked_add(current)?, consumed))
}

fn scale_word(word: &str) -> Option<i64> {
    match word {
        "thousand" | "thousands" => Some(1_000),
        "million" | "millions" => Some(1_000_000),
        "billion" | "billions" => Some(1_000_000_000),
        "dozen" | "dozens" => Some(12),
        _ => None,
    }
}

/// Ordinals: "fifteenth", "15th", "twenty first", "21st", "first". Returns (value, consumed).
pub fn parse_ordinal(tokens: &[&str]) -> Option<(u32, usize)> {
    let first = *tokens.first()?;
    if let Some(v) = digit_ordinal(first) {
        return Some((v, 1));
    }
    if first.contains('-') {
        let parts: Vec<&str> = first.split('-').filter(|p| !p.is_empty()).collect();
        return match parse_ordinal(&parts) {
            Some((v, n)) if n == parts.len() => Some((v, 1)),
            _ => None,
        };
    }
    if let Some(tens) = tens_word(first) {
        // "twenty first": tens word followed by a unit ordinal.
        let unit = tokens.get(1).and_then(|w| ordinal_word(w));
        return match unit {
            Some(u) if u < 10 => Some((u32::try_from(tens).ok()? + u, 2)),
            _ => None,
        };
    }
    ordinal_word(first).map(|v| (v, 1))
}

/// Splits free text into lowercase word/number tokens for `extract_number`.
fn simple_tokens(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let mut out = Vec::new();
    for raw in lower.split(|c: char| c.is_whitespace() || c == '-') {
        let tok: String = raw
            .trim_matches(|c: char| !c.is_alphanumeric())
            .chars()
            .filter(|c| c.is_alphanumeric() || matches!(c, ',' | '\'' | '.'))
            .collect();
        let tok = tok.trim_end_matches([',', '.']);
        // "100,000.0" is a whole number; "2.5" is not one and is kept as-is (never parsed).
        let tok = match tok.split_once('.') {
            Some((int, frac)) if !frac.is_empty() && frac.bytes().all(|b| b == b'0') => int,
            _ => tok,
        };
        let tok = tok.to_string();
        if !tok.is_empty() {
            out.push(tok);
        }
    }
    out
}

/// The first number in an utterance, for `number` slots: "uh there are three of them" -> 3,
/// "two hundred" -> 200.
pub fn extract_number(text: &str) -> Option<i64> {
    let tokens = simple_tokens(text);
    let refs: Vec<&str> = tokens.iter().map(String::as_str).collect();
    for i in 0..refs.len() {
        let rest = refs.get(i..)?;
        // "a" alone is an article, not "one"; parse_cardinal only accepts it before a scale.
        if let Some((v, _)) = parse_cardinal(rest) {
            return Some(v);
        }
        // Quantity idioms: "a couple of", "a pair", "a few".
        match (rest.first().copied(), rest.get(1).copied()) {
            (Some("a"), Some("couple" | "pair")) | (Some("couple"), Some("of")) => return Some(2),
            (Some("a"), Some("few")) => return Some(3),
            (Some("nought" | "naught"), _) => return Some(0),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(s: &str) -> Option<(i64, usize)> {
        let t: Vec<&str> = s.split_whitespace().collect();
        parse_cardinal(&t)
    }

    fn ord(s: &str) -> Option<(u32, usize)> {
        let t: Vec<&str> = s.split_whitespace().collect();
        parse_ordinal(&t)
    }

    #[test]
    fn cardinals() {
        assert_eq!(card("twenty one"), Some((21, 2)));
        assert_eq!(card("21"), Some((21, 1)));
        assert_eq!(card("a hundred and five"), Some((105, 4)));
        assert_eq!(card("two hundred"), Some((200, 2)));
        assert_eq!(card("three"), Some((3, 1)));
        assert_eq!(card("oh"), None);
        assert_eq!(card("a"), None);
        assert_eq!(card("twenty-one"), Some((21, 1)));
        assert_eq!(
            card("one thousand two hundred and thirty four"),
            Some((1234, 7))
        );
        assert_eq!(card("2 thousand"), Some((2000, 2)));
        assert_eq!(card("1,200"), Some((1200, 1)));
        // Adjacent numbers are separate: "ten thirty" is a time, not forty.
        assert_eq!(card("ten thirty"), Some((10, 1)));
        assert_eq!(card("two three"), Some((2, 1)));
        assert_eq!(card("five and"), Some((5, 1)));
        assert_eq!(card("a dozen"), Some((12, 2)));
        assert_eq!(card("zero"), Some((0, 1)));
    }

    #[test]
    fn ordinals() {
        assert_eq!(ord("fifteenth"), Some((15, 1)));
        assert_eq!(ord("15th"), Some((15, 1)));
        assert_eq!(ord("twenty first"), Some((21, 2)));
        assert_eq!(ord("21st"), Some((21, 1)));
        assert_eq!(ord("first"), Some((1, 1)));
        assert_eq!(ord("thirtieth"), Some((30, 1)));
        assert_eq!(ord("thirty first"), Some((31, 2)));
        assert_eq!(ord("twenty-third"), Some((23, 1)));
        assert_eq!(ord("3rd"), Some((3, 1)));
        assert_eq!(ord("twenty"), None);
        assert_eq!(ord("fifteen"), None);
    }

    #[test]
    fn first_number() {
        assert_eq!(extract_number("uh there are three of them"), Some(3));
        assert_eq!(extract_number("two hundred"), Some(200));
        assert_eq!(extract_number("I have 2 units."), Some(2));
        assert_eq!(
            extract_number("about a hundred and fifty square feet"),
            Some(150)
        );
        assert_eq!(extract_number("a couple of them"), Some(2));
        assert_eq!(extract_number("twenty-five"), Some(25));
        assert_eq!(extract_number("no idea"), None);
        assert_eq!(extract_number("oh i don't know"), None);
        assert_eq!(extract_number("100,000.0"), Some(100_000));
        assert_eq!(extract_number("about 100k"), Some(100_000));
        assert_eq!(extract_number("2 dozens"), Some(24));
        assert_eq!(extract_number("a few"), Some(3));
        assert_eq!(extract_number("three billions"), Some(3_000_000_000));
        assert_eq!(
            extract_number("seven hundred twenty-one thousand and twelve"),
            Some(721_012)
        );
    }
}
