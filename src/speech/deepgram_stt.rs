//! Deepgram live speech-to-text over its WebSocket (`PROTOCOLS.md` §4).
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
            "no Deepgram API key configured".to_string()
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
