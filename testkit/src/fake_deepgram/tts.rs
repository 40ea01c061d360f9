//! The fake's text-to-speech side (`/v1/speak`): audio of a plausible length for the text.

use super::spoken::MARK_LEN;
use super::stt::{drain_until_closed, stopped};
use super::*;

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
    /// Starts the audio, naming the words (see [`super::spoken`]); taken when sent.
    mark: Option<[u8; MARK_LEN]>,
    remaining: usize,
    /// `Some(sequence_id)` to send `Flushed` after its last byte.
    flushed: Option<u64>,
}

const FLUSH_LIMIT: usize = 20;
const FLUSH_WINDOW: Duration = Duration::from_secs(60);
const SPEAK_TEXT_LIMIT: usize = 2000;

pub(super) async fn run_tts(
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
    // The words of the buffered Speak messages, for the mark of their audio.
    let mut buffered_text = String::new();
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
                        if let Some(text) = control.text.as_deref() {
                            if !buffered_text.is_empty() {
                                buffered_text.push(' ');
                            }
                            buffered_text.push_str(text.trim());
                        }
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
                        jobs.push_back(generation(
                            &shared,
                            std::mem::take(&mut buffered_text),
                            std::mem::take(&mut buffered_chars) * bytes_per_char,
                            Some(id),
                        ));
                        if !generating {
                            pacer.as_mut().reset(tokio::time::Instant::now());
                        }
                    }
                    "Clear" => {
                        bump(&counters.tts_clears);
                        buffered_chars = 0;
                        buffered_text.clear();
                        jobs.clear();
                        let id = sequence;
                        sequence += 1;
                        let cleared = json!({"type": "Cleared", "sequence_id": id});
                        if socket.send(text_message(cleared)).await.is_err() { return; }
                    }
                    "Close" => {
                        closing = true;
                        if buffered_chars > 0 {
                            jobs.push_back(generation(
                                &shared,
                                std::mem::take(&mut buffered_text),
                                std::mem::take(&mut buffered_chars) * bytes_per_char,
                                None,
                            ));
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

/// The audio for `text`, marked with its words when there are any.
fn generation(shared: &Shared, text: String, bytes: usize, flushed: Option<u64>) -> Generation {
    let mark = (!text.is_empty()).then(|| shared.spoken.mark(text));
    let remaining = match mark {
        Some(_) => bytes.max(MARK_LEN),
        None => bytes,
    };
    Generation {
        mark,
        remaining,
        flushed,
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
        let len = job.remaining.min(chunk_bytes.max(MARK_LEN));
        let chunk = match job.mark.take() {
            Some(mark) => {
                let mut marked = mark.to_vec();
                marked.extend_from_slice(&voice_chunk(*signal_offset, len - MARK_LEN));
                Bytes::from(marked)
            }
            None => voice_chunk(*signal_offset, len),
        };
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
