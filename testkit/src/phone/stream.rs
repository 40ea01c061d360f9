//! Stream mode from Twilio's side: open the Media Stream with a signed upgrade, send the
//! caller's audio in real-time 20 ms frames, play the agent's audio at real time, echo marks
//! when their audio has played, honour `clear`, and end the stream when the server updates the
//! call over REST.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::{MissedTickBehavior, interval};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use super::lost_stream::{AfterLoss, RepeatAfterLoss, after_lost_stream};
use super::stream_line::{Line, Queued, act};
use super::{
    Caller, PhoneEnding, PhoneLine, PhoneReport, Speaker, base_params, hear_whisper,
    post_completed, post_signed, stream_sid_for,
};
use crate::fake_deepgram::{FakeDeepgram, FakeSttEvent, FakeSttKind, MarkScanner};
use crate::fake_twilio_rest::FakeTwilioRest;
use frontdesk_engine::script::CallerAction;
use frontdesk_telephony::signature;
use frontdesk_telephony::twiml::{self, Connect, Stream, Verb};

/// How the phone turns the caller's words into audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallerVoice {
    /// A tone as long as the words would take to say: cheap, for load and tests with the fake
    /// recognizer (which hears energy, not words).
    Tone,
    /// Real speech from espeak-ng.
    Espeak,
}

/// The fakes a stream call talks to besides the server.
#[derive(Clone)]
pub struct StreamKit {
    /// The fake recognizer the server uses: told what the caller is about to say.
    pub deepgram: Option<Arc<FakeDeepgram>>,
    /// The fake REST API the server uses for transfers and hang-ups.
    pub rest: Option<Arc<FakeTwilioRest>>,
    pub voice: CallerVoice,
    /// A call still going after this long is cut off.
    pub limit: Duration,
    /// Length of the caller's speech per character (a real voice takes about 60 ms).
    pub ms_per_char: u32,
}

/// Talk over the agent: on agent turn `on_turn` (1 = the greeting), `after` its first audio
/// arrived, say `text`.
#[derive(Debug, Clone)]
pub struct BargeIn {
    pub on_turn: u32,
    pub after: Duration,
    pub text: String,
}

/// Posts the incoming-call webhook and returns the `<Stream>` the server connects: its URL,
/// and the `<Parameter>`s Twilio hands back in the `start` frame's `customParameters`.
pub async fn answer_stream(
    http: &reqwest::Client,
    phone: &PhoneLine,
    call_sid: &str,
) -> Result<Stream, String> {
    answer_stream_hearing(http, phone, call_sid)
        .await
        .map(|(connect, _)| connect.stream)
}

/// Like [`answer_stream`], following what Twilio would before the stream: `<Say>` lines (a
/// recording notice) and `<Redirect>`s. Returns the `<Connect>` and the lines said before it.
pub async fn answer_stream_hearing(
    http: &reqwest::Client,
    phone: &PhoneLine,
    call_sid: &str,
) -> Result<(Connect, Vec<String>), String> {
    follow_to_stream(
        http,
        phone,
        call_sid,
        format!("{}/twilio/voice", phone.server),
    )
    .await
}

/// Posts to `url` as Twilio does for a call, following `<Say>`s and `<Redirect>`s to the
/// `<Connect>` they lead to.
async fn follow_to_stream(
    http: &reqwest::Client,
    phone: &PhoneLine,
    call_sid: &str,
    mut url: String,
) -> Result<(Connect, Vec<String>), String> {
    let mut said = Vec::new();
    // A few redirects at most before the stream; more is a server in a loop.
    for _ in 0..4 {
        let params = base_params(phone, call_sid, "ringing");
        let body = post_signed(http, phone, &url, &params).await?;
        let verbs = twiml::parse(&body).map_err(|e| format!("bad TwiML: {e}"))?;
        let mut next = None;
        for verb in verbs {
            match verb {
                Verb::Connect(connect) => return Ok((connect, said)),
                Verb::Say(say) => said.push(say.text),
                Verb::Redirect { url } => {
                    next = Some(url);
                    break;
                }
                _ => {}
            }
        }
        match next {
            Some(redirect) => url = redirect,
            None => break,
        }
    }
    Err("the server did not connect a media stream: it runs in gather mode".into())
}

/// The `start` frame Twilio sends for `stream`: its parameters echoed as `customParameters`,
/// every value a string (docs/protocols.md §1.2).
pub fn start_frame(account_sid: &str, call_sid: &str, stream: &Stream) -> Value {
    let stream_sid = stream_sid_for(call_sid);
    let custom: serde_json::Map<String, Value> = stream
        .parameters
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    json!({
        "event": "start",
        "sequenceNumber": "1",
        "streamSid": stream_sid,
        "start": {
            "accountSid": account_sid,
            "streamSid": stream_sid,
            "callSid": call_sid,
            "tracks": ["inbound"],
            "mediaFormat": { "encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1 },
            "customParameters": custom,
        },
    })
}

/// Places one call in stream mode and plays `caller` until the call ends.
pub async fn stream_call(
    http: &reqwest::Client,
    line: &PhoneLine,
    caller: &mut dyn Caller,
    call_sid: &str,
    kit: &StreamKit,
    barge_in: Option<BargeIn>,
) -> PhoneReport {
    let began = Instant::now();
    let mut report = PhoneReport::new(call_sid);
    let result = run_stream(http, line, caller, call_sid, kit, barge_in, &mut report).await;
    if let Err(error) = result {
        report.ending = PhoneEnding::Failed(error);
    }
    let seconds = began.elapsed().max(Duration::from_secs(1)).as_secs();
    post_completed(http, line, call_sid, seconds).await;
    report
}

async fn run_stream(
    http: &reqwest::Client,
    phone: &PhoneLine,
    caller: &mut dyn Caller,
    call_sid: &str,
    kit: &StreamKit,
    mut barge_in: Option<BargeIn>,
    report: &mut PhoneReport,
) -> Result<(), String> {
    let (mut connect, said_first) = answer_stream_hearing(http, phone, call_sid).await?;
    for text in said_first {
        caller.heard(&text);
        report.transcript.push((Speaker::Agent, text));
    }
    let mut caller = RepeatAfterLoss::new(caller);
    loop {
        let this_call = ThisCall {
            http,
            phone,
            call_sid,
            kit,
        };
        let played = play_stream(
            &this_call,
            &mut caller,
            &mut barge_in,
            report,
            &connect.stream,
        )
        .await?;
        let Played::Lost(why) = played else {
            return Ok(());
        };
        // What the lost stream's recognizer was told to expect was never heard.
        if let Some(deepgram) = &kit.deepgram {
            deepgram.forget(call_sid);
        }
        match after_lost_stream(http, phone, call_sid, connect.action.as_deref(), &why).await? {
            AfterLoss::Stream(next, said) => {
                for text in said {
                    caller.heard(&text);
                    report.transcript.push((Speaker::Agent, text));
                }
                report.reconnects += 1;
                caller.lost();
                connect = next;
            }
            AfterLoss::Over(ending) => {
                report.ending = ending;
                return Ok(());
            }
        }
    }
}

/// How one stream of a call ended.
enum Played {
    /// The call is over (or failed); the report says how.
    Over,
    /// The socket closed or broke with no call update: Twilio goes to the `<Connect>` action.
    Lost(String),
}

/// Who places a call, to which server, with which fakes.
struct ThisCall<'a> {
    http: &'a reqwest::Client,
    phone: &'a PhoneLine,
    call_sid: &'a str,
    kit: &'a StreamKit,
}

/// Plays one Media Stream of a call until the call ends or the stream is lost.
async fn play_stream(
    this_call: &ThisCall<'_>,
    caller: &mut dyn Caller,
    barge_in: &mut Option<BargeIn>,
    report: &mut PhoneReport,
    stream: &Stream,
) -> Result<Played, String> {
    let ThisCall {
        http,
        phone,
        call_sid,
        kit,
    } = *this_call;
    let mut request = stream
        .url
        .as_str()
        .into_client_request()
        .map_err(|e| format!("stream URL {}: {e}", stream.url))?;
    let signed = signature::compute(&phone.auth_token, &stream.url, &[]);
    request.headers_mut().insert(
        "X-Twilio-Signature",
        signed.parse().map_err(|_| "signature header".to_string())?,
    );
    let socket = match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => socket,
        Err(e) => return Ok(Played::Lost(format!("opening {}: {e}", stream.url))),
    };
    let (mut sink, mut frames) = socket.split();

    let mut updates = match &kit.rest {
        Some(rest) => rest.subscribe(call_sid),
        None => mpsc::unbounded_channel().1,
    };
    let mut heard = match &kit.deepgram {
        Some(deepgram) => deepgram.events_for(call_sid),
        None => mpsc::unbounded_channel().1,
    };

    // The agent's words, where the fake Deepgram spoke them (see `fake_deepgram::spoken`).
    let mut marks = MarkScanner::default();
    let stream_sid = stream_sid_for(call_sid);
    let mut line = Line {
        stream_sid: stream_sid.clone(),
        seq: 0,
        chunk: 0,
        mic: VecDeque::new(),
        speaker: VecDeque::new(),
        head_played: 0,
        mid_line: false,
        starved: false,
    };
    // A send that fails means the socket is gone: the stream is lost, not the call.
    macro_rules! send {
        ($sent:expr) => {
            if let Err(e) = $sent {
                return Ok(Played::Lost(format!("sending on the media stream: {e}")));
            }
        };
    }
    send!(
        sink.send(Message::Text(
            json!({"event":"connected","protocol":"Call","version":"1.0.0"})
                .to_string()
                .into(),
        ))
        .await
    );
    line.seq += 1;
    let start = start_frame(&phone.account_sid, call_sid, stream);
    send!(sink.send(Message::Text(start.to_string().into())).await);

    let deadline = tokio::time::Instant::now() + kit.limit;
    let mut ticker = interval(Duration::from_millis(20));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Burst);
    let mut next_tick = tokio::time::Instant::now();
    // Agent turns seen (turn-end marks received) and when the current one's audio began.
    let mut turns_received = 0u32;
    let mut turn_audio_began: Option<Instant> = None;
    let mut barge_at: Option<Instant> = None;
    let mut caller_speaking_since: Option<Instant> = None;
    // The recognizer's first speech cue and the first clear after the caller began talking.
    let mut cue: Option<(Instant, u64)> = None;
    let mut cleared: Option<(Instant, u64)> = None;
    let mut final_at: Option<Instant> = None;

    loop {
        tokio::select! {
            // What the server already sent is read before the next tick plays audio, so a
            // busy phone does not mistake its own lag for late audio.
            biased;
            frame = frames.next() => {
                let text = match frame {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Close(_))) | None => {
                        report.ending = match updates.try_recv() {
                            Ok(update) => ending_of(&update.twiml, update.status.as_deref()),
                            Err(_) => return Ok(Played::Lost("the server closed the stream".into())),
                        };
                        break;
                    }
                    Some(Ok(Message::Binary(_))) => {
                        return Err("the server sent a binary frame (Twilio warning 31950)".into());
                    }
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => return Ok(Played::Lost(format!("media stream: {e}"))),
                };
                let message: Value = serde_json::from_str(&text)
                    .map_err(|e| format!("the server sent invalid JSON (Twilio error 31924): {e}"))?;
                if message["streamSid"] != stream_sid.as_str() {
                    return Err(format!("message for another stream: {text}"));
                }
                match message["event"].as_str() {
                    Some("media") => {
                        let payload = message["media"]["payload"].as_str().unwrap_or_default();
                        let audio = BASE64.decode(payload).map_err(|e| format!("media payload: {e}"))?;
                        // Frames are read first (biased): a final transcript already waiting
                        // came before this answer and starts its latency.
                        while let Ok(event) = heard.try_recv() {
                            note_heard(&event, caller_speaking_since, &mut cue, cleared, report, &mut final_at);
                        }
                        if let Some(at) = final_at.take() {
                            report.turn_latencies.push(at.elapsed());
                            caller.answered_after(at.elapsed());
                        }
                        if let Some(deepgram) = &kit.deepgram {
                            for id in marks.feed(&audio) {
                                if let Some(text) = deepgram.spoken_text(id) {
                                    caller.heard(&text);
                                    report.transcript.push((Speaker::Agent, text));
                                }
                            }
                        }
                        if turn_audio_began.is_none() {
                            turn_audio_began = Some(Instant::now());
                            if let Some(plan) = &barge_in
                                && plan.on_turn == turns_received + 1
                            {
                                barge_at = Some(Instant::now() + plan.after);
                            }
                        }
                        if line.starved {
                            // The line went on after the playout ran dry: this audio was late.
                            line.starved = false;
                            report.late_frames += 1;
                        }
                        line.speaker.push_back(Queued::Audio(audio));
                    }
                    Some("mark") => {
                        let Some(name) = message["mark"]["name"].as_str() else {
                            return Err("a mark without a name (Twilio error 31924)".into());
                        };
                        // A mark after a dry playout: the line had simply ended.
                        line.starved = false;
                        if is_turn_end(name) || name.starts_with("end") {
                            // A turn closed with no audio since the caller's last words: that
                            // answer was silent, so there is no latency to measure for it.
                            final_at = None;
                        }
                        if is_turn_end(name) {
                            turns_received += 1;
                            turn_audio_began = None;
                        }
                        line.speaker.push_back(Queued::Mark(name.to_string()));
                    }
                    Some("clear") => {
                        report.clears += 1;
                        if caller_speaking_since.is_some() && cleared.is_none() {
                            cleared = Some((Instant::now(), report.frames_sent));
                            measure_barge_in(cue, cleared, report);
                        }
                        for name in line.clear() {
                            let echo = line.message("mark", json!({ "mark": { "name": name } }));
                            send!(sink.feed(echo).await);
                        }
                        send!(sink.flush().await);
                    }
                    other => return Err(format!("unknown event {other:?} (Twilio error 31924)")),
                }
            }
            event = heard.recv(), if kit.deepgram.is_some() => {
                let Some(event) = event else { continue };
                note_heard(&event, caller_speaking_since, &mut cue, cleared, report, &mut final_at);
            }
            update = updates.recv(), if kit.rest.is_some() => {
                let Some(update) = update else { continue };
                report.ending = ending_of(&update.twiml, update.status.as_deref());
                if let Some(url) = update.twiml.as_deref().and_then(whisper_url) {
                    report.whisper = hear_whisper(http, phone, call_sid, &url).await;
                }
                // Updating a call ends its <Connect><Stream>: Twilio stops and closes.
                let stop = line.message("stop", json!({ "stop": {
                    "accountSid": phone.account_sid, "callSid": call_sid }}));
                let _ = sink.send(stop).await;
                let _ = sink.close().await;
                return Ok(Played::Over);
            }
            tick = ticker.tick() => {
                // Ticks that fire well after their slot mean this phone (or the machine)
                // could not keep real time.
                if tick.duration_since(next_tick) > Duration::from_millis(20) {
                    report.late_ticks += 1;
                }
                next_tick = tick + Duration::from_millis(20);
                if tokio::time::Instant::now() > deadline {
                    report.ending = PhoneEnding::TimedOut;
                    break;
                }
                let frame = line.media_frame();
                send!(sink.feed(frame).await);
                report.frames_sent += 1;
                if line.mic.is_empty() {
                    caller_speaking_since = None;
                }
                for name in line.play_frame() {
                    let echo = line.message("mark", json!({ "mark": { "name": name } }));
                    send!(sink.feed(echo).await);
                    if is_turn_end(&name) {
                        // The agent finished and waits: the caller answers.
                        match caller.next(slot_of_mark(&name)) {
                            CallerAction::Hangup => {
                                report.transcript.push((Speaker::Caller, "(hangs up)".into()));
                                report.ending = PhoneEnding::CallerHungUp;
                                let stop = line.message("stop", json!({ "stop": {
                                    "accountSid": phone.account_sid, "callSid": call_sid }}));
                                let _ = sink.send(stop).await;
                                let _ = sink.close().await;
                                return Ok(Played::Over);
                            }
                            action => {
                                for message in act(action, &mut line, kit, call_sid, report).await {
                                    send!(sink.feed(message).await);
                                }
                                caller_speaking_since = (!line.mic.is_empty()).then(Instant::now);
                                (cue, cleared) = (None, None);
                            }
                        }
                    }
                }
                if let Some(at) = barge_at
                    && Instant::now() >= at
                    && let Some(plan) = barge_in.take()
                {
                    barge_at = None;
                    let messages = act(CallerAction::Say(plan.text), &mut line, kit, call_sid, report).await;
                    for message in messages {
                        send!(sink.feed(message).await);
                    }
                    caller_speaking_since = Some(Instant::now());
                    (cue, cleared) = (None, None);
                }
                send!(sink.flush().await);
            }
        }
    }
    let _ = sink.close().await;
    Ok(Played::Over)
}

/// Once both the speech cue and the clear it caused are known, records how far apart they were.
/// What the recognizer reported: a speech cue while the agent talks (barge-in), or the final
/// transcript a turn's latency counts from.
fn note_heard(
    event: &FakeSttEvent,
    caller_speaking_since: Option<Instant>,
    cue: &mut Option<(Instant, u64)>,
    cleared: Option<(Instant, u64)>,
    report: &mut PhoneReport,
    final_at: &mut Option<Instant>,
) {
    match event.kind {
        FakeSttKind::SpeechStarted | FakeSttKind::Interim => {
            if let Some(since) = caller_speaking_since
                && cue.is_none()
                && event.at >= since
            {
                *cue = Some((event.at, report.frames_sent));
                measure_barge_in(*cue, cleared, report);
            }
        }
        FakeSttKind::Final if !event.text.is_empty() => *final_at = Some(event.at),
        _ => {}
    }
}

fn measure_barge_in(
    cue: Option<(Instant, u64)>,
    cleared: Option<(Instant, u64)>,
    report: &mut PhoneReport,
) {
    if let (Some((cue_at, cue_frame)), Some((clear_at, clear_frame))) = (cue, cleared) {
        report
            .barge_in_latencies
            .push(clear_at.saturating_duration_since(cue_at));
        report
            .barge_in_frames
            .push(clear_frame.saturating_sub(cue_frame));
    }
}

/// Turn-end marks are named `t<turn>:<slot>` by the server.
fn is_turn_end(name: &str) -> bool {
    name.starts_with('t') && name.contains(':')
}

fn slot_of_mark(name: &str) -> Option<&str> {
    name.split_once(':')
        .map(|(_, slot)| slot)
        .filter(|slot| *slot != "-")
}

/// What a REST update did to the call.
/// The whisper URL of a transfer in a REST update, if it has one.
fn whisper_url(twiml_text: &str) -> Option<String> {
    twiml::parse(twiml_text)
        .ok()?
        .into_iter()
        .find_map(|verb| match verb {
            Verb::Dial(dial) => dial.number_url,
            _ => None,
        })
}

fn ending_of(twiml_text: &Option<String>, status: Option<&str>) -> PhoneEnding {
    if let Some(text) = twiml_text {
        match twiml::parse(text) {
            Ok(verbs) => {
                for verb in verbs {
                    if let Verb::Dial(dial) = verb {
                        return PhoneEnding::Transferred(dial.number);
                    }
                }
                return PhoneEnding::AgentHungUp;
            }
            Err(error) => {
                return PhoneEnding::Failed(format!("bad TwiML in a REST update: {error}"));
            }
        }
    }
    match status {
        Some("completed") | Some("canceled") => PhoneEnding::AgentHungUp,
        other => PhoneEnding::Failed(format!("unexpected REST update status {other:?}")),
    }
}
