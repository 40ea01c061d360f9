//! `X-Twilio-Signature`: how Twilio signs the webhooks and WebSocket upgrades it sends us
//! (docs/protocols.md §3). We compute it for the fake Twilio and check it on every request we
//! serve.
//!
//! Two schemes: the classic one (HMAC-SHA1 keyed with the account's auth token), and the one a
//! Twilio Webhooks Rule sets up, which Twilio announces with
//! `X-Twilio-Webhooks-Signature-Settings: key=<id>,algorithm=HMAC_SHA256` and keys with that
//! rule's shared key. Only the key and the hash change; the signed string (the URL, then the
//! sorted parameters) and the base64 encoding are the same.

use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

type HmacSha1 = Hmac<Sha1>;
type HmacSha256 = Hmac<Sha256>;

/// The header a Webhooks Rule adds, naming its key and hash.
pub const SETTINGS_HEADER: &str = "x-twilio-webhooks-signature-settings";

/// The HMAC a signature is made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// The classic scheme, keyed with the auth token.
    HmacSha1,
    /// A Webhooks Rule's scheme, keyed with its shared key.
    HmacSha256,
}

/// What `X-Twilio-Webhooks-Signature-Settings` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureSettings {
    /// The id of the rule's shared key (which key to check with, when there are several).
    pub key: String,
    pub algorithm: Algorithm,
}

impl SignatureSettings {
    /// Reads `key=<id>,algorithm=HMAC_SHA256` (fields in any order, spaces allowed).
    pub fn parse(header: &str) -> Result<SignatureSettings, String> {
        let mut key = None;
        let mut algorithm = None;
        for field in header.split(',') {
            let Some((name, value)) = field.split_once('=') else {
                return Err(format!("`{}` is not name=value", field.trim()));
            };
            match name.trim().to_ascii_lowercase().as_str() {
                "key" => key = Some(value.trim().to_string()),
                "algorithm" => {
                    algorithm = Some(match value.trim().to_ascii_uppercase().as_str() {
                        "HMAC_SHA256" => Algorithm::HmacSha256,
                        "HMAC_SHA1" => Algorithm::HmacSha1,
                        other => return Err(format!("unsupported algorithm `{other}`")),
                    })
                }
                _ => {}
            }
        }
        Ok(SignatureSettings {
            key: key.unwrap_or_default(),
            algorithm: algorithm.ok_or("no algorithm")?,
        })
    }
}

/// The signature Twilio would send for a request to `url` carrying the form `params`, in the
/// classic scheme.
///
/// `url` is the full URL as requested, query string included and percent-encoding kept. Pass
/// no params for a GET (the query is already in the URL) or a WebSocket upgrade.
pub fn compute(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    compute_with(Algorithm::HmacSha1, auth_token, url, params)
}

/// The signature for this request made with `algorithm` and `key`.
pub fn compute_with(
    algorithm: Algorithm,
    key: &str,
    url: &str,
    params: &[(String, String)],
) -> String {
    let digest = match algorithm {
        Algorithm::HmacSha1 => mac_over(new_mac::<HmacSha1>(key), url, params),
        Algorithm::HmacSha256 => mac_over(new_mac::<HmacSha256>(key), url, params),
    };
    base64::engine::general_purpose::STANDARD.encode(digest)
}

fn mac_over<M: Mac>(mut mac: M, url: &str, params: &[(String, String)]) -> Vec<u8> {
    // Sorting whole pairs orders by name and, within a repeated name, by value, which is
    // exactly Twilio's rule. Byte order, like the SDKs' sort on strings.
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac.finalize().into_bytes().to_vec()
}

/// Whether `signature` is Twilio's classic signature for this request.
///
/// Twilio's back end is inconsistent about default ports, so, like the official SDKs, this
/// accepts the URL as given, with its default port removed, or with the default port added
/// (`:443` for https/wss, `:80` for http/ws).
pub fn validate(auth_token: &str, url: &str, params: &[(String, String)], signature: &str) -> bool {
    validate_with(Algorithm::HmacSha1, auth_token, url, params, signature)
}

/// Whether `signature` is the signature made with `algorithm` and `key` (ports as in
/// [`validate`]).
pub fn validate_with(
    algorithm: Algorithm,
    key: &str,
    url: &str,
    params: &[(String, String)],
    signature: &str,
) -> bool {
    // Every candidate is checked (no early return) so timing does not tell which one matched.
    url_variants(url).iter().fold(false, |matched, candidate| {
        constant_time_eq(
            compute_with(algorithm, key, candidate, params).as_bytes(),
            signature.as_bytes(),
        ) | matched
    })
}

/// Whether `signature` is valid for a request with a JSON body.
///
/// Twilio appends `bodySHA256=<hex SHA-256 of the body>` to the query string and signs that
/// URL with no params; the hash in the URL must also match the body we actually received,
/// or an attacker could replay a signed URL with a different body.
pub fn validate_json_body(
    auth_token: &str,
    url_with_body_sha256: &str,
    body: &[u8],
    signature: &str,
) -> bool {
    let Some(claimed) = query_param(url_with_body_sha256, "bodySHA256") else {
        return false;
    };
    let actual = hex(&Sha256::digest(body));
    let body_matches = constant_time_eq(claimed.to_ascii_lowercase().as_bytes(), actual.as_bytes());
    let signature_matches = validate(auth_token, url_with_body_sha256, &[], signature);
    body_matches & signature_matches
}

fn new_mac<M: Mac + KeyInit>(key: &str) -> M {
    // HMAC takes keys of any length (long ones are hashed first), so this cannot fail; the
    // fallback only exists to avoid a panic path.
    <M as KeyInit>::new_from_slice(key.as_bytes()).unwrap_or_else(|_| M::new(&Default::default()))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    // The length of a signature is public (always 28 base64 characters); the content is not.
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The raw (still percent-encoded) value of the first `name=` in the URL's query string.
fn query_param<'a>(url: &'a str, name: &str) -> Option<&'a str> {
    let query = url.split_once('?')?.1;
    let query = query.split('#').next().unwrap_or(query);
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key == name).then_some(value)
    })
}

/// The URL as given, plus the spelling with the default port removed or added.
fn url_variants(url: &str) -> Vec<String> {
    let mut variants = vec![url.to_string()];
    let Some((scheme, rest)) = url.split_once("://") else {
        return variants;
    };
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "https" | "wss" => "443",
        "http" | "ws" => "80",
        _ => return variants,
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    // A port is a trailing `:digits` outside any IPv6 brackets.
    let host_end = authority.rfind(':').filter(|&i| {
        authority[i + 1..].bytes().all(|b| b.is_ascii_digit()) && !authority[i..].contains(']')
    });
    match host_end {
        Some(i) if &authority[i + 1..] == default_port => {
            variants.push(format!("{scheme}://{}{tail}", &authority[..i]));
        }
        Some(_) => {}
        None => variants.push(format!("{scheme}://{authority}:{default_port}{tail}")),
    }
    variants
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "12345";
    const U: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn a_params() -> Vec<(String, String)> {
        params(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675309"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
        ])
    }

    fn b_params() -> Vec<(String, String)> {
        params(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+14158675310"),
            ("Digits", "1234"),
            ("From", "+14158675310"),
            ("To", "+18005551212"),
        ])
    }

    fn check(url: &str, p: &[(String, String)], expected: &str) {
        assert_eq!(compute(TOKEN, url, p), expected, "compute for {url}");
        assert!(validate(TOKEN, url, p, expected), "validate for {url}");
    }

    #[test]
    fn vector_a() {
        check(U, &a_params(), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
    }

    /// Vector A's request signed by a Webhooks Rule (HMAC-SHA256), recomputed with Python's
    /// `hmac` (docs/protocols.md §3.2 gives the signed string).
    #[test]
    fn vector_a_with_a_webhooks_rule_key() {
        let key = "whsk_shared_secret";
        let expected = "Tk82ALXzIDcLa936NZ3bFKr1FSLdycW3hY56vtbzfoY=";
        let sha256 = Algorithm::HmacSha256;
        assert_eq!(compute_with(sha256, key, U, &a_params()), expected);
        assert!(validate_with(sha256, key, U, &a_params(), expected));
        // The same key with the auth token's scheme, or the other key, is another signature.
        assert!(!validate(key, U, &a_params(), expected));
        assert!(!validate_with(sha256, TOKEN, U, &a_params(), expected));
        // With the auth token as the key, SHA-256 gives what Python gives too.
        assert_eq!(
            compute_with(sha256, TOKEN, U, &a_params()),
            "033hgUJA9M/hXIZsYjwkerEP/DBm35nEri5FhCYjA5s="
        );
        // Default ports work as with the classic scheme.
        let with_port = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
        assert_eq!(
            compute_with(sha256, key, with_port, &a_params()),
            "nSOtsleShmNIR3xkb17Gr2wNFTBkAYEKWMoZzF2zr8Y="
        );
        assert!(validate_with(sha256, key, with_port, &a_params(), expected));
    }

    #[test]
    fn signature_settings_are_read_as_twilio_writes_them() {
        let settings = SignatureSettings::parse("key=KS0123,algorithm=HMAC_SHA256").unwrap();
        assert_eq!(settings.key, "KS0123");
        assert_eq!(settings.algorithm, Algorithm::HmacSha256);
        let spaced = SignatureSettings::parse(" algorithm=HMAC_SHA1 , key=KS9").unwrap();
        assert_eq!(spaced.algorithm, Algorithm::HmacSha1);
        assert!(SignatureSettings::parse("key=KS1,algorithm=HMAC_MD5").is_err());
        assert!(SignatureSettings::parse("key=KS1").is_err());
        assert!(SignatureSettings::parse("nonsense").is_err());
    }

    #[test]
    fn vector_a_params_in_any_order() {
        let mut reversed = a_params();
        reversed.reverse();
        check(U, &reversed, "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
    }

    #[test]
    fn vector_b() {
        check(U, &b_params(), "GvWf1cFY/Q7PnoempGyD5oXAezc=");
    }

    #[test]
    fn vector_c_https_with_443() {
        let url = "https://mycompany.com:443/myapp.php?foo=1&bar=2";
        check(url, &a_params(), "kvajT1Ptam85bY51eRf/AJRuM3w=");
        // Twilio may have signed the URL without the port while we see it with one.
        assert!(validate(
            TOKEN,
            url,
            &a_params(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        // ...or the other way round.
        assert!(validate(
            TOKEN,
            U,
            &a_params(),
            "kvajT1Ptam85bY51eRf/AJRuM3w="
        ));
    }

    #[test]
    fn vector_d_http_with_80() {
        let url = "http://mycompany.com:80/myapp.php?foo=1&bar=2";
        check(url, &a_params(), "0ZXoZLH/DfblKGATFgpif+LLRf4=");
        assert!(validate(
            TOKEN,
            "http://mycompany.com/myapp.php?foo=1&bar=2",
            &a_params(),
            "0ZXoZLH/DfblKGATFgpif+LLRf4="
        ));
    }

    #[test]
    fn vector_e_http_with_custom_port() {
        check(
            "http://mycompany.com:1234/myapp.php?foo=1&bar=2",
            &a_params(),
            "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=",
        );
    }

    #[test]
    fn vector_f_repeated_keys() {
        let p = params(&[
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
        ]);
        check(U, &p, "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
    }

    #[test]
    fn vector_g_json_body() {
        let url = format!(
            "{U}&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"
        );
        let body = br#"{"property": "value", "boolean": true}"#;
        assert_eq!(compute(TOKEN, &url, &[]), "a9nBmqA0ju/hNViExpshrM61xv4=");
        assert!(validate_json_body(
            TOKEN,
            &url,
            body,
            "a9nBmqA0ju/hNViExpshrM61xv4="
        ));
        // A different body under the same signed URL is refused.
        assert!(!validate_json_body(
            TOKEN,
            &url,
            br#"{"property": "other", "boolean": true}"#,
            "a9nBmqA0ju/hNViExpshrM61xv4="
        ));
        // A URL without the hash is refused.
        assert!(!validate_json_body(
            TOKEN,
            U,
            body,
            "a9nBmqA0ju/hNViExpshrM61xv4="
        ));
    }

    #[test]
    fn vector_h_websocket() {
        check(
            "wss://example.com/media",
            &[],
            "7PR3qMkpDyEJtMrVOY/LDyNq8J8=",
        );
    }

    #[test]
    fn vector_i_gather_post() {
        let zeros = "0".repeat(32);
        let p = params(&[
            ("AccountSid", &format!("AC{zeros}")),
            ("CallSid", &format!("CA{zeros}")),
            ("Confidence", "0.92"),
            ("From", "+15005550006"),
            ("SpeechResult", "I would like to book a table."),
            ("To", "+15005550001"),
        ]);
        check(
            "https://example.com/voice/gather?turn=1",
            &p,
            "msRABDJf3HZg0APMikEq4wzgvaA=",
        );
    }

    #[test]
    fn negative_b_with_other_digits() {
        let mut p = b_params();
        p[2].1 = "9999".to_string();
        assert!(!validate(TOKEN, U, &p, "GvWf1cFY/Q7PnoempGyD5oXAezc="));
    }

    #[test]
    fn negative_b_over_http() {
        let url = "http://mycompany.com/myapp.php?foo=1&bar=2";
        assert!(!validate(
            TOKEN,
            url,
            &b_params(),
            "GvWf1cFY/Q7PnoempGyD5oXAezc="
        ));
    }

    #[test]
    fn negative_b_without_padding() {
        assert!(!validate(
            TOKEN,
            U,
            &b_params(),
            "GvWf1cFY/Q7PnoempGyD5oXAezc"
        ));
    }

    #[test]
    fn other_failures() {
        assert!(!validate(
            "54321",
            U,
            &b_params(),
            "GvWf1cFY/Q7PnoempGyD5oXAezc="
        ));
        assert!(!validate(TOKEN, U, &b_params(), ""));
        // A non-default port is part of what was signed; it is not stripped.
        assert!(!validate(
            TOKEN,
            "http://mycompany.com:1234/myapp.php?foo=1&bar=2",
            &a_params(),
            "0ZXoZLH/DfblKGATFgpif+LLRf4="
        ));
    }

    #[test]
    fn url_variants_handle_ports_and_ipv6() {
        assert_eq!(url_variants("wss://h/p"), ["wss://h/p", "wss://h:443/p"]);
        assert_eq!(url_variants("ws://h:80"), ["ws://h:80", "ws://h"]);
        assert_eq!(url_variants("http://[::1]:8080/x"), ["http://[::1]:8080/x"]);
        assert_eq!(
            url_variants("http://[::1]/x"),
            ["http://[::1]/x", "http://[::1]:80/x"]
        );
        assert_eq!(url_variants("not a url"), ["not a url"]);
    }
}
