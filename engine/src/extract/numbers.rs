//! TEMP shim
pub fn extract_number(text: &str) -> Option<i64> {
    text.split_whitespace().find_map(|w| w.parse().ok())
}
