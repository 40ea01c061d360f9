//! Speech providers for stream mode, behind two traits so the call loop does not care whether
//! it talks to Deepgram, the local espeak-ng voice, or a fake on loopback.
//!
//! Both are sessions: one is opened per call and lives as long as the call, because opening a
//! connection per utterance would put a TLS handshake in front of every answer.

pub mod deepgram_stt;
pub mod deepgram_tts;
pub mod local_tts;

use async_trait::async_trait;
use tokio::sync::mpsc;

#[derive(Debug, thiserror::Error)]
pub enum SpeechError {
    #[error("could not connect to {provider}: {detail}")]
    Connect {
        provider: &'static str,
        detail: String,
    },
    #[error("{provider} failed: {detail}")]
    Provider {
        provider: &'static str,
        detail: String,
    },
}

/// How a provider is doing, for `/health/detailed`.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ProviderHealth {
    pub provider: &'static str,
    pub ok: bool,
    pub detail: String,
}

/// What the call loop tells a speech-to-text session.
#[derive(Debug)]
pub enum SttCommand {
    /// Raw μ-law 8 kHz audio from the caller, exactly as it came off the Media Stream.
    Audio(Vec<u8>),
    /// Flush what has been heard so far (Deepgram `Finalize`).
    Finalize,
    /// Finish and close (Deepgram `CloseStream`).
    Close,
}

/// What a speech-to-text session reports.
#[derive(Debug, Clone, PartialEq)]
pub enum SttEvent {
    /// Voice activity began (Deepgram `SpeechStarted`): the earliest barge-in cue.
    SpeechStarted,
    /// A partial transcript that will still change.
    Interim { text: String },
    /// A finished stretch of speech. `end_of_turn` is set when the provider's endpointing says
    /// the caller paused (Deepgram `speech_final`).
    Final {
        text: String,
        confidence: f32,
        end_of_turn: bool,
    },
    /// Backup end of turn after a gap (Deepgram `UtteranceEnd`).
    UtteranceEnd,
    /// The provider closed the session; `error` says why if it was not asked to.
    Closed { error: Option<String> },
}

/// A live recognition session: send audio in, read events out. Dropping `commands` closes it.
pub struct SttSession {
    pub commands: mpsc::Sender<SttCommand>,
    pub events: mpsc::Receiver<SttEvent>,
}

/// Per-call options for recognition.
#[derive(Debug, Clone, Default)]
pub struct SttOptions {
    /// The Twilio call SID; sent to the provider as a usage tag.
    pub call_sid: String,
    pub language: String,
    /// Words worth boosting (locations, the business name).
    pub keyterms: Vec<String>,
}

#[async_trait]
pub trait SpeechToText: Send + Sync {
    fn name(&self) -> &'static str;
    async fn open(&self, options: &SttOptions) -> Result<SttSession, SpeechError>;
    async fn health(&self) -> ProviderHealth;
}

/// What the call loop tells a text-to-speech session.
#[derive(Debug)]
pub enum TtsCommand {
    /// Queue text to speak.
    Speak(String),
    /// Synthesize everything queued now; a `Flushed` follows its last audio.
    Flush,
    /// Drop queued text and audio (barge-in); a `Cleared` follows.
    Clear,
    Close,
}

/// What a text-to-speech session sends back.
#[derive(Debug, Clone, PartialEq)]
pub enum TtsEvent {
    /// Raw μ-law 8 kHz audio, ready for a Twilio `media` payload.
    Audio(Vec<u8>),
    /// All audio for the text before a `Flush` has been sent.
    Flushed,
    /// A `Clear` has taken effect: no audio from before it will follow.
    Cleared,
    /// The provider closed the session; `error` says why if it was not asked to.
    Closed { error: Option<String> },
}

pub struct TtsSession {
    pub commands: mpsc::Sender<TtsCommand>,
    pub events: mpsc::Receiver<TtsEvent>,
}

/// Per-call options for synthesis.
#[derive(Debug, Clone, Default)]
pub struct TtsOptions {
    pub call_sid: String,
    /// Provider-specific voice name (a Deepgram model such as `aura-2-thalia-en`, an espeak-ng
    /// voice such as `en-us`).
    pub voice: String,
}

#[async_trait]
pub trait TextToSpeech: Send + Sync {
    fn name(&self) -> &'static str;
    async fn open(&self, options: &TtsOptions) -> Result<TtsSession, SpeechError>;
    /// One-shot synthesis of a whole line, used to fill the cache of static prompts.
    async fn synthesize(&self, text: &str, options: &TtsOptions) -> Result<Vec<u8>, SpeechError>;
    async fn health(&self) -> ProviderHealth;
}
