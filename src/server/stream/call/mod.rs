//! One Media Stream call: Twilio frames in, caller audio to recognition, engine turns, agent
//! lines to synthesis, audio and marks back to Twilio, barge-in, and the end of the call
//! ([`ending`]).

mod ending;

use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use frontdesk_engine::{CallInfo, Input};
use futures_util::{Sink, SinkExt, Stream, StreamExt};
use tokio::sync::mpsc;
use tokio::time::{Instant, sleep_until};

use super::StreamServices;
use super::opening::{check_binding, refuse, wait_for_start};
use super::playback::{Action, MarkEcho, Playback};
use super::resume;
use crate::call::{AgentTurn, LiveCall};
use crate::call_event::Event;
use crate::logging::mask_phone;
use crate::server::AppState;
use crate::speech::{
    SttCommand, SttEvent, SttOptions, SttSession, TtsCommand, TtsEvent, TtsOptions, TtsSession,
};
use frontdesk_telephony::media_stream::{self, Incoming};

/// Keypad digits pressed within this gap are one entry ("1", "2", "3" → "123").
const DIGIT_GAP: Duration = Duration::from_millis(1200);

/// Frames to Twilio: the WebSocket's sending half, or a channel in tests.
pub(super) trait FrameSink: Sink<Message, Error = axum::Error> + Unpin + Send {}
impl<T: Sink<Message, Error = axum::Error> + Unpin + Send> FrameSink for T {}

/// Frames from Twilio: the WebSocket's receiving half, or a channel in tests.
pub(super) trait FrameStream:
    Stream<Item = Result<Message, axum::Error>> + Unpin + Send
{
}
impl<T: Stream<Item = Result<Message, axum::Error>> + Unpin + Send> FrameStream for T {}

pub(super) async fn run(socket: WebSocket, state: AppState, services: StreamServices) {
    let (sink, frames) = socket.split();
    run_on(sink, frames, state, services).await;
}

/// One call over any pair of frame halves.
pub(super) async fn run_on(
    sink: impl FrameSink,
    mut frames: impl FrameStream,
    state: AppState,
    services: StreamServices,
) {
    let Some(start) = wait_for_start(&mut frames).await else {
        tracing::warn!("media stream closed before a valid `start`");
        return;
    };
    let call_sid = start.call_sid.clone();
    if let Err(why) = check_binding(&state, &start) {
        // Nothing is recorded: this is not a call we answered.
        tracing::warn!(call_id = %call_sid, %why, "refusing a media stream");
        refuse(sink).await;
        return;
    }
    let caller = start
        .custom_parameters
        .get("From")
        .and_then(|from| crate::server::gather::caller_id(from));
    tracing::info!(call_id = %call_sid, caller = %mask_phone(caller.as_deref().unwrap_or("")), "media stream started");

    let stt_options = SttOptions {
        call_sid: call_sid.clone(),
        language: services.language.clone(),
        keyterms: services.keyterms.clone(),
    };
    let tts_options = TtsOptions {
        call_sid: call_sid.clone(),
        ..services.tts_options.clone()
    };
    let timed = |began: std::time::Instant| began.elapsed();
    let (stt, tts) = tokio::join!(
        async {
            let began = std::time::Instant::now();
            let opened = services.stt.open(&stt_options).await;
            crate::telemetry::provider("stt", "open", timed(began), opened.is_err());
            opened
        },
        async {
            let began = std::time::Instant::now();
            let opened = services.tts.open(&tts_options).await;
            crate::telemetry::provider("tts", "open", timed(began), opened.is_err());
            opened
        }
    );
    let info = CallInfo {
        id: call_sid.clone(),
        caller,
        called: start.custom_parameters.get("To").cloned(),
        customer: None,
    };
    let (live, turn) = match resume::lost_session(&state, &call_sid).await {
        // This call's stream was lost and Twilio came back through the `<Connect>` action.
        Some(live) => {
            tracing::info!(call_id = %call_sid, "media stream resumed from the call's session");
            let resumed = Event::StreamResumed {
                stream_sid: start.stream_sid.clone(),
            };
            state.driver().recorder.event(&call_sid, &resumed).await;
            let turn = resume::resumed_turn(&state, &live);
            (live, turn)
        }
        None => {
            let (live, turn) = state.driver().start(info, state.now()).await;
            crate::server::recording::start(&state, &live.session.call.id);
            (live, turn)
        }
    };
    let saver = resume::SessionSaver::start(state.clone(), call_sid.clone());
    let mut call = StreamCall {
        state: state.clone(),
        services,
        sink,
        stream_sid: start.stream_sid,
        call_sid: call_sid.clone(),
        live,
        playback: Playback::new(),
        heard: String::new(),
        confidence: None,
        digits: String::new(),
        digits_due: None,
        no_input_due: None,
        ending: None,
        close_due: None,
        answer_pending_since: None,
        answer: None,
        answer_sentence_since: None,
        turns: 0,
        finished: false,
        stopped: false,
        seen_at: Instant::now(),
        saver,
    };
    match (stt, tts) {
        (Ok(stt), Ok(tts)) => {
            call.speak(turn, &tts.commands).await;
            call.run(frames, stt, tts).await;
        }
        (stt, tts) => {
            let why = [
                stt.err().map(|e| e.to_string()),
                tts.err().map(|e| e.to_string()),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join("; ");
            tracing::error!(call_id = %call_sid, why, "speech providers unavailable; handing the call to a person");
            call.hand_to_person().await;
        }
    }
    if call.lost() {
        // Twilio asks the `<Connect>` action what next, and the call goes on from its session
        // (here or on another server); the status callback closes it if it is really over.
        tracing::warn!(call_id = %call_sid, "media stream lost mid-call");
        state.calls().end(&call_sid);
        call.saver.finish(&call.live).await;
        return;
    }
    if !call.live.session.ended {
        state.driver().hang_up(&mut call.live, state.now()).await;
    }
    call.saver.finish(&call.live).await;
    state.calls().awaiting_status(&call_sid);
    tracing::info!(call_id = %call_sid, "media stream ended");
}

enum Ending {
    /// To this number, with a whisper for the person answering.
    Transfer(String, Option<String>),
    Hangup,
}

struct StreamCall<Tx> {
    state: AppState,
    services: StreamServices,
    sink: Tx,
    stream_sid: String,
    call_sid: String,
    live: LiveCall,
    playback: Playback,
    /// Final transcripts of the caller's current turn, joined.
    heard: String,
    /// Lowest confidence among them.
    confidence: Option<f32>,
    digits: String,
    digits_due: Option<Instant>,
    /// When silence counts as "no input" (set once the agent finished speaking).
    no_input_due: Option<Instant>,
    /// How the call ends once the agent's last words have played.
    ending: Option<Ending>,
    /// After a REST update Twilio ends the stream itself; this is how long we wait for that.
    close_due: Option<Instant>,
    /// When the caller's last turn ended, until the first agent audio for it goes out.
    answer_pending_since: Option<std::time::Instant>,
    /// Sentences of a knowledge answer the model is still writing.
    answer: Option<mpsc::Receiver<String>>,
    /// When the caller's turn ended, until the answer's first sentence goes to TTS.
    answer_sentence_since: Option<std::time::Instant>,
    turns: u32,
    finished: bool,
    /// Twilio said the stream is over (`stop`).
    stopped: bool,
    /// When this call last told the live-call count it is alive.
    seen_at: Instant,
    /// Keeps the session in the store, for a server that takes the call over.
    saver: resume::SessionSaver,
}

impl<Tx: FrameSink> StreamCall<Tx> {
    async fn run(&mut self, mut frames: impl FrameStream, stt: SttSession, tts: TtsSession) {
        let SttSession {
            commands: stt_commands,
            events: mut stt_events,
        } = stt;
        let TtsSession {
            commands: tts_commands,
            events: mut tts_events,
        } = tts;
        while !self.finished {
            let due = [self.no_input_due, self.digits_due, self.close_due]
                .into_iter()
                .flatten()
                .min();
            tokio::select! {
                // Recognition first: a barge-in must not wait behind audio frames.
                biased;
                event = stt_events.recv() => match event {
                    Some(event) => self.on_stt(event, &tts_commands).await,
                    None => self.on_stt(SttEvent::Closed { error: Some("recognition stopped".into()) }, &tts_commands).await,
                },
                sentence = next_sentence(&mut self.answer), if self.answer.is_some() => {
                    self.on_answer(sentence, &tts_commands).await;
                }
                frame = frames.next() => match frame {
                    Some(Ok(Message::Text(text))) => self.on_twilio(&text, &stt_commands).await,
                    Some(Ok(Message::Binary(_))) => {
                        tracing::warn!(call_id = %self.call_sid, "ignoring a binary frame: Media Streams frames are JSON text");
                    }
                    Some(Ok(Message::Close(_))) | None => break,
                    Some(Ok(_)) => {}
                    Some(Err(error)) => {
                        tracing::warn!(call_id = %self.call_sid, %error, "media stream broke");
                        break;
                    }
                },
                event = tts_events.recv() => match event {
                    Some(event) => self.on_tts(event).await,
                    None => self.on_tts(TtsEvent::Closed { error: Some("synthesis stopped".into()) }).await,
                },
                () = sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                    self.on_timer(&tts_commands).await;
                }
            }
        }
        let _ = stt_commands.try_send(SttCommand::Close);
        let _ = tts_commands.try_send(TtsCommand::Close);
        let _ = self.sink.close().await;
    }

    async fn on_twilio(&mut self, text: &str, stt: &tokio::sync::mpsc::Sender<SttCommand>) {
        let message = match media_stream::parse(text) {
            Ok(message) => message,
            Err(error) => {
                tracing::warn!(call_id = %self.call_sid, %error, "ignoring a frame");
                return;
            }
        };
        // Media arrives 50 times a second: once a second is sign of life enough.
        if self.seen_at.elapsed() >= Duration::from_secs(1) {
            self.seen_at = Instant::now();
            self.state.calls().touch(&self.call_sid);
        }
        match message {
            Incoming::Media { media } => match media_stream::decode_audio(&media.payload) {
                // Dropped rather than queued when recognition lags: stale audio is worthless
                // and waiting here would delay barge-in.
                Ok(audio) => {
                    let _ = stt.try_send(SttCommand::Audio(audio));
                }
                Err(error) => tracing::warn!(call_id = %self.call_sid, %error, "bad media frame"),
            },
            Incoming::Dtmf { dtmf } => {
                self.no_input_due = None;
                if dtmf.digit == "#" {
                    self.digits_due = Some(Instant::now());
                } else {
                    self.digits.push_str(&dtmf.digit);
                    self.digits_due = Some(Instant::now() + DIGIT_GAP);
                }
            }
            Incoming::Mark { mark } => {
                if let MarkEcho::TurnEnded(_) = self.playback.mark(&mark.name)
                    && self.ending.is_none()
                {
                    self.no_input_due = Some(Instant::now() + self.state.config().stream_no_input);
                }
                if self.ending.is_some() && self.playback.idle() {
                    self.end_call().await;
                }
            }
            Incoming::Stop => {
                tracing::info!(call_id = %self.call_sid, "twilio stopped the stream");
                self.stopped = true;
                self.finished = true;
            }
            Incoming::Connected | Incoming::Start { .. } => {}
        }
    }

    async fn on_stt(&mut self, event: SttEvent, tts: &tokio::sync::mpsc::Sender<TtsCommand>) {
        match event {
            SttEvent::SpeechStarted => self.caller_speaking(tts).await,
            SttEvent::Interim { text } if !text.trim().is_empty() => {
                self.caller_speaking(tts).await
            }
            SttEvent::Interim { .. } => {}
            SttEvent::Final {
                text,
                confidence,
                end_of_turn,
            } => {
                let text = text.trim();
                if !text.is_empty() {
                    self.no_input_due = None;
                    if !self.heard.is_empty() {
                        self.heard.push(' ');
                    }
                    self.heard.push_str(text);
                    self.confidence =
                        Some(self.confidence.map_or(confidence, |c| c.min(confidence)));
                }
                if end_of_turn {
                    self.caller_done(tts).await;
                }
            }
            SttEvent::UtteranceEnd => self.caller_done(tts).await,
            SttEvent::Closed { error } => {
                if self.live.session.ended {
                    return;
                }
                tracing::error!(call_id = %self.call_sid, error = ?error, "lost speech recognition; handing the call to a person");
                self.hand_to_person().await;
            }
        }
    }

    /// The caller started talking: cut the agent off if allowed.
    async fn caller_speaking(&mut self, tts: &tokio::sync::mpsc::Sender<TtsCommand>) {
        let cue = std::time::Instant::now();
        let mut out = Vec::new();
        let cut = self.playback.barge_in(&mut out);
        // Silence counts from the caller's last sound: a cough with no words after it must
        // not leave the line quiet for good.
        self.no_input_due = (!self.playback.speaking() && self.ending.is_none())
            .then(|| Instant::now() + self.state.config().stream_no_input);
        let Some(heard_so_far) = cut else {
            return;
        };
        if !self.playback.awaiting_answer() {
            // Dropping the sentences cancels the model's answer.
            self.answer = None;
        }
        self.perform(out, tts).await;
        self.state
            .latencies()
            .barge_in_to_clear
            .record(cue.elapsed());
        tracing::debug!(call_id = %self.call_sid, "barge-in");
        if !self.live.session.ended {
            let input = Input::Interrupted { heard_so_far };
            let _ = self
                .state
                .driver()
                .input(&mut self.live, input, self.state.now())
                .await;
            self.saver.save(&self.live);
        }
        // The turn that was cut ended the call: nothing is left to wait for.
        if self.ending.is_some() && self.playback.idle() {
            self.end_call().await;
        }
    }

    /// The caller finished a turn (endpointing or utterance end).
    async fn caller_done(&mut self, tts: &tokio::sync::mpsc::Sender<TtsCommand>) {
        if self.heard.is_empty() {
            return;
        }
        let text = std::mem::take(&mut self.heard);
        let confidence = self.confidence.take();
        let now = std::time::Instant::now();
        self.answer_pending_since = Some(now);
        self.answer_sentence_since = Some(now);
        self.take_turn(Input::Said { text, confidence }, tts).await;
    }

    async fn on_timer(&mut self, tts: &tokio::sync::mpsc::Sender<TtsCommand>) {
        let now = Instant::now();
        if self.close_due.is_some_and(|due| due <= now) {
            tracing::warn!(call_id = %self.call_sid, "twilio did not end the stream after the call update; closing it");
            self.finished = true;
            return;
        }
        if self.digits_due.is_some_and(|due| due <= now) {
            self.digits_due = None;
            let digits = std::mem::take(&mut self.digits);
            if !digits.is_empty() {
                self.take_turn(Input::Digits { digits }, tts).await;
            }
        }
        if self.no_input_due.is_some_and(|due| due <= now) {
            self.no_input_due = None;
            if self.heard.is_empty() && !self.playback.speaking() {
                self.take_turn(Input::NoInput, tts).await;
            }
        }
    }

    async fn take_turn(&mut self, input: Input, tts: &tokio::sync::mpsc::Sender<TtsCommand>) {
        if self.live.session.ended || self.ending.is_some() {
            return;
        }
        let turn = self
            .state
            .driver()
            .input_streaming(&mut self.live, input, self.state.now())
            .await;
        self.speak(turn, tts).await;
    }

    /// The next sentence of a knowledge answer, or its end (`None`).
    async fn on_answer(
        &mut self,
        sentence: Option<String>,
        tts: &tokio::sync::mpsc::Sender<TtsCommand>,
    ) {
        let mut out = Vec::new();
        match sentence {
            Some(text) => {
                self.playback
                    .answer_sentence(&text, &self.services.cache, &mut out);
                if let Some(since) = self.answer_sentence_since.take() {
                    self.state
                        .latencies()
                        .turn_to_answer_sentence
                        .record(since.elapsed());
                }
            }
            None => {
                self.answer = None;
                self.playback.answer_done(&mut out);
            }
        }
        self.perform(out, tts).await;
        if self.ending.is_some() && self.playback.idle() {
            self.end_call().await;
        }
    }

    /// Queues an agent turn for playback and notes how the call ends, if it does.
    async fn speak(&mut self, turn: AgentTurn, tts: &tokio::sync::mpsc::Sender<TtsCommand>) {
        self.turns += 1;
        let mut out = Vec::new();
        if self.answer.take().is_some() {
            // An earlier answer still being written when a new turn begins: it ends here.
            self.playback.answer_done(&mut out);
        }
        let slot = self
            .live
            .asked_slot(&self.state.driver().engine)
            .unwrap_or_else(|| "-".into());
        // The turn-end mark names the slot asked for, for logs and the local softphone; a turn
        // that ends the call does not wait for an answer.
        let ends_call = turn.ended() || self.live.session.ended;
        let turn_end = if ends_call {
            format!("end{}", self.turns)
        } else {
            format!("t{}:{slot}", self.turns)
        };
        let answer = turn.answer.as_ref().map(|a| (a.at, a.interruptible));
        self.playback
            .say(&turn.said, answer, turn_end, &self.services.cache, &mut out);
        self.answer = turn.answer.map(|a| a.sentences);
        self.perform(out, tts).await;
        self.saver.save(&self.live);
        if let Some(to) = &turn.transfer_to {
            self.ending = Some(Ending::Transfer(to.clone(), turn.whisper.clone()));
        } else if turn.hangup || self.live.session.ended {
            self.ending = Some(Ending::Hangup);
        }
        if self.ending.is_some() && self.playback.idle() {
            self.end_call().await;
        }
    }

    async fn on_tts(&mut self, event: TtsEvent) {
        let mut out = Vec::new();
        match event {
            TtsEvent::Audio(audio) => self.playback.tts_audio(audio, &mut out),
            TtsEvent::Flushed => self.playback.tts_flushed(&self.services.cache, &mut out),
            TtsEvent::Cleared => self.playback.tts_cleared(),
            TtsEvent::Closed { error } => {
                if self.live.session.ended && self.ending.is_none() {
                    return;
                }
                tracing::error!(call_id = %self.call_sid, error = ?error, "lost speech synthesis; handing the call to a person");
                self.hand_to_person().await;
                return;
            }
        }
        // TTS actions never ask for more synthesis, so no TTS sender is needed here.
        self.send_to_twilio(out).await;
    }

    async fn perform(&mut self, actions: Vec<Action>, tts: &tokio::sync::mpsc::Sender<TtsCommand>) {
        let mut to_twilio = Vec::with_capacity(actions.len());
        for action in actions {
            match action {
                Action::Synthesize(text) => {
                    if tts.send(TtsCommand::Speak(text)).await.is_err()
                        || tts.send(TtsCommand::Flush).await.is_err()
                    {
                        tracing::warn!(call_id = %self.call_sid, "synthesis session is gone");
                    }
                }
                Action::ClearTts => {
                    let _ = tts.send(TtsCommand::Clear).await;
                }
                other => to_twilio.push(other),
            }
        }
        self.send_to_twilio(to_twilio).await;
    }

    /// Writes media, marks and clears to Twilio in order, with one flush.
    async fn send_to_twilio(&mut self, actions: Vec<Action>) {
        if actions.is_empty() {
            return;
        }
        let sid = &self.stream_sid;
        let mut frames = Vec::new();
        let mut has_audio = false;
        for action in actions {
            match action {
                Action::Media(audio) => {
                    has_audio = true;
                    for chunk in audio.chunks(frontdesk_telephony::audio::mulaw::FRAME_BYTES) {
                        frames.push(media_stream::media(sid, chunk));
                    }
                }
                Action::Mark(name) => frames.push(media_stream::mark(sid, &name)),
                Action::Clear => frames.push(media_stream::clear(sid)),
                Action::Synthesize(_) | Action::ClearTts => {}
            }
        }
        for frame in frames {
            if self.sink.feed(Message::Text(frame.into())).await.is_err() {
                self.finished = true;
                return;
            }
        }
        if self.sink.flush().await.is_err() {
            self.finished = true;
        }
        if has_audio && let Some(since) = self.answer_pending_since.take() {
            let took = since.elapsed();
            self.state.latencies().turn_to_first_audio.record(took);
            crate::telemetry::turn("stream", took);
        }
    }
}

/// The next sentence from `answer`; never ready when there is no answer.
async fn next_sentence(answer: &mut Option<mpsc::Receiver<String>>) -> Option<String> {
    match answer {
        Some(sentences) => sentences.recv().await,
        None => std::future::pending().await,
    }
}
