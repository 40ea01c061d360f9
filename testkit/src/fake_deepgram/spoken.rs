//! What the fake's voice said, for the phone that hears it. The fake cannot make real speech,
//! so each flushed utterance's audio begins with a 12-byte mark (an 8-byte pattern the
//! synthetic voice never produces, then the utterance's number); a phone in the same process
//! finds the marks in the audio the server forwards and looks the words up. The server only
//! relays audio, so the mark reaches the phone as the fake wrote it.

use std::sync::Mutex;

/// Two μ-law zeros then the two extremes, twice: never in the fake's 220 Hz voice, whose
/// samples stay well inside the range and never sit at zero.
const PATTERN: [u8; 8] = [0xFF, 0x7F, 0xFF, 0x7F, 0x00, 0x80, 0x00, 0x80];
/// The pattern and a big-endian `u32` utterance number.
pub const MARK_LEN: usize = PATTERN.len() + 4;

/// The words of every utterance the fake has spoken, by number.
#[derive(Default)]
pub(super) struct Spoken {
    texts: Mutex<Vec<String>>,
}

impl Spoken {
    /// Numbers `text` and returns the mark that starts its audio.
    pub(super) fn mark(&self, text: String) -> [u8; MARK_LEN] {
        let mut texts = self.texts.lock().unwrap_or_else(|e| e.into_inner());
        let id = u32::try_from(texts.len()).unwrap_or(u32::MAX);
        texts.push(text);
        let mut mark = [0u8; MARK_LEN];
        mark[..PATTERN.len()].copy_from_slice(&PATTERN);
        mark[PATTERN.len()..].copy_from_slice(&id.to_be_bytes());
        mark
    }

    pub(super) fn text(&self, id: u32) -> Option<String> {
        let texts = self.texts.lock().unwrap_or_else(|e| e.into_inner());
        texts.get(usize::try_from(id).ok()?).cloned()
    }
}

/// Finds marks in audio that arrives in pieces (a mark may straddle two media frames).
#[derive(Debug, Default)]
pub struct MarkScanner {
    /// The end of the audio so far, short of a whole mark.
    tail: Vec<u8>,
}

impl MarkScanner {
    /// The utterance numbers whose marks complete in `audio`, in order.
    pub fn feed(&mut self, audio: &[u8]) -> Vec<u32> {
        let mut window = std::mem::take(&mut self.tail);
        window.extend_from_slice(audio);
        let mut found = Vec::new();
        let mut at = 0;
        while at + MARK_LEN <= window.len() {
            if window[at..].starts_with(&PATTERN) {
                let number = &window[at + PATTERN.len()..at + MARK_LEN];
                found.push(u32::from_be_bytes([
                    number[0], number[1], number[2], number[3],
                ]));
                at += MARK_LEN;
            } else {
                at += 1;
            }
        }
        self.tail = window[at..].to_vec();
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_found_across_frames() {
        let spoken = Spoken::default();
        let first = spoken.mark("Thanks for calling.".into());
        let second = spoken.mark("How can I help?".into());
        let voice = crate::fake_deepgram::speech_audio(40);
        let mut audio = first.to_vec();
        audio.extend_from_slice(&voice);
        audio.extend_from_slice(&second);
        audio.extend_from_slice(&voice);
        let mut scanner = MarkScanner::default();
        let mut ids = Vec::new();
        // 160-byte media frames, then odd sizes: a mark split anywhere is still found once.
        for frame in audio.chunks(7) {
            ids.extend(scanner.feed(frame));
        }
        assert_eq!(ids, [0, 1]);
        assert_eq!(spoken.text(1).as_deref(), Some("How can I help?"));
        assert_eq!(spoken.text(2), None);
    }

    #[test]
    fn the_voice_alone_has_no_marks() {
        let voice = crate::fake_deepgram::speech_audio(3000);
        assert!(MarkScanner::default().feed(&voice).is_empty());
    }
}
