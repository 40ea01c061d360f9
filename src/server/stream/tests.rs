//! The stream call loop over channels: frames to and from "Twilio" are in-process channels and
//! the speech providers are channel sessions the test drives, so barge-in and silence timers are
//! tested in milliseconds without sockets (the loopback tests in `tests/integration` cover the
//! real WebSocket, Deepgram and Twilio wire formats).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use axum::extract::ws::Message;
use futures_util::Stream;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::timeout;

use super::token::{self, BoundCall};
use super::{StreamServices, call};
use crate::call::CallDriver;
use crate::project::{ProjectPaths, load_engine};
use crate::server::sessions::MemorySessions;
use crate::server::{AppState, Mode, ServerConfig};
use crate::speech::{
    ProviderHealth, SpeechError, SpeechToText, SttCommand, SttEvent, SttOptions, SttSession,
    TextToSpeech, TtsCommand, TtsEvent, TtsOptions, TtsSession,
};
use crate::twilio::rest::{TwilioRest, TwilioRestConfig};

const AUTH_TOKEN: &str = "channel-test-token";
const ACCOUNT_SID: &str = "AC00000000000000000000000000000000";
const CALL_SID: &str = "CA-channel-1";
const CALLER: &str = "+12145550123";
/// 200 ms of μ-law silence: long enough that a line is still playing when the caller cuts in.
const LINE_AUDIO: usize = 1600;

fn health() -> ProviderHealth {
    ProviderHealth {
        provider: "channel",
        ok: true,
        detail: String::new(),
    }
}

/// Recognition whose events the test sends.
struct ChannelStt {
    events: Mutex<Option<mpsc::Sender<mpsc::Sender<SttEvent>>>>,
}

#[async_trait]
impl SpeechToText for ChannelStt {
    fn name(&self) -> &'static str {
        "channel"
    }

    async fn open(&self, _options: &SttOptions) -> Result<SttSession, SpeechError> {
        let (commands, mut audio) = mpsc::channel::<SttCommand>(1024);
        let (event_tx, events) = mpsc::channel(64);
        // The caller's audio is not listened to: the test says what was "heard".
        tokio::spawn(async move { while audio.recv().await.is_some() {} });
        let hand_over = self.events.lock().ok().and_then(|mut slot| slot.take());
        if let Some(hand_over) = hand_over {
            let _ = hand_over.send(event_tx).await;
        }
        Ok(SttSession { commands, events })
    }

    async fn health(&self) -> ProviderHealth {
        health()
    }
}

/// A voice that logs what it is asked to say and answers each flush with a line of silence.
struct ChannelTts {
    said: Arc<Mutex<Vec<String>>>,
}

impl ChannelTts {
    fn log(&self, text: &str) {
        if let Ok(mut said) = self.said.lock() {
            said.push(text.to_string());
        }
    }
}

#[async_trait]
impl TextToSpeech for ChannelTts {
    fn name(&self) -> &'static str {
        "channel"
    }

    async fn open(&self, _options: &TtsOptions) -> Result<TtsSession, SpeechError> {
        let (commands, mut incoming) = mpsc::channel::<TtsCommand>(64);
        let (events, event_rx) = mpsc::channel(64);
        let said = self.said.clone();
        tokio::spawn(async move {
            while let Some(command) = incoming.recv().await {
                let reply = match command {
                    TtsCommand::Speak(text) => {
                        if let Ok(mut said) = said.lock() {
                            said.push(text);
                        }
                        continue;
                    }
                    TtsCommand::Flush => {
                        vec![TtsEvent::Audio(vec![0xFF; LINE_AUDIO]), TtsEvent::Flushed]
                    }
                    TtsCommand::Clear => vec![TtsEvent::Cleared],
                    TtsCommand::Close => break,
                };
                for event in reply {
                    if events.send(event).await.is_err() {
                        return;
                    }
                }
            }
        });
        Ok(TtsSession {
            commands,
            events: event_rx,
        })
    }

    async fn synthesize(&self, text: &str, _options: &TtsOptions) -> Result<Vec<u8>, SpeechError> {
        self.log(text);
        Ok(vec![0xFF; LINE_AUDIO])
    }

    async fn health(&self) -> ProviderHealth {
        health()
    }
}

/// One call's loop on channels, with the test's ends of them.
struct ChannelCall {
    /// Frames "Twilio" sends.
    to_server: mpsc::UnboundedSender<Message>,
    /// Frames the server sends to "Twilio".
    from_server: mpsc::UnboundedReceiver<Message>,
    /// Recognition events the test makes up.
    heard: mpsc::Sender<SttEvent>,
    /// Every line the agent had synthesized, in order.
    said: Arc<Mutex<Vec<String>>>,
    stream_sid: String,
    /// Holds the call's SQLite file for as long as the call.
    _dir: tempfile::TempDir,
}

impl ChannelCall {
    async fn start() -> ChannelCall {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let engine = Arc::new(
            load_engine(&ProjectPaths::at_root(root), crate::tools::catalog())
                .expect("the shipped project loads"),
        );
        let dir = tempfile::tempdir().expect("temporary directory");
        let database = dir.path().join("calls.db");
        let storage = crate::storage::open(&database.to_string_lossy())
            .await
            .expect("sqlite opens");
        let mut config = ServerConfig::local("127.0.0.1:0".parse().expect("address"), AUTH_TOKEN);
        config.mode = Mode::Stream;
        config.account_sid = ACCOUNT_SID.to_string();
        config.fixed_now = Some("2026-06-01T09:12".parse().expect("date"));
        config.stream_no_input = Duration::from_millis(300);
        let driver = CallDriver::new(engine.clone(), storage);
        let said = Arc::new(Mutex::new(Vec::new()));
        let (hand_over, mut handed) = mpsc::channel(1);
        let stt = ChannelStt {
            events: Mutex::new(Some(hand_over)),
        };
        let tts = ChannelTts { said: said.clone() };
        // Never reached: these calls neither transfer nor hang up through the REST API.
        let rest = TwilioRest::new(TwilioRestConfig {
            base_url: "http://127.0.0.1:9".into(),
            account_sid: ACCOUNT_SID.into(),
            auth_token: AUTH_TOKEN.into(),
        })
        .expect("rest client");
        let services = StreamServices::new(
            Arc::new(stt),
            Arc::new(tts),
            "channel-voice",
            Arc::new(rest),
            engine.business(),
        );
        let state = AppState::new(
            driver,
            Arc::new(MemorySessions::default()),
            config,
            Some(services.clone()),
        )
        .expect("state");

        let (to_server, incoming) = mpsc::unbounded_channel::<Message>();
        let (outgoing, from_server) = mpsc::unbounded_channel::<Message>();
        let frames = Box::pin(incoming_frames(incoming));
        let sink = futures_util::sink::unfold(outgoing, |outgoing, message: Message| async move {
            outgoing.send(message).map_err(axum::Error::new)?;
            Ok::<_, axum::Error>(outgoing)
        });
        let token = {
            let bound = BoundCall {
                call_sid: CALL_SID,
                caller: CALLER,
                called: "+12145550100",
            };
            let expires = jiff::Timestamp::now()
                .checked_add(jiff::SignedDuration::from_secs(60))
                .expect("expiry");
            state.stream_key().issue(&bound, expires)
        };
        tokio::spawn(call::run_on(Box::pin(sink), frames, state, services));

        let stream_sid = "MZ-channel-1".to_string();
        let send = |frame: Value| {
            to_server
                .send(Message::Text(frame.to_string().into()))
                .expect("the call is running")
        };
        send(json!({ "event": "connected", "protocol": "Call", "version": "1.0.0" }));
        send(json!({
            "event": "start",
            "sequenceNumber": "1",
            "start": {
                "streamSid": stream_sid, "callSid": CALL_SID, "accountSid": ACCOUNT_SID,
                "tracks": ["inbound"],
                "customParameters": {
                    "From": CALLER, "To": "+12145550100", token::PARAMETER: token,
                },
                "mediaFormat": { "encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1 },
            },
            "streamSid": stream_sid,
        }));
        let heard = timeout(Duration::from_secs(5), handed.recv())
            .await
            .expect("recognition opened in time")
            .expect("recognition opened");
        ChannelCall {
            to_server,
            from_server,
            heard,
            said,
            stream_sid,
            _dir: dir,
        }
    }

    /// The next frame the server sent, as JSON.
    async fn next_frame(&mut self) -> Value {
        let frame = timeout(Duration::from_secs(5), self.from_server.recv())
            .await
            .expect("a frame in time")
            .expect("the call is running");
        match frame {
            Message::Text(text) => serde_json::from_str(&text).expect("JSON frame"),
            other => json!({ "event": "other", "frame": format!("{other:?}") }),
        }
    }

    /// Frames until one with this event; returns it.
    async fn until(&mut self, event: &str) -> Value {
        loop {
            let frame = self.next_frame().await;
            if frame["event"] == event {
                return frame;
            }
        }
    }

    /// Twilio reports that a mark's audio has played.
    fn played(&self, mark: &Value) {
        let echo = json!({ "event": "mark", "streamSid": self.stream_sid, "mark": mark["mark"] });
        let _ = self.to_server.send(Message::Text(echo.to_string().into()));
    }

    /// Plays along as Twilio does (every mark echoed once its audio "played") until the agent
    /// has had a line containing `words` synthesized and sent.
    async fn play_until_said(&mut self, words: &str) {
        loop {
            let frame = self.next_frame().await;
            if frame["event"] == "mark" {
                self.played(&frame);
            }
            if frame["event"] == "media" && self.said().iter().any(|l| l.contains(words)) {
                return;
            }
        }
    }

    fn said(&self) -> Vec<String> {
        self.said.lock().map(|s| s.clone()).unwrap_or_default()
    }
}

fn incoming_frames(
    incoming: mpsc::UnboundedReceiver<Message>,
) -> impl Stream<Item = Result<Message, axum::Error>> + Send {
    futures_util::stream::unfold(incoming, |mut incoming| async move {
        incoming.recv().await.map(|m| (Ok(m), incoming))
    })
}

#[tokio::test]
async fn the_caller_talking_over_the_greeting_clears_its_audio() {
    let mut call = ChannelCall::start().await;
    let media = call.until("media").await;
    assert_eq!(media["streamSid"], json!(call.stream_sid));
    // The greeting has not finished playing (no mark came back) when the caller speaks.
    call.heard.send(SttEvent::SpeechStarted).await.unwrap();
    let clear = call.until("clear").await;
    assert_eq!(clear["streamSid"], json!(call.stream_sid));
}

#[tokio::test]
async fn silence_after_the_agent_has_spoken_is_no_input() {
    let mut call = ChannelCall::start().await;
    // Once the greeting has played, 300 ms of silence (`stream_no_input`) and the agent asks
    // again.
    call.play_until_said("didn't hear anything").await;
}

#[tokio::test]
async fn words_heard_are_a_turn_and_the_agent_answers() {
    let mut call = ChannelCall::start().await;
    let end_of_greeting = call.until("mark").await;
    call.played(&end_of_greeting);
    call.heard
        .send(SttEvent::Final {
            text: "my ac is blowing warm air".into(),
            confidence: 0.9,
            end_of_turn: true,
        })
        .await
        .unwrap();
    call.until("media").await;
    let said = call.said();
    assert!(
        said.iter().any(|line| line.contains("first and last name")),
        "{said:?}"
    );
}
