//! Deepgram live speech-to-text over its WebSocket (docs/protocols.md §4).
//!
//! One socket per call. Two tasks serve it, so neither direction waits on the other: a writer
//! forwards [`SttCommand`]s (audio as binary frames, `Finalize`, `CloseStream`, and a
//! `KeepAlive` whenever no audio went out for `keepalive_every`), and a reader turns each server
//! frame into at most one [`SttEvent`] and forwards it as soon as it is parsed.
//!
//! **Finals of a turn.** Deepgram may split one caller turn into several `is_final` results,
//! only the last of which carries `speech_final`. Consumers join the `Final` texts of a turn.
//! When the closing `speech_final` result has an empty transcript, the reader emits
//! `Final { text: "", confidence: 0.0, end_of_turn: true }` *only* if non-empty finals of that
//! turn are pending; an empty final with nothing pending (noise, or a `Finalize` over silence)
//! is dropped, so it never surfaces as a caller utterance. Empty interims are dropped too.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::net::TcpStream;
use tokio::sync::{Notify, mpsc};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderValue, header};
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use super::{
    ProviderHealth, SpeechError, SpeechToText, SttCommand, SttEvent, SttOptions, SttSession,
};

/// Deepgram's cloud endpoint for live recognition.
pub const DEFAULT_STT_URL: &str = "wss://api.deepgram.com/v1/listen";
const PROVIDER: &str = "deepgram";
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait for the server's remaining results after `CloseStream`.
const CLOSE_GRACE: Duration = Duration::from_secs(5);
const COMMANDS_CAPACITY: usize = 256;
const EVENTS_CAPACITY: usize = 256;

#[derive(Debug, Clone)]
pub struct DeepgramSttConfig {
    /// `wss://api.deepgram.com/v1/listen`, or a fake's `ws://127.0.0.1:PORT/v1/listen`.
    pub url: String,
    pub api_key: String,
    pub model: String,
    /// Silence (ms) after which Deepgram marks a final `speech_final`.
    pub endpointing_ms: u32,
    /// Gap (ms) after the last word before `UtteranceEnd`; 0 leaves it out of the query.
    pub utterance_end_ms: u32,
    /// Send `KeepAlive` when no audio went out for this long (Deepgram closes after 10 s).
    pub keepalive_every: Duration,
}

impl Default for DeepgramSttConfig {
    fn default() -> Self {
        Self {
            url: DEFAULT_STT_URL.to_string(),
            api_key: String::new(),
            model: "nova-3".to_string(),
            endpointing_ms: 300,
            utterance_end_ms: 1000,
            keepalive_every: Duration::from_secs(4),
        }
    }
}

pub struct DeepgramStt {
    config: DeepgramSttConfig,
}

impl DeepgramStt {
    pub fn new(config: DeepgramSttConfig) -> Self {
        Self { config }
    }

    pub fn config(&self) -> &DeepgramSttConfig {
        &self.config
    }

    /// The full `/v1/listen` URL for a call.
    pub fn listen_url(&self, options: &SttOptions) -> String {
        let config = &self.config;
        let mut url = config.url.clone();
        let language = if options.language.is_empty() {
            "en-US"
        } else {
            &options.language
        };
        let mut query = QueryBuilder::new(&mut url);
        query.push("model", &config.model);
        query.push("language", language);
        query.push("encoding", "mulaw");
        query.push("sample_rate", "8000");
        query.push("channels", "1");
        query.push("interim_results", "true");
        query.push("endpointing", &config.endpointing_ms.to_string());
        if config.utterance_end_ms > 0 {
            query.push("utterance_end_ms", &config.utterance_end_ms.to_string());
        }
        query.push("vad_events", "true");
        query.push("smart_format", "true");
        query.push("punctuate", "true");
        if !options.call_sid.is_empty() {
            query.push("tag", &options.call_sid);
        }
        for keyterm in &options.keyterms {
            if !keyterm.trim().is_empty() {
                query.push("keyterm", keyterm.trim());
            }
        }
        url
    }
}

#[async_trait]
impl SpeechToText for DeepgramStt {
    fn name(&self) -> &'static str {
        "deepgram"
    }

    async fn open(&self, options: &SttOptions) -> Result<SttSession, SpeechError> {
        let url = self.listen_url(options);
        let socket = connect_ws(&url, &self.config.api_key, PROVIDER).await?;
        let (sink, stream) = socket.split();
        let (commands_tx, commands_rx) = mpsc::channel(COMMANDS_CAPACITY);
        let (events_tx, events_rx) = mpsc::channel(EVENTS_CAPACITY);
        let closing = Arc::new(AtomicBool::new(false));
        let reader_done = Arc::new(Notify::new());
        tokio::spawn(write_loop(
            sink,
            commands_rx,
            self.config.keepalive_every,
            closing.clone(),
            reader_done.clone(),
        ));
        tokio::spawn(read_loop(stream, events_tx, closing, reader_done));
        Ok(SttSession {
            commands: commands_tx,
            events: events_rx,
        })
    }

    async fn health(&self) -> ProviderHealth {
        let local = self.config.url != DEFAULT_STT_URL;
        let ok = !self.config.api_key.is_empty() || local;
        let detail = if !self.config.api_key.is_empty() {
            format!("configured: {} at {}", self.config.model, self.config.url)
        } else if local {
            format!("no API key; using local endpoint {}", self.config.url)
        } else {
            "no Deepgram API key: set DEEPGRAM_API_KEY (or --deepgram-api-key)".to_string()
        };
        ProviderHealth {
            provider: "deepgram-stt",
            ok,
            detail,
        }
    }
}

pub(crate) type WsStream = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens a Deepgram WebSocket with `Authorization: Token <key>` (omitted when the key is empty,
/// for local fakes), with Nagle off since every frame is latency-sensitive.
pub(crate) async fn connect_ws(
    url: &str,
    api_key: &str,
    provider: &'static str,
) -> Result<WsStream, SpeechError> {
    let connect_error = |detail: String| SpeechError::Connect { provider, detail };
    // Idempotent: fails harmlessly when a provider is already installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut request = url
        .into_client_request()
        .map_err(|e| connect_error(format!("bad URL {url}: {e}")))?;
    if !api_key.is_empty() {
        let value = HeaderValue::from_str(&format!("Token {api_key}"))
            .map_err(|_| connect_error("API key is not a valid header value".to_string()))?;
        request.headers_mut().insert(header::AUTHORIZATION, value);
    }
    let connect = tokio_tungstenite::connect_async_with_config(request, None, true);
    match tokio::time::timeout(CONNECT_TIMEOUT, connect).await {
        Err(_) => Err(connect_error(format!(
            "timed out after {}s connecting to {}",
            CONNECT_TIMEOUT.as_secs(),
            redact_query(url)
        ))),
        Ok(Err(tungstenite::Error::Http(response))) => Err(connect_error(format!(
            "{} refused the WebSocket upgrade: HTTP {}",
            redact_query(url),
            response.status()
        ))),
        Ok(Err(error)) => Err(connect_error(format!("{}: {error}", redact_query(url)))),
        Ok(Ok((socket, _response))) => Ok(socket),
    }
}

/// The URL without its query, for messages.
fn redact_query(url: &str) -> &str {
    url.split('?').next().unwrap_or(url)
}

/// Appends `key=value` pairs to a URL, percent-encoding both (RFC 3986 unreserved kept).
pub(crate) struct QueryBuilder<'a> {
    url: &'a mut String,
    first: bool,
}

impl<'a> QueryBuilder<'a> {
    pub(crate) fn new(url: &'a mut String) -> Self {
        let first = !url.contains('?');
        Self { url, first }
    }

    pub(crate) fn push(&mut self, key: &str, value: &str) {
        self.url.push(if self.first { '?' } else { '&' });
        self.first = false;
        percent_encode_into(self.url, key);
        self.url.push('=');
        percent_encode_into(self.url, value);
    }
}

fn percent_encode_into(out: &mut String, s: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0x0F) as usize] as char);
        }
    }
}

type Sink = SplitSink<WsStream, Message>;
type Stream = SplitStream<WsStream>;

async fn write_loop(
    mut sink: Sink,
    mut commands: mpsc::Receiver<SttCommand>,
    keepalive_every: Duration,
    closing: Arc<AtomicBool>,
    reader_done: Arc<Notify>,
) {
    let keepalive = tokio::time::sleep(keepalive_every);
    tokio::pin!(keepalive);
    loop {
        tokio::select! {
            biased;
            command = commands.recv() => match command {
                Some(SttCommand::Audio(audio)) => {
                    if audio.is_empty() {
                        continue;
                    }
                    // `Vec<u8>` into `Bytes` takes the buffer over without copying.
                    if let Err(error) = sink.send(Message::Binary(audio.into())).await {
                        tracing::debug!(%error, "deepgram stt: sending audio failed");
                        break;
                    }
                    keepalive.as_mut().reset(tokio::time::Instant::now() + keepalive_every);
                }
                Some(SttCommand::Finalize) => {
                    if let Err(error) = sink.send(Message::text(r#"{"type":"Finalize"}"#)).await {
                        tracing::debug!(%error, "deepgram stt: sending Finalize failed");
                        break;
                    }
                }
                Some(SttCommand::Close) | None => {
                    // Asked to close, or the call dropped the sender: let Deepgram flush its
                    // last results, then finish the closing handshake.
                    closing.store(true, Ordering::SeqCst);
                    let _ = sink.send(Message::text(r#"{"type":"CloseStream"}"#)).await;
                    let _ = tokio::time::timeout(CLOSE_GRACE, reader_done.notified()).await;
                    let _ = sink.close().await;
                    return;
                }
            },
            () = &mut keepalive => {
                if let Err(error) = sink.send(Message::text(r#"{"type":"KeepAlive"}"#)).await {
                    tracing::debug!(%error, "deepgram stt: sending KeepAlive failed");
                    break;
                }
                keepalive.as_mut().reset(tokio::time::Instant::now() + keepalive_every);
            }
            () = reader_done.notified() => break,
        }
    }
    let _ = sink.close().await;
}

async fn read_loop(
    mut stream: Stream,
    events: mpsc::Sender<SttEvent>,
    closing: Arc<AtomicBool>,
    reader_done: Arc<Notify>,
) {
    let mut turn = TurnState::default();
    let mut error: Option<String> = None;
    while let Some(message) = stream.next().await {
        match message {
            Ok(Message::Text(text)) => {
                if let Some(event) = parse_server_message(text.as_str(), &mut turn) {
                    // Keep reading if the call stopped listening, so the close handshake
                    // still completes.
                    let _ = events.send(event).await;
                }
            }
            Ok(Message::Close(frame)) => {
                if let Some(frame) = frame {
                    let code = u16::from(frame.code);
                    if code != 1000 || !frame.reason.is_empty() {
                        error = Some(format!("closed by Deepgram: {code} {}", frame.reason));
                    }
                }
            }
            Ok(Message::Binary(data)) => {
                tracing::debug!(bytes = data.len(), "deepgram stt: unexpected binary frame");
            }
            Ok(_) => {}
            Err(e) => {
                error = Some(format!("connection error: {e}"));
                break;
            }
        }
    }
    let asked = closing.load(Ordering::SeqCst);
    let error = if asked {
        None
    } else {
        Some(error.unwrap_or_else(|| "connection closed by Deepgram".to_string()))
    };
    if let Some(error) = &error {
        tracing::warn!(error = %error, "deepgram stt: session ended");
    }
    let _ = events.send(SttEvent::Closed { error }).await;
    reader_done.notify_one();
}

/// Whether non-empty finals of the current turn were sent without an end of turn yet.
#[derive(Debug, Default)]
struct TurnState {
    finals_pending: bool,
}

#[derive(Deserialize)]
#[serde(tag = "type")]
enum ServerMessage {
    Results(ResultsMessage),
    SpeechStarted {},
    UtteranceEnd {},
    Metadata {},
    Error {},
    Warning {},
    #[serde(other)]
    Other,
}

#[derive(Deserialize)]
struct ResultsMessage {
    #[serde(default)]
    is_final: bool,
    #[serde(default)]
    speech_final: Option<bool>,
    #[serde(default)]
    from_finalize: Option<bool>,
    #[serde(default)]
    channel: Option<ResultsChannel>,
}

#[derive(Deserialize)]
struct ResultsChannel {
    #[serde(default)]
    alternatives: Vec<Alternative>,
}

#[derive(Deserialize)]
struct Alternative {
    #[serde(default)]
    transcript: String,
    #[serde(default)]
    confidence: f32,
}

/// Turns one server text frame into at most one event. Never fails: malformed frames are
/// logged and dropped.
fn parse_server_message(text: &str, turn: &mut TurnState) -> Option<SttEvent> {
    let message = match serde_json::from_str::<ServerMessage>(text) {
        Ok(message) => message,
        Err(error) => {
            tracing::warn!(%error, frame = %truncate(text, 200), "deepgram stt: malformed frame");
            return None;
        }
    };
    match message {
        ServerMessage::SpeechStarted {} => Some(SttEvent::SpeechStarted),
        ServerMessage::UtteranceEnd {} => {
            turn.finals_pending = false;
            Some(SttEvent::UtteranceEnd)
        }
        ServerMessage::Results(results) => {
            let (text, confidence) = results
                .channel
                .and_then(|c| c.alternatives.into_iter().next())
                .map(|a| (a.transcript, a.confidence))
                .unwrap_or_default();
            let text = text.trim().to_string();
            if !results.is_final {
                return (!text.is_empty()).then_some(SttEvent::Interim { text });
            }
            let end_of_turn = results.speech_final.unwrap_or(false);
            if !text.is_empty() {
                turn.finals_pending = !end_of_turn;
                Some(SttEvent::Final {
                    text,
                    confidence,
                    end_of_turn,
                })
            } else if end_of_turn && turn.finals_pending {
                turn.finals_pending = false;
                Some(SttEvent::Final {
                    text: String::new(),
                    confidence: 0.0,
                    end_of_turn: true,
                })
            } else {
                tracing::debug!(
                    from_finalize = results.from_finalize.unwrap_or(false),
                    "deepgram stt: empty final dropped"
                );
                None
            }
        }
        ServerMessage::Metadata {} => {
            tracing::debug!(frame = %truncate(text, 300), "deepgram stt: metadata");
            None
        }
        ServerMessage::Error {} | ServerMessage::Warning {} => {
            tracing::warn!(frame = %truncate(text, 500), "deepgram stt: provider reported a problem");
            None
        }
        ServerMessage::Other => {
            tracing::debug!(frame = %truncate(text, 200), "deepgram stt: unknown message ignored");
            None
        }
    }
}

fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;
    use frontdesk_telephony::audio::mulaw::FRAME_BYTES;
    use frontdesk_testkit::fake_deepgram::{
        FakeDeepgram, FakeDeepgramOptions, silence_audio, speech_audio,
    };

    const KEY: &str = "test-key";

    fn fake(options: FakeDeepgramOptions) -> FakeDeepgram {
        FakeDeepgram::start(FakeDeepgramOptions {
            api_key: Some(KEY.to_string()),
            ..options
        })
        .expect("fake deepgram starts")
    }

    fn client(fake: &FakeDeepgram, config: DeepgramSttConfig) -> DeepgramStt {
        DeepgramStt::new(DeepgramSttConfig {
            url: fake.stt_url(),
            api_key: KEY.to_string(),
            ..config
        })
    }

    fn call(sid: &str) -> SttOptions {
        SttOptions {
            call_sid: sid.to_string(),
            language: "en-US".to_string(),
            keyterms: vec!["Friday".to_string(), "A&B Plumbing".to_string()],
        }
    }

    /// Sends audio in 20 ms frames, as a Media Stream would (faster than real time).
    async fn send_audio(session: &SttSession, audio: &[u8]) {
        for frame in audio.chunks(FRAME_BYTES) {
            session
                .commands
                .send(SttCommand::Audio(frame.to_vec()))
                .await
                .expect("session accepts audio");
        }
    }

    /// Closes the session and returns every event up to and including `Closed`.
    async fn close_and_collect(mut session: SttSession) -> Vec<SttEvent> {
        session.commands.send(SttCommand::Close).await.unwrap();
        let mut events = Vec::new();
        tokio::time::timeout(Duration::from_secs(10), async {
            while let Some(event) = session.events.recv().await {
                let closed = matches!(event, SttEvent::Closed { .. });
                events.push(event);
                if closed {
                    break;
                }
            }
        })
        .await
        .expect("session closes");
        events
    }

    #[tokio::test]
    async fn hears_a_scripted_utterance_with_interims_final_and_utterance_end() {
        let fake = fake(FakeDeepgramOptions::default());
        let stt = client(
            &fake,
            DeepgramSttConfig {
                utterance_end_ms: 500,
                ..Default::default()
            },
        );
        let session = stt.open(&call("CA100")).await.unwrap();
        let text = "I need a repair on Friday";
        fake.say("CA100", text);
        send_audio(&session, &speech_audio(1000)).await;
        send_audio(&session, &silence_audio(600)).await;
        let events = close_and_collect(session).await;

        assert_eq!(events.first(), Some(&SttEvent::SpeechStarted), "{events:?}");
        let interims: Vec<&str> = events
            .iter()
            .filter_map(|e| match e {
                SttEvent::Interim { text } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        assert!(!interims.is_empty(), "{events:?}");
        for interim in &interims {
            assert!(text.starts_with(interim), "{interim:?} is not a prefix");
        }
        let final_at = events
            .iter()
            .position(|e| {
                matches!(e, SttEvent::Final { text: t, end_of_turn: true, confidence }
                    if t == text && *confidence > 0.9)
            })
            .unwrap_or_else(|| panic!("no final: {events:?}"));
        let utterance_end_at = events
            .iter()
            .position(|e| *e == SttEvent::UtteranceEnd)
            .unwrap_or_else(|| panic!("no UtteranceEnd: {events:?}"));
        assert!(final_at < utterance_end_at);
        assert!(
            events[1..final_at]
                .iter()
                .all(|e| matches!(e, SttEvent::Interim { .. }))
        );
        assert_eq!(events.last(), Some(&SttEvent::Closed { error: None }));

        let connection = fake.last_connection("/v1/listen").unwrap();
        assert_eq!(connection.authorization.as_deref(), Some("Token test-key"));
        let query = connection.query_map();
        for (key, value) in [
            ("tag", "CA100"),
            ("model", "nova-3"),
            ("language", "en-US"),
            ("encoding", "mulaw"),
            ("sample_rate", "8000"),
            ("channels", "1"),
            ("interim_results", "true"),
            ("endpointing", "300"),
            ("utterance_end_ms", "500"),
            ("vad_events", "true"),
            ("smart_format", "true"),
            ("punctuate", "true"),
        ] {
            assert_eq!(query.get(key).map(String::as_str), Some(value), "{key}");
        }
        assert_eq!(
            connection.query_all("keyterm"),
            ["Friday", "A&B Plumbing"],
            "keyterms are percent-encoded and arrive intact"
        );
        let stats = fake.stats();
        assert_eq!(stats.stt_audio_bytes, 1600 * 8);
        assert_eq!(stats.stt_finals_sent, 1);
    }

    #[tokio::test]
    async fn a_wrong_api_key_fails_to_connect() {
        let fake = fake(FakeDeepgramOptions::default());
        let stt = DeepgramStt::new(DeepgramSttConfig {
            url: fake.stt_url(),
            api_key: "wrong".to_string(),
            ..Default::default()
        });
        match stt.open(&call("CA101")).await {
            Err(SpeechError::Connect { provider, detail }) => {
                assert_eq!(provider, "deepgram");
                assert!(detail.contains("401"), "{detail}");
            }
            Err(other) => panic!("wrong error: {other}"),
            Ok(_) => panic!("connected with a wrong key"),
        }
        assert_eq!(fake.stats().auth_rejected, 1);
        assert_eq!(fake.stats().stt_connections_total, 0);
    }

    #[tokio::test]
    async fn silence_gives_no_events() {
        let fake = fake(FakeDeepgramOptions::default());
        let stt = client(&fake, DeepgramSttConfig::default());
        let session = stt.open(&call("CA102")).await.unwrap();
        fake.say("CA102", "never spoken");
        send_audio(&session, &silence_audio(2000)).await;
        let events = close_and_collect(session).await;
        assert_eq!(events, [SttEvent::Closed { error: None }]);
        assert_eq!(fake.stats().stt_finals_sent, 0);
    }

    /// Noise with nothing scripted: the fake sends `SpeechStarted` and an empty final; the
    /// client forwards `SpeechStarted` (a barge-in cue) but drops the empty final, so no caller
    /// utterance surfaces.
    #[tokio::test]
    async fn unscripted_noise_is_not_a_caller_utterance() {
        let fake = fake(FakeDeepgramOptions::default());
        let stt = client(&fake, DeepgramSttConfig::default());
        let session = stt.open(&call("CA103")).await.unwrap();
        send_audio(&session, &speech_audio(500)).await;
        send_audio(&session, &silence_audio(600)).await;
        let events = close_and_collect(session).await;
        assert_eq!(
            events,
            [SttEvent::SpeechStarted, SttEvent::Closed { error: None }]
        );
        assert_eq!(fake.stats().stt_finals_sent, 1, "the fake did send a final");
    }

    #[tokio::test]
    async fn finalize_flushes_pending_speech_without_ending_the_turn() {
        let fake = fake(FakeDeepgramOptions::default());
        let stt = client(&fake, DeepgramSttConfig::default());
        let mut session = stt.open(&call("CA104")).await.unwrap();
        fake.say("CA104", "Two people.");
        send_audio(&session, &speech_audio(400)).await;
        session.commands.send(SttCommand::Finalize).await.unwrap();
        let event = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                match session.events.recv().await {
                    Some(SttEvent::Final {
                        text, end_of_turn, ..
                    }) => break (text, end_of_turn),
                    Some(_) => {}
                    None => panic!("session ended"),
                }
            }
        })
        .await
        .unwrap();
        assert_eq!(event, ("Two people.".to_string(), false));
        assert_eq!(fake.stats().stt_finalizes, 1);
    }

    #[tokio::test]
    async fn dropping_the_sender_closes_the_socket_cleanly() {
        let fake = fake(FakeDeepgramOptions::default());
        let stt = client(&fake, DeepgramSttConfig::default());
        let SttSession {
            commands,
            mut events,
        } = stt.open(&call("CA105")).await.unwrap();
        drop(commands);
        let event = tokio::time::timeout(Duration::from_secs(5), events.recv())
            .await
            .unwrap();
        assert_eq!(event, Some(SttEvent::Closed { error: None }));
        // The fake notices the close too.
        tokio::time::timeout(Duration::from_secs(5), async {
            while fake.stats().stt_connections_open > 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .expect("the fake sees the connection closed");
    }

    #[tokio::test]
    async fn keepalives_hold_an_idle_connection_open() {
        let fake = fake(FakeDeepgramOptions {
            idle_timeout: Duration::from_millis(200),
            ..Default::default()
        });

        // Without keepalives the fake closes the idle socket (NET-0001).
        let quiet = client(
            &fake,
            DeepgramSttConfig {
                keepalive_every: Duration::from_secs(60),
                ..Default::default()
            },
        );
        let mut session = quiet.open(&call("CA106")).await.unwrap();
        let event = tokio::time::timeout(Duration::from_secs(5), session.events.recv())
            .await
            .expect("the fake closes an idle connection");
        match event {
            Some(SttEvent::Closed { error: Some(error) }) => {
                assert!(error.contains("NET-0001"), "{error}")
            }
            other => panic!("expected an error close, got {other:?}"),
        }

        // With keepalives well inside the timeout it stays open for several timeouts.
        let chatty = client(
            &fake,
            DeepgramSttConfig {
                keepalive_every: Duration::from_millis(40),
                ..Default::default()
            },
        );
        let mut session = chatty.open(&call("CA107")).await.unwrap();
        let idle = tokio::time::timeout(Duration::from_millis(700), session.events.recv()).await;
        assert!(idle.is_err(), "no event while idle: {idle:?}");
        assert!(fake.stats().stt_keepalives >= 3);
        assert_eq!(fake.stats().stt_idle_closes, 1);
        let events = close_and_collect(session).await;
        assert_eq!(events, [SttEvent::Closed { error: None }]);
    }

    #[tokio::test]
    async fn health_does_not_dial_out() {
        let unconfigured = DeepgramStt::new(DeepgramSttConfig::default());
        assert!(!unconfigured.health().await.ok);
        let keyed = DeepgramStt::new(DeepgramSttConfig {
            api_key: "k".to_string(),
            ..Default::default()
        });
        assert!(keyed.health().await.ok);
        let local = DeepgramStt::new(DeepgramSttConfig {
            url: "ws://127.0.0.1:9/v1/listen".to_string(),
            ..Default::default()
        });
        assert!(local.health().await.ok);
    }

    #[test]
    fn query_values_are_percent_encoded() {
        let stt = DeepgramStt::new(DeepgramSttConfig::default());
        let url = stt.listen_url(&SttOptions {
            call_sid: "CA1".to_string(),
            language: String::new(),
            keyterms: vec!["Bob's A&B=1 café".to_string()],
        });
        assert!(url.starts_with("wss://api.deepgram.com/v1/listen?model=nova-3&language=en-US&"));
        assert!(
            url.ends_with("&tag=CA1&keyterm=Bob%27s%20A%26B%3D1%20caf%C3%A9"),
            "{url}"
        );
    }

    #[test]
    fn server_frames_become_events() {
        let mut turn = TurnState::default();
        let mut parse = |s: &str| parse_server_message(s, &mut turn);
        let results = |text: &str, is_final: bool, speech_final: Option<bool>| {
            let mut v = serde_json::json!({
                "type": "Results", "is_final": is_final, "start": 0.0, "duration": 1.0,
                "channel": {"alternatives": [{"transcript": text, "confidence": 0.9, "words": []}]}
            });
            if let Some(sf) = speech_final {
                v["speech_final"] = sf.into();
            }
            v.to_string()
        };
        assert_eq!(
            parse(r#"{"type":"SpeechStarted","channel":[0,1],"timestamp":1.2}"#),
            Some(SttEvent::SpeechStarted)
        );
        assert_eq!(parse(&results("", false, None)), None);
        assert_eq!(
            parse(&results("book a", false, None)),
            Some(SttEvent::Interim {
                text: "book a".to_string()
            })
        );
        // speech_final missing means false.
        assert_eq!(
            parse(&results("Book a table.", true, None)),
            Some(SttEvent::Final {
                text: "Book a table.".to_string(),
                confidence: 0.9,
                end_of_turn: false
            })
        );
        // An empty speech_final closes the pending turn...
        assert_eq!(
            parse(&results("", true, Some(true))),
            Some(SttEvent::Final {
                text: String::new(),
                confidence: 0.0,
                end_of_turn: true
            })
        );
        // ...but with nothing pending it is noise.
        assert_eq!(parse(&results("", true, Some(true))), None);
        assert_eq!(
            parse(r#"{"type":"UtteranceEnd","channel":[0,1],"last_word_end":4.52}"#),
            Some(SttEvent::UtteranceEnd)
        );
        for junk in [
            "",
            "not json",
            "[1,2]",
            r#"{"no":"type"}"#,
            r#"{"type":"Results","is_final":"yes"}"#,
            r#"{"type":"Results","channel":[0,1]}"#,
            r#"{"type":"Metadata","request_id":"x"}"#,
            r#"{"type":"Error","variant":"x","description":"y","message":"z"}"#,
            r#"{"type":"SomethingNew","x":1}"#,
        ] {
            assert_eq!(parse(junk), None, "{junk}");
        }
    }
}
