//! The phone number on a visit, as a caller says it: the whole number or its last four digits.

use crate::extract::normalize::normalize;
use crate::extract::numbers::{tens_word, unit_word};
use crate::extract::phone::spoken_digit;

/// The digits a caller spoke ("five five oh one", "fifty five zero one", "double two", "5501").
pub fn spoken_digits(text: &str) -> String {
    let norm = normalize(text);
    let t: Vec<&str> = norm.split_whitespace().collect();
    let unit = spoken_digit;
    let mut out = String::new();
    let mut i = 0;
    while i < t.len() {
        let w = t[i];
        if w.bytes()
            .all(|b| b.is_ascii_digit() || b == b'+' || b == b'-')
        {
            out.extend(w.chars().filter(char::is_ascii_digit));
        } else if let Some(d) = unit(w) {
            out.push(char::from(b'0' + d));
        } else if matches!(w, "double" | "triple")
            && let Some(d) = t.get(i + 1).and_then(|n| unit(n))
        {
            let times = if w == "double" { 2 } else { 3 };
            for _ in 0..times {
                out.push(char::from(b'0' + d));
            }
            i += 1;
        } else if let Some(v) = unit_word(w).filter(|v| *v >= 10) {
            out.push_str(&v.to_string());
        } else if let Some(tens) = tens_word(w) {
            match t.get(i + 1).and_then(|n| unit(n)).filter(|d| *d > 0) {
                Some(d) => {
                    out.push_str(&(tens + i64::from(d)).to_string());
                    i += 1;
                }
                None => out.push_str(&tens.to_string()),
            }
        } else if w == "hundred" {
            out.push_str("00");
        }
        i += 1;
    }
    out
}

/// Whether what the caller said is the phone number on file, or its last four digits.
pub fn confirms_phone(said: &str, on_file: &str) -> bool {
    let said = spoken_digits(said);
    let on_file: String = on_file.chars().filter(char::is_ascii_digit).collect();
    match said.len() {
        4 => on_file.ends_with(&said),
        // A full number, with or without the country code.
        10 | 11 => on_file.len() >= 10 && said.ends_with(&on_file[on_file.len() - 10..]),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_phone_on_file_or_its_last_four() {
        assert!(confirms_phone("its uh five five oh one", "+12145555501"));
        assert!(confirms_phone("fifty five zero one", "+12145555501"));
        assert!(confirms_phone(
            "two one four five five five five five oh one",
            "+12145555501"
        ));
        assert!(confirms_phone("214-555-5501", "+12145555501"));
        assert!(!confirms_phone("five five oh two", "+12145555501"));
        assert!(!confirms_phone("i dont know it", "+12145555501"));
        assert!(!confirms_phone(
            "two one four five five five",
            "+12145555501"
        ));
    }
}
