//! A faithful fake of Deepgram's live speech-to-text (`/v1/listen`) and streaming
//! text-to-speech (`/v1/speak`) WebSockets, following docs/protocols.md §4 and §5 message for
//! message, on loopback.
//!
//! **Hearing.** The fake cannot recognise words, so it hears by energy: incoming μ-law audio is
//! cut into 20 ms frames and a frame whose [`rms`] exceeds [`SPEECH_RMS`] is voice. The words
//! come from a script: [`FakeDeepgram::say`] queues the next utterance for the call whose STT
//! connection carries `tag=<tag>`; the utterance is bound to the next speech onset on that
//! connection. Speech heard with nothing queued is transcribed as an empty string (noise).
//! All timing of recognition (interims, endpointing, `UtteranceEnd`) is in *audio time*, counted
//! from the bytes received, so a test may send audio faster than real time.
//!
//! **Speaking.** `Flush` turns the buffered text into `chars × tts_ms_per_char` ms of a
//! 220 Hz tone with a syllable-like envelope (loud enough for an energy detector), sent in
//! binary frames of `tts_chunk_bytes`, then `Flushed`. Audio is served from one shared
//! precomputed buffer, so generating it allocates nothing.
//!
//! Choices where the real service is unspecified (see the module tests):
//! - `sequence_id` of `Flushed`/`Cleared` is one per-connection counter over both messages.
//! - A flush cancelled by `Clear` gets no `Flushed`; `Close` flushes without a `Flushed`.
//! - `Finalize` always answers with one `Results` (`from_finalize: true`, `speech_final: false`),
//!   with an empty transcript when nothing was pending. `CloseStream` flushes pending speech as
//!   `speech_final: true` (the stream, hence the turn, is over), then `Metadata`, then closes.
//! - `endpointing=false` disables `speech_final`; pending speech is then finalized
//!   (`speech_final: false`) after 500 ms of silence.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use serde::Deserialize;
use serde_json::json;
use tokio::sync::{broadcast, watch};

use frontdesk_telephony::audio::mulaw::{self, FRAME_BYTES, SAMPLE_RATE, SPEECH_RMS, rms};

/// How the fake behaves.
#[derive(Debug, Clone)]
pub struct FakeDeepgramOptions {
    /// When set, `Authorization: Token <key>` (or `Bearer <key>`) must match, else the upgrade
    /// is refused with 401.
    pub api_key: Option<String>,
    /// Audio time between interim results while speech continues.
    pub interim_every_ms: u32,
    /// Speaking rate: synthesized audio lasts `chars × tts_ms_per_char` ms, and a scripted
    /// utterance is expected to last as long when deciding how many words an interim reveals.
    pub tts_ms_per_char: u32,
    /// Bytes per binary TTS frame (3200 = 400 ms of μ-law).
    pub tts_chunk_bytes: usize,
    /// `None`: synthesized audio is sent at once. `Some(f)`: paced at `f`× real time.
    pub tts_realtime_factor: Option<f32>,
    /// Address to bind; `None` = `127.0.0.1:0`.
    pub bind: Option<SocketAddr>,
    /// Close an STT connection that received neither audio nor `KeepAlive` for this long
    /// (Deepgram: 10 s, close code 1011, reason `NET-0001`).
    pub idle_timeout: Duration,
}

impl Default for FakeDeepgramOptions {
    fn default() -> Self {
        Self {
            api_key: None,
            interim_every_ms: 200,
            tts_ms_per_char: 60,
            tts_chunk_bytes: 3200,
            tts_realtime_factor: None,
            bind: None,
            idle_timeout: Duration::from_secs(10),
        }
    }
}

/// Counters, for tests and the load generator.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FakeDeepgramStats {
    pub stt_connections_open: u64,
    pub stt_connections_total: u64,
    pub stt_audio_bytes: u64,
    pub stt_speech_started_sent: u64,
    pub stt_interims_sent: u64,
    pub stt_finals_sent: u64,
    pub stt_utterance_ends_sent: u64,
    pub stt_keepalives: u64,
    pub stt_finalizes: u64,
    pub stt_idle_closes: u64,
    pub tts_connections_open: u64,
    pub tts_connections_total: u64,
    pub tts_speaks: u64,
    pub tts_flushes: u64,
    pub tts_clears: u64,
    pub tts_audio_bytes_sent: u64,
    /// Upgrades refused for a missing or wrong `Authorization` header.
    pub auth_rejected: u64,
}

/// What the fake sent on an STT connection, and when (taken right after the frame was written).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FakeSttKind {
    SpeechStarted,
    Interim,
    Final,
    UtteranceEnd,
}

#[derive(Debug, Clone)]
pub struct FakeSttEvent {
    /// The connection's `tag` query parameter (empty if none).
    pub tag: String,
    pub kind: FakeSttKind,
    /// Transcript for `Interim`/`Final`, empty otherwise.
    pub text: String,
    /// Audio time of the event, in seconds from the start of the stream.
    pub audio_time: f64,
    pub at: Instant,
}

/// One accepted connection, as the fake saw it.
#[derive(Debug, Clone)]
pub struct FakeConnection {
    /// `/v1/listen` or `/v1/speak`.
    pub path: &'static str,
    /// Decoded query parameters in order (repeated keys such as `keyterm` kept).
    pub query: Vec<(String, String)>,
    /// The `Authorization` header as received.
    pub authorization: Option<String>,
}

impl FakeConnection {
    /// Query as a map (the last value wins for repeated keys).
    pub fn query_map(&self) -> HashMap<String, String> {
        self.query.iter().cloned().collect()
    }

    /// All values of a (possibly repeated) query parameter.
    pub fn query_all(&self, key: &str) -> Vec<&str> {
        self.query
            .iter()
            .filter(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// Connections remembered for inspection; older ones are forgotten past this.
const MAX_REMEMBERED_CONNECTIONS: usize = 10_000;

#[derive(Default)]
struct Counters {
    stt_open: AtomicU64,
    stt_total: AtomicU64,
    stt_audio_bytes: AtomicU64,
    stt_speech_started: AtomicU64,
    stt_interims: AtomicU64,
    stt_finals: AtomicU64,
    stt_utterance_ends: AtomicU64,
    stt_keepalives: AtomicU64,
    stt_finalizes: AtomicU64,
    stt_idle_closes: AtomicU64,
    tts_open: AtomicU64,
    tts_total: AtomicU64,
    tts_speaks: AtomicU64,
    tts_flushes: AtomicU64,
    tts_clears: AtomicU64,
    tts_audio_bytes: AtomicU64,
    auth_rejected: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

struct Shared {
    options: FakeDeepgramOptions,
    scripts: Mutex<HashMap<String, VecDeque<String>>>,
    connections: Mutex<VecDeque<FakeConnection>>,
    counters: Counters,
    events: broadcast::Sender<FakeSttEvent>,
    /// Per-call subscribers (by `tag`): a phone among hundreds hears only its own call.
    listeners: Mutex<HashMap<String, tokio::sync::mpsc::UnboundedSender<FakeSttEvent>>>,
    request_counter: AtomicU64,
    /// The words of every utterance spoken.
    spoken: spoken::Spoken,
}

impl Shared {
    fn remember(&self, connection: FakeConnection) {
        let mut list = self.connections.lock().unwrap_or_else(|e| e.into_inner());
        if list.len() >= MAX_REMEMBERED_CONNECTIONS {
            list.pop_front();
        }
        list.push_back(connection);
    }

    fn next_utterance(&self, tag: &str) -> Option<String> {
        let mut scripts = self.scripts.lock().unwrap_or_else(|e| e.into_inner());
        let queue = scripts.get_mut(tag)?;
        let text = queue.pop_front();
        if queue.is_empty() {
            scripts.remove(tag);
        }
        text
    }

    /// A UUID-shaped request id (unique within the process, not random).
    fn request_id(&self) -> String {
        let n = self.request_counter.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let a = splitmix64(n ^ nanos);
        let b = splitmix64(a ^ n.rotate_left(17));
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

#[derive(Clone)]
struct AppState {
    shared: Arc<Shared>,
    shutdown: watch::Receiver<bool>,
}

/// A running fake Deepgram. Stops (and closes its connections) when dropped.
pub struct FakeDeepgram {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
}

impl FakeDeepgram {
    /// Binds and starts serving. Must be called inside a Tokio runtime.
    pub fn start(options: FakeDeepgramOptions) -> std::io::Result<FakeDeepgram> {
        let bind = options
            .bind
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        let listener = std::net::TcpListener::bind(bind)?;
        listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(listener)?;
        let addr = listener.local_addr()?;
        let (events, _) = broadcast::channel(1024);
        let shared = Arc::new(Shared {
            options,
            scripts: Mutex::new(HashMap::new()),
            connections: Mutex::new(VecDeque::new()),
            counters: Counters::default(),
            events,
            listeners: Mutex::new(HashMap::new()),
            request_counter: AtomicU64::new(0),
            spoken: spoken::Spoken::default(),
        });
        let (shutdown, shutdown_rx) = watch::channel(false);
        let state = AppState {
            shared: shared.clone(),
            shutdown: shutdown_rx.clone(),
        };
        let app = Router::new()
            .route("/v1/listen", get(listen_handler))
            .route("/v1/speak", get(speak_handler))
            .with_state(state);
        let listener = listener.tap_io(|tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let mut stop = shutdown_rx;
        tokio::spawn(async move {
            let result = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stop.wait_for(|stopped| *stopped).await;
                })
                .await;
            if let Err(error) = result {
                tracing::warn!(%error, "fake deepgram server stopped");
            }
        });
        Ok(FakeDeepgram {
            addr,
            shared,
            shutdown,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn stt_url(&self) -> String {
        format!("ws://{}/v1/listen", self.addr)
    }

    pub fn tts_url(&self) -> String {
        format!("ws://{}/v1/speak", self.addr)
    }

    /// Drops the utterances queued for `tag` and not yet heard (the stream they were meant
    /// for was lost).
    pub fn forget(&self, tag: &str) {
        self.shared
            .scripts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(tag);
    }

    /// Queues the next utterance heard on STT connections tagged `tag`. Call it just before
    /// sending that speech's audio; it is bound to the next speech onset.
    pub fn say(&self, tag: &str, text: &str) {
        let mut scripts = self
            .shared
            .scripts
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        scripts
            .entry(tag.to_string())
            .or_default()
            .push_back(text.to_string());
    }

    pub fn stats(&self) -> FakeDeepgramStats {
        let c = &self.shared.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        FakeDeepgramStats {
            stt_connections_open: get(&c.stt_open),
            stt_connections_total: get(&c.stt_total),
            stt_audio_bytes: get(&c.stt_audio_bytes),
            stt_speech_started_sent: get(&c.stt_speech_started),
            stt_interims_sent: get(&c.stt_interims),
            stt_finals_sent: get(&c.stt_finals),
            stt_utterance_ends_sent: get(&c.stt_utterance_ends),
            stt_keepalives: get(&c.stt_keepalives),
            stt_finalizes: get(&c.stt_finalizes),
            stt_idle_closes: get(&c.stt_idle_closes),
            tts_connections_open: get(&c.tts_open),
            tts_connections_total: get(&c.tts_total),
            tts_speaks: get(&c.tts_speaks),
            tts_flushes: get(&c.tts_flushes),
            tts_clears: get(&c.tts_clears),
            tts_audio_bytes_sent: get(&c.tts_audio_bytes),
            auth_rejected: get(&c.auth_rejected),
        }
    }

    /// Accepted connections, oldest first (the last 10 000).
    pub fn connections(&self) -> Vec<FakeConnection> {
        let list = self
            .shared
            .connections
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        list.iter().cloned().collect()
    }

    /// Query parameters of the most recent STT connection.
    pub fn last_stt_query(&self) -> Option<HashMap<String, String>> {
        self.last_connection("/v1/listen").map(|c| c.query_map())
    }

    /// Query parameters of the most recent TTS connection.
    pub fn last_tts_query(&self) -> Option<HashMap<String, String>> {
        self.last_connection("/v1/speak").map(|c| c.query_map())
    }

    /// The words of the utterance a [`MarkScanner`] found in the audio as number `id`.
    pub fn spoken_text(&self, id: u32) -> Option<String> {
        self.shared.spoken.text(id)
    }

    /// The most recent accepted connection on `path` (`/v1/listen` or `/v1/speak`).
    pub fn last_connection(&self, path: &str) -> Option<FakeConnection> {
        let list = self
            .shared
            .connections
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        list.iter().rev().find(|c| c.path == path).cloned()
    }

    /// Every STT message as it is written to its socket. Costs nothing while nobody subscribes.
    pub fn on_event(&self) -> broadcast::Receiver<FakeSttEvent> {
        self.shared.events.subscribe()
    }

    /// STT events of one call (connections carrying `tag=<tag>`), from now on. Dropping the
    /// receiver unsubscribes.
    pub fn events_for(&self, tag: &str) -> tokio::sync::mpsc::UnboundedReceiver<FakeSttEvent> {
        let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
        self.shared
            .listeners
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(tag.to_string(), sender);
        receiver
    }

    /// Stops serving and closes open connections (same as dropping).
    pub fn shutdown(self) {}
}

impl Drop for FakeDeepgram {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

// ---------------------------------------------------------------------------------------------
// Handshake

fn parse_query(raw: Option<&str>) -> Vec<(String, String)> {
    let Some(raw) = raw else { return Vec::new() };
    raw.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(k), percent_decode(v))
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = |b: u8| (b as char).to_digit(16);
                match (
                    bytes.get(i + 1).and_then(|&b| hex(b)),
                    bytes.get(i + 2).and_then(|&b| hex(b)),
                ) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn authorized(shared: &Shared, headers: &HeaderMap) -> (bool, Option<String>) {
    let authorization = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let ok = match &shared.options.api_key {
        None => true,
        Some(key) => authorization.as_deref().is_some_and(|value| {
            let value = value.trim();
            value
                .strip_prefix("Token ")
                .or_else(|| value.strip_prefix("Bearer "))
                .is_some_and(|given| given.trim() == key)
        }),
    };
    if !ok {
        bump(&shared.counters.auth_rejected);
    }
    (ok, authorization)
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"err_code":"INVALID_AUTH","err_msg":"Invalid credentials."}"#,
    )
        .into_response()
}

async fn listen_handler(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    upgrade: WebSocketUpgrade,
) -> Response {
    let (ok, authorization) = authorized(&state.shared, &headers);
    if !ok {
        return unauthorized();
    }
    let query = parse_query(raw.as_deref());
    let params = SttParams::from_query(&query);
    state.shared.remember(FakeConnection {
        path: "/v1/listen",
        query,
        authorization,
    });
    upgrade.on_upgrade(move |socket| async move {
        let counters = &state.shared.counters;
        bump(&counters.stt_total);
        bump(&counters.stt_open);
        let shared = state.shared.clone();
        run_stt(socket, shared, params, state.shutdown).await;
        state
            .shared
            .counters
            .stt_open
            .fetch_sub(1, Ordering::Relaxed);
    })
}

async fn speak_handler(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
    upgrade: WebSocketUpgrade,
) -> Response {
    let (ok, authorization) = authorized(&state.shared, &headers);
    if !ok {
        return unauthorized();
    }
    let query = parse_query(raw.as_deref());
    let find = |key: &str| query.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
    let model = find("model").unwrap_or_else(|| "aura-asteria-en".to_string());
    let encoding = find("encoding").unwrap_or_else(|| "linear16".to_string());
    let sample_rate = find("sample_rate").unwrap_or_else(|| "24000".to_string());
    state.shared.remember(FakeConnection {
        path: "/v1/speak",
        query,
        authorization,
    });
    upgrade.on_upgrade(move |socket| async move {
        let counters = &state.shared.counters;
        bump(&counters.tts_total);
        bump(&counters.tts_open);
        let shared = state.shared.clone();
        run_tts(socket, shared, model, encoding, sample_rate, state.shutdown).await;
        state
            .shared
            .counters
            .tts_open
            .fetch_sub(1, Ordering::Relaxed);
    })
}

fn text_message(value: serde_json::Value) -> Message {
    Message::Text(Utf8Bytes::from(value.to_string()))
}

fn close_message(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: Utf8Bytes::from_static(reason),
    }))
}

/// Incoming control messages (both endpoints).
#[derive(Deserialize)]
struct ControlMessage<'a> {
    #[serde(rename = "type", borrow)]
    kind: Cow<'a, str>,
    #[serde(default, borrow)]
    text: Option<Cow<'a, str>>,
}

mod spoken;
mod stt;
mod tts;

pub use spoken::MarkScanner;

use stt::{SttParams, run_stt};
use tts::run_tts;
pub use tts::{silence_audio, speech_audio};

#[cfg(test)]
mod tests;
