//! A faithful fake of Deepgram's live speech-to-text (`/v1/listen`) and streaming
//! text-to-speech (`/v1/speak`) WebSockets, following `PROTOCOLS.md` §4 and §5 message for
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

use crate::audio::mulaw::{self, FRAME_BYTES, SAMPLE_RATE, SPEECH_RMS, rms};

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

// ---------------------------------------------------------------------------------------------
// Speech-to-text

struct SttParams {
    tag: String,
    interim_results: bool,
    vad_events: bool,
    /// `None`: `endpointing=false`.
    endpointing: Option<f64>,
    utterance_end: Option<f64>,
}

impl SttParams {
    fn from_query(query: &[(String, String)]) -> Self {
        let find = |key: &str| {
            query
                .iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.as_str())
        };
        let flag = |key: &str| find(key).is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let endpointing = match find("endpointing") {
            Some(v) if v.eq_ignore_ascii_case("false") => None,
            Some(v) => Some(v.parse::<f64>().unwrap_or(10.0) / 1000.0),
            None => Some(0.010),
        };
        Self {
            tag: find("tag").unwrap_or_default().to_string(),
            interim_results: flag("interim_results"),
            vad_events: flag("vad_events"),
            endpointing,
            utterance_end: find("utterance_end_ms")
                .and_then(|v| v.parse::<f64>().ok())
                .map(|ms| ms / 1000.0),
        }
    }
}

/// Silence after which pending speech is finalized when `endpointing=false`.
const NO_ENDPOINTING_FINAL_SECS: f64 = 0.5;
const FRAME_SECS: f64 = FRAME_BYTES as f64 / SAMPLE_RATE as f64;

struct Utterance {
    text: String,
    /// (lowercase bare word, word as written)
    words: Vec<(String, String)>,
}

impl Utterance {
    fn new(text: String) -> Self {
        let words = text
            .split_whitespace()
            .map(|w| {
                let bare: String = w
                    .chars()
                    .filter(|c| c.is_alphanumeric() || *c == '\'' || *c == '-')
                    .flat_map(char::to_lowercase)
                    .collect();
                (bare, w.to_string())
            })
            .collect();
        Self { text, words }
    }
}

/// Recognition state of one connection, all in audio time (seconds).
struct SttState {
    params: SttParams,
    interim_every: f64,
    ms_per_char: f64,
    /// Audio time of the next frame to process.
    t: f64,
    /// Bytes left over from a binary message that did not end on a frame boundary.
    carry: Vec<u8>,
    /// Speech heard and not yet finalized.
    pending: bool,
    segment_start: f64,
    last_speech_end: f64,
    next_interim_at: f64,
    /// Where the next `Results` starts (end of the last final).
    cursor: f64,
    utterance: Option<Utterance>,
    /// `last_word_end` and the audio time at which to send `UtteranceEnd`.
    utterance_end_due: Option<(f64, f64)>,
}

/// One message to send, plus what to broadcast about it.
struct Outgoing {
    message: serde_json::Value,
    kind: Option<FakeSttKind>,
    text: String,
    audio_time: f64,
}

impl SttState {
    fn new(params: SttParams, options: &FakeDeepgramOptions) -> Self {
        Self {
            params,
            interim_every: f64::from(options.interim_every_ms.max(1)) / 1000.0,
            ms_per_char: f64::from(options.tts_ms_per_char.max(1)),
            t: 0.0,
            carry: Vec::new(),
            pending: false,
            segment_start: 0.0,
            last_speech_end: 0.0,
            next_interim_at: 0.0,
            cursor: 0.0,
            utterance: None,
            utterance_end_due: None,
        }
    }

    /// Feeds received audio; calls `out` for each message due.
    fn feed(&mut self, shared: &Shared, mut data: &[u8], out: &mut Vec<Outgoing>) {
        if !self.carry.is_empty() {
            let need = FRAME_BYTES - self.carry.len();
            let take = need.min(data.len());
            self.carry.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.carry.len() < FRAME_BYTES {
                return;
            }
            let frame = std::mem::take(&mut self.carry);
            self.frame(shared, &frame, out);
            self.carry = frame;
            self.carry.clear();
        }
        let mut frames = data.chunks_exact(FRAME_BYTES);
        for frame in &mut frames {
            self.frame(shared, frame, out);
        }
        self.carry.extend_from_slice(frames.remainder());
    }

    fn frame(&mut self, shared: &Shared, frame: &[u8], out: &mut Vec<Outgoing>) {
        let start = self.t;
        let end = start + FRAME_SECS;
        self.t = end;
        if rms(frame) > SPEECH_RMS {
            if !self.pending {
                self.pending = true;
                self.segment_start = start;
                self.next_interim_at = start + self.interim_every;
                self.utterance_end_due = None;
                self.utterance = shared.next_utterance(&self.params.tag).map(Utterance::new);
                if self.params.vad_events {
                    out.push(Outgoing {
                        message: json!({"type": "SpeechStarted", "channel": [0, 1], "timestamp": round3(start)}),
                        kind: Some(FakeSttKind::SpeechStarted),
                        text: String::new(),
                        audio_time: start,
                    });
                }
            }
            self.last_speech_end = end;
            if self.params.interim_results && end + 1e-9 >= self.next_interim_at {
                self.next_interim_at += self.interim_every;
                out.push(self.results(false, false, false));
            }
        } else {
            if self.pending {
                let silence = end - self.last_speech_end;
                match self.params.endpointing {
                    Some(endpointing) if silence + 1e-9 >= endpointing => {
                        out.push(self.finalize(true, false));
                    }
                    None if silence + 1e-9 >= NO_ENDPOINTING_FINAL_SECS => {
                        out.push(self.finalize(false, false));
                    }
                    _ => {}
                }
            }
            if let Some((last_word_end, due)) = self.utterance_end_due
                && end + 1e-9 >= due
            {
                self.utterance_end_due = None;
                out.push(Outgoing {
                    message: json!({"type": "UtteranceEnd", "channel": [0, 1], "last_word_end": round3(last_word_end)}),
                    kind: Some(FakeSttKind::UtteranceEnd),
                    text: String::new(),
                    audio_time: end,
                });
            }
        }
    }

    /// Finalizes pending speech (or answers with an empty final if none).
    fn finalize(&mut self, speech_final: bool, from_finalize: bool) -> Outgoing {
        let had_speech = self.pending;
        let outgoing = self.results(true, speech_final, from_finalize);
        let has_words = had_speech && self.utterance.as_ref().is_some_and(|u| !u.words.is_empty());
        self.pending = false;
        self.utterance = None;
        self.cursor = self.t;
        if has_words
            && self.params.interim_results
            && let Some(gap) = self.params.utterance_end
        {
            let last_word_end = self.last_speech_end;
            self.utterance_end_due = Some((last_word_end, (last_word_end + gap).max(self.t)));
        }
        outgoing
    }

    /// A `Results` message covering `[cursor, t]`.
    fn results(&self, is_final: bool, speech_final: bool, from_finalize: bool) -> Outgoing {
        let (transcript, words) = match (&self.utterance, self.pending) {
            (Some(utterance), true) => {
                let total = utterance.words.len();
                let count = if is_final {
                    total
                } else {
                    let expected = (utterance.text.chars().count() as f64 * self.ms_per_char
                        / 1000.0)
                        .max(FRAME_SECS);
                    let elapsed = self.last_speech_end - self.segment_start;
                    ((total as f64 * elapsed / expected).ceil() as usize)
                        .clamp(1, total.max(1))
                        .min(total)
                };
                let shown = &utterance.words[..count];
                let transcript = if count == total {
                    utterance.text.clone()
                } else {
                    shown
                        .iter()
                        .map(|(_, p)| p.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                };
                // Spread the shown words over the speech heard, weighted by length.
                let span_start = self.segment_start;
                let span = (self.last_speech_end - span_start).max(FRAME_SECS);
                let weight: usize = shown.iter().map(|(_, p)| p.chars().count() + 1).sum();
                let mut at = span_start;
                let words: Vec<serde_json::Value> = shown
                    .iter()
                    .map(|(bare, punctuated)| {
                        let share = (punctuated.chars().count() + 1) as f64 / weight.max(1) as f64;
                        let word_start = at;
                        at += span * share;
                        json!({
                            "word": bare,
                            "start": round3(word_start),
                            "end": round3(at),
                            "confidence": 0.98,
                            "punctuated_word": punctuated,
                        })
                    })
                    .collect();
                (transcript, words)
            }
            _ => (String::new(), Vec::new()),
        };
        let confidence = if transcript.is_empty() { 0.0 } else { 0.98 };
        let kind = if is_final {
            FakeSttKind::Final
        } else {
            FakeSttKind::Interim
        };
        let message = json!({
            "type": "Results",
            "channel_index": [0, 1],
            "duration": round3(self.t - self.cursor),
            "start": round3(self.cursor),
            "is_final": is_final,
            "speech_final": speech_final,
            "from_finalize": from_finalize,
            "channel": {"alternatives": [{
                "transcript": transcript,
                "confidence": confidence,
                "words": words,
            }]},
            "metadata": {
                "request_id": "fake",
                "model_info": {"name": "fake-nova", "version": "fake", "arch": "fake"},
                "model_uuid": "00000000-0000-0000-0000-000000000000",
            },
        });
        Outgoing {
            message,
            kind: Some(kind),
            text: transcript,
            audio_time: self.t,
        }
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

async fn run_stt(
    mut socket: WebSocket,
    shared: Arc<Shared>,
    params: SttParams,
    mut shutdown: watch::Receiver<bool>,
) {
    let request_id = shared.request_id();
    let mut state = SttState::new(params, &shared.options);
    let mut out: Vec<Outgoing> = Vec::new();
    let idle_timeout = shared.options.idle_timeout;
    let mut last_activity = tokio::time::Instant::now();
    let idle = tokio::time::sleep_until(last_activity + idle_timeout);
    tokio::pin!(idle);
    let counters = &shared.counters;
    loop {
        tokio::select! {
            biased;
            _ = stopped(&mut shutdown) => {
                let _ = socket.send(close_message(1001, "shutting down")).await;
                return;
            }
            message = socket.recv() => {
                let Some(Ok(message)) = message else { return };
                match message {
                    Message::Binary(data) => {
                        last_activity = tokio::time::Instant::now();
                        counters.stt_audio_bytes.fetch_add(data.len() as u64, Ordering::Relaxed);
                        state.feed(&shared, &data, &mut out);
                    }
                    Message::Text(text) => {
                        match serde_json::from_str::<ControlMessage>(text.as_str()) {
                            Ok(control) => match control.kind.as_ref() {
                                "KeepAlive" => {
                                    last_activity = tokio::time::Instant::now();
                                    bump(&counters.stt_keepalives);
                                }
                                "Finalize" => {
                                    bump(&counters.stt_finalizes);
                                    out.push(state.finalize(false, true));
                                }
                                "CloseStream" => {
                                    if state.pending {
                                        out.push(state.finalize(true, false));
                                    }
                                    if !send_stt(&mut socket, &shared, &state.params.tag, &mut out).await {
                                        return;
                                    }
                                    let metadata = json!({
                                        "type": "Metadata",
                                        "transaction_key": "deprecated",
                                        "request_id": request_id,
                                        "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                                        "created": "2024-08-29T22:37:55.202Z",
                                        "duration": round3(state.t),
                                        "channels": 1,
                                    });
                                    let _ = socket.send(text_message(metadata)).await;
                                    let _ = socket.send(close_message(1000, "")).await;
                                    drain_until_closed(&mut socket).await;
                                    return;
                                }
                                other => {
                                    tracing::debug!(kind = other, "fake deepgram: unknown STT control message");
                                    let warning = json!({
                                        "type": "Warning",
                                        "description": format!("Unknown message type: {other}"),
                                        "code": "UNKNOWN_MESSAGE",
                                    });
                                    if socket.send(text_message(warning)).await.is_err() {
                                        return;
                                    }
                                }
                            },
                            Err(error) => {
                                tracing::debug!(%error, "fake deepgram: unparseable STT text frame");
                                let warning = json!({
                                    "type": "Error",
                                    "variant": "InvalidMessage",
                                    "description": "Could not parse the text message as JSON.",
                                    "message": error.to_string(),
                                });
                                if socket.send(text_message(warning)).await.is_err() {
                                    return;
                                }
                            }
                        }
                    }
                    Message::Close(_) => {
                        // Finish the closing handshake; `recv` ends the loop.
                    }
                    Message::Ping(_) | Message::Pong(_) => {}
                }
                if !out.is_empty() && !send_stt(&mut socket, &shared, &state.params.tag, &mut out).await {
                    return;
                }
            }
            _ = &mut idle => {
                let deadline = last_activity + idle_timeout;
                if tokio::time::Instant::now() >= deadline {
                    bump(&counters.stt_idle_closes);
                    let _ = socket.send(close_message(1011, "NET-0001")).await;
                    drain_until_closed(&mut socket).await;
                    return;
                }
                idle.as_mut().reset(deadline);
            }
        }
    }
}

/// Sends queued STT messages in order, broadcasting each right after it is written.
async fn send_stt(
    socket: &mut WebSocket,
    shared: &Shared,
    tag: &str,
    out: &mut Vec<Outgoing>,
) -> bool {
    for outgoing in out.drain(..) {
        if socket.send(text_message(outgoing.message)).await.is_err() {
            return false;
        }
        let at = Instant::now();
        if let Some(kind) = outgoing.kind {
            let counters = &shared.counters;
            bump(match kind {
                FakeSttKind::SpeechStarted => &counters.stt_speech_started,
                FakeSttKind::Interim => &counters.stt_interims,
                FakeSttKind::Final => &counters.stt_finals,
                FakeSttKind::UtteranceEnd => &counters.stt_utterance_ends,
            });
            let event = FakeSttEvent {
                tag: tag.to_string(),
                kind,
                text: outgoing.text,
                audio_time: outgoing.audio_time,
                at,
            };
            {
                let mut listeners = shared.listeners.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(listener) = listeners.get(tag)
                    && listener.send(event.clone()).is_err()
                {
                    listeners.remove(tag);
                }
            }
            if shared.events.receiver_count() > 0 {
                let _ = shared.events.send(event);
            }
        }
    }
    true
}

/// Resolves once the fake is shut down.
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stopped| *stopped).await;
}

/// After sending a close frame, waits (briefly) for the peer's close reply.
async fn drain_until_closed(socket: &mut WebSocket) {
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(Ok(_)) = socket.recv().await {}
    })
    .await;
}

// ---------------------------------------------------------------------------------------------
// Text-to-speech

/// One period of the synthetic voice: 1 s (220 whole cycles of 220 Hz, three whole cycles of a
/// 3 Hz envelope), stored twice in a row so any chunk up to 1 s is one contiguous slice.
fn voice_loop() -> &'static Bytes {
    static VOICE: OnceLock<Bytes> = OnceLock::new();
    VOICE.get_or_init(|| {
        let period = SAMPLE_RATE as usize;
        let one: Vec<u8> = (0..period)
            .map(|i| {
                let t = i as f32 / SAMPLE_RATE as f32;
                let envelope = 0.7 + 0.3 * (2.0 * std::f32::consts::PI * 3.0 * t).sin();
                let sample = (2.0 * std::f32::consts::PI * 220.0 * t).sin() * 9000.0 * envelope;
                mulaw::encode(sample as i16)
            })
            .collect();
        let mut two = Vec::with_capacity(period * 2);
        two.extend_from_slice(&one);
        two.extend_from_slice(&one);
        Bytes::from(two)
    })
}

/// `len` bytes of the synthetic voice starting at `offset` bytes into the signal.
fn voice_chunk(offset: usize, len: usize) -> Bytes {
    let voice = voice_loop();
    let period = voice.len() / 2;
    let start = offset % period;
    if len <= period {
        voice.slice(start..start + len)
    } else {
        let mut buf = Vec::with_capacity(len);
        let mut pos = start;
        while buf.len() < len {
            let take = (len - buf.len()).min(period);
            buf.extend_from_slice(&voice[pos..pos + take]);
            pos = (pos + take) % period;
        }
        Bytes::from(buf)
    }
}

/// `duration_ms` of the fake's synthetic voice (μ-law 8 kHz), loud enough to count as speech:
/// what a test or the softphone sends as a caller's words after [`FakeDeepgram::say`].
pub fn speech_audio(duration_ms: u32) -> Vec<u8> {
    let len = duration_ms as usize * SAMPLE_RATE as usize / 1000;
    voice_chunk(0, len).to_vec()
}

/// `duration_ms` of μ-law digital silence.
pub fn silence_audio(duration_ms: u32) -> Vec<u8> {
    vec![mulaw::SILENCE; duration_ms as usize * SAMPLE_RATE as usize / 1000]
}

/// Audio being generated for one `Flush` (or the final flush of `Close`).
struct Generation {
    remaining: usize,
    /// `Some(sequence_id)` to send `Flushed` after its last byte.
    flushed: Option<u64>,
}

const FLUSH_LIMIT: usize = 20;
const FLUSH_WINDOW: Duration = Duration::from_secs(60);
const SPEAK_TEXT_LIMIT: usize = 2000;

async fn run_tts(
    mut socket: WebSocket,
    shared: Arc<Shared>,
    model: String,
    encoding: String,
    sample_rate: String,
    mut shutdown: watch::Receiver<bool>,
) {
    let options = &shared.options;
    let counters = &shared.counters;
    let metadata = json!({
        "type": "Metadata",
        "request_id": shared.request_id(),
        "model_name": model,
        "model_version": "fake",
        "model_uuid": "00000000-0000-0000-0000-000000000000",
        "additional_model_uuids": [],
    });
    if socket.send(text_message(metadata)).await.is_err() {
        return;
    }
    if encoding != "mulaw" || sample_rate != "8000" {
        let warning = json!({
            "type": "Warning",
            "description": format!("The fake only synthesizes encoding=mulaw sample_rate=8000 (got {encoding}/{sample_rate}); sending mulaw/8000."),
            "code": "UNSUPPORTED_AUDIO_FORMAT",
        });
        if socket.send(text_message(warning)).await.is_err() {
            return;
        }
    }
    let chunk_bytes = options.tts_chunk_bytes.max(1);
    let bytes_per_char = options.tts_ms_per_char as usize * SAMPLE_RATE as usize / 1000;
    let pace = options
        .tts_realtime_factor
        .filter(|f| *f > 0.0 && f.is_finite())
        .map(|f| Duration::from_secs_f64(chunk_bytes as f64 / SAMPLE_RATE as f64 / f64::from(f)));
    let mut buffered_chars = 0usize;
    let mut sequence: u64 = 0;
    let mut jobs: VecDeque<Generation> = VecDeque::new();
    let mut signal_offset = 0usize;
    let mut flush_times: VecDeque<Instant> = VecDeque::new();
    let mut closing = false;
    let pacer = tokio::time::sleep(Duration::ZERO);
    tokio::pin!(pacer);

    loop {
        if closing && jobs.is_empty() {
            let _ = socket.send(close_message(1000, "")).await;
            drain_until_closed(&mut socket).await;
            return;
        }
        let generating = !jobs.is_empty();
        tokio::select! {
            biased;
            _ = stopped(&mut shutdown) => {
                let _ = socket.send(close_message(1001, "shutting down")).await;
                return;
            }
            message = socket.recv(), if !closing => {
                let Some(Ok(message)) = message else { return };
                let text = match message {
                    Message::Text(text) => text,
                    Message::Close(_) => { closing = true; jobs.clear(); continue; }
                    Message::Binary(_) | Message::Ping(_) | Message::Pong(_) => continue,
                };
                let control = match serde_json::from_str::<ControlMessage>(text.as_str()) {
                    Ok(control) => control,
                    Err(error) => {
                        let warning = json!({
                            "type": "Warning",
                            "description": format!("Could not parse the text message: {error}"),
                            "code": "INVALID_MESSAGE",
                        });
                        if socket.send(text_message(warning)).await.is_err() { return; }
                        continue;
                    }
                };
                match control.kind.as_ref() {
                    "Speak" => {
                        bump(&counters.tts_speaks);
                        let chars = control.text.as_deref().map_or(0, |t| t.chars().count());
                        if chars > SPEAK_TEXT_LIMIT {
                            let warning = json!({
                                "type": "Warning",
                                "description": format!("Speak text is {chars} characters; the limit is {SPEAK_TEXT_LIMIT}."),
                                "code": "TEXT_TOO_LONG",
                            });
                            if socket.send(text_message(warning)).await.is_err() { return; }
                        }
                        buffered_chars += chars;
                    }
                    "Flush" => {
                        bump(&counters.tts_flushes);
                        let now = Instant::now();
                        while flush_times.front().is_some_and(|t| now.duration_since(*t) > FLUSH_WINDOW) {
                            flush_times.pop_front();
                        }
                        flush_times.push_back(now);
                        if flush_times.len() > FLUSH_LIMIT {
                            let warning = json!({
                                "type": "Warning",
                                "description": format!("More than {FLUSH_LIMIT} Flush messages in 60 seconds."),
                                "code": "FLUSH_LIMIT_EXCEEDED",
                            });
                            if socket.send(text_message(warning)).await.is_err() { return; }
                        }
                        let id = sequence;
                        sequence += 1;
                        jobs.push_back(Generation {
                            remaining: std::mem::take(&mut buffered_chars) * bytes_per_char,
                            flushed: Some(id),
                        });
                        if !generating {
                            pacer.as_mut().reset(tokio::time::Instant::now());
                        }
                    }
                    "Clear" => {
                        bump(&counters.tts_clears);
                        buffered_chars = 0;
                        jobs.clear();
                        let id = sequence;
                        sequence += 1;
                        let cleared = json!({"type": "Cleared", "sequence_id": id});
                        if socket.send(text_message(cleared)).await.is_err() { return; }
                    }
                    "Close" => {
                        closing = true;
                        if buffered_chars > 0 {
                            jobs.push_back(Generation {
                                remaining: std::mem::take(&mut buffered_chars) * bytes_per_char,
                                    flushed: None,
                            });
                            if !generating {
                                pacer.as_mut().reset(tokio::time::Instant::now());
                            }
                        }
                    }
                    other => {
                        let warning = json!({
                            "type": "Warning",
                            "description": format!("Unknown message type: {other}"),
                            "code": "UNKNOWN_MESSAGE",
                        });
                        if socket.send(text_message(warning)).await.is_err() { return; }
                    }
                }
            }
            _ = &mut pacer, if generating && pace.is_some() => {
                if !send_tts_chunk(&mut socket, counters, &mut jobs, &mut signal_offset, chunk_bytes).await {
                    return;
                }
                if let Some(pace) = pace {
                    let next = pacer.deadline() + pace;
                    pacer.as_mut().reset(next);
                }
            }
            _ = std::future::ready(()), if generating && pace.is_none() => {
                if !send_tts_chunk(&mut socket, counters, &mut jobs, &mut signal_offset, chunk_bytes).await {
                    return;
                }
            }
        }
    }
}

/// Sends the next chunk of the current generation (and its `Flushed` when it is done).
async fn send_tts_chunk(
    socket: &mut WebSocket,
    counters: &Counters,
    jobs: &mut VecDeque<Generation>,
    signal_offset: &mut usize,
    chunk_bytes: usize,
) -> bool {
    let Some(job) = jobs.front_mut() else {
        return true;
    };
    if job.remaining > 0 {
        let len = job.remaining.min(chunk_bytes);
        let chunk = voice_chunk(*signal_offset, len);
        *signal_offset = (*signal_offset + len) % SAMPLE_RATE as usize;
        job.remaining -= len;
        if socket.send(Message::Binary(chunk)).await.is_err() {
            return false;
        }
        counters
            .tts_audio_bytes
            .fetch_add(len as u64, Ordering::Relaxed);
    }
    if job.remaining == 0 {
        let flushed = job.flushed;
        jobs.pop_front();
        if let Some(id) = flushed {
            let message = json!({"type": "Flushed", "sequence_id": id});
            if socket.send(text_message(message)).await.is_err() {
                return false;
            }
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::{SinkExt, StreamExt};
    use serde_json::Value;
    use tokio_tungstenite::tungstenite::Message as Ws;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

    type Client = tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >;

    async fn connect(
        url: &str,
        key: Option<&str>,
    ) -> Result<Client, tokio_tungstenite::tungstenite::Error> {
        let mut request = url.into_client_request().unwrap();
        if let Some(key) = key {
            request
                .headers_mut()
                .insert("authorization", format!("Token {key}").parse().unwrap());
        }
        tokio_tungstenite::connect_async(request)
            .await
            .map(|(ws, _)| ws)
    }

    /// Next text frame as JSON, or the close frame's (code, reason).
    async fn next(ws: &mut Client) -> Result<Value, (u16, String)> {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(5), ws.next())
                .await
                .expect("a frame arrives");
            match message {
                Some(Ok(Ws::Text(text))) => return Ok(serde_json::from_str(text.as_str()).unwrap()),
                Some(Ok(Ws::Close(frame))) => {
                    return Err(frame.map_or((1005, String::new()), |f| {
                        (u16::from(f.code), f.reason.to_string())
                    }));
                }
                Some(Ok(Ws::Binary(_))) => panic!("unexpected binary frame"),
                Some(Ok(_)) => {}
                other => panic!("socket ended: {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn stt_follows_the_protocol_message_for_message() {
        let fake = FakeDeepgram::start(FakeDeepgramOptions {
            api_key: Some("k".to_string()),
            ..Default::default()
        })
        .unwrap();
        let mut observed = fake.on_event();
        let url = format!(
            "{}?encoding=mulaw&sample_rate=8000&interim_results=true&endpointing=300&utterance_end_ms=1000&vad_events=true&tag=call%201",
            fake.stt_url()
        );
        let mut ws = connect(&url, Some("k")).await.unwrap();
        fake.say("call 1", "Hello, I'd like to book.");
        // Chunks that do not line up with 20 ms frames.
        let mut audio = speech_audio(1000);
        audio.extend(silence_audio(1500));
        for chunk in audio.chunks(333) {
            ws.send(Ws::binary(chunk.to_vec())).await.unwrap();
        }
        ws.send(Ws::text("this is not json")).await.unwrap();
        ws.send(Ws::text(r#"{"type":"KeepAlive"}"#)).await.unwrap();
        ws.send(Ws::text(r#"{"type":"CloseStream"}"#))
            .await
            .unwrap();

        let started = next(&mut ws).await.unwrap();
        assert_eq!(started["type"], "SpeechStarted");
        assert_eq!(started["timestamp"], 0.0);
        let mut interims = 0;
        let last = loop {
            let message = next(&mut ws).await.unwrap();
            assert_eq!(message["type"], "Results");
            if message["is_final"] == true {
                break message;
            }
            interims += 1;
            let transcript = message["channel"]["alternatives"][0]["transcript"]
                .as_str()
                .unwrap();
            assert!(!transcript.is_empty());
            assert!(
                "Hello, I'd like to book.".starts_with(transcript),
                "{transcript}"
            );
        };
        assert_eq!(interims, 5, "one interim per 200 ms of speech");
        assert_eq!(last["speech_final"], true);
        assert_eq!(last["from_finalize"], false);
        let alternative = &last["channel"]["alternatives"][0];
        assert_eq!(alternative["transcript"], "Hello, I'd like to book.");
        assert_eq!(alternative["confidence"], 0.98);
        let words = alternative["words"].as_array().unwrap();
        let bare: Vec<&str> = words.iter().map(|w| w["word"].as_str().unwrap()).collect();
        assert_eq!(bare, ["hello", "i'd", "like", "to", "book"]);
        assert_eq!(words[0]["punctuated_word"], "Hello,");
        let (start, duration) = (
            last["start"].as_f64().unwrap(),
            last["duration"].as_f64().unwrap(),
        );
        assert_eq!(start, 0.0);
        assert!(
            (duration - 1.3).abs() < 1e-6,
            "final after 300 ms of silence: {duration}"
        );
        let mut previous_end = 0.0;
        for word in words {
            let (s, e) = (
                word["start"].as_f64().unwrap(),
                word["end"].as_f64().unwrap(),
            );
            assert!(
                s >= previous_end - 1e-6 && e > s && e <= 1.0 + 1e-6,
                "{word}"
            );
            previous_end = e;
        }
        let utterance_end = next(&mut ws).await.unwrap();
        assert_eq!(utterance_end["type"], "UtteranceEnd");
        assert_eq!(utterance_end["last_word_end"], 1.0);
        let error = next(&mut ws).await.unwrap();
        assert_eq!(error["type"], "Error", "garbage text gets an error message");
        let metadata = next(&mut ws).await.unwrap();
        assert_eq!(metadata["type"], "Metadata");
        assert_eq!(metadata["duration"], 2.5);
        assert_eq!(next(&mut ws).await, Err((1000, String::new())));

        let kinds: Vec<(FakeSttKind, String)> = std::iter::from_fn(|| observed.try_recv().ok())
            .map(|e| {
                assert_eq!(e.tag, "call 1");
                (e.kind, e.text)
            })
            .collect();
        assert_eq!(kinds.first().unwrap().0, FakeSttKind::SpeechStarted);
        assert_eq!(kinds.len(), 8);
        assert_eq!(
            kinds[6],
            (FakeSttKind::Final, "Hello, I'd like to book.".to_string())
        );
        assert_eq!(kinds[7].0, FakeSttKind::UtteranceEnd);
        let stats = fake.stats();
        assert_eq!(stats.stt_audio_bytes, 20_000);
        assert_eq!(stats.stt_keepalives, 1);
        assert_eq!(stats.stt_interims_sent, 5);
        assert_eq!(stats.stt_finals_sent, 1);
        assert_eq!(fake.last_stt_query().unwrap()["tag"], "call 1");
    }

    #[tokio::test]
    async fn stt_finalize_answers_even_without_speech() {
        let fake = FakeDeepgram::start(FakeDeepgramOptions::default()).unwrap();
        let mut ws = connect(&format!("{}?tag=t", fake.stt_url()), None)
            .await
            .unwrap();
        ws.send(Ws::binary(silence_audio(100))).await.unwrap();
        ws.send(Ws::text(r#"{"type":"Finalize"}"#)).await.unwrap();
        let results = next(&mut ws).await.unwrap();
        assert_eq!(results["type"], "Results");
        assert_eq!(results["from_finalize"], true);
        assert_eq!(results["channel"]["alternatives"][0]["transcript"], "");
        // Without vad_events there is no SpeechStarted; without interim_results no interims.
        fake.say("t", "Yes.");
        ws.send(Ws::binary(speech_audio(600))).await.unwrap();
        ws.send(Ws::text(r#"{"type":"Finalize"}"#)).await.unwrap();
        let results = next(&mut ws).await.unwrap();
        assert_eq!(results["from_finalize"], true);
        assert_eq!(results["is_final"], true);
        assert_eq!(results["channel"]["alternatives"][0]["transcript"], "Yes.");
    }

    #[tokio::test]
    async fn stt_closes_idle_connections_with_net_0001() {
        let fake = FakeDeepgram::start(FakeDeepgramOptions {
            idle_timeout: Duration::from_millis(100),
            ..Default::default()
        })
        .unwrap();
        let mut ws = connect(&fake.stt_url(), None).await.unwrap();
        assert_eq!(next(&mut ws).await, Err((1011, "NET-0001".to_string())));
        assert_eq!(fake.stats().stt_idle_closes, 1);
    }

    #[tokio::test]
    async fn a_missing_or_wrong_key_is_refused_with_401() {
        let fake = FakeDeepgram::start(FakeDeepgramOptions {
            api_key: Some("right".to_string()),
            ..Default::default()
        })
        .unwrap();
        for (url, key) in [
            (fake.stt_url(), None),
            (fake.stt_url(), Some("wrong")),
            (fake.tts_url(), Some("wrong")),
        ] {
            match connect(&url, key).await {
                Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
                    assert_eq!(response.status(), 401)
                }
                other => panic!("expected 401, got {:?}", other.map(|_| ())),
            }
        }
        assert_eq!(fake.stats().auth_rejected, 3);
        assert!(connect(&fake.tts_url(), Some("right")).await.is_ok());
    }

    /// Reads until a text frame, summing binary bytes on the way.
    async fn audio_then_text(ws: &mut Client) -> (usize, Value) {
        let mut bytes = 0;
        loop {
            match tokio::time::timeout(Duration::from_secs(5), ws.next())
                .await
                .unwrap()
            {
                Some(Ok(Ws::Binary(b))) => bytes += b.len(),
                Some(Ok(Ws::Text(t))) => return (bytes, serde_json::from_str(t.as_str()).unwrap()),
                other => panic!("unexpected {other:?}"),
            }
        }
    }

    #[tokio::test]
    async fn tts_follows_the_protocol() {
        let fake = FakeDeepgram::start(FakeDeepgramOptions::default()).unwrap();
        let mut ws = connect(
            &format!(
                "{}?model=aura-2-thalia-en&encoding=linear16",
                fake.tts_url()
            ),
            None,
        )
        .await
        .unwrap();
        let metadata = next(&mut ws).await.unwrap();
        assert_eq!(metadata["type"], "Metadata");
        assert_eq!(metadata["model_name"], "aura-2-thalia-en");
        let warning = next(&mut ws).await.unwrap();
        assert_eq!(warning["type"], "Warning", "linear16 is not served");

        ws.send(Ws::text(r#"{"type":"Speak","text":"Hello "}"#))
            .await
            .unwrap();
        ws.send(Ws::text(r#"{"type":"Speak","text":"world."}"#))
            .await
            .unwrap();
        ws.send(Ws::text(r#"{"type":"Flush"}"#)).await.unwrap();
        let (bytes, flushed) = audio_then_text(&mut ws).await;
        assert_eq!(bytes, 12 * 60 * 8);
        assert_eq!(
            flushed,
            serde_json::json!({"type": "Flushed", "sequence_id": 0})
        );
        ws.send(Ws::text(r#"{"type":"Clear"}"#)).await.unwrap();
        let (bytes, cleared) = audio_then_text(&mut ws).await;
        assert_eq!(bytes, 0);
        assert_eq!(
            cleared,
            serde_json::json!({"type": "Cleared", "sequence_id": 1})
        );

        // More than 20 flushes a minute draw a warning but are still served.
        for _ in 0..21 {
            ws.send(Ws::text(r#"{"type":"Flush"}"#)).await.unwrap();
        }
        // With the earlier one, flushes 21 and 22 exceed the limit.
        let (mut warnings, mut sequence_ids) = (0, Vec::new());
        while sequence_ids.len() < 21 {
            let (_, message) = audio_then_text(&mut ws).await;
            match message["type"].as_str() {
                Some("Warning") => warnings += 1,
                Some("Flushed") => sequence_ids.push(message["sequence_id"].as_u64().unwrap()),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert_eq!(warnings, 2);
        assert_eq!(sequence_ids, (2..=22).collect::<Vec<u64>>());
        ws.send(Ws::text(r#"{"type":"Speak","text":"Bye."}"#))
            .await
            .unwrap();
        ws.send(Ws::text(r#"{"type":"Close"}"#)).await.unwrap();
        let mut bytes = 0;
        let close = loop {
            match ws.next().await {
                Some(Ok(Ws::Binary(b))) => bytes += b.len(),
                Some(Ok(Ws::Close(frame))) => break frame.map(|f| f.code),
                other => panic!("unexpected {other:?}"),
            }
        };
        assert_eq!(bytes, 4 * 60 * 8, "Close flushes");
        assert_eq!(close, Some(CloseCode::Normal));
        let stats = fake.stats();
        assert_eq!(
            (stats.tts_speaks, stats.tts_flushes, stats.tts_clears),
            (3, 22, 1)
        );
    }

    #[tokio::test]
    async fn tts_clear_cuts_paced_audio_short() {
        let fake = FakeDeepgram::start(FakeDeepgramOptions {
            tts_realtime_factor: Some(10.0),
            tts_chunk_bytes: 800,
            ..Default::default()
        })
        .unwrap();
        let mut ws = connect(
            &format!("{}?encoding=mulaw&sample_rate=8000", fake.tts_url()),
            None,
        )
        .await
        .unwrap();
        assert_eq!(next(&mut ws).await.unwrap()["type"], "Metadata");
        let text = "a".repeat(500); // 30 s of audio: 3 s at 10x.
        ws.send(Ws::text(
            serde_json::json!({"type": "Speak", "text": text}).to_string(),
        ))
        .await
        .unwrap();
        ws.send(Ws::text(r#"{"type":"Flush"}"#)).await.unwrap();
        // Wait for the first chunk, then barge in.
        match ws.next().await {
            Some(Ok(Ws::Binary(b))) => assert_eq!(b.len(), 800),
            other => panic!("unexpected {other:?}"),
        }
        ws.send(Ws::text(r#"{"type":"Clear"}"#)).await.unwrap();
        let (bytes, cleared) = audio_then_text(&mut ws).await;
        assert_eq!(cleared["type"], "Cleared");
        assert!(
            bytes < 500 * 60 * 8 / 2,
            "most of the audio was dropped: {bytes}"
        );
        // Nothing of the cleared generation follows.
        ws.send(Ws::text(r#"{"type":"Flush"}"#)).await.unwrap();
        let (bytes, flushed) = audio_then_text(&mut ws).await;
        assert_eq!((bytes, flushed["type"].as_str()), (0, Some("Flushed")));
    }

    #[tokio::test]
    async fn dropping_the_fake_closes_its_connections_and_port() {
        let fake = FakeDeepgram::start(FakeDeepgramOptions::default()).unwrap();
        let url = fake.stt_url();
        let mut ws = connect(&url, None).await.unwrap();
        ws.send(Ws::binary(silence_audio(20))).await.unwrap();
        drop(fake);
        assert_eq!(
            next(&mut ws).await,
            Err((1001, "shutting down".to_string()))
        );
        let refused = tokio::time::timeout(Duration::from_secs(5), async {
            loop {
                if connect(&url, None).await.is_err() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await;
        assert!(refused.is_ok(), "the listener stops");
    }

    #[test]
    fn speech_audio_is_speech_and_silence_is_not() {
        let speech = speech_audio(2000);
        assert_eq!(speech.len(), 16_000);
        assert!(speech.chunks(FRAME_BYTES).all(|f| rms(f) > SPEECH_RMS));
        assert!(
            silence_audio(100)
                .chunks(FRAME_BYTES)
                .all(|f| rms(f) == 0.0)
        );
        assert_eq!(percent_decode("a%20b+c%2"), "a b c%2");
        assert_eq!(
            parse_query(Some("keyterm=A%26B&keyterm=x&flag")),
            [
                ("keyterm".to_string(), "A&B".to_string()),
                ("keyterm".to_string(), "x".to_string()),
                ("flag".to_string(), String::new())
            ]
        );
    }
}
