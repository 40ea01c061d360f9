//! Binds a Media Stream to the call `/twilio/voice` answered (docs/protocols.md §1.4).
//!
//! Twilio signs the WebSocket upgrade over the constant `wss://HOST/twilio/stream` (query
//! strings are stripped), so a captured signature would open any number of streams, and the
//! `start` frame's CallSid and caller are whatever the client writes. So `/twilio/voice` hands
//! Twilio a token as a `<Parameter>` of the `<Stream>`: an HMAC-SHA256 over the CallSid, the
//! caller, the called number and an expiry. Twilio echoes it in `start.customParameters`, and
//! a stream whose token does not match its own `start` is refused.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// The `<Parameter>` name the token travels under.
pub const PARAMETER: &str = "StreamToken";

/// Separates this MAC from any other use of the same key (the key is usually the Twilio
/// auth token, which also signs webhooks with HMAC-SHA1).
const DOMAIN: &[u8] = b"frontdesk media stream v1";

/// What a token vouches for: the call as `/twilio/voice` saw it.
#[derive(Debug, Clone, Copy)]
pub struct BoundCall<'a> {
    pub call_sid: &'a str,
    /// The `From` parameter as sent to Twilio ("" when the caller ID was withheld).
    pub caller: &'a str,
    /// The `To` parameter as sent ("" when absent).
    pub called: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the start frame carries no stream token")]
    Missing,
    #[error("the stream token is malformed")]
    Malformed,
    #[error("the stream token has expired")]
    Expired,
    #[error("the stream token was not issued for this call and caller")]
    Mismatch,
}

/// The key tokens are signed with. Debug never shows it.
#[derive(Clone)]
pub struct StreamKey(Vec<u8>);

impl std::fmt::Debug for StreamKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StreamKey(..)")
    }
}

impl StreamKey {
    pub fn new(secret: &[u8]) -> StreamKey {
        StreamKey(secret.to_vec())
    }

    /// A key for this process only: tokens then bind streams to calls this process answered.
    /// Used when there is no auth token (signature checks off, local development).
    pub fn random() -> StreamKey {
        use std::hash::{BuildHasher, Hasher};
        // RandomState is seeded from the OS's randomness; two of them give 128 bits.
        let mut secret = Vec::with_capacity(16);
        for _ in 0..2 {
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u64(0);
            secret.extend_from_slice(&hasher.finish().to_le_bytes());
        }
        StreamKey(secret)
    }

    fn mac(&self, call: &BoundCall<'_>, expires: i64) -> HmacSha256 {
        // HMAC takes keys of any length, so this cannot fail; the fallback avoids a panic path.
        let mut mac = HmacSha256::new_from_slice(&self.0)
            .unwrap_or_else(|_| HmacSha256::new(&Default::default()));
        mac.update(DOMAIN);
        // Length-prefixed, so no choice of field contents can shift bytes between fields.
        for field in [call.call_sid, call.caller, call.called] {
            mac.update(&(field.len() as u64).to_be_bytes());
            mac.update(field.as_bytes());
        }
        mac.update(&expires.to_be_bytes());
        mac
    }

    /// A token for `call`, valid until `expires`: `<unix seconds>.<base64url MAC>`.
    pub fn issue(&self, call: &BoundCall<'_>, expires: jiff::Timestamp) -> String {
        let expires = expires.as_second();
        let tag = self.mac(call, expires).finalize().into_bytes();
        format!("{expires}.{}", BASE64URL.encode(tag))
    }

    /// Whether `token` was issued for exactly this call and has not expired at `now`.
    pub fn verify(
        &self,
        call: &BoundCall<'_>,
        token: Option<&str>,
        now: jiff::Timestamp,
    ) -> Result<(), TokenError> {
        let token = token.filter(|t| !t.is_empty()).ok_or(TokenError::Missing)?;
        let (expires, tag) = token.split_once('.').ok_or(TokenError::Malformed)?;
        let expires: i64 = expires.parse().map_err(|_| TokenError::Malformed)?;
        let tag = BASE64URL.decode(tag).map_err(|_| TokenError::Malformed)?;
        // The MAC covers the expiry, so checking it first says nothing an attacker can use.
        self.mac(call, expires)
            .verify_slice(&tag)
            .map_err(|_| TokenError::Mismatch)?;
        if now.as_second() > expires {
            return Err(TokenError::Expired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CALL: BoundCall<'static> = BoundCall {
        call_sid: "CA0123",
        caller: "+12145550123",
        called: "+18175550100",
    };

    fn at(seconds: i64) -> jiff::Timestamp {
        jiff::Timestamp::from_second(seconds).unwrap()
    }

    #[test]
    fn a_token_is_good_for_its_own_call_until_it_expires() {
        let key = StreamKey::new(b"auth-token");
        let token = key.issue(&CALL, at(1_000));
        assert_eq!(key.verify(&CALL, Some(&token), at(999)), Ok(()));
        assert_eq!(key.verify(&CALL, Some(&token), at(1_000)), Ok(()));
        assert_eq!(
            key.verify(&CALL, Some(&token), at(1_001)),
            Err(TokenError::Expired)
        );
    }

    #[test]
    fn any_other_call_caller_key_or_expiry_is_refused() {
        let key = StreamKey::new(b"auth-token");
        let token = key.issue(&CALL, at(1_000));
        let other_call = BoundCall {
            call_sid: "CA0124",
            ..CALL
        };
        let other_caller = BoundCall {
            caller: "+12145550188",
            ..CALL
        };
        let withheld = BoundCall { caller: "", ..CALL };
        for call in [other_call, other_caller, withheld] {
            assert_eq!(
                key.verify(&call, Some(&token), at(0)),
                Err(TokenError::Mismatch)
            );
        }
        let other_key = StreamKey::new(b"another-token");
        assert_eq!(
            other_key.verify(&CALL, Some(&token), at(0)),
            Err(TokenError::Mismatch)
        );
        // Pushing the expiry forward breaks the MAC.
        let (_, tag) = token.split_once('.').unwrap();
        let later = format!("2000.{tag}");
        assert_eq!(
            key.verify(&CALL, Some(&later), at(0)),
            Err(TokenError::Mismatch)
        );
    }

    #[test]
    fn missing_and_malformed_tokens_are_refused() {
        let key = StreamKey::random();
        assert_eq!(key.verify(&CALL, None, at(0)), Err(TokenError::Missing));
        assert_eq!(key.verify(&CALL, Some(""), at(0)), Err(TokenError::Missing));
        for bad in ["nodot", "x.abc", "10.!!!", "10."] {
            assert!(
                matches!(
                    key.verify(&CALL, Some(bad), at(0)),
                    Err(TokenError::Malformed | TokenError::Mismatch)
                ),
                "{bad}"
            );
        }
    }
}
