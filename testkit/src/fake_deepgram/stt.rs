//! The fake's speech-to-text side (`/v1/listen`): hears speech energy, transcribes the
//! utterance queued for the call.

use super::*;

// ---------------------------------------------------------------------------------------------
// Speech-to-text

pub(super) struct SttParams {
    tag: String,
    interim_results: bool,
    vad_events: bool,
    /// `None`: `endpointing=false`.
    endpointing: Option<f64>,
    utterance_end: Option<f64>,
}

impl SttParams {
    pub(super) fn from_query(query: &[(String, String)]) -> Self {
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

pub(super) async fn run_stt(
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
pub(super) async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stopped| *stopped).await;
}

/// After sending a close frame, waits (briefly) for the peer's close reply.
pub(super) async fn drain_until_closed(socket: &mut WebSocket) {
    let _ = tokio::time::timeout(Duration::from_secs(2), async {
        while let Some(Ok(_)) = socket.recv().await {}
    })
    .await;
}
