//! Deepgram streaming text-to-speech over its WebSocket (docs/protocols.md §5.1).
//!
//! A writer task forwards [`TtsCommand`]s as `Speak`/`Flush`/`Clear`/`Close` text frames; a
//! reader task turns binary frames into [`TtsEvent::Audio`] and `Flushed`/`Cleared` into their
//! events, as soon as each frame arrives.
//!
//! **Barge-in.** Between sending `Clear` and receiving `Cleared`, any audio that still arrives
//! was made for text from before the `Clear`, so the reader drops it: the call loop never plays
//! stale speech after it cleared. (Deepgram handles messages in order, so audio for text sent
//! after `Clear` only follows `Cleared`.)

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::sync::{Notify, mpsc};
use tokio_tungstenite::tungstenite::Message;

use super::deepgram_stt::{QueryBuilder, WsStream, connect_ws};
use super::{
    ProviderHealth, SpeechError, TextToSpeech, TtsCommand, TtsEvent, TtsOptions, TtsSession,
};

/// Deepgram's cloud endpoint for streaming synthesis.
pub const DEFAULT_TTS_URL: &str = "wss://api.deepgram.com/v1/speak";
const PROVIDER: &str = "deepgram";
const CLOSE_GRACE: Duration = Duration::from_secs(5);
const COMMANDS_CAPACITY: usize = 64;
const EVENTS_CAPACITY: usize = 256;
/// Upper bound on one `synthesize` call.
const SYNTHESIZE_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone)]
pub struct DeepgramTtsConfig {
    /// `wss://api.deepgram.com/v1/speak`, or a fake's `ws://127.0.0.1:PORT/v1/speak`.
    pub url: String,
    pub api_key: String,
    /// Voice used when [`TtsOptions::voice`] is empty.
    pub model: String,
}

impl Default for DeepgramTtsConfig {
    fn default() -> Self {
        Self {
            url: DEFAULT_TTS_URL.to_string(),
            api_key: String::new(),
            model: "aura-2-thalia-en".to_string(),
        }
    }
}

pub struct DeepgramTts {
    config: DeepgramTtsConfig,
}

impl DeepgramTts {
    pub fn new(config: DeepgramTtsConfig) -> Self {
        Self { config }
    }

    pub fn config(&self) -> &DeepgramTtsConfig {
        &self.config
    }

    /// The full `/v1/speak` URL for a session.
    pub fn speak_url(&self, options: &TtsOptions) -> String {
        let model = if options.voice.is_empty() {
            &self.config.model
        } else {
            &options.voice
        };
        let mut url = self.config.url.clone();
        let mut query = QueryBuilder::new(&mut url);
        query.push("model", model);
        query.push("encoding", "mulaw");
        query.push("sample_rate", "8000");
        url
    }
}

#[async_trait]
impl TextToSpeech for DeepgramTts {
    fn name(&self) -> &'static str {
        "deepgram"
    }

    async fn open(&self, options: &TtsOptions) -> Result<TtsSession, SpeechError> {
        let url = self.speak_url(options);
        let socket = connect_ws(&url, &self.config.api_key, PROVIDER).await?;
        let (sink, stream) = socket.split();
        let (commands_tx, commands_rx) = mpsc::channel(COMMANDS_CAPACITY);
        let (events_tx, events_rx) = mpsc::channel(EVENTS_CAPACITY);
        let shared = Arc::new(SessionShared::default());
        tokio::spawn(write_loop(sink, commands_rx, shared.clone()));
        tokio::spawn(read_loop(stream, events_tx, shared));
        Ok(TtsSession {
            commands: commands_tx,
            events: events_rx,
        })
    }

    async fn synthesize(&self, text: &str, options: &TtsOptions) -> Result<Vec<u8>, SpeechError> {
        let provider_error = |detail: String| SpeechError::Provider {
            provider: PROVIDER,
            detail,
        };
        let mut session = self.open(options).await?;
        let send = |command| {
            let commands = session.commands.clone();
            async move { commands.send(command).await }
        };
        send(TtsCommand::Speak(text.to_string()))
            .await
            .map_err(|_| provider_error("session ended before Speak".to_string()))?;
        send(TtsCommand::Flush)
            .await
            .map_err(|_| provider_error("session ended before Flush".to_string()))?;
        let collect = async {
            let mut audio = Vec::new();
            while let Some(event) = session.events.recv().await {
                match event {
                    TtsEvent::Audio(bytes) => audio.extend_from_slice(&bytes),
                    TtsEvent::Flushed => return Ok(audio),
                    TtsEvent::Cleared => {}
                    TtsEvent::Closed { error } => {
                        return Err(provider_error(format!(
                            "closed before Flushed: {}",
                            error.unwrap_or_else(|| "no reason".to_string())
                        )));
                    }
                }
            }
            Err(provider_error("session ended before Flushed".to_string()))
        };
        let result = tokio::time::timeout(SYNTHESIZE_TIMEOUT, collect)
            .await
            .unwrap_or_else(|_| Err(provider_error("timed out waiting for audio".to_string())));
        let _ = session.commands.send(TtsCommand::Close).await;
        result
    }

    async fn health(&self) -> ProviderHealth {
        let local = self.config.url != DEFAULT_TTS_URL;
        let ok = !self.config.api_key.is_empty() || local;
        let detail = if !self.config.api_key.is_empty() {
            format!("configured: {} at {}", self.config.model, self.config.url)
        } else if local {
            format!("no API key; using local endpoint {}", self.config.url)
        } else {
            "no Deepgram API key: set DEEPGRAM_API_KEY (or --deepgram-api-key)".to_string()
        };
        ProviderHealth {
            provider: "deepgram-tts",
            ok,
            detail,
        }
    }
}

#[derive(Default)]
struct SessionShared {
    /// We asked to close: the end of the socket is not an error.
    closing: AtomicBool,
    /// `Clear`s sent and not yet answered by `Cleared`.
    clears_pending: AtomicUsize,
    reader_done: Notify,
}

type Sink = SplitSink<WsStream, Message>;
type Stream = SplitStream<WsStream>;

async fn write_loop(
    mut sink: Sink,
    mut commands: mpsc::Receiver<TtsCommand>,
    shared: Arc<SessionShared>,
) {
    loop {
        let command = tokio::select! {
            biased;
            command = commands.recv() => command,
            () = shared.reader_done.notified() => break,
        };
        let frame = match command {
            Some(TtsCommand::Speak(text)) => {
                if text.is_empty() {
                    continue;
                }
                serde_json::json!({"type": "Speak", "text": text}).to_string()
            }
            Some(TtsCommand::Flush) => r#"{"type":"Flush"}"#.to_string(),
            Some(TtsCommand::Clear) => {
                shared.clears_pending.fetch_add(1, Ordering::SeqCst);
                r#"{"type":"Clear"}"#.to_string()
            }
            Some(TtsCommand::Close) | None => {
                shared.closing.store(true, Ordering::SeqCst);
                let _ = sink.send(Message::text(r#"{"type":"Close"}"#)).await;
                let _ = tokio::time::timeout(CLOSE_GRACE, shared.reader_done.notified()).await;
                let _ = sink.close().await;
                return;
            }
        };
        if let Err(error) = sink.send(Message::text(frame)).await {
            tracing::debug!(%error, "deepgram tts: send failed");
            break;
        }
    }
    let _ = sink.close().await;
}

#[derive(Deserialize)]
#[serde(tag = "type")]
enum ServerMessage {
    Flushed {},
    Cleared {},
    Metadata {},
    Warning {},
    Error {},
    #[serde(other)]
    Other,
}

async fn read_loop(mut stream: Stream, events: mpsc::Sender<TtsEvent>, shared: Arc<SessionShared>) {
    let mut error: Option<String> = None;
    while let Some(message) = stream.next().await {
        let event = match message {
            Ok(Message::Binary(audio)) => {
                if shared.clears_pending.load(Ordering::SeqCst) > 0 || audio.is_empty() {
                    continue;
                }
                // Takes the buffer over without copying when it is not shared.
                TtsEvent::Audio(Vec::from(audio))
            }
            Ok(Message::Text(text)) => match serde_json::from_str::<ServerMessage>(text.as_str()) {
                Ok(ServerMessage::Flushed {}) => TtsEvent::Flushed,
                Ok(ServerMessage::Cleared {}) => {
                    let _ = shared.clears_pending.fetch_update(
                        Ordering::SeqCst,
                        Ordering::SeqCst,
                        |n| n.checked_sub(1),
                    );
                    TtsEvent::Cleared
                }
                Ok(ServerMessage::Metadata {}) => {
                    tracing::debug!(frame = %text.as_str(), "deepgram tts: metadata");
                    continue;
                }
                Ok(ServerMessage::Warning {} | ServerMessage::Error {}) => {
                    tracing::warn!(frame = %text.as_str(), "deepgram tts: provider reported a problem");
                    continue;
                }
                Ok(ServerMessage::Other) => {
                    tracing::debug!(frame = %text.as_str(), "deepgram tts: unknown message ignored");
                    continue;
                }
                Err(parse_error) => {
                    tracing::warn!(%parse_error, "deepgram tts: malformed frame");
                    continue;
                }
            },
            Ok(Message::Close(frame)) => {
                if let Some(frame) = frame {
                    let code = u16::from(frame.code);
                    if code != 1000 || !frame.reason.is_empty() {
                        error = Some(format!("closed by Deepgram: {code} {}", frame.reason));
                    }
                }
                continue;
            }
            Ok(_) => continue,
            Err(e) => {
                error = Some(format!("connection error: {e}"));
                break;
            }
        };
        let _ = events.send(event).await;
    }
    let error = if shared.closing.load(Ordering::SeqCst) {
        None
    } else {
        Some(error.unwrap_or_else(|| "connection closed by Deepgram".to_string()))
    };
    if let Some(error) = &error {
        tracing::warn!(error = %error, "deepgram tts: session ended");
    }
    let _ = events.send(TtsEvent::Closed { error }).await;
    shared.reader_done.notify_one();
}

#[cfg(test)]
mod tests {
    use super::*;
    use frontdesk_telephony::audio::mulaw::{FRAME_BYTES, SPEECH_RMS, rms};
    use frontdesk_testkit::fake_deepgram::{FakeDeepgram, FakeDeepgramOptions};

    const KEY: &str = "tts-key";

    fn fake(options: FakeDeepgramOptions) -> FakeDeepgram {
        FakeDeepgram::start(FakeDeepgramOptions {
            api_key: Some(KEY.to_string()),
            ..options
        })
        .expect("fake deepgram starts")
    }

    fn client(fake: &FakeDeepgram) -> DeepgramTts {
        DeepgramTts::new(DeepgramTtsConfig {
            url: fake.tts_url(),
            api_key: KEY.to_string(),
            ..Default::default()
        })
    }

    async fn next(session: &mut TtsSession) -> TtsEvent {
        tokio::time::timeout(Duration::from_secs(10), session.events.recv())
            .await
            .expect("an event arrives")
            .expect("the session is open")
    }

    #[tokio::test]
    async fn speak_and_flush_give_audio_then_flushed() {
        let fake = fake(FakeDeepgramOptions::default());
        let tts = client(&fake);
        let mut session = tts.open(&TtsOptions::default()).await.unwrap();
        let text = "Your table for two is booked for 7 pm.";
        session
            .commands
            .send(TtsCommand::Speak(text.to_string()))
            .await
            .unwrap();
        session.commands.send(TtsCommand::Flush).await.unwrap();
        let mut audio = Vec::new();
        loop {
            match next(&mut session).await {
                TtsEvent::Audio(bytes) => audio.extend_from_slice(&bytes),
                TtsEvent::Flushed => break,
                other => panic!("unexpected {other:?}"),
            }
        }
        let expected = (text.chars().count() * 60 * 8) as f64;
        let got = audio.len() as f64;
        assert!(
            (got - expected).abs() <= expected * 0.2,
            "{got} bytes, expected about {expected}"
        );
        assert!(
            audio.chunks(FRAME_BYTES).all(|f| rms(f) > SPEECH_RMS),
            "every frame sounds like speech"
        );
        session.commands.send(TtsCommand::Close).await.unwrap();
        assert_eq!(next(&mut session).await, TtsEvent::Closed { error: None });

        let connection = fake.last_connection("/v1/speak").unwrap();
        assert_eq!(connection.authorization.as_deref(), Some("Token tts-key"));
        let query = connection.query_map();
        assert_eq!(query["model"], "aura-2-thalia-en");
        assert_eq!(query["encoding"], "mulaw");
        assert_eq!(query["sample_rate"], "8000");
        let stats = fake.stats();
        assert_eq!((stats.tts_speaks, stats.tts_flushes), (1, 1));
    }

    async fn clear_right_after_flush(options: FakeDeepgramOptions) {
        let fake = fake(options);
        let tts = client(&fake);
        let mut session = tts.open(&TtsOptions::default()).await.unwrap();
        let long = "This is a long answer that the caller will interrupt. ".repeat(10);
        for command in [
            TtsCommand::Speak(long),
            TtsCommand::Flush,
            TtsCommand::Clear,
        ] {
            session.commands.send(command).await.unwrap();
        }
        loop {
            match next(&mut session).await {
                TtsEvent::Cleared => break,
                TtsEvent::Audio(_) | TtsEvent::Flushed => {}
                other => panic!("unexpected {other:?}"),
            }
        }
        // New speech after the clear is served; nothing from before it follows `Cleared`.
        for command in [
            TtsCommand::Speak("Sure.".to_string()),
            TtsCommand::Flush,
            TtsCommand::Close,
        ] {
            session.commands.send(command).await.unwrap();
        }
        let mut after = 0;
        loop {
            match next(&mut session).await {
                TtsEvent::Audio(bytes) => after += bytes.len(),
                TtsEvent::Flushed => {}
                TtsEvent::Closed { error } => {
                    assert_eq!(error, None);
                    break;
                }
                TtsEvent::Cleared => panic!("a second Cleared"),
            }
        }
        assert_eq!(after, "Sure.".len() * 60 * 8, "only the new line's audio");
        assert_eq!(fake.stats().tts_clears, 1);
    }

    #[tokio::test]
    async fn clear_stops_audio_from_before_it() {
        clear_right_after_flush(FakeDeepgramOptions::default()).await;
    }

    #[tokio::test]
    async fn clear_interrupts_paced_synthesis() {
        clear_right_after_flush(FakeDeepgramOptions {
            tts_realtime_factor: Some(20.0),
            ..Default::default()
        })
        .await;
    }

    #[tokio::test]
    async fn synthesize_returns_the_whole_line() {
        let fake = fake(FakeDeepgramOptions {
            tts_chunk_bytes: 1000,
            ..Default::default()
        });
        let tts = client(&fake);
        let options = TtsOptions {
            call_sid: String::new(),
            voice: "aura-2-helena-en".to_string(),
        };
        let audio = tts.synthesize("Hello there.", &options).await.unwrap();
        assert_eq!(audio.len(), 12 * 60 * 8);
        assert_eq!(fake.last_tts_query().unwrap()["model"], "aura-2-helena-en");
    }

    #[tokio::test]
    async fn a_wrong_key_fails_to_connect() {
        let fake = fake(FakeDeepgramOptions::default());
        let tts = DeepgramTts::new(DeepgramTtsConfig {
            url: fake.tts_url(),
            api_key: "nope".to_string(),
            ..Default::default()
        });
        let error = tts
            .synthesize("Hi", &TtsOptions::default())
            .await
            .unwrap_err();
        assert!(matches!(error, SpeechError::Connect { .. }), "{error}");
    }

    #[tokio::test]
    async fn health_reports_configuration() {
        assert!(
            !DeepgramTts::new(DeepgramTtsConfig::default())
                .health()
                .await
                .ok
        );
        let local = DeepgramTts::new(DeepgramTtsConfig {
            url: "ws://127.0.0.1:9/v1/speak".to_string(),
            ..Default::default()
        });
        assert!(local.health().await.ok);
    }
}
