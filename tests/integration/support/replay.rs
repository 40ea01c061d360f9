//! Replays a caller script through a real server on loopback, as Twilio would carry it, and
//! reads back what the server stored: the end-to-end counterpart of `frontdesk simulate`.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use frontdesk_engine::Engine;
use serde_json::Value;
use tokio::net::TcpListener;

use frontdesk::call::CallDriver;
use frontdesk::llm::Model;
use frontdesk::server::sessions::{MemorySessions, SessionStore};
use frontdesk::server::stream::StreamServices;
use frontdesk::server::{AppState, Mode, RunningServer, ServerConfig};
use frontdesk::simulate::{DATABASE_FILE, open_script_store};
use frontdesk::speech::deepgram_stt::{DeepgramStt, DeepgramSttConfig};
use frontdesk::speech::deepgram_tts::{DeepgramTts, DeepgramTtsConfig};
use frontdesk::storage::Storage;
use frontdesk::tools::describe_appointment;
use frontdesk::twilio::rest::{TwilioRest, TwilioRestConfig};
use frontdesk_engine::script::{Script, ScriptCursor};
use frontdesk_testkit::fake_deepgram::{FakeDeepgram, FakeDeepgramOptions};
use frontdesk_testkit::fake_twilio_rest::FakeTwilioRest;
use frontdesk_testkit::phone::{
    BargeIn, CallerVoice, PhoneLine, PhoneReport, StreamKit, gather_call, http_client,
    new_call_sid, stream_call,
};

pub const AUTH_TOKEN: &str = "test-auth-token";
pub const ACCOUNT_SID: &str = "AC0123456789abcdef0123456789abcdef";
const DEEPGRAM_KEY: &str = "test-deepgram-key";

/// Speeds for replays: fast enough to run every script, slow enough to be real-time streams.
#[derive(Debug, Clone)]
pub struct ReplayPace {
    /// Fake TTS audio per character of agent text.
    pub agent_ms_per_char: u32,
    /// Caller speech per character.
    pub caller_ms_per_char: u32,
    /// Silence before the server hears "no input".
    pub no_input: Duration,
    /// How long a shutdown waits for live calls.
    pub drain_limit: Duration,
    /// A call with no webhook or stream frame for this long is no longer live.
    pub call_idle_limit: Duration,
}

impl Default for ReplayPace {
    fn default() -> ReplayPace {
        ReplayPace {
            agent_ms_per_char: 4,
            caller_ms_per_char: 10,
            no_input: Duration::from_millis(800),
            drain_limit: Duration::from_secs(1),
            call_idle_limit: Duration::from_secs(180),
        }
    }
}

/// A server with its own SQLite file and, in stream mode, its own fakes.
pub struct TestServer {
    pub server: RunningServer,
    pub line: PhoneLine,
    pub kit: Option<StreamKit>,
    pub storage: Arc<dyn Storage>,
    pub engine: Arc<Engine>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    /// Starts a server for `script` (its clock and its given appointments).
    pub async fn start(
        engine: Arc<Engine>,
        script: &Script,
        mode: Mode,
        pace: &ReplayPace,
    ) -> Result<TestServer> {
        TestServer::start_with(
            engine,
            script,
            mode,
            pace,
            Arc::new(MemorySessions::new()),
            None,
        )
        .await
    }

    /// Like [`TestServer::start`], keeping Gather sessions in `sessions`.
    pub async fn start_with(
        engine: Arc<Engine>,
        script: &Script,
        mode: Mode,
        pace: &ReplayPace,
        sessions: Arc<dyn SessionStore>,
        model: Option<Arc<Model>>,
    ) -> Result<TestServer> {
        let keep = |driver, _: &Arc<dyn Storage>| driver;
        TestServer::launch(engine, script, mode, pace, sessions, model, |_| {}, keep).await
    }

    /// A gather-mode server whose driver `fit` has changed (given the server's storage).
    pub async fn start_fitted(
        engine: Arc<Engine>,
        script: &Script,
        fit: impl FnOnce(CallDriver, &Arc<dyn Storage>) -> CallDriver,
    ) -> Result<TestServer> {
        TestServer::start_configured(engine, script, |_| {}, fit).await
    }

    /// Like [`TestServer::start_fitted`], with the server's configuration changed by
    /// `configure` too.
    pub async fn start_configured(
        engine: Arc<Engine>,
        script: &Script,
        configure: impl FnOnce(&mut ServerConfig),
        fit: impl FnOnce(CallDriver, &Arc<dyn Storage>) -> CallDriver,
    ) -> Result<TestServer> {
        let sessions = Arc::new(MemorySessions::new());
        let pace = ReplayPace::default();
        let mode = Mode::Gather;
        TestServer::launch(engine, script, mode, &pace, sessions, None, configure, fit).await
    }

    // Each test builder fixes some of these; a struct for them would only be unpacked here.
    #[allow(clippy::too_many_arguments)]
    async fn launch(
        engine: Arc<Engine>,
        script: &Script,
        mode: Mode,
        pace: &ReplayPace,
        sessions: Arc<dyn SessionStore>,
        model: Option<Arc<Model>>,
        configure: impl FnOnce(&mut ServerConfig),
        fit: impl FnOnce(CallDriver, &Arc<dyn Storage>) -> CallDriver,
    ) -> Result<TestServer> {
        let dir = tempfile::tempdir().context("temporary directory")?;
        let storage = open_script_store(&engine, script, dir.path(), &script.name).await?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let mut config = ServerConfig::local(listener.local_addr()?, AUTH_TOKEN);
        config.mode = mode;
        config.fixed_now = Some(script.now);
        config.stream_no_input = pace.no_input;
        config.drain_limit = pace.drain_limit;
        config.call_idle_limit = pace.call_idle_limit;
        config.account_sid = ACCOUNT_SID.to_string();
        configure(&mut config);
        let driver = CallDriver::new(engine.clone(), storage.clone())
            .with_model(model)
            .with_tool_deadline(config.tool_deadline);
        let driver = fit(driver, &storage);
        let (stream, kit) = match mode {
            Mode::Gather => (None, None),
            Mode::Stream => {
                let (services, kit) = stream_fakes(&engine, pace).await?;
                (Some(services), Some(kit))
            }
        };
        // The server's own REST client (recordings) reaches the stream fakes' Twilio too.
        if let Some(rest) = kit.as_ref().and_then(|kit| kit.rest.as_ref()) {
            config.twilio_api_url = rest.base_url();
        }
        let line = PhoneLine {
            server: config.public_url.clone(),
            auth_token: AUTH_TOKEN.into(),
            account_sid: ACCOUNT_SID.into(),
            // No caller ID in the script: the caller withheld it.
            from: script.caller_id.clone().unwrap_or_default(),
            to: engine.business().phones.main.clone().unwrap_or_default(),
        };
        let state = AppState::new(driver, sessions, config, stream)?;
        let server = RunningServer::start(listener, state)?;
        Ok(TestServer {
            server,
            line,
            kit,
            storage,
            engine,
            _dir: dir,
        })
    }

    /// The server's SQLite file, for tests that take the database away under it.
    pub fn database_path(&self) -> std::path::PathBuf {
        self._dir.path().join(DATABASE_FILE)
    }

    /// Places one call playing `script`.
    pub async fn call(&self, script: &Script, barge_in: Option<BargeIn>) -> PhoneReport {
        let http = http_client();
        let mut cursor = ScriptCursor::new(script);
        let sid = new_call_sid();
        match &self.kit {
            None => gather_call(&http, &self.line, &mut cursor, &sid).await,
            Some(kit) => stream_call(&http, &self.line, &mut cursor, &sid, kit, barge_in).await,
        }
    }

    /// Waits until the server has no call in progress (stream calls finish after the phone).
    pub async fn settle(&self) {
        for _ in 0..200 {
            if self.server.state.live_calls() == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        self.server.state.driver().flush().await;
    }

    /// What the server stored about a call: outcome, booked appointments, transfer target.
    pub async fn stored(&self, call_sid: &str) -> Result<StoredCall> {
        self.settle().await;
        let record = self
            .storage
            .get_call(call_sid)
            .await?
            .with_context(|| format!("no call record for {call_sid}"))?;
        let appointments = self
            .storage
            .appointments_for_call(call_sid)
            .await?
            .iter()
            .map(|a| describe_appointment(self.engine.business(), a))
            .collect();
        Ok(StoredCall {
            outcome: record.outcome.unwrap_or_default(),
            transfer_to: record.transfer_to,
            appointments,
            carrier_status: record.carrier_status,
        })
    }

    pub async fn shutdown(self) {
        self.server.shutdown().await;
        self.storage.close().await;
    }

    /// Starts a graceful shutdown and returns the task that finishes when the server stops.
    pub fn begin_shutdown(&mut self) -> tokio::task::JoinHandle<()> {
        self.server.begin_shutdown()
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct StoredCall {
    pub outcome: String,
    pub transfer_to: Option<String>,
    pub appointments: Vec<Value>,
    pub carrier_status: Option<String>,
}

async fn stream_fakes(engine: &Engine, pace: &ReplayPace) -> Result<(StreamServices, StreamKit)> {
    let deepgram = FakeDeepgram::start(FakeDeepgramOptions {
        api_key: Some(DEEPGRAM_KEY.into()),
        tts_ms_per_char: pace.agent_ms_per_char,
        ..FakeDeepgramOptions::default()
    })?;
    let rest = FakeTwilioRest::start(ACCOUNT_SID, AUTH_TOKEN).await?;
    let stt = DeepgramStt::new(DeepgramSttConfig {
        url: deepgram.stt_url(),
        api_key: DEEPGRAM_KEY.into(),
        ..DeepgramSttConfig::default()
    });
    let tts = DeepgramTts::new(DeepgramTtsConfig {
        url: deepgram.tts_url(),
        api_key: DEEPGRAM_KEY.into(),
        model: "aura-2-thalia-en".into(),
    });
    let client = TwilioRest::new(TwilioRestConfig {
        base_url: rest.base_url(),
        account_sid: ACCOUNT_SID.into(),
        auth_token: AUTH_TOKEN.into(),
    })?;
    let services = StreamServices::new(
        Arc::new(stt),
        Arc::new(tts),
        "aura-2-thalia-en",
        Arc::new(client),
        engine.business(),
    );
    let kit = StreamKit {
        deepgram: Some(Arc::new(deepgram)),
        rest: Some(Arc::new(rest)),
        voice: CallerVoice::Tone,
        limit: Duration::from_secs(120),
        ms_per_char: pace.caller_ms_per_char,
    };
    Ok((services, kit))
}
