//! The phone's end of one Media Stream: the caller's audio going out in 20 ms frames, the
//! agent's audio and marks played back at real time, and what the caller does turned into
//! audio or keypad messages.

use std::collections::VecDeque;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use super::stream::{CallerVoice, StreamKit};
use super::{PhoneReport, Speaker};
use crate::fake_deepgram::speech_audio;
use frontdesk_engine::script::CallerAction;
use frontdesk_telephony::audio::mulaw::{FRAME_BYTES, SILENCE};

pub(super) enum Queued {
    Audio(Vec<u8>),
    Mark(String),
}

/// What the phone is playing (the agent's audio, at real time) and what it is sending.
pub(super) struct Line {
    pub(super) stream_sid: String,
    pub(super) seq: u64,
    pub(super) chunk: u64,
    /// Caller audio waiting to go out, 20 ms at a time.
    pub(super) mic: VecDeque<u8>,
    /// Agent audio and marks, in arrival order.
    pub(super) speaker: VecDeque<Queued>,
    /// Bytes of the head audio chunk already played.
    pub(super) head_played: usize,
    /// The last thing played was audio with no mark after it yet: an empty queue now means
    /// the agent's audio arrived late.
    pub(super) mid_line: bool,
    pub(super) starved: bool,
}

impl Line {
    pub(super) fn message(&mut self, event: &str, body: Value) -> Message {
        self.seq += 1;
        let mut message = json!({
            "event": event,
            "sequenceNumber": self.seq.to_string(),
            "streamSid": self.stream_sid,
        });
        if let (Some(map), Some(extra)) = (message.as_object_mut(), body.as_object()) {
            for (k, v) in extra {
                map.insert(k.clone(), v.clone());
            }
        }
        Message::Text(message.to_string().into())
    }

    pub(super) fn media_frame(&mut self) -> Message {
        let mut frame = [SILENCE; FRAME_BYTES];
        for byte in frame.iter_mut() {
            match self.mic.pop_front() {
                Some(b) => *byte = b,
                None => break,
            }
        }
        self.chunk += 1;
        let timestamp = self.chunk * 20;
        let chunk = self.chunk;
        self.message(
            "media",
            json!({ "media": {
                "track": "inbound",
                "chunk": chunk.to_string(),
                "timestamp": timestamp.to_string(),
                "payload": BASE64.encode(frame),
            }}),
        )
    }

    /// Plays 20 ms of agent audio; returns the marks whose audio has now all played.
    pub(super) fn play_frame(&mut self) -> Vec<String> {
        let mut marks = Vec::new();
        let mut need = FRAME_BYTES;
        while let Some(head) = self.speaker.front() {
            match head {
                Queued::Mark(_) => {
                    if let Some(Queued::Mark(name)) = self.speaker.pop_front() {
                        marks.push(name);
                    }
                    self.mid_line = false;
                }
                Queued::Audio(audio) => {
                    if need == 0 {
                        break;
                    }
                    let left = audio.len() - self.head_played;
                    let take = left.min(need);
                    self.head_played += take;
                    need -= take;
                    self.mid_line = true;
                    if self.head_played == audio.len() {
                        self.speaker.pop_front();
                        self.head_played = 0;
                    }
                }
            }
        }
        if need > 0 && self.mid_line && self.speaker.is_empty() {
            self.starved = true;
        }
        marks
    }

    /// `clear`: drop queued audio; every pending mark comes back at once.
    pub(super) fn clear(&mut self) -> Vec<String> {
        self.head_played = 0;
        self.mid_line = false;
        self.starved = false;
        self.speaker
            .drain(..)
            .filter_map(|q| match q {
                Queued::Mark(name) => Some(name),
                Queued::Audio(_) => None,
            })
            .collect()
    }
}

/// Turns a caller action into audio on the mic (and the recognizer's script) or keypad
/// messages.
pub(super) async fn act(
    action: CallerAction,
    line: &mut Line,
    kit: &StreamKit,
    call_sid: &str,
    report: &mut PhoneReport,
) -> Vec<Message> {
    match action {
        CallerAction::Say(text) => {
            report.transcript.push((Speaker::Caller, text.clone()));
            if let Some(deepgram) = &kit.deepgram {
                deepgram.say(call_sid, &text);
            }
            let audio = match kit.voice {
                CallerVoice::Espeak => {
                    frontdesk_telephony::audio::espeak::synthesize(&text, "en-us", 170)
                        .await
                        .unwrap_or_else(|error| {
                            tracing::warn!(%error, "espeak-ng failed; the caller speaks a tone");
                            speech_audio(tone_ms(&text, kit.ms_per_char))
                        })
                }
                CallerVoice::Tone => speech_audio(tone_ms(&text, kit.ms_per_char)),
            };
            line.mic.extend(audio);
            Vec::new()
        }
        CallerAction::Dtmf(digits) => {
            report
                .transcript
                .push((Speaker::Caller, format!("(keypad {digits})")));
            digits
                .chars()
                .map(|digit| {
                    line.message(
                        "dtmf",
                        json!({ "dtmf": { "track": "inbound_track", "digit": digit.to_string() }}),
                    )
                })
                .collect()
        }
        CallerAction::Silence => {
            report
                .transcript
                .push((Speaker::Caller, "(silence)".into()));
            Vec::new()
        }
        CallerAction::Hangup => Vec::new(),
    }
}

/// About how long saying `text` takes, within reason.
fn tone_ms(text: &str, ms_per_char: u32) -> u32 {
    (text.chars().count() as u32 * ms_per_char).clamp(200, 6000)
}
