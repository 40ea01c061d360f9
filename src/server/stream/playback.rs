//! What the agent is saying on a Media Stream: lines waiting for synthesis, audio sent to
//! Twilio but not yet played, and barge-in.
//!
//! This is bookkeeping only: it returns [`Action`]s and the call loop performs them, so the
//! rules (order of audio, marks, what a barge-in may cut) are tested without sockets.

use std::collections::VecDeque;
use std::sync::Arc;

use super::prompt_cache::PromptCache;

/// Something the call loop must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Send this μ-law audio to Twilio (the loop cuts it into 20 ms frames).
    Media(Arc<[u8]>),
    /// Send a Twilio `mark` with this name.
    Mark(String),
    /// Send a Twilio `clear`.
    Clear,
    /// Ask the TTS session to speak this text and flush.
    Synthesize(String),
    /// Tell the TTS session to drop what it has not sent.
    ClearTts,
}

#[derive(Debug)]
enum Pending {
    Line {
        id: u32,
        text: String,
        interruptible: bool,
        audio: PendingAudio,
    },
    /// The end of an agent turn: a mark whose echo means the caller heard everything.
    TurnEnd(String),
    /// A model is still writing an answer: its sentences are queued here, in front of this.
    Answer { interruptible: bool },
}

#[derive(Debug)]
enum PendingAudio {
    Cached(Arc<[u8]>),
    /// Requested from TTS; audio collected so far (for the cache).
    Synthesizing(Vec<u8>),
    /// Behind an answer still being written: requested once the answer is complete, because
    /// TTS answers in the order it was asked.
    Deferred,
}

#[derive(Debug)]
struct Sent {
    mark: String,
    /// The line's text, or None for a turn-end mark.
    text: Option<String>,
    interruptible: bool,
    interrupted: bool,
}

/// What a returning mark meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarkEcho {
    /// A line finished playing.
    Played,
    /// The last line of a turn finished: the agent is now listening. Carries the turn-end
    /// mark's name.
    TurnEnded(String),
    /// A mark flushed back by a `clear` (its audio was cut), or one we do not know.
    Dropped,
}

#[derive(Debug, Default)]
pub struct Playback {
    next_id: u32,
    unsent: VecDeque<Pending>,
    playing: VecDeque<Sent>,
    /// TTS `Clear`s not yet acknowledged: audio arriving meanwhile belongs to cut text.
    clearing: u32,
    /// Lines of the current agent turn that played to the end.
    heard: Vec<String>,
}

impl Playback {
    pub fn new() -> Playback {
        Playback::default()
    }

    /// Queues one agent turn: its lines, then a turn-end mark named `turn_end`. With
    /// `answer = Some((at, interruptible))`, room is kept before `lines[at]` for the sentences
    /// of an answer still being written ([`Playback::answer_sentence`],
    /// [`Playback::answer_done`]).
    pub fn say(
        &mut self,
        lines: &[(String, bool)],
        answer: Option<(usize, bool)>,
        turn_end: String,
        cache: &PromptCache,
        out: &mut Vec<Action>,
    ) {
        self.heard.clear();
        let mut deferred = false;
        for (i, (text, interruptible)) in lines.iter().enumerate() {
            if let Some((at, interruptible)) = answer
                && at == i
            {
                self.unsent.push_back(Pending::Answer { interruptible });
                deferred = true;
            }
            let line = self.queue_line(text, *interruptible, deferred, cache, out);
            self.unsent.push_back(line);
        }
        if let Some((at, interruptible)) = answer
            && at >= lines.len()
        {
            self.unsent.push_back(Pending::Answer { interruptible });
        }
        self.unsent.push_back(Pending::TurnEnd(turn_end));
        self.pump(out);
    }

    fn queue_line(
        &mut self,
        text: &str,
        interruptible: bool,
        deferred: bool,
        cache: &PromptCache,
        out: &mut Vec<Action>,
    ) -> Pending {
        self.next_id += 1;
        let audio = match cache.get(text) {
            Some(audio) => PendingAudio::Cached(audio),
            None if deferred => PendingAudio::Deferred,
            None => {
                // Requested at once, so synthesis of later lines overlaps playback of
                // earlier ones; TTS answers in order.
                out.push(Action::Synthesize(text.to_string()));
                PendingAudio::Synthesizing(Vec::new())
            }
        };
        Pending::Line {
            id: self.next_id,
            text: text.to_string(),
            interruptible,
            audio,
        }
    }

    /// The next sentence of the answer being written: queued where the answer belongs.
    pub fn answer_sentence(&mut self, text: &str, cache: &PromptCache, out: &mut Vec<Action>) {
        let Some(at) = self.answer_slot() else {
            return;
        };
        let interruptible = match self.unsent.get(at) {
            Some(Pending::Answer { interruptible }) => *interruptible,
            _ => true,
        };
        let line = self.queue_line(text, interruptible, false, cache, out);
        self.unsent.insert(at, line);
        self.pump(out);
    }

    /// The answer is complete: what follows it may be synthesized and played.
    pub fn answer_done(&mut self, out: &mut Vec<Action>) {
        let Some(at) = self.answer_slot() else {
            return;
        };
        self.unsent.remove(at);
        for pending in self.unsent.iter_mut() {
            if let Pending::Line {
                text,
                audio: audio @ PendingAudio::Deferred,
                ..
            } = pending
            {
                out.push(Action::Synthesize(text.clone()));
                *audio = PendingAudio::Synthesizing(Vec::new());
            }
        }
        self.pump(out);
    }

    /// Whether room is kept for an answer still being written.
    pub fn awaiting_answer(&self) -> bool {
        self.answer_slot().is_some()
    }

    /// Where in the queue the answer being written goes.
    fn answer_slot(&self) -> Option<usize> {
        self.unsent
            .iter()
            .position(|p| matches!(p, Pending::Answer { .. }))
    }

    /// Sends everything at the head of the queue that is ready.
    fn pump(&mut self, out: &mut Vec<Action>) {
        loop {
            match self.unsent.front() {
                Some(Pending::Line {
                    audio: PendingAudio::Synthesizing(_) | PendingAudio::Deferred,
                    ..
                })
                | Some(Pending::Answer { .. })
                | None => return,
                Some(_) => {}
            }
            match self.unsent.pop_front() {
                Some(Pending::Line {
                    id,
                    text,
                    interruptible,
                    audio: PendingAudio::Cached(audio),
                }) => {
                    out.push(Action::Media(audio));
                    self.sent_line(id, text, interruptible, out);
                }
                Some(Pending::TurnEnd(name)) => {
                    out.push(Action::Mark(name.clone()));
                    self.playing.push_back(Sent {
                        mark: name,
                        text: None,
                        interruptible: true,
                        interrupted: false,
                    });
                }
                _ => return,
            }
        }
    }

    fn sent_line(&mut self, id: u32, text: String, interruptible: bool, out: &mut Vec<Action>) {
        let mark = format!("l{id}");
        out.push(Action::Mark(mark.clone()));
        self.playing.push_back(Sent {
            mark,
            text: Some(text),
            interruptible,
            interrupted: false,
        });
    }

    /// Audio from TTS for the line being synthesized.
    pub fn tts_audio(&mut self, audio: Vec<u8>, out: &mut Vec<Action>) {
        if self.clearing > 0 {
            return;
        }
        if let Some(Pending::Line {
            audio: PendingAudio::Synthesizing(collected),
            ..
        }) = self.unsent.front_mut()
        {
            collected.extend_from_slice(&audio);
            out.push(Action::Media(audio.into()));
        }
    }

    /// TTS finished the line at the head: mark it, remember its audio, send what follows.
    pub fn tts_flushed(&mut self, cache: &PromptCache, out: &mut Vec<Action>) {
        if self.clearing > 0 {
            return;
        }
        if let Some(Pending::Line {
            audio: PendingAudio::Synthesizing(_),
            ..
        }) = self.unsent.front()
            && let Some(Pending::Line {
                id,
                text,
                interruptible,
                audio: PendingAudio::Synthesizing(collected),
            }) = self.unsent.pop_front()
        {
            cache.insert(&text, collected);
            self.sent_line(id, text, interruptible, out);
            self.pump(out);
        }
    }

    pub fn tts_cleared(&mut self) {
        self.clearing = self.clearing.saturating_sub(1);
    }

    /// Twilio echoed a mark.
    pub fn mark(&mut self, name: &str) -> MarkEcho {
        if !self.playing.iter().any(|s| s.mark == name) {
            return MarkEcho::Dropped;
        }
        while let Some(sent) = self.playing.pop_front() {
            let this = sent.mark == name;
            let turn_end = sent.text.is_none();
            if !sent.interrupted
                && let Some(text) = sent.text
            {
                self.heard.push(text);
            }
            if this {
                return match (sent.interrupted, turn_end) {
                    (true, _) => MarkEcho::Dropped,
                    (false, true) => MarkEcho::TurnEnded(sent.mark),
                    (false, false) => MarkEcho::Played,
                };
            }
        }
        MarkEcho::Dropped
    }

    /// Whether the caller can hear (or is about to hear) the agent.
    pub fn speaking(&self) -> bool {
        self.unsent
            .iter()
            .any(|p| matches!(p, Pending::Line { .. } | Pending::Answer { .. }))
            || self
                .playing
                .iter()
                .any(|s| s.text.is_some() && !s.interrupted)
    }

    /// Whether nothing is queued or playing, turn-end marks included.
    pub fn idle(&self) -> bool {
        self.unsent.is_empty() && self.playing.iter().all(|s| s.interrupted)
    }

    /// The caller started talking. Cuts the agent off unless a line that must be heard in
    /// full is queued or playing; returns what the caller did hear, or None if nothing was cut.
    pub fn barge_in(&mut self, out: &mut Vec<Action>) -> Option<String> {
        if !self.speaking() {
            return None;
        }
        let protected = self.unsent.iter().any(|p| {
            matches!(
                p,
                Pending::Line {
                    interruptible: false,
                    ..
                } | Pending::Answer {
                    interruptible: false
                }
            )
        }) || self
            .playing
            .iter()
            .any(|s| !s.interrupted && s.text.is_some() && !s.interruptible);
        if protected {
            return None;
        }
        out.push(Action::Clear);
        let synthesizing = self.unsent.iter().any(|p| {
            matches!(
                p,
                Pending::Line {
                    audio: PendingAudio::Synthesizing(_),
                    ..
                }
            )
        });
        if synthesizing {
            out.push(Action::ClearTts);
            self.clearing += 1;
        }
        self.unsent.clear();
        for sent in &mut self.playing {
            sent.interrupted = true;
        }
        Some(self.heard.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(list: &[(&str, bool)]) -> Vec<(String, bool)> {
        list.iter().map(|(t, i)| (t.to_string(), *i)).collect()
    }

    #[test]
    fn cached_lines_go_out_at_once_and_tts_lines_in_order() {
        let cache = PromptCache::new(8);
        cache.insert("Hi there.", vec![1; 320]);
        let mut playback = Playback::new();
        let mut out = Vec::new();
        playback.say(
            &lines(&[("Hi there.", true), ("Your name?", true)]),
            None,
            "t1:name".into(),
            &cache,
            &mut out,
        );
        assert_eq!(
            out,
            vec![
                Action::Synthesize("Your name?".into()),
                Action::Media(vec![1; 320].into()),
                Action::Mark("l1".into()),
            ]
        );
        out.clear();
        playback.tts_audio(vec![2; 160], &mut out);
        playback.tts_flushed(&cache, &mut out);
        assert_eq!(
            out,
            vec![
                Action::Media(vec![2; 160].into()),
                Action::Mark("l2".into()),
                Action::Mark("t1:name".into()),
            ]
        );
        assert!(
            cache.get("Your name?").is_some(),
            "synthesized lines are cached"
        );
        assert_eq!(playback.mark("l1"), MarkEcho::Played);
        assert!(playback.speaking());
        assert_eq!(playback.mark("l2"), MarkEcho::Played);
        assert!(!playback.speaking());
        assert_eq!(
            playback.mark("t1:name"),
            MarkEcho::TurnEnded("t1:name".into())
        );
        assert!(playback.idle());
    }

    #[test]
    fn barge_in_clears_and_reports_what_was_heard() {
        let cache = PromptCache::new(8);
        cache.insert("One.", vec![1; 160]);
        cache.insert("Two.", vec![2; 160]);
        let mut playback = Playback::new();
        let mut out = Vec::new();
        playback.say(
            &lines(&[("One.", true), ("Two.", true), ("Three.", true)]),
            None,
            "t1:-".into(),
            &cache,
            &mut out,
        );
        assert_eq!(playback.mark("l1"), MarkEcho::Played);
        out.clear();
        let heard = playback.barge_in(&mut out);
        assert_eq!(heard.as_deref(), Some("One."));
        assert_eq!(out, vec![Action::Clear, Action::ClearTts]);
        // Twilio flushes the pending marks back: none of them counts as played.
        assert_eq!(playback.mark("l2"), MarkEcho::Dropped);
        assert!(!playback.speaking());
        // Audio for the cut line that was already on its way is dropped.
        out.clear();
        playback.tts_audio(vec![3; 160], &mut out);
        playback.tts_flushed(&cache, &mut out);
        assert!(out.is_empty());
        playback.tts_cleared();
        assert!(playback.barge_in(&mut out).is_none(), "nothing left to cut");
    }

    #[test]
    fn lines_that_must_be_heard_are_not_cut() {
        let cache = PromptCache::new(8);
        cache.insert("Leave the house now.", vec![1; 160]);
        let mut playback = Playback::new();
        let mut out = Vec::new();
        playback.say(
            &lines(&[("Leave the house now.", false)]),
            None,
            "t1:-".into(),
            &cache,
            &mut out,
        );
        out.clear();
        assert!(playback.barge_in(&mut out).is_none());
        assert!(out.is_empty());
        assert!(playback.speaking());
    }

    #[test]
    fn answer_sentences_play_in_place_and_hold_back_what_follows() {
        let cache = PromptCache::new(8);
        cache.insert("Sure.", vec![1; 160]);
        let mut playback = Playback::new();
        let mut out = Vec::new();
        playback.say(
            &lines(&[("Sure.", true), ("What day works?", true)]),
            Some((1, true)),
            "t1:when".into(),
            &cache,
            &mut out,
        );
        // The question after the answer is not requested yet: TTS would speak it first.
        assert_eq!(
            out,
            vec![
                Action::Media(vec![1; 160].into()),
                Action::Mark("l1".into())
            ]
        );
        assert!(playback.speaking() && playback.awaiting_answer());
        out.clear();
        playback.answer_sentence("Yes, we do.", &cache, &mut out);
        assert_eq!(out, vec![Action::Synthesize("Yes, we do.".into())]);
        out.clear();
        playback.tts_audio(vec![2; 160], &mut out);
        playback.tts_flushed(&cache, &mut out);
        assert_eq!(
            out,
            vec![
                Action::Media(vec![2; 160].into()),
                Action::Mark("l3".into())
            ],
            "the sentence plays; the turn does not end while the answer is open"
        );
        out.clear();
        playback.answer_done(&mut out);
        assert_eq!(out, vec![Action::Synthesize("What day works?".into())]);
        out.clear();
        playback.tts_audio(vec![3; 160], &mut out);
        playback.tts_flushed(&cache, &mut out);
        assert_eq!(
            out,
            vec![
                Action::Media(vec![3; 160].into()),
                Action::Mark("l2".into()),
                Action::Mark("t1:when".into()),
            ]
        );
        assert!(!playback.awaiting_answer());
    }

    #[test]
    fn barge_in_cuts_an_answer_still_being_written() {
        let cache = PromptCache::new(8);
        let mut playback = Playback::new();
        let mut out = Vec::new();
        playback.say(
            &lines(&[("What day works?", true)]),
            Some((0, true)),
            "t1:when".into(),
            &cache,
            &mut out,
        );
        assert!(out.is_empty(), "nothing to play until the answer starts");
        assert_eq!(playback.barge_in(&mut out).as_deref(), Some(""));
        assert_eq!(out, vec![Action::Clear]);
        assert!(!playback.awaiting_answer() && !playback.speaking());
        out.clear();
        playback.answer_sentence("Too late.", &cache, &mut out);
        assert!(out.is_empty(), "sentences after the cut go nowhere");
    }

    #[test]
    fn an_answer_that_must_be_heard_is_not_cut() {
        let cache = PromptCache::new(8);
        let mut playback = Playback::new();
        let mut out = Vec::new();
        playback.say(&[], Some((0, false)), "t1:-".into(), &cache, &mut out);
        assert!(playback.barge_in(&mut out).is_none());
    }
}
