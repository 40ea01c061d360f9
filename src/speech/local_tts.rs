//! Text-to-speech with the local espeak-ng voice, behind the same session interface as
//! Deepgram's, so stream mode works offline and in tests.

use std::collections::VecDeque;

use async_trait::async_trait;
use tokio::sync::mpsc;

use super::{
    ProviderHealth, SpeechError, TextToSpeech, TtsCommand, TtsEvent, TtsOptions, TtsSession,
};
use frontdesk_telephony::audio::espeak;

const PROVIDER: &str = "espeak-ng";
/// Audio goes out in 400 ms pieces (3200 μ-law bytes): small enough that a barge-in between
/// pieces drops little, large enough to keep the channel traffic low.
pub const CHUNK_BYTES: usize = 3200;
/// Room for a few seconds of audio ahead of the call loop.
const EVENT_CAPACITY: usize = 32;
const COMMAND_CAPACITY: usize = 64;

#[derive(Debug, Clone)]
pub struct LocalTts {
    /// espeak-ng voice used when the session's options name none.
    pub voice: String,
    pub words_per_minute: u32,
}

impl Default for LocalTts {
    fn default() -> Self {
        LocalTts {
            voice: "en-us".to_string(),
            words_per_minute: 170,
        }
    }
}

impl LocalTts {
    fn voice_for<'a>(&'a self, options: &'a TtsOptions) -> &'a str {
        if options.voice.is_empty() {
            &self.voice
        } else {
            &options.voice
        }
    }
}

fn provider_error(e: espeak::EspeakError) -> SpeechError {
    SpeechError::Provider {
        provider: PROVIDER,
        detail: e.to_string(),
    }
}

#[async_trait]
impl TextToSpeech for LocalTts {
    fn name(&self) -> &'static str {
        PROVIDER
    }

    async fn open(&self, options: &TtsOptions) -> Result<TtsSession, SpeechError> {
        if !available().await {
            return Err(SpeechError::Connect {
                provider: PROVIDER,
                detail: espeak::not_installed_message().to_string(),
            });
        }
        let (command_tx, command_rx) = mpsc::channel(COMMAND_CAPACITY);
        let (event_tx, event_rx) = mpsc::channel(EVENT_CAPACITY);
        let worker = Worker {
            commands: command_rx,
            events: event_tx,
            voice: self.voice_for(options).to_string(),
            words_per_minute: self.words_per_minute,
            buffer: String::new(),
            flushes: VecDeque::new(),
        };
        tokio::spawn(worker.run());
        Ok(TtsSession {
            commands: command_tx,
            events: event_rx,
        })
    }

    async fn synthesize(&self, text: &str, options: &TtsOptions) -> Result<Vec<u8>, SpeechError> {
        espeak::synthesize(text, self.voice_for(options), self.words_per_minute)
            .await
            .map_err(provider_error)
    }

    async fn health(&self) -> ProviderHealth {
        match available().await.then(espeak::version).flatten() {
            Some(version) => ProviderHealth {
                provider: PROVIDER,
                ok: true,
                detail: version.to_string(),
            },
            None => ProviderHealth {
                provider: PROVIDER,
                ok: false,
                detail: espeak::not_installed_message().to_string(),
            },
        }
    }
}

/// The first check runs a process; keep it off the async threads.
async fn available() -> bool {
    tokio::task::spawn_blocking(espeak::available)
        .await
        .unwrap_or(false)
}

/// How handling a command mid-utterance ends the utterance, if it does.
enum Interrupt {
    /// A `Clear` took effect; `Cleared` was sent.
    Cleared,
    /// `Close`, or the call loop went away.
    Close,
}

/// One session's task: owns the text buffer and runs synthesis, always listening for
/// commands so a `Clear` takes effect mid-synthesis.
struct Worker {
    commands: mpsc::Receiver<TtsCommand>,
    events: mpsc::Sender<TtsEvent>,
    voice: String,
    words_per_minute: u32,
    /// Text spoken since the last flush.
    buffer: String,
    /// Flushed texts waiting their turn, oldest first.
    flushes: VecDeque<String>,
}

impl Worker {
    async fn run(mut self) {
        let error = loop {
            if let Some(text) = self.flushes.pop_front() {
                match self.utter(text).await {
                    Ok(None | Some(Interrupt::Cleared)) => continue,
                    Ok(Some(Interrupt::Close)) => break None,
                    Err(e) => break Some(e),
                }
            }
            match self.commands.recv().await {
                None | Some(TtsCommand::Close) => break None,
                Some(TtsCommand::Clear) => {
                    if self.clear().await.is_some() {
                        break None;
                    }
                }
                Some(other) => self.queue(other),
            }
        };
        // The receiver may be gone already; nobody is left to tell then.
        let _ = self.events.send(TtsEvent::Closed { error }).await;
    }

    /// Speak or Flush: both just queue work, whether idle or mid-utterance.
    fn queue(&mut self, command: TtsCommand) {
        match command {
            TtsCommand::Speak(text) => {
                // Chunks of one reply arrive without separators ("Sure." "When?"): keep words
                // apart.
                if !self.buffer.is_empty()
                    && !self.buffer.ends_with(char::is_whitespace)
                    && !text.starts_with(char::is_whitespace)
                {
                    self.buffer.push(' ');
                }
                self.buffer.push_str(&text);
            }
            TtsCommand::Flush => self.flushes.push_back(std::mem::take(&mut self.buffer)),
            // Handled by the callers, which must end the current utterance for these.
            TtsCommand::Clear | TtsCommand::Close => {}
        }
    }

    /// Drops all pending text and confirms. `Some(Close)` if the call loop is gone.
    async fn clear(&mut self) -> Option<Interrupt> {
        self.buffer.clear();
        self.flushes.clear();
        match self.events.send(TtsEvent::Cleared).await {
            Ok(()) => None,
            Err(_) => Some(Interrupt::Close),
        }
    }

    /// Handles a command that arrived mid-utterance. `Some` ends the utterance.
    async fn interrupt(&mut self, command: Option<TtsCommand>) -> Option<Interrupt> {
        match command {
            None | Some(TtsCommand::Close) => Some(Interrupt::Close),
            Some(TtsCommand::Clear) => Some(self.clear().await.unwrap_or(Interrupt::Cleared)),
            Some(other) => {
                self.queue(other);
                None
            }
        }
    }

    /// Synthesizes one flushed text and sends its audio, then `Flushed`. Returns how it was
    /// interrupted, or an error if espeak-ng failed (which ends the session: the trait has no
    /// other way to report it).
    async fn utter(&mut self, text: String) -> Result<Option<Interrupt>, String> {
        // A copy of the voice, so the synthesis future does not hold a borrow of `self`.
        let voice = self.voice.clone();
        let synthesis = espeak::synthesize(&text, &voice, self.words_per_minute);
        tokio::pin!(synthesis);
        let audio = loop {
            tokio::select! {
                // Commands first, so a Clear wins over audio that is ready at the same moment.
                biased;
                command = self.commands.recv() => {
                    // Returning drops `synthesis`, which kills espeak-ng.
                    if let Some(interrupt) = self.interrupt(command).await {
                        return Ok(Some(interrupt));
                    }
                }
                result = &mut synthesis => break result.map_err(|e| e.to_string())?,
            }
        };

        // A handle of our own, so a reserved slot does not borrow `self` while a command is
        // handled.
        let events = self.events.clone();
        let mut chunks = audio.chunks(CHUNK_BYTES).peekable();
        while let Some(chunk) = chunks.peek() {
            tokio::select! {
                biased;
                command = self.commands.recv() => {
                    if let Some(interrupt) = self.interrupt(command).await {
                        return Ok(Some(interrupt));
                    }
                }
                permit = events.reserve() => match permit {
                    Ok(permit) => {
                        permit.send(TtsEvent::Audio(chunk.to_vec()));
                        chunks.next();
                    }
                    Err(_) => return Ok(Some(Interrupt::Close)),
                },
            }
        }
        match self.events.send(TtsEvent::Flushed).await {
            Ok(()) => Ok(None),
            Err(_) => Ok(Some(Interrupt::Close)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use frontdesk_telephony::audio::mulaw;
    use std::time::Duration;

    fn require_espeak() {
        assert!(espeak::available(), "{}", espeak::not_installed_message());
    }

    async fn open() -> TtsSession {
        require_espeak();
        match LocalTts::default().open(&TtsOptions::default()).await {
            Ok(session) => session,
            Err(e) => panic!("open: {e}"),
        }
    }

    async fn send(session: &TtsSession, command: TtsCommand) {
        if session.commands.send(command).await.is_err() {
            panic!("session closed");
        }
    }

    async fn next(session: &mut TtsSession) -> TtsEvent {
        match tokio::time::timeout(Duration::from_secs(10), session.events.recv()).await {
            Ok(Some(event)) => event,
            other => panic!("no event: {other:?}"),
        }
    }

    /// Collects audio until `Flushed`.
    async fn audio_until_flushed(session: &mut TtsSession) -> Vec<u8> {
        let mut audio = Vec::new();
        loop {
            match next(session).await {
                TtsEvent::Audio(chunk) => {
                    assert!(
                        !chunk.is_empty() && chunk.len() <= CHUNK_BYTES,
                        "chunk of {}",
                        chunk.len()
                    );
                    audio.extend(chunk);
                }
                TtsEvent::Flushed => return audio,
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn speak_and_flush_gives_audio_then_flushed() {
        let mut session = open().await;
        send(
            &session,
            TtsCommand::Speak("Thanks for calling".to_string()),
        )
        .await;
        send(&session, TtsCommand::Speak("Luigi's.".to_string())).await;
        send(&session, TtsCommand::Flush).await;
        let audio = audio_until_flushed(&mut session).await;
        let seconds = audio.len() as f32 / mulaw::SAMPLE_RATE as f32;
        assert!((0.8..6.0).contains(&seconds), "{seconds} s");
        assert!(mulaw::rms(&audio) > mulaw::SPEECH_RMS);

        // Two flushes in a row are spoken in order, each with its own Flushed; an empty flush
        // still answers.
        send(&session, TtsCommand::Speak("One.".to_string())).await;
        send(&session, TtsCommand::Flush).await;
        send(&session, TtsCommand::Flush).await;
        send(&session, TtsCommand::Speak("Two.".to_string())).await;
        send(&session, TtsCommand::Flush).await;
        assert!(!audio_until_flushed(&mut session).await.is_empty());
        assert!(audio_until_flushed(&mut session).await.is_empty());
        assert!(!audio_until_flushed(&mut session).await.is_empty());

        send(&session, TtsCommand::Close).await;
        assert_eq!(next(&mut session).await, TtsEvent::Closed { error: None });
    }

    #[tokio::test]
    async fn clear_during_synthesis_drops_that_text() {
        let mut session = open().await;
        let long = "This is a long answer about our opening hours and menu. ".repeat(20);
        send(&session, TtsCommand::Speak(long)).await;
        send(&session, TtsCommand::Flush).await;
        send(&session, TtsCommand::Clear).await;
        // No audio before the Cleared: the synthesis was cancelled, not drained.
        assert_eq!(next(&mut session).await, TtsEvent::Cleared);
        // ...and none after it either.
        let late = tokio::time::timeout(Duration::from_millis(1500), session.events.recv()).await;
        assert!(late.is_err(), "unexpected {late:?}");

        // The session still works.
        send(&session, TtsCommand::Speak("Go ahead.".to_string())).await;
        send(&session, TtsCommand::Flush).await;
        assert!(!audio_until_flushed(&mut session).await.is_empty());
    }

    #[tokio::test]
    async fn clear_while_sending_audio_stops_the_rest() {
        let mut session = open().await;
        let long = "Please hold while I check the calendar for you. ".repeat(10);
        send(&session, TtsCommand::Speak(long)).await;
        send(&session, TtsCommand::Flush).await;
        // Wait for the first piece, then barge in.
        assert!(matches!(next(&mut session).await, TtsEvent::Audio(_)));
        send(&session, TtsCommand::Clear).await;
        // At most the pieces already queued in the channel arrive before the Cleared.
        let mut queued = 0;
        loop {
            match next(&mut session).await {
                TtsEvent::Audio(_) => queued += 1,
                TtsEvent::Cleared => break,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(queued <= EVENT_CAPACITY, "{queued} pieces after the clear");
        let late = tokio::time::timeout(Duration::from_millis(500), session.events.recv()).await;
        assert!(late.is_err(), "unexpected {late:?}");
    }

    #[tokio::test]
    async fn dropping_the_commands_closes_the_session() {
        let TtsSession {
            commands,
            mut events,
        } = open().await;
        drop(commands);
        let closed = tokio::time::timeout(Duration::from_secs(5), events.recv()).await;
        assert!(
            matches!(closed, Ok(Some(TtsEvent::Closed { error: None }))),
            "{closed:?}"
        );
    }

    #[tokio::test]
    async fn one_shot_synthesis_and_health() {
        require_espeak();
        let tts = LocalTts::default();
        let audio = tts
            .synthesize("Your table is booked.", &TtsOptions::default())
            .await;
        assert!(matches!(&audio, Ok(a) if a.len() > 4000), "{audio:?}");
        let health = tts.health().await;
        assert!(health.ok, "{health:?}");
        assert_eq!(health.provider, "espeak-ng");
        let bad_voice = TtsOptions {
            voice: "--help".to_string(),
            ..Default::default()
        };
        assert!(tts.synthesize("hi", &bad_voice).await.is_err());
    }

    #[tokio::test]
    async fn a_failing_voice_closes_with_the_error() {
        require_espeak();
        let options = TtsOptions {
            voice: "xx-nosuchvoice".to_string(),
            ..Default::default()
        };
        let mut session = match LocalTts::default().open(&options).await {
            Ok(session) => session,
            Err(e) => panic!("open: {e}"),
        };
        send(&session, TtsCommand::Speak("hello".to_string())).await;
        send(&session, TtsCommand::Flush).await;
        match next(&mut session).await {
            TtsEvent::Closed { error: Some(e) } => assert!(e.contains("espeak-ng"), "{e}"),
            other => panic!("unexpected {other:?}"),
        }
    }
}
