//! `frontdesk serve`: the HTTP and WebSocket server Twilio talks to.
//!
//! Gather mode answers each caller turn as a webhook with TwiML; stream mode holds a Media
//! Stream WebSocket per call with streaming speech recognition and synthesis. Both carry calls
//! through the same [`CallDriver`](crate::call::CallDriver) as `frontdesk chat`.

mod calendar;
pub mod config;
pub(crate) mod gather;
mod health;
pub mod latency;
mod live_calls;
mod messages;
mod recording;
mod reminder;
pub mod sessions;
mod signature;
pub mod stream;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::{Context, Result};
use axum::Router;
use axum::routing::{get, post};
use axum::serve::ListenerExt;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::call::CallDriver;
use crate::twilio::rest::{TwilioRest, TwilioRestConfig};
pub use config::{Mode, ServerConfig};
use live_calls::LiveCalls;
use sessions::SessionStore;
use stream::StreamServices;
use stream::token::StreamKey;

/// Everything a handler needs, passed explicitly as axum state.
#[derive(Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

struct Inner {
    driver: CallDriver,
    sessions: Arc<dyn SessionStore>,
    config: ServerConfig,
    zone: TimeZone,
    stream: Option<StreamServices>,
    calls: LiveCalls,
    latencies: latency::StreamLatencies,
    /// Signs the token that binds each Media Stream to the call `/twilio/voice` answered.
    stream_key: StreamKey,
    /// Twilio's REST API (recordings), when the server has the account's credentials.
    rest: Option<Arc<TwilioRest>>,
}

impl AppState {
    pub fn new(
        driver: CallDriver,
        sessions: Arc<dyn SessionStore>,
        config: ServerConfig,
        stream: Option<StreamServices>,
    ) -> Result<AppState> {
        let zone = crate::clock::business_zone(driver.engine.business())?;
        // Recording starts with the server, so the first scrape sees everything since.
        if crate::telemetry::handle().is_none() {
            tracing::warn!("another metrics recorder is installed; /metrics will be empty");
        }
        // The auth token is shared by every server behind one number, so a stream may land on
        // another server than the webhook; without one, a key for this process.
        let calls = LiveCalls::new(config.call_idle_limit);
        let stream_key = match &config.auth_token {
            Some(token) => StreamKey::new(token.as_bytes()),
            None => StreamKey::random(),
        };
        let rest = match (&config.auth_token, config.account_sid.is_empty()) {
            (Some(auth_token), false) => Some(Arc::new(TwilioRest::new(TwilioRestConfig {
                base_url: config.twilio_api_url.clone(),
                account_sid: config.account_sid.clone(),
                auth_token: auth_token.clone(),
            })?)),
            _ => None,
        };
        Ok(AppState {
            inner: Arc::new(Inner {
                driver,
                sessions: Arc::new(sessions::DeadlineSessions::new(
                    sessions,
                    config.session_deadline,
                )),
                config,
                zone,
                stream,
                calls,
                latencies: latency::StreamLatencies::default(),
                stream_key,
                rest,
            }),
        })
    }

    pub fn driver(&self) -> &CallDriver {
        &self.inner.driver
    }

    pub fn config(&self) -> &ServerConfig {
        &self.inner.config
    }

    /// Business-local now: the configured fixed time (demos, tests), else the wall clock.
    pub fn now(&self) -> DateTime {
        match self.inner.config.fixed_now {
            Some(now) => now,
            None => self.inner.zone.to_datetime(jiff::Timestamp::now()),
        }
    }

    /// The business's time zone.
    pub(crate) fn zone(&self) -> &TimeZone {
        &self.inner.zone
    }

    pub fn live_calls(&self) -> usize {
        self.inner.calls.count()
    }

    /// The server's own stream-mode latencies (recent window).
    /// Where live calls' state is kept between webhooks (memory or Redis).
    pub(crate) fn sessions(&self) -> &Arc<dyn SessionStore> {
        &self.inner.sessions
    }

    /// The calls this server is carrying, for draining and idle expiry.
    fn calls(&self) -> &LiveCalls {
        &self.inner.calls
    }

    /// Speech and REST services, in stream mode.
    pub(crate) fn stream(&self) -> Option<&StreamServices> {
        self.inner.stream.as_ref()
    }

    /// Signs and checks the token binding a Media Stream to its call.
    pub(crate) fn stream_key(&self) -> &StreamKey {
        &self.inner.stream_key
    }

    /// Twilio's REST API, when the server has the account's credentials.
    pub(crate) fn rest(&self) -> Option<&Arc<TwilioRest>> {
        self.inner.rest.as_ref()
    }

    /// With sessions other servers read, waits (up to the tool deadline) until the call
    /// records written so far are in the database: another server may take the call's next
    /// turn, and this one may die before its recorder writes. (A write the database does not
    /// take in time stays held as usual.)
    pub(crate) async fn flush_records_for_takeover(&self) {
        if self.sessions().shared() {
            let flushed = self.driver().recorder.flush();
            let _ = tokio::time::timeout(self.config().tool_deadline, flushed).await;
        }
    }

    pub fn latencies(&self) -> &latency::StreamLatencies {
        &self.inner.latencies
    }
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health::health))
        .route("/health/detailed", get(health::detailed))
        .route("/metrics", get(health::metrics))
        .route("/twilio/voice", post(gather::voice))
        .route("/twilio/gather", post(gather::gather))
        .route("/twilio/dial-done", post(gather::dial_done))
        .route("/twilio/status", post(gather::status))
        .route("/twilio/messages", post(messages::inbound))
        .route("/twilio/whisper", post(gather::whisper))
        .route("/twilio/recording", post(recording::finished))
        .route("/twilio/reminder", post(reminder::answered))
        .route("/calendar/{file}", get(calendar::feed))
        .route("/twilio/stream", get(stream::upgrade))
        .merge(crate::dashboard::router(state.clone()))
        .route("/twilio/stream-ended", post(stream::stream_ended))
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024))
        .with_state(state)
}

/// A server running in this process (the end-to-end tests).
pub struct RunningServer {
    pub addr: SocketAddr,
    pub state: AppState,
    stop: watch::Sender<bool>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl RunningServer {
    /// Starts serving on `listener` until [`RunningServer::shutdown`] or the returned handle
    /// is dropped.
    pub fn start(listener: TcpListener, state: AppState) -> Result<RunningServer> {
        let addr = listener.local_addr()?;
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(serve_until(listener, state.clone(), stopped));
        Ok(RunningServer {
            addr,
            state,
            stop,
            task: Some(task),
        })
    }

    /// Refuses new calls, lets live ones finish (up to the drain limit), then stops.
    pub async fn shutdown(mut self) {
        let task = self.begin_shutdown();
        let _ = task.await;
    }

    /// Starts the shutdown; the returned task ends when the server has stopped.
    pub fn begin_shutdown(&mut self) -> tokio::task::JoinHandle<()> {
        let _ = self.stop.send(true);
        self.task
            .take()
            .unwrap_or_else(|| tokio::spawn(std::future::ready(())))
    }
}

async fn serve_until(listener: TcpListener, state: AppState, mut stopped: watch::Receiver<bool>) {
    let app = router(state.clone());
    let drain_limit = state.inner.config.drain_limit;
    let shutdown = async move {
        let _ = stopped.wait_for(|stop| *stop).await;
        state.inner.calls.start_draining();
        let live = state.inner.calls.count();
        if live > 0 {
            tracing::info!(live, "shutting down: waiting for live calls to finish");
        }
        state.inner.calls.drained(drain_limit).await;
        state.inner.driver.flush().await;
    };
    // Media frames, marks and clears are small and must not wait for the previous segment's
    // ACK (Nagle plus delayed ACKs costs up to 40 ms a message).
    let listener = listener.tap_io(|tcp| {
        if let Err(error) = tcp.set_nodelay(true) {
            tracing::warn!(%error, "could not turn off Nagle's algorithm on a connection");
        }
    });
    let serve = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown);
    if let Err(error) = serve.await {
        tracing::error!(%error, "server stopped with an error");
    }
}

/// `frontdesk serve`: builds everything from configuration and serves until Ctrl-C / SIGTERM.
pub async fn run(config: ServerConfig, driver: CallDriver) -> Result<()> {
    config.warn_about_insecure_settings();
    let sessions = sessions::open(&config.sessions)
        .await
        .context("opening the session store")?;
    let stream = match config.mode {
        Mode::Stream => Some(StreamServices::from_config(&config, driver.engine.business()).await?),
        Mode::Gather => None,
    };
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let state = AppState::new(driver, sessions, config.clone(), stream)?;
    if let Some(stream) = &state.inner.stream {
        stream.warm(state.driver(), state.now()).await;
    }
    tracing::info!(
        listen = %listener.local_addr()?,
        public_url = %config.public_url,
        mode = ?config.mode,
        "frontdesk is answering calls"
    );
    eprintln!(
        "frontdesk: {} mode on http://{} (public URL {}); point your Twilio number's voice webhook at {}/twilio/voice",
        config.mode.as_str(),
        listener.local_addr()?,
        config.public_url,
        config.public_url
    );
    if let Some(secret) = &config.auth_token {
        for location in &state.driver().engine.business().locations {
            eprintln!(
                "frontdesk: {} visits as a calendar to subscribe to: {}/calendar/{}.ics?key={}",
                location.name,
                config.public_url,
                location.code,
                crate::calendar::feed_key(secret, &location.code)
            );
        }
    }
    let server = RunningServer::start(listener, state.clone())?;
    shutdown_signal().await;
    eprintln!(
        "{}",
        drain_notice(state.live_calls(), state.config().drain_limit)
    );
    tokio::spawn(async move {
        // A second signal: whoever asked will not wait for the calls.
        shutdown_signal().await;
        eprintln!(
            "frontdesk: stopped at once; {} live call(s) cut off",
            state.live_calls()
        );
        std::process::exit(130);
    });
    server.shutdown().await;
    eprintln!("frontdesk: stopped");
    Ok(())
}

/// What a shutdown is waiting for, and how to stop waiting.
fn drain_notice(live: usize, limit: std::time::Duration) -> String {
    match live {
        0 => "frontdesk: shutting down (no live calls)".to_string(),
        live => format!(
            "frontdesk: shutting down: refusing new calls, waiting up to {} s for {live} live \
             call(s) to finish (Ctrl-C again to stop now)",
            limit.as_secs()
        ),
    }
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// The `<Dial>` of every transfer: to `to`, with its end reported to `/twilio/dial-done` (an
/// unanswered transfer becomes a callback) and, when there is one, `whisper` said to the person
/// answering before they are connected (`/twilio/whisper`).
pub(crate) fn transfer_dial(
    public_url: &str,
    to: &str,
    whisper: Option<&str>,
) -> frontdesk_telephony::twiml::Dial {
    let number_url = whisper.and_then(|text| {
        let query = serde_urlencoded::to_string([("text", text)]).ok()?;
        Some(format!("{public_url}/twilio/whisper?{query}"))
    });
    frontdesk_telephony::twiml::Dial {
        number: to.to_string(),
        action: Some(format!("{public_url}/twilio/dial-done")),
        timeout: Some(25),
        caller_id: None,
        number_url,
    }
}
