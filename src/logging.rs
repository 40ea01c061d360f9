//! Structured logs (tracing). Calls log with their call id; phone numbers are masked.

use tracing_subscriber::EnvFilter;

/// Logs go to stderr so command output on stdout stays machine-readable. `RUST_LOG` overrides.
pub fn init(verbose: bool) {
    let default = if verbose { "info" } else { "warn" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

/// `+12145550123` -> `+1******0123`: enough to tell calls apart, not enough to dial.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() <= 4 {
        return "*".repeat(chars.len());
    }
    let keep_front = if phone.starts_with('+') { 2 } else { 0 };
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            if i < keep_front || i >= chars.len() - 4 {
                *c
            } else {
                '*'
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::mask_phone;

    #[test]
    fn masks_all_but_the_country_and_last_four() {
        assert_eq!(mask_phone("+12145550123"), "+1******0123");
        assert_eq!(mask_phone("123"), "***");
    }
}
