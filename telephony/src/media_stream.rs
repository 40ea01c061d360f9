//! The Twilio Media Streams protocol as the server sees it (docs/protocols.md §1.2, §1.3): JSON
//! text frames, μ-law audio in base64.

use std::borrow::Cow;
use std::collections::HashMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;

/// A message from Twilio. Payloads are borrowed from the frame: media arrives 50 times a
/// second per call, so parsing must not copy what it can avoid.
#[derive(Debug, Deserialize)]
#[serde(tag = "event", rename_all = "lowercase")]
pub enum Incoming<'a> {
    Connected,
    Start {
        start: Start,
    },
    Media {
        #[serde(borrow)]
        media: Media<'a>,
    },
    Dtmf {
        dtmf: Dtmf,
    },
    Mark {
        mark: Mark,
    },
    Stop,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Start {
    pub stream_sid: String,
    pub call_sid: String,
    #[serde(default)]
    pub account_sid: String,
    #[serde(default)]
    pub custom_parameters: HashMap<String, String>,
}

#[derive(Debug, Deserialize)]
pub struct Media<'a> {
    #[serde(borrow)]
    pub payload: Cow<'a, str>,
}

#[derive(Debug, Deserialize)]
pub struct Dtmf {
    pub digit: String,
}

#[derive(Debug, Deserialize)]
pub struct Mark {
    pub name: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    #[error("not a Media Streams message: {0}")]
    Json(#[from] serde_json::Error),
    #[error("media payload is not base64: {0}")]
    Base64(#[from] base64::DecodeError),
}

pub fn parse(text: &str) -> Result<Incoming<'_>, MessageError> {
    Ok(serde_json::from_str(text)?)
}

pub fn decode_audio(payload: &str) -> Result<Vec<u8>, MessageError> {
    Ok(BASE64.decode(payload)?)
}

/// `media` with raw μ-law audio.
pub fn media(stream_sid: &str, audio: &[u8]) -> String {
    let mut out = String::with_capacity(64 + stream_sid.len() + audio.len() * 4 / 3 + 4);
    out.push_str(r#"{"event":"media","streamSid":""#);
    out.push_str(stream_sid);
    out.push_str(r#"","media":{"payload":""#);
    BASE64.encode_string(audio, &mut out);
    out.push_str(r#""}}"#);
    out
}

/// `mark`: Twilio echoes it once all audio sent before it has played.
pub fn mark(stream_sid: &str, name: &str) -> String {
    serde_json::json!({ "event": "mark", "streamSid": stream_sid, "mark": { "name": name } })
        .to_string()
}

/// `clear`: drop buffered audio now (barge-in); pending marks come back at once.
pub fn clear(stream_sid: &str) -> String {
    serde_json::json!({ "event": "clear", "streamSid": stream_sid }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_documented_messages() {
        let start = r#"{"event":"start","sequenceNumber":"1","start":{"accountSid":"AC1","streamSid":"MZ1","callSid":"CA1","tracks":["inbound"],"mediaFormat":{"encoding":"audio/x-mulaw","sampleRate":8000,"channels":1},"customParameters":{"From":"+12145550123"}},"streamSid":"MZ1"}"#;
        match parse(start).unwrap() {
            Incoming::Start { start } => {
                assert_eq!(start.call_sid, "CA1");
                assert_eq!(start.stream_sid, "MZ1");
                assert_eq!(start.custom_parameters["From"], "+12145550123");
            }
            other => panic!("{other:?}"),
        }
        let media = r#"{"event":"media","sequenceNumber":"4","media":{"track":"inbound","chunk":"2","timestamp":"5","payload":"//8="},"streamSid":"MZ1"}"#;
        match parse(media).unwrap() {
            Incoming::Media { media } => {
                assert_eq!(decode_audio(&media.payload).unwrap(), vec![0xFF, 0xFF]);
            }
            other => panic!("{other:?}"),
        }
        let dtmf = r#"{"event":"dtmf","streamSid":"MZ1","sequenceNumber":"5","dtmf":{"track":"inbound_track","digit":"0"}}"#;
        assert!(matches!(parse(dtmf).unwrap(), Incoming::Dtmf { dtmf } if dtmf.digit == "0"));
        assert!(matches!(
            parse(r#"{"event":"connected","protocol":"Call","version":"1.0.0"}"#).unwrap(),
            Incoming::Connected
        ));
        assert!(parse(r#"{"event":"bogus"}"#).is_err());
        assert!(parse("not json").is_err());
    }

    #[test]
    fn writes_media_that_round_trips() {
        let text = media("MZ1", &[1, 2, 3, 0xFF]);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["event"], "media");
        assert_eq!(value["streamSid"], "MZ1");
        let payload = value["media"]["payload"].as_str().unwrap();
        assert_eq!(decode_audio(payload).unwrap(), vec![1, 2, 3, 0xFF]);
    }
}
